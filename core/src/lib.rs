//! edgemine: entities, key phrases and triples with exact offsets, from
//! small ONNX models on small CPUs.
//!
//! The data flow, one module a stage:
//!
//! ```text
//! text ─► split ─► tokenize ─► batch ─► infer (model) ─► decode ─► merge (engine) ─► Extraction
//!                                                                 ├─► triples (from the parse)
//!                                                                 └─► keyphrases (parse + embeddings)
//! ```
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
pub mod decode;
mod engine;
mod error;
mod extraction;
pub mod keyphrases;
pub mod model;
pub mod offsets;
mod options;
mod phrase_cache;
pub mod process;
pub mod split;
pub mod tokenize;
pub mod triples;
pub mod words;

pub use engine::{DEFAULT_MAX_PLANS, DEFAULT_MODEL, Engine, EngineConfig, EngineInfo, ModelSource};
pub use error::{Error, Result, document_from_bytes};
pub use extraction::{BATCH_ROUNDING, Entity, Extraction, KeyPhrase, Span, Triple, TripleArgument, Word};
pub use keyphrases::{KeyphraseOptions, PhraseEmbedding};
pub use model::{Backend, Precision};
pub use offsets::OffsetUnit;
pub use options::{Aggregation, Options, Task};
pub use phrase_cache::DEFAULT_PHRASE_CACHE;
