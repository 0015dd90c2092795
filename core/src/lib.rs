//! edgemine: entities, key phrases and triples with exact offsets, from
//! small ONNX models on small CPUs.
#![deny(missing_docs)]

pub mod offsets;
pub mod split;
pub mod words;
