//! The engine: text in, an [`Extraction`] out, along the data flow of
//! DESIGN.md, one module a stage: split → tokenize ([`Document`]) → batch
//! ([`batch`]) → infer → decode ([`infer`]) → merge ([`merge`]) → key
//! phrases ([`phrase_pass`]). The engine holds what is loaded and runs
//! the stages in order.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::batch::{self, Batch, Sequence, Words};
use crate::config::{EngineConfig, Settings};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::extraction::Extraction;
use crate::infer::{self, ChunkOutputs};
use crate::keyphrases::{PhraseEmbedding, Ranker};
use crate::locate::ModelSource;
use crate::merge;
use crate::model::{Backend, Model};
use crate::options::{Options, Task};
use crate::phrase_cache::PhraseCache;
use crate::phrase_pass;
use crate::run_plan::{Call, RunPlan};

/// What an engine has loaded, for `edgemine models` and logs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EngineInfo {
    /// Model name from its manifest.
    pub name: String,
    /// Model version.
    pub version: String,
    /// The model folder.
    pub dir: PathBuf,
    /// How the folder was found.
    pub source: String,
    /// The manifest read: `edgemine.json` or `config.json`.
    pub manifest: String,
    /// Tasks available.
    pub tasks: Vec<Task>,
    /// Entity labels.
    pub entity_labels: Vec<String>,
    /// Longest sequence in wordpieces.
    pub max_wordpieces: usize,
    /// For a model trained on packed sentences, the wordpieces of a pack
    /// (special tokens included): the engine packs that way by default.
    pub pack_wordpieces: Option<usize>,
    /// The ways of embedding key-phrase candidates that the model has a
    /// fitted ranker for; the others rank by similarity to the document
    /// ([`Ranker::SIMILARITY`]).
    pub keyphrase_rankers: Vec<PhraseEmbedding>,
    /// Worker threads.
    pub threads: usize,
    /// The library running the graph: `tract` or `onnxruntime`.
    pub backend: String,
    /// What the graph computes in: `fp32` or `int8`.
    pub precision: String,
    /// ONNX Runtime's sessions (`None` on tract): see
    /// [`Backend::SESSIONS_HELP`](crate::Backend::SESSIONS_HELP).
    pub onnxruntime_sessions: Option<usize>,
    /// Time to load the model, in milliseconds.
    pub load_ms: u128,
}

/// The extraction engine. Load once, share everywhere: an `Engine` is
/// `Send + Sync`, and concurrent calls run on its own thread pool.
pub struct Engine {
    model: Model,
    pool: rayon::ThreadPool,
    threads: usize,
    backend: Backend,
    source: ModelSource,
    load_time: Duration,
    phrase_cache: PhraseCache,
}

impl Engine {
    /// Loads the default models, looking in this order:
    /// 1. `$EDGEMINE_MODELS` (a model folder, or a folder holding `minilm-tagger/`);
    /// 2. beside the executable: `models/minilm-tagger` or `../share/edgemine/models/minilm-tagger`;
    /// 3. the `models/minilm-tagger` folder of the source tree the crate was built in.
    ///
    /// [`EngineConfig::model_roots`] adds folders to search after the first.
    pub fn new() -> Result<Self> {
        Self::with_config(EngineConfig::default())
    }

