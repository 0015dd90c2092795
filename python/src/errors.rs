//! The core's one error type as the Python exceptions a Python user
//! expects, each carrying the core's message (what, where, what to do)
//! and its `code` (`edgemine::Error::code`).

use std::path::Path;

use pyo3::exceptions::{
    PyException, PyFileNotFoundError, PyIsADirectoryError, PyOSError, PyPermissionError, PyTypeError, PyValueError,
};
use pyo3::prelude::PyAnyMethods;
use pyo3::{PyErr, Python, create_exception};

create_exception!(
    edgemine,
    ModelError,
    PyException,
    "A model folder that exists but cannot be used: a bad checksum, a file that is not ONNX or JSON, an \
     operator or output the engine does not support, or a failure while running it."
);

/// `ValueError` for what the caller asked (the text, an option, a task the
/// model lacks), `FileNotFoundError` for a missing model, [`ModelError`]
/// for a broken one.
pub fn to_python(error: edgemine::Error) -> PyErr {
    let message = error.to_string();
    exception(&error, message)
}

/// [`to_python`] for one document of a batch: the message starts with its
/// index, `document 3: …`.
pub fn in_document(index: usize, error: &edgemine::Error) -> PyErr {
    exception(error, format!("document {index}: {error}"))
}

fn exception(error: &edgemine::Error, message: String) -> PyErr {
    use edgemine::Error as E;
    let exception = match error {
        E::ModelNotFound { .. } => PyFileNotFoundError::new_err(message),
        E::ModelCorrupt { .. } | E::ModelUnsupported { .. } | E::Inference(_) => ModelError::new_err(message),
        E::TaskUnavailable { .. }
        | E::InvalidOption { .. }
        | E::EmptyDocument
        | E::DocumentTooLarge { .. }
        | E::InvalidUtf8 { .. } => PyValueError::new_err(message),
    };
    with_code(exception, error.code())
}

/// `exception` with the attribute `code`: the core's name for its kind
/// (`edgemine::Error::code`, as the service and the C and Node bindings
/// spell it), for programs to branch on rather than on the message.
fn with_code(exception: PyErr, code: &str) -> PyErr {
    Python::attach(|py| {
        // Setting an attribute on a fresh exception object cannot fail.
        let _ = exception.value(py).setattr("code", code);
    });
    exception
}

/// A `TypeError` for an argument of the wrong type or name, with the code
/// `INVALID_ARGUMENT` (Node's `EDGEMINE_INVALID_ARGUMENT`).
pub fn invalid_argument(message: String) -> PyErr {
    with_code(PyTypeError::new_err(message), "INVALID_ARGUMENT")
}

/// A `ValueError` naming an option, worded as the core words its own.
pub fn invalid_option(name: &str, detail: impl std::fmt::Display) -> PyErr {
    with_code(PyValueError::new_err(format!("invalid option `{name}`: {detail}")), "INVALID_OPTION")
}

/// An I/O error on `path` as the `OSError` subclass `open()` would raise,
/// with errno, message and file name.
pub fn io_error(error: &std::io::Error, path: &Path) -> PyErr {
    let args = (error.raw_os_error().unwrap_or(0), error.to_string(), path.display().to_string());
    match error.kind() {
        std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(args),
        std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(args),
        std::io::ErrorKind::IsADirectory => PyIsADirectoryError::new_err(args),
        _ => PyOSError::new_err(args),
    }
}
