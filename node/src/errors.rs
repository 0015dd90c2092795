//! The core's one error type as JavaScript `Error`s with a stable `code`.
//!
//! The codes are a public contract (README, `index.d.ts`): scripts branch
//! on `err.code`, never on the message, which may be reworded.

use napi::bindgen_prelude::{Env, Unknown};
use napi::{Error, JsError};

/// The `code` of every error edgemine throws or rejects with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// An argument of the wrong type (`index.js` raises it before the addon is called).
    InvalidArgument,
    /// A string that is not well-formed UTF-16 (a lone surrogate).
    InvalidText,
    /// The document is empty or only whitespace.
    EmptyDocument,
    /// The document is larger than `maxDocumentBytes`.
    DocumentTooLarge,
    /// An option value that cannot work: unknown task or offset unit, a count out of range.
    InvalidOption,
    /// A task the loaded model cannot do.
    TaskUnavailable,
    /// The model folder or one of its files does not exist.
    ModelNotFound,
    /// A model file is damaged: bad checksum, bad JSON, not ONNX.
    ModelCorrupt,
    /// A model the engine cannot run (operators, inputs, outputs).
    ModelUnsupported,
    /// Inference failed on a loaded model.
    InferenceFailed,
    /// A bug: Rust panicked. The engine is still usable.
    Panic,
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        match self {
            Code::InvalidArgument => "EDGEMINE_INVALID_ARGUMENT",
            Code::InvalidText => "EDGEMINE_INVALID_TEXT",
            Code::EmptyDocument => "EDGEMINE_EMPTY_DOCUMENT",
            Code::DocumentTooLarge => "EDGEMINE_DOCUMENT_TOO_LARGE",
            Code::InvalidOption => "EDGEMINE_INVALID_OPTION",
            Code::TaskUnavailable => "EDGEMINE_TASK_UNAVAILABLE",
            Code::ModelNotFound => "EDGEMINE_MODEL_NOT_FOUND",
            Code::ModelCorrupt => "EDGEMINE_MODEL_CORRUPT",
            Code::ModelUnsupported => "EDGEMINE_MODEL_UNSUPPORTED",
            Code::InferenceFailed => "EDGEMINE_INFERENCE_FAILED",
            Code::Panic => "EDGEMINE_PANIC",
        }
    }
}

impl Code {
    /// Every code, for the `codes` export that `index.js` re-exports.
    pub const ALL: [Code; 11] = [
        Code::InvalidArgument,
        Code::InvalidText,
        Code::EmptyDocument,
        Code::DocumentTooLarge,
        Code::InvalidOption,
        Code::TaskUnavailable,
        Code::ModelNotFound,
        Code::ModelCorrupt,
        Code::ModelUnsupported,
        Code::InferenceFailed,
        Code::Panic,
    ];
}

/// A failure on its way to JavaScript: its code and the core's message.
#[derive(Debug)]
pub struct Failure {
    pub code: Code,
    pub message: String,
}

impl Failure {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// An option value the core never sees, worded as the core words its own.
    pub fn option(name: &str, detail: impl std::fmt::Display) -> Self {
        Self::new(Code::InvalidOption, format!("invalid option `{name}`: {detail}"))
    }

    /// The same failure for document `index` of a batch: `document 3: …`.
    pub fn in_document(self, index: usize) -> Self {
        Self { message: format!("document {index}: {}", self.message), ..self }
    }

    /// The error a synchronous call throws.
    pub fn into_napi(self) -> Error<Code> {
        Error::new(self.code, self.message)
    }

    /// The JavaScript `Error` object itself, with `code` set: to put in a
    /// batch's results, or to reject a Promise with (napi's task API only
    /// rejects with its own status codes, so the object is made here and
    /// handed back by reference).
    pub fn into_js<'env>(self, env: &Env) -> Unknown<'env> {
        JsError::from(self.into_napi()).into_unknown(*env)
    }
}

impl From<edgemine::Error> for Failure {
    fn from(error: edgemine::Error) -> Self {
        use edgemine::Error as E;
        let code = match &error {
            E::ModelNotFound { .. } => Code::ModelNotFound,
            E::ModelCorrupt { .. } => Code::ModelCorrupt,
            E::ModelUnsupported { .. } => Code::ModelUnsupported,
            E::TaskUnavailable { .. } => Code::TaskUnavailable,
            E::InvalidOption { .. } => Code::InvalidOption,
            E::EmptyDocument => Code::EmptyDocument,
            E::DocumentTooLarge { .. } => Code::DocumentTooLarge,
            // A JS string reaches the core as UTF-8 made here, so this is a
            // file's bytes or a bug; either way the text is at fault.
            E::InvalidUtf8 { .. } => Code::InvalidText,
            E::Inference(_) => Code::InferenceFailed,
        };
        Self::new(code, error.to_string())
    }
}

/// Runs a core call, turning a panic into [`Code::Panic`] so that it never
/// unwinds into Node (which would abort the process).
pub fn guard<T>(call: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Failure::new(
            Code::Panic,
            format!("edgemine panicked (a bug; please report it): {what}. The engine is still usable"),
        ))
    })
}
