//! Status codes, the per-thread error message, and the guard every entry
//! point runs in: a Rust error becomes a status plus a message, a panic
//! becomes `EDGEMINE_STATUS_PANIC`, and nothing unwinds into C.

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What a call did. `EDGEMINE_STATUS_OK` (0) is success; anything else is
/// a failure whose message `edgemine_last_error()` returns on the same thread.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum edgemine_status {
    /// Success.
    Ok = 0,
    /// A pointer argument that must not be NULL was NULL.
    NullArgument = 1,
    /// The text (or a path) is not valid UTF-8.
    InvalidUtf8 = 2,
    /// The document is empty or only whitespace.
    EmptyDocument = 3,
    /// The document is larger than the options' limit.
    DocumentTooLarge = 4,
    /// An option value that cannot work (unknown task bit, offset unit, 0 where 1 or more is needed).
    InvalidOption = 5,
    /// A task the loaded model cannot do.
    TaskUnavailable = 6,
    /// The model folder or one of its files does not exist.
    ModelNotFound = 7,
    /// A model file is damaged: bad checksum, bad JSON, not ONNX.
    ModelCorrupt = 8,
    /// A model the engine cannot run (operators, inputs, outputs).
    ModelUnsupported = 9,
    /// Inference failed on a loaded model.
    InferenceFailed = 10,
    /// An index past the end of a result's list.
    OutOfRange = 11,
    /// A bug: Rust panicked; the message says where. The engine is still usable.
    Panic = 12,
}

/// A failed call: its status and the message for `edgemine_last_error`.
pub struct Failure {
    pub status: edgemine_status,
    pub message: String,
}

impl Failure {
    pub fn new(status: edgemine_status, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }

    /// A NULL where a pointer was required, naming the parameter.
    pub fn null(parameter: &str) -> Self {
        Self::new(edgemine_status::NullArgument, format!("`{parameter}` is NULL; pass a valid pointer"))
    }
}

impl From<edgemine::Error> for Failure {
    fn from(error: edgemine::Error) -> Self {
        use edgemine::Error as E;
        let status = match &error {
            E::ModelNotFound { .. } => edgemine_status::ModelNotFound,
            E::ModelCorrupt { .. } => edgemine_status::ModelCorrupt,
            E::ModelUnsupported { .. } => edgemine_status::ModelUnsupported,
            E::TaskUnavailable { .. } => edgemine_status::TaskUnavailable,
            E::InvalidOption { .. } => edgemine_status::InvalidOption,
            E::EmptyDocument => edgemine_status::EmptyDocument,
            E::DocumentTooLarge { .. } => edgemine_status::DocumentTooLarge,
            E::InvalidUtf8 { .. } => edgemine_status::InvalidUtf8,
            E::Inference(_) => edgemine_status::InferenceFailed,
        };
        Self::new(status, error.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: String) {
    // A message with a NUL inside would be cut there by C; drop NULs instead.
    let message = CString::new(message.replace('\0', "")).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = message);
}

/// Runs an entry point's body: its error or panic becomes a status and
/// this thread's last error message.
pub fn guard(body: impl FnOnce() -> Result<(), Failure>) -> edgemine_status {
    // AssertUnwindSafe: after a panic the caller gets EDGEMINE_STATUS_PANIC
    // and nothing the body half-built escapes: outputs are written only on
    // success, and the engine's state is its immutable model plus plan
    // caches behind their own locks.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => edgemine_status::Ok,
        Ok(Err(failure)) => {
            set_last_error(failure.message);
            failure.status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(format!("internal error (a bug in edgemine, please report it): {what}"));
            edgemine_status::Panic
        }
    }
}

/// The message of the last failed call on this thread, NUL-terminated;
/// `""` if none failed yet. Valid until the next failed call on this
/// thread; copy it to keep it.
#[unsafe(no_mangle)]
pub extern "C" fn edgemine_last_error() -> *const c_char {
    LAST_ERROR.with(|last| last.borrow().as_ptr())
}

/// A status's name, NUL-terminated and static, e.g. `"EDGEMINE_STATUS_MODEL_NOT_FOUND"`.
#[unsafe(no_mangle)]
pub extern "C" fn edgemine_status_name(status: u32) -> *const c_char {
    let name: &'static [u8] = match status {
        0 => b"EDGEMINE_STATUS_OK\0",
        1 => b"EDGEMINE_STATUS_NULL_ARGUMENT\0",
        2 => b"EDGEMINE_STATUS_INVALID_UTF8\0",
        3 => b"EDGEMINE_STATUS_EMPTY_DOCUMENT\0",
        4 => b"EDGEMINE_STATUS_DOCUMENT_TOO_LARGE\0",
        5 => b"EDGEMINE_STATUS_INVALID_OPTION\0",
        6 => b"EDGEMINE_STATUS_TASK_UNAVAILABLE\0",
        7 => b"EDGEMINE_STATUS_MODEL_NOT_FOUND\0",
        8 => b"EDGEMINE_STATUS_MODEL_CORRUPT\0",
        9 => b"EDGEMINE_STATUS_MODEL_UNSUPPORTED\0",
        10 => b"EDGEMINE_STATUS_INFERENCE_FAILED\0",
        11 => b"EDGEMINE_STATUS_OUT_OF_RANGE\0",
        12 => b"EDGEMINE_STATUS_PANIC\0",
        _ => b"unknown status\0",
    };
    name.as_ptr().cast()
}

/// The library's version, NUL-terminated and static, e.g. `"0.1.0"`.
#[unsafe(no_mangle)]
pub extern "C" fn edgemine_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;

    fn last_error() -> String {
        // SAFETY: edgemine_last_error returns this thread's NUL-terminated message.
        unsafe { CStr::from_ptr(edgemine_last_error()) }.to_string_lossy().into_owned()
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let status = guard(|| panic!("index 7 out of range"));
        assert_eq!(status, edgemine_status::Panic);
        assert!(last_error().contains("index 7 out of range"), "{}", last_error());
        let status = guard(|| Err(Failure::from(edgemine::Error::EmptyDocument)));
        assert_eq!(status, edgemine_status::EmptyDocument);
        assert!(last_error().starts_with("the document is empty"));
        assert_eq!(guard(|| Ok(())), edgemine_status::Ok);
        assert!(last_error().starts_with("the document is empty"), "success leaves the last error alone");
    }

    #[test]
    fn every_status_has_its_name() {
        for status in 0..=12u32 {
            // SAFETY: edgemine_status_name returns a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(edgemine_status_name(status)) }.to_str().unwrap();
            assert!(name.starts_with("EDGEMINE_STATUS_"), "{status}: {name}");
        }
        // SAFETY: as above.
        assert_eq!(unsafe { CStr::from_ptr(edgemine_status_name(13)) }.to_str().unwrap(), "unknown status");
    }
}