    /// Loads the model folder `dir`: edgemine's own (`edgemine.json`) or a
    /// Hugging Face token classifier exported with optimum (`config.json`).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        Self::with_config(EngineConfig { model_dir: Some(dir.as_ref().to_path_buf()), ..EngineConfig::default() })
    }

    /// Loads an engine as `config` says.
    pub fn with_config(config: EngineConfig) -> Result<Self> {
        let started = Instant::now();
        let Settings { dir, source, threads, max_plans, backend, precision, phrase_cache } = config.resolve()?;
        let model = Model::load(&dir, &backend, precision, max_plans, threads)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("edgemine-{i}"))
            .build()
            .map_err(|e| Error::InvalidOption {
                name: "threads",
                detail: format!("cannot start {threads} threads: {e}"),
            })?;
        let phrase_cache = PhraseCache::new(phrase_cache);
        Ok(Self { model, pool, threads, backend, source, load_time: started.elapsed(), phrase_cache })
    }

    /// What is loaded, from where.
    pub fn info(&self) -> EngineInfo {
        let spec = &self.model.spec;
        EngineInfo {
            name: spec.name.clone(),
            version: spec.version.clone(),
            dir: spec.dir.clone(),
            source: self.source.to_string(),
            manifest: spec.manifest.to_string(),
            tasks: self.model.tasks(),
            entity_labels: spec.entities.iter().flat_map(|h| h.labels.clone()).collect(),
            max_wordpieces: spec.max_wordpieces,
            pack_wordpieces: spec.pack_wordpieces,
            keyphrase_rankers: spec.keyphrase_rankers.fitted(),
            threads: self.threads,
            backend: self.backend.name().into(),
            precision: self.model.precision.name().into(),
            onnxruntime_sessions: self.model.network.onnxruntime_sessions(),
            load_ms: self.load_time.as_millis(),
        }
    }

    /// The key-phrase ranker the model's manifest holds for candidates
    /// embedded as `embedding`: [`Ranker::SIMILARITY`] when it holds none
    /// for that way.
    pub fn keyphrase_ranker(&self, embedding: PhraseEmbedding) -> &Ranker {
        self.model.spec.keyphrase_rankers.get(embedding)
    }

    /// Worker threads of this engine's pool.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Extracts everything the model can do from `text`, with code-point offsets.
    pub fn extract(&self, text: &str) -> Result<Extraction> {
        self.extract_with(text, &Options::default())
    }

    /// Extracts from `text` as `options` say.
    pub fn extract_with(&self, text: &str, options: &Options) -> Result<Extraction> {
        self.extract_batch_with(&[text], options).pop().unwrap_or(Err(Error::EmptyDocument))
    }

    /// Extracts from many documents in parallel; each result stands alone, so
    /// one bad document fails without harming the others.
    pub fn extract_batch(&self, texts: &[&str]) -> Vec<Result<Extraction>> {
        self.extract_batch_with(texts, &Options::default())
    }

    /// Extracts from documents that each bring their own options, in
    /// parallel as [`extract_batch_with`](Self::extract_batch_with) does:
    /// documents with equal options share batches (a service's requests,
    /// a topic's messages). Results come in the documents' order; each
    /// stands alone.
    pub fn extract_each(&self, documents: &[(&str, &Options)]) -> Vec<Result<Extraction>> {
        let mut groups: Vec<(&Options, Vec<usize>)> = Vec::new();
        for (i, &(_, options)) in documents.iter().enumerate() {
            match groups.iter_mut().find(|(o, _)| *o == options) {
                Some((_, members)) => members.push(i),
                None => groups.push((options, vec![i])),
            }
        }
        // Every document is in one group, so each placeholder is replaced.
        let mut results: Vec<Result<Extraction>> = documents.iter().map(|_| Err(Error::EmptyDocument)).collect();
        for (options, members) in groups {
            let texts: Vec<&str> = members.iter().map(|&i| documents[i].0).collect();
            for (i, result) in members.into_iter().zip(self.extract_batch_with(&texts, options)) {
                results[i] = result;
            }
        }
        results
    }

    /// [`extract_batch`](Self::extract_batch) with options.
    ///
    /// Chunks of all documents are bucketed together, so short documents
    /// fill batches instead of padding them.
    pub fn extract_batch_with(&self, texts: &[&str], options: &Options) -> Vec<Result<Extraction>> {
        // 1. What the call computes, its options checked against the model.
        let plan = match RunPlan::new(&self.model, options) {
            Ok(plan) => plan,
            Err(e) => return texts.iter().map(|_| Err(e.clone())).collect(),
        };
        let call = Call { model: &self.model, options, plan: &plan, threads: self.threads };
        self.pool.install(|| {
            // 2. split → tokenize, each document on its own: a bad one fails alone.
            let documents: Vec<Result<Document>> = texts.par_iter().map(|t| Document::prepare(t, call)).collect();
            // 3. batch: the chunks of every document together, so short ones share rows.
            let sequences: Vec<Sequence> = documents
                .iter()
                .enumerate()
                .filter_map(|(d, doc)| doc.as_ref().ok().map(|doc| (d, doc)))
                .flat_map(|(d, doc)| doc.chunk_sequences(d, &self.model, plan.chunks.wordpieces))
                .collect();
            let (max_len, layout, shapes) = (self.model.spec.max_wordpieces, plan.layout, plan.shapes);
            let batches =
                batch::plan(&sequences, options.batch_wordpieces, self.threads, max_len, layout, shapes, Words::Read);
            // 4. infer → decode, the batches in parallel.
            let outputs: Vec<Result<Vec<(usize, usize, ChunkOutputs)>>> =
                batches.par_iter().map(|b| infer::sentence_batch(call, b, &sequences, &documents)).collect();
            // 5. merge: each document's chunks into its extraction, unless a batch it was in failed.
            let chunks = by_document(texts.len(), &batches, outputs, &sequences);
            let assembled =
                documents.into_iter().zip(chunks).map(|(doc, chunks)| Ok(merge::assemble(call, doc?, chunks?)));
            // 6. key phrases: their candidates embedded and ranked, all documents together.
            match plan.keyphrases {
                true => phrase_pass::add_keyphrases(call, &self.phrase_cache, assembled.collect()),
                false => assembled.map(|r| r.map(|(x, _)| x)).collect(),
            }
        })
    }
}

/// The outputs of each of `documents` documents' chunks (with each
/// chunk's index), gathered from the batches; or the error of a batch one
/// of its chunks was in.
fn by_document(
    documents: usize,
    batches: &[Batch],
    outputs: Vec<Result<Vec<(usize, usize, ChunkOutputs)>>>,
    sequences: &[Sequence],
) -> Vec<Result<Vec<(usize, ChunkOutputs)>>> {
    let mut per_doc: Vec<Result<Vec<(usize, ChunkOutputs)>>> = (0..documents).map(|_| Ok(Vec::new())).collect();
    for (batch, result) in batches.iter().zip(outputs) {
        match result {
            Ok(chunks) => {
                for (d, c, out) in chunks {
                    if let Ok(chunks) = &mut per_doc[d] {
                        chunks.push((c, out));
                    }
                }
            }
            Err(e) => batch.sequences().for_each(|s| per_doc[sequences[s].doc] = Err(e.clone())),
        }
    }
    per_doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<Engine>();
    }
}
