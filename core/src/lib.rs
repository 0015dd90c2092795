//! edgemine: entities, key phrases and triples with exact offsets, from
//! small ONNX models on small CPUs.
//!
//! The data flow, one module a stage:
//!
//! ```text
//! text ─► split ─► tokenize ─► batch ─► infer ─► decode ─► merge ─► Extraction
//!         └── document ───┘             └─── infer ───┘      ├─► triples (from the parse)
//!                                                            └─► phrase_pass: key phrases (parse + embeddings)
//! ```
//!
//! `document` splits and tokenizes a text and builds the model's input
//! sequences; `batch` packs them into rows; `infer` runs a batch through
//! the `model` and reads each sequence off its heads with `decode`;
//! `merge` puts a document's chunks back together in the caller's
//! offsets; `phrase_pass` embeds and ranks key-phrase candidates. The
//! `Engine` holds what is loaded (`config`, `locate`) and runs the stages
//! in order, as `run_plan` says for each call.
//!
//! ```no_run
//! let engine = edgemine::Engine::new()?; // the default models
//! let out = engine.extract("Dr. Anna Keller inspected the Hamburg plant of Siemens.")?;
//! for e in out.entities.unwrap_or_default() {
//!     println!("{} {} {}..{}", e.label, e.text, e.start, e.end);
//! }
//! # Ok::<(), edgemine::Error>(())
//! ```
#![deny(missing_docs)]

mod batch;
mod config;
mod decode;
mod document;
mod engine;
mod error;
mod extraction;
mod infer;
mod keyphrases;
mod locate;
mod merge;
mod model;
mod offsets;
mod options;
mod phrase_cache;
mod phrase_pass;
pub mod process;
mod run_plan;
mod split;
mod tokenize;
mod triples;
mod words;

#[cfg(test)]
mod tests;

pub use config::{DEFAULT_MAX_PLANS, EngineConfig};
pub use engine::{Engine, EngineInfo};
pub use error::{Error, Result, document_from_bytes};
pub use extraction::{BATCH_ROUNDING, Entity, Extraction, KeyPhrase, Span, Triple, TripleArgument, Word};
pub use keyphrases::{Features, KeyphraseOptions, PhraseEmbedding, Ranker, normalize as normalize_phrase};
pub use locate::{DEFAULT_MODEL, ModelSource};
pub use model::{Backend, Precision};
pub use offsets::OffsetUnit;
pub use options::{Aggregation, DocumentOptions, Options, Task};
pub use phrase_cache::DEFAULT_PHRASE_CACHE;

/// The pipeline's inner stages, for the benchmarks (`benches/`) that time
/// them one by one. Not a stable API: the `internals` feature only exists
/// so that they need not be public modules.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    pub use crate::model::kernel_rule;
    pub use crate::split::sentences;
    pub use crate::tokenize::Wordpiecer;
    pub use crate::words::words;
}
