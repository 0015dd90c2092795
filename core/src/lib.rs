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
pub mod decode;
mod document;
mod engine;
mod error;
mod extraction;
mod infer;
pub mod keyphrases;
mod locate;
mod merge;
pub mod model;
pub mod offsets;
mod options;
mod phrase_cache;
mod phrase_pass;
pub mod process;
mod run_plan;
pub mod split;
pub mod tokenize;
pub mod triples;
pub mod words;

pub use config::{DEFAULT_MAX_PLANS, EngineConfig};
pub use engine::{Engine, EngineInfo};
pub use error::{Error, Result, document_from_bytes};
pub use extraction::{BATCH_ROUNDING, Entity, Extraction, KeyPhrase, Span, Triple, TripleArgument, Word};
pub use keyphrases::{KeyphraseOptions, PhraseEmbedding};
pub use locate::{DEFAULT_MODEL, ModelSource};
pub use model::{Backend, Precision};
pub use offsets::OffsetUnit;
pub use options::{Aggregation, DocumentOptions, Options, Task};
pub use phrase_cache::DEFAULT_PHRASE_CACHE;
