//! The one error type of the engine: every failure says what went wrong,
//! where, and what to do about it.

use std::path::PathBuf;

/// Everything that can go wrong while loading models or extracting.
///
/// Model errors (`Model*`) are fatal for an [`Engine`](crate::Engine);
/// document errors (`EmptyDocument`, `DocumentTooLarge`, `InvalidUtf8`) fail
/// only the document they name, never the rest of a batch.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The model folder or one of its files does not exist.
    #[error(
        "model not found: {path}: {detail}. Pass a model folder (model.onnx, tokenizer.json and edgemine.json or \
         config.json), or set EDGEMINE_MODELS to the folder holding the default models"
    )]
    ModelNotFound {
        /// The file or folder that was looked for.
        path: PathBuf,
        /// What was missing.
        detail: String,
    },
    /// A model file exists but cannot be used as it is: bad checksum, bad
    /// JSON, not an ONNX graph.
    #[error(
        "corrupt model file {path}: {detail}. Restore the folder from the repository or rebuild it (models/build.sh)"
    )]
    ModelCorrupt {
        /// The file that failed.
        path: PathBuf,
        /// What was wrong with it.
        detail: String,
    },
    /// A well-formed model the engine cannot run: an unknown operator or
    /// opset, inputs or outputs of the wrong names or shapes.
    #[error("unsupported model {path}: {detail}")]
    ModelUnsupported {
        /// The model file.
        path: PathBuf,
        /// What is unsupported, and what the engine expects instead.
        detail: String,
    },
    /// A task the loaded models cannot do (yet).
    #[error("task `{task}` is not available: {detail}")]
    TaskUnavailable {
        /// The task asked for.
        task: String,
        /// Why, and what is available.
        detail: String,
    },
    /// An option value that cannot work.
    #[error("invalid option `{name}`: {detail}")]
    InvalidOption {
        /// The option.
        name: &'static str,
        /// What is wrong and what would be accepted.
        detail: String,
    },
    /// The document has no text to extract from.
    #[error("the document is empty (or only whitespace): there is nothing to extract; skip it or send text")]
    EmptyDocument,
    /// The document is larger than the configured limit.
    #[error(
        "the document is {bytes} bytes, over the limit of {limit} bytes (Options::max_document_bytes, CLI \
         --max-bytes); raise the limit or split the document"
    )]
    DocumentTooLarge {
        /// Size of the document in UTF-8 bytes.
        bytes: usize,
        /// The limit in force.
        limit: usize,
    },
    /// Input bytes that are not UTF-8.
    #[error("the document is not valid UTF-8 (first bad byte at offset {valid_up_to}); convert it to UTF-8 first")]
    InvalidUtf8 {
        /// Length of the longest valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// The inference runtime failed on a batch. Not expected with a model
    /// that loaded; reported with tract's own message.
    #[error("inference failed: {0}")]
    Inference(String),
}

impl Error {
    /// A stable name of this kind of error, for programs to branch on
    /// (the message may be reworded): `MODEL_NOT_FOUND`, `EMPTY_DOCUMENT`…
    /// The service puts it in its error bodies and dead-letter headers.
    pub fn code(&self) -> &'static str {
        match self {
            Error::ModelNotFound { .. } => "MODEL_NOT_FOUND",
            Error::ModelCorrupt { .. } => "MODEL_CORRUPT",
            Error::ModelUnsupported { .. } => "MODEL_UNSUPPORTED",
            Error::TaskUnavailable { .. } => "TASK_UNAVAILABLE",
            Error::InvalidOption { .. } => "INVALID_OPTION",
            Error::EmptyDocument => "EMPTY_DOCUMENT",
            Error::DocumentTooLarge { .. } => "DOCUMENT_TOO_LARGE",
            Error::InvalidUtf8 { .. } => "INVALID_UTF8",
            Error::Inference(_) => "INFERENCE_FAILED",
        }
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks that `bytes` are UTF-8, for callers that read raw input (files,
/// sockets, foreign strings): the error says where the first bad byte is.
pub fn document_from_bytes(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|e| Error::InvalidUtf8 { valid_up_to: e.valid_up_to() })
}
