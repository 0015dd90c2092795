//! The engine: text in, an [`Extraction`] out, along the data flow of
//! DESIGN.md: split → tokenize → batch → infer → decode → merge.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use tract_onnx::prelude::Tensor;
use tract_onnx::prelude::tract_ndarray::{ArrayView1, ArrayView2, ArrayView3, Axis, Ix2, Ix3, Ix4, ShapeError, s};

use crate::batch::{self, Layout, Sequence, Shapes, Words};
use crate::decode;
use crate::error::{Error, Result};
use crate::extraction::{Entity, Extraction, KeyPhrase, Span, Triple, TripleArgument, Word};
use crate::keyphrases::{self, Candidate, DocumentVectors, ParsedDocument, PhraseEmbedding, Ranker};
use crate::model::{Backend, DeprelAxes, Model, Precision};
use crate::offsets::OffsetMap;
use crate::options::{Aggregation, Options, Task};
use crate::phrase_cache::{DEFAULT_PHRASE_CACHE, PhraseCache, PhraseKey};
use crate::split::{self, Chunk, ChunkLimits};
use crate::tokenize::{CaseClass, Wordpieces};
use crate::triples::{self, ParsedWord};
use crate::words;

/// Name of the default model folder, under the models directory.
pub const DEFAULT_MODEL: &str = "minilm-tagger";

/// How an engine is set up. `EngineConfig::default()` loads the default
/// models on a pool of as many threads as the process may really use.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// A model folder; `None` finds the default models (see [`Engine::new`]).
    pub model_dir: Option<PathBuf>,
    /// Worker threads; `None` = the CPUs this process may use (its CPU
    /// affinity and cgroup v1/v2 CPU quota, as `std::thread::available_parallelism`
    /// reads them), or `EDGEMINE_THREADS` when set.
    pub threads: Option<usize>,
    /// Optimized plans kept for reuse, one per batch shape; `None` =
    /// [`DEFAULT_MAX_PLANS`]. Plans share the weights their kernels pack
    /// alike, so for the default model the first costs ≈ 50 MB and each
    /// other ≈ 5–40 MB of resident memory: fewer saves memory, more saves
    /// rebuilding plans (≈ 60 ms each) when the mix of sentence lengths is
    /// wide.
    pub max_plans: Option<usize>,
    /// Key-phrase candidate embeddings kept for reuse across documents and
    /// calls; `None` = [`DEFAULT_PHRASE_CACHE`], 0 = none. A candidate
    /// seen before skips the model.
    pub phrase_cache: Option<usize>,
    /// The library that runs the model graph; `None` = the one the
    /// `EDGEMINE_BACKEND` environment variable names (`tract` or
    /// `onnxruntime`), else [`Backend::Tract`].
    pub backend: Option<Backend>,
    /// What the graph computes in; `None` = the one the
    /// `EDGEMINE_PRECISION` environment variable names (`auto`, `fp32` or
    /// `int8`), else automatic: the model's int8 graph where its manifest
    /// makes it the default for the backend, else fp32. The default model
    /// ships an int8 graph for ONNX Runtime, its default there (faster, a
    /// little less accurate: its model card says how much).
    pub precision: Option<Precision>,
}

/// Plans an engine keeps by default. Plans share the packed weights they
/// have in common, so a plan kept costs little, and one rebuilt costs a
/// build (≈ 60 ms) and a transient copy of the weights. A batch run over a
/// whole text takes few shapes (short sequences share rows of one length,
/// see `batch`), but a service batching whatever requests arrive meets many:
/// UD EWT dev sentences, 8 HTTP clients, all tasks, AVX2+FMA only, 16
/// plans instead of 3 served 1,185–1,441 words/s instead of 1,043–1,090,
/// p99 161–184 ms instead of 310–327, in 257–265 MB instead of 299–306
/// (two runs each); the CLI on the same text changed neither speed nor
/// memory beyond noise.
pub const DEFAULT_MAX_PLANS: usize = 16;

/// Where the loaded model folder was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelSource {
    /// Given by the caller.
    Given,
    /// From the `EDGEMINE_MODELS` environment variable.
    Environment,
    /// Next to the running executable (`models/` or `../share/edgemine/models/`).
    BesideExecutable,
    /// The `models/` folder of the source tree this crate was built from.
    SourceTree,
}

impl std::fmt::Display for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelSource::Given => "given",
            ModelSource::Environment => "EDGEMINE_MODELS",
            ModelSource::BesideExecutable => "beside the executable",
            ModelSource::SourceTree => "source tree",
        })
    }
}

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
        let (dir, source) = match config.model_dir {
            Some(dir) => (dir, ModelSource::Given),
            None => default_model_dir()?,
        };
        let max_plans = match config.max_plans {
            Some(0) => {
                return Err(Error::InvalidOption {
                    name: "max_plans",
                    detail: "the engine needs at least one plan to run; use 1 or more".into(),
                });
            }
            Some(n) => n,
            None => DEFAULT_MAX_PLANS,
        };
        let threads = match config.threads.or_else(|| std::env::var("EDGEMINE_THREADS").ok()?.parse().ok()) {
            Some(0) => {
                return Err(Error::InvalidOption {
                    name: "threads",
                    detail: "0 threads cannot run anything; use 1 or more".into(),
                });
            }
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let backend = match config.backend {
            Some(backend) => backend,
            None => match std::env::var("EDGEMINE_BACKEND") {
                Ok(name) => Backend::from_name(&name).map_err(|_| Error::InvalidOption {
                    name: "backend",
                    detail: format!("EDGEMINE_BACKEND is `{name}`; use one of {}", Backend::NAMES.join(", ")),
                })?,
                Err(_) => Backend::default(),
            },
        };
        let precision = match config.precision {
            Some(precision) => Some(precision),
            None => match std::env::var("EDGEMINE_PRECISION") {
                Ok(name) => Precision::from_name(&name).map_err(|_| Error::InvalidOption {
                    name: "precision",
                    detail: format!("EDGEMINE_PRECISION is `{name}`; use one of {}", Precision::NAMES.join(", ")),
                })?,
                Err(_) => None,
            },
        };
        let model = Model::load(&dir, &backend, precision, max_plans, threads)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("edgemine-{i}"))
            .build()
            .map_err(|e| Error::InvalidOption {
                name: "threads",
                detail: format!("cannot start {threads} threads: {e}"),
            })?;
        let phrase_cache = PhraseCache::new(config.phrase_cache.unwrap_or(DEFAULT_PHRASE_CACHE));
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
    /// embedded as `embedding` ([`Rankers::get`](crate::keyphrases::Rankers::get)).
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

    /// [`extract_batch`](Self::extract_batch) with options.
    ///
    /// Chunks of all documents are bucketed together, so short documents
    /// fill batches instead of padding them.
    pub fn extract_batch_with(&self, texts: &[&str], options: &Options) -> Vec<Result<Extraction>> {
        let plan = match self.run_plan(options) {
            Ok(plan) => plan,
            Err(e) => return texts.iter().map(|_| Err(e.clone())).collect(),
        };
        self.pool.install(|| {
            let prepared: Vec<Result<Prepared>> = texts.par_iter().map(|t| self.prepare(t, options, &plan)).collect();
            let sequences: Vec<Sequence> = prepared
                .iter()
                .enumerate()
                .filter_map(|(d, p)| p.as_ref().ok().map(|p| (d, p)))
                .flat_map(|(d, p)| p.sequences(d, &self.model, plan.budget))
                .collect();
            let batches = batch::plan(
                &sequences,
                options.batch_wordpieces,
                self.threads,
                self.model.spec.max_wordpieces,
                plan.layout,
                plan.shapes,
                Words::Read,
            );
            let results: Vec<Result<Vec<(usize, usize, ChunkResult)>>> =
                batches.par_iter().map(|b| self.run_batch(b, &sequences, &prepared, options, &plan)).collect();
            let mut per_doc: Vec<Vec<(usize, ChunkResult)>> = texts.iter().map(|_| Vec::new()).collect();
            let mut failed: Vec<Option<Error>> = texts.iter().map(|_| None).collect();
            for (batch, result) in batches.iter().zip(results) {
                match result {
                    Ok(chunks) => chunks.into_iter().for_each(|(d, c, r)| per_doc[d].push((c, r))),
                    Err(e) => batch.sequences().for_each(|s| failed[sequences[s].doc] = Some(e.clone())),
                }
            }
            let assembled: Vec<Result<(Extraction, Option<PhraseWork>)>> = prepared
                .into_iter()
                .zip(per_doc)
                .zip(failed)
                .map(|((p, chunks), failed)| match (p, failed) {
                    (Err(e), _) | (_, Some(e)) => Err(e),
                    (Ok(p), None) => Ok(self.assemble(p, chunks, options, &plan)),
                })
                .collect();
            if plan.keyphrases {
                self.add_keyphrases(assembled, options, &plan)
            } else {
                assembled.into_iter().map(|r| r.map(|(x, _)| x)).collect()
            }
        })
    }

    /// The key phrases of every assembled document: each candidate's
    /// embedding pooled in context, or (embedded alone) from the cache or
    /// from one more pass through the model for the distinct new
    /// candidates of all documents together (short sequences, so they fill
    /// few batches); then each document's ranking.
    fn add_keyphrases(
        &self,
        assembled: Vec<Result<(Extraction, Option<PhraseWork>)>>,
        options: &Options,
        plan: &RunPlan,
    ) -> Vec<Result<Extraction>> {
        // Each document's candidate embeddings, the cached ones filled in;
        // the others wait for `new`, one entry per distinct input.
        let mut embeddings: Vec<Vec<Vec<f32>>> = Vec::with_capacity(assembled.len());
        let mut new: Vec<(PhraseKey, Sequence)> = Vec::new();
        let mut index_of_new = std::collections::HashMap::new();
        let mut waiting: Vec<(usize, usize, usize)> = Vec::new(); // (document, candidate, new)
        for (d, doc) in assembled.iter().enumerate() {
            let sequences = match doc {
                Ok((_, Some(work))) if work.in_context.is_none() => work.sequences.as_slice(),
                _ => &[],
            };
            let mut vectors = Vec::with_capacity(sequences.len());
            for (c, seq) in sequences.iter().enumerate() {
                let key = PhraseCache::key(&seq.ids, &seq.case_ids);
                match self.phrase_cache.get(&key) {
                    Some(v) => vectors.push(v),
                    None => {
                        let n = *index_of_new.entry(key.clone()).or_insert_with(|| {
                            new.push((key, Sequence { doc: new.len(), chunk: 0, ..seq.clone() }));
                            new.len() - 1
                        });
                        waiting.push((d, c, n));
                        vectors.push(Vec::new());
                    }
                }
            }
            embeddings.push(vectors);
        }
        let (keys, sequences): (Vec<_>, Vec<_>) = new.into_iter().unzip();
        let max_len = self.model.spec.max_wordpieces;
        let batches = batch::plan(
            &sequences,
            options.batch_wordpieces,
            self.threads,
            max_len,
            plan.layout,
            plan.shapes,
            Words::Unread,
        );
        let results: Vec<Result<Vec<Vec<f32>>>> =
            batches.par_iter().map(|b| self.embeddings(b, &sequences, plan)).collect();
        let mut computed: Vec<Result<Vec<f32>>> = (0..sequences.len()).map(|_| Ok(Vec::new())).collect();
        for (b, result) in batches.iter().zip(results) {
            match result {
                Ok(vectors) => b.placements.iter().zip(vectors).for_each(|(p, e)| {
                    self.phrase_cache.put(keys[p.sequence].clone(), &e);
                    computed[p.sequence] = Ok(e);
                }),
                Err(e) => b.sequences().for_each(|s| computed[s] = Err(e.clone())),
            }
        }
        let mut failed: Vec<Option<Error>> = assembled.iter().map(|_| None).collect();
        for (d, c, n) in waiting {
            match &computed[n] {
                Ok(e) => embeddings[d][c] = e.clone(),
                Err(e) => failed[d] = Some(e.clone()),
            }
        }
        assembled
            .into_iter()
            .zip(embeddings)
            .zip(failed)
            .map(|((doc, embeddings), failed)| {
                let (mut extraction, work) = doc?;
                if let Some(e) = failed {
                    return Err(e);
                }
                let Some(work) = work else { return Ok(extraction) };
                let embeddings = work.in_context.unwrap_or(embeddings);
                let ranked = keyphrases::rank(
                    &work.candidates,
                    &embeddings,
                    &work.vectors,
                    &options.keyphrases,
                    plan.phrase_embedding,
                    self.keyphrase_ranker(plan.phrase_embedding),
                );
                let mut phrases = work.phrases;
                extraction.keyphrases = Some(
                    ranked
                        .into_iter()
                        .map(|r| {
                            let (text, occurrences) = std::mem::take(&mut phrases[r.candidate]);
                            let features = options.keyphrases.explain.then_some(r.features);
                            KeyPhrase { text, score: r.score, occurrences, features }
                        })
                        .collect(),
                );
                Ok(extraction)
            })
            .collect()
    }

    /// The unit embedding of each sequence of one batch, in placement
    /// order. The batch asks for the embedding alone and has one unread
    /// word slot ([`Words::Unread`]), so the word heads, whose label head
    /// is quadratic in the word axis, cost next to nothing. (It once asked
    /// for the sentence pass's outputs and word axis, to reuse its tract
    /// plans; the plans of its own cost less than those heads: UD EWT dev
    /// sentences, all tasks, 13.5 s → 12.3 s on tract, 4.8 s → 4.4 s on
    /// ONNX Runtime int8.)
    fn embeddings(&self, b: &batch::Batch, sequences: &[Sequence], plan: &RunPlan) -> Result<Vec<Vec<f32>>> {
        let no_embedding = || Error::Inference("no embedding output".into());
        let output = plan.slots.embedding.map(|slot| plan.wanted[slot]).ok_or_else(no_embedding)?;
        let outputs = self.model.network.run(batch::input(b, sequences, plan.layout), &[output])?;
        let slots =
            Slots { embedding: Some(0), embedding_per_token: plan.slots.embedding_per_token, ..Slots::default() };
        let view = EmbeddingView::of(&outputs, slots)?.ok_or_else(no_embedding)?;
        Ok(b.placements.iter().map(|p| view.sequence(p, sequences[p.sequence].ids.len())).collect())
    }

    /// Tasks, outputs and chunk budget for `options`, checked against the model.
    fn run_plan(&self, options: &Options) -> Result<RunPlan> {
        let available = self.model.tasks();
        let tasks = options.tasks.clone().unwrap_or_else(|| available.clone());
        for t in &tasks {
            if !available.contains(t) {
                return Err(Error::TaskUnavailable {
                    task: t.as_str().into(),
                    detail: format!(
                        "the model {} provides {}",
                        self.model.spec.name,
                        available.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        let specials = self.model.wordpiecer.prefix().len() + self.model.wordpiecer.suffix().len();
        let room = self.model.spec.max_wordpieces.saturating_sub(specials);
        let budget = options.chunk_wordpieces.unwrap_or(room);
        if budget == 0 || budget > room {
            return Err(Error::InvalidOption {
                name: "chunk_wordpieces",
                detail: format!("{budget} wordpieces; the model takes 1 to {room} per chunk"),
            });
        }
        if options.batch_wordpieces == 0 {
            return Err(Error::InvalidOption { name: "batch_wordpieces", detail: "must be at least 1".into() });
        }
        let outs = &self.model.outputs;
        let entities = tasks.contains(&Task::Entities);
        let parse = tasks.contains(&Task::Parse);
        let triples = tasks.contains(&Task::Triples);
        let keyphrases = tasks.contains(&Task::Keyphrases);
        if keyphrases {
            options.keyphrases.check()?;
        }
        let tree = parse || triples || keyphrases;
        let mut wanted = Vec::new();
        let mut slot = |o: Option<usize>, on: bool| {
            o.filter(|_| on).map(|o| {
                wanted.push(o);
                wanted.len() - 1
            })
        };
        let slots = Slots {
            entities: slot(outs.entities, entities),
            upos: slot(outs.upos, tree),
            arcs: slot(outs.arcs, tree),
            deprels: slot(outs.deprels, tree && outs.arcs.is_some()),
            // Per wordpiece where the graph gives it, so that rows can hold several sequences.
            embedding: slot(outs.embedding_tokens.filter(|_| self.model.packs).or(outs.embedding), keyphrases),
            embedding_per_token: self.model.packs && outs.embedding_tokens.is_some(),
        };
        // Packs as the model was trained: the manifest's size, special tokens off.
        let trained_pack = self.model.spec.pack_wordpieces.map(|w| w.saturating_sub(specials).max(1));
        let pack = match options.pack_sentences {
            None => trained_pack,
            Some(true) => Some(trained_pack.unwrap_or(budget)),
            Some(false) => None,
        };
        let pack = pack.map(|p| p.min(budget));
        // Rows hold several chunks, unless an embedding pooled over whole rows is wanted.
        let layout = match self.model.packs {
            true => Layout::Segments { pack: slots.embedding.is_none() || slots.embedding_per_token },
            false => Layout::Plain,
        };
        let shapes = match self.model.network.plans_by_shape() {
            true => Shapes::Few,
            false => Shapes::Fitted,
        };
        // In context needs each wordpiece's vector from the sentence pass.
        let phrase_embedding = match options.keyphrases.embedding {
            PhraseEmbedding::InContext if slots.embedding_per_token => PhraseEmbedding::InContext,
            _ => PhraseEmbedding::Alone,
        };
        Ok(RunPlan {
            entities,
            parse,
            triples,
            keyphrases,
            phrase_embedding,
            wanted,
            slots,
            budget,
            pack,
            layout,
            shapes,
        })
    }

    /// Split and tokenize one document.
    fn prepare<'a>(&self, text: &'a str, options: &Options, plan: &RunPlan) -> Result<Prepared<'a>> {
        if text.len() > options.max_document_bytes {
            return Err(Error::DocumentTooLarge { bytes: text.len(), limit: options.max_document_bytes });
        }
        let sentence_spans = split::sentences(text);
        if sentence_spans.is_empty() {
            return Err(Error::EmptyDocument);
        }
        let (sentences, words, sentence_words) = if options.pretokenized {
            pretokenized_sentences(text, sentence_spans)
        } else {
            let mut all = Vec::new();
            let mut ranges = Vec::with_capacity(sentence_spans.len());
            for s in &sentence_spans {
                let first = all.len();
                all.extend(words::words(&text[s.clone()]).into_iter().map(|w| w.start + s.start..w.end + s.start));
                ranges.push(first..all.len());
            }
            (sentence_spans, all, ranges)
        };
        let mut pieces = Vec::with_capacity(sentence_words.len());
        for r in &sentence_words {
            pieces.push(self.model.wordpiecer.encode(text, &words[r.clone()])?);
        }
        let counts: Vec<usize> = pieces.iter().flat_map(|p| p.of_word.iter().map(|r| r.len())).collect();
        let limits =
            ChunkLimits { wordpieces: plan.budget, overlap: options.chunk_overlap, pack_wordpieces: plan.pack };
        let chunks = split::chunks(&sentence_words, &counts, limits);
        let mut sentence_of_word = vec![0; words.len()];
        for (s, r) in sentence_words.iter().enumerate() {
            sentence_of_word[r.clone()].fill(s);
        }
        Ok(Prepared { text, sentences, words, sentence_words, sentence_of_word, pieces, chunks })
    }

    /// Run one batch through the graph and decode each of its chunks.
    fn run_batch(
        &self,
        b: &batch::Batch,
        sequences: &[Sequence],
        prepared: &[Result<Prepared>],
        options: &Options,
        plan: &RunPlan,
    ) -> Result<Vec<(usize, usize, ChunkResult)>> {
        let input = batch::input(b, sequences, plan.layout);
        let outputs = self.model.network.run(input, &plan.wanted)?;
        let view = |slot: Option<usize>| {
            slot.map(|i| outputs[i].to_plain_array_view::<f32>().map_err(|e| Error::Inference(format!("{e:#}"))))
                .transpose()
        };
        let fixed = |e: ShapeError| Error::Inference(format!("an output has an unexpected rank: {e}"));
        // Views of fixed rank: rows are read as contiguous slices, not by dynamic indexing.
        let ent = view(plan.slots.entities)?.map(|v| v.into_dimensionality::<Ix3>()).transpose().map_err(fixed)?;
        let upos = view(plan.slots.upos)?.map(|v| v.into_dimensionality::<Ix3>()).transpose().map_err(fixed)?;
        let arcs = view(plan.slots.arcs)?.map(|v| v.into_dimensionality::<Ix3>()).transpose().map_err(fixed)?;
        // Read as [batch, words, words+1, labels] whatever the graph's order.
        let deprels =
            view(plan.slots.deprels)?.map(|v| v.into_dimensionality::<Ix4>()).transpose().map_err(fixed)?.map(|v| {
                match self.model.spec.deprel_axes {
                    DeprelAxes::HeadsThenLabels => v,
                    DeprelAxes::LabelsThenHeads => v.permuted_axes([0, 1, 3, 2]),
                }
            });
        let embedding = EmbeddingView::of(&outputs, plan.slots)?;
        let mut out = Vec::with_capacity(b.placements.len());
        for place in &b.placements {
            let (seq, r) = (&sequences[place.sequence], place.row);
            let Ok(doc) = &prepared[seq.doc] else { continue };
            let chunk = &doc.chunks[seq.chunk];
            // Word `w` of the document: its slot on the row's word axis, and
            // (plus one) its column as a head.
            let slot = |w: usize| place.first_word + w - chunk.words.start;
            let mut result = ChunkResult {
                embedding: embedding.as_ref().map(|e| e.sequence(place, seq.ids.len())),
                ..ChunkResult::default()
            };
            for w in chunk.owned.clone() {
                if let Some(ent) = &ent {
                    let mut row = if self.model.word_level {
                        ent.slice(s![r, slot(w), ..]).to_vec()
                    } else {
                        let pieces = &seq.word_pieces[w - chunk.words.start];
                        pooled_row(
                            ent,
                            r,
                            &(pieces.start + place.offset..pieces.end + place.offset),
                            options.aggregation,
                        )
                    };
                    decode::log_softmax(&mut row);
                    result.entity_rows.push(row);
                }
                if let Some(upos) = &upos {
                    result.upos.push(argmax_row(upos.slice(s![r, slot(w), ..])));
                }
            }
            if let Some(arcs) = &arcs {
                // One tree per piece of a sentence this chunk owns.
                let mut w = chunk.owned.start;
                while w < chunk.owned.end {
                    let s = doc.sentence_of_word[w];
                    let seg = w..chunk.owned.end.min(doc.sentence_words[s].end);
                    let first_of_sentence = seg.start == doc.sentence_words[s].start;
                    // Candidate heads: ROOT, then the segment's words (columns slot + 1).
                    let (first, n) = (slot(seg.start), seg.len());
                    let column = |h: usize| if h == 0 { place.root_column } else { first + h };
                    let scores: Vec<Vec<f32>> = (0..n)
                        .map(|d| {
                            let mut row = Vec::with_capacity(n + 1);
                            row.push(arcs[[r, first + d, place.root_column]]);
                            row.extend(arcs.slice(s![r, first + d, first + 1..first + n + 1]).iter());
                            decode::log_softmax(&mut row);
                            row
                        })
                        .collect();
                    for (d, h) in decode::mst_heads(&scores).into_iter().enumerate() {
                        let (label, label_prob) = match &deprels {
                            Some(dl) => {
                                let (best, p) =
                                    decode::most_probable(dl.slice(s![r, first + d, column(h), ..]).iter().copied());
                                (Some(best), p)
                            }
                            None => (None, 1.0),
                        };
                        result.confidence.push(scores[d][h].exp() * label_prob);
                        result.heads.push(match h {
                            0 if first_of_sentence => Head::Root,
                            0 => Head::EarlierWindow,
                            h => Head::Word(seg.start + h - 1),
                        });
                        result.deprels.push(label);
                    }
                    w = seg.end;
                }
            }
            if let (Some(EmbeddingView::PerToken(tokens)), true) =
                (&embedding, plan.keyphrases && plan.phrase_embedding == PhraseEmbedding::InContext)
            {
                result.word_vectors = self.phrase_word_vectors(tokens, place, seq, doc, chunk, &result);
            }
            out.push((seq.doc, seq.chunk, result));
        }
        Ok(out)
    }

    /// The vectors of the words of a chunk that may be part of a key
    /// phrase ([`keyphrases::may_be_in_phrase`] by their text and decoded
    /// UPOS and relation): the sum of each word's wordpieces' vectors. Only
    /// those are kept, so the memory in-context pooling needs grows with
    /// the nouns and their modifiers, not with every wordpiece.
    fn phrase_word_vectors(
        &self,
        tokens: &ArrayView3<'_, f32>,
        place: &batch::Placement,
        seq: &Sequence,
        doc: &Prepared,
        chunk: &Chunk,
        result: &ChunkResult,
    ) -> Vec<(usize, Vec<f32>)> {
        let spec = &self.model.spec;
        fn label(labels: Option<&Vec<String>>, i: Option<usize>) -> Option<&str> {
            labels.zip(i).and_then(|(l, i)| l.get(i)).map(String::as_str)
        }
        let upos_labels = spec.upos.as_ref().map(|h| &h.labels);
        let deprel_labels = spec.deprels.as_ref().map(|h| &h.labels);
        chunk
            .owned
            .clone()
            .enumerate()
            .filter(|&(k, w)| {
                let upos = label(upos_labels, result.upos.get(k).copied()).unwrap_or("X");
                let deprel = label(deprel_labels, result.deprels.get(k).copied().flatten()).unwrap_or("dep");
                keyphrases::may_be_in_phrase(&doc.text[doc.words[w].clone()], upos, deprel)
            })
            .map(|(_, w)| {
                let pieces = &seq.word_pieces[w - chunk.words.start];
                let end = (pieces.end + place.offset).min(tokens.shape()[1]);
                let start = (pieces.start + place.offset).min(end);
                (w, tokens.slice(s![place.row, start..end, ..]).sum_axis(Axis(0)).to_vec())
            })
            .collect()
    }

    /// Merge chunk results into the document's extraction.
    fn assemble(
        &self,
        doc: Prepared,
        mut chunks: Vec<(usize, ChunkResult)>,
        options: &Options,
        plan: &RunPlan,
    ) -> (Extraction, Option<PhraseWork>) {
        chunks.sort_by_key(|(c, _)| *c);
        let chunk_vectors: Vec<(Range<usize>, Vec<f32>)> =
            chunks.iter_mut().filter_map(|(c, r)| Some((doc.chunks[*c].owned.clone(), r.embedding.take()?))).collect();
        let n = doc.words.len();
        let mut entity_rows = Vec::with_capacity(if plan.entities { n } else { 0 });
        let (mut upos, mut heads, mut deprels, mut confidence) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut word_vectors = Vec::new();
        for (_, r) in chunks {
            word_vectors.extend(r.word_vectors);
            entity_rows.extend(r.entity_rows);
            upos.extend(r.upos);
            heads.extend(r.heads);
            deprels.extend(r.deprels);
            confidence.extend(r.confidence);
        }
        let map = OffsetMap::new(doc.text, options.offsets);
        let span = |r: &Range<usize>| (map.convert(r.start), map.convert(r.end));
        let entities = plan.entities.then(|| {
            let mut out = Vec::new();
            for (s, words) in doc.sentence_words.iter().enumerate() {
                if entity_rows.len() < words.end {
                    break;
                }
                for e in decode::bio_spans(&entity_rows[words.clone()], &self.model.entity_labels) {
                    let bytes =
                        doc.words[words.start + e.words.start].start..doc.words[words.start + e.words.end - 1].end;
                    let (start, end) = span(&bytes);
                    out.push(Entity {
                        text: doc.text[bytes].to_string(),
                        label: e.kind,
                        start,
                        end,
                        score: e.score,
                        sentence: s,
                    });
                }
            }
            out
        });
        let words: Option<Vec<Word>> = (plan.parse || plan.triples || plan.keyphrases).then(|| {
            let spec = &self.model.spec;
            let upos_labels = spec.upos.as_ref().map(|h| &h.labels);
            let deprel_labels = spec.deprels.as_ref().map(|h| &h.labels);
            let mut sentence_root = vec![0usize; doc.sentence_words.len()];
            for (w, h) in heads.iter().enumerate() {
                if matches!(h, Head::Root) {
                    sentence_root[doc.sentence_of_word[w]] = w;
                }
            }
            doc.words
                .iter()
                .enumerate()
                .map(|(w, bytes)| {
                    let s = doc.sentence_of_word[w];
                    let first = doc.sentence_words[s].start;
                    let (start, end) = span(bytes);
                    let predicted = || deprels.get(w).copied().flatten().and_then(|d| deprel_labels?.get(d).cloned());
                    let (head, deprel) = match heads.get(w) {
                        Some(Head::Root) => (Some(0), predicted()),
                        Some(Head::Word(h)) => (Some(h - first + 1), predicted()),
                        // The root of a later window of a cut sentence hangs on the sentence's root.
                        Some(Head::EarlierWindow) => (Some(sentence_root[s] - first + 1), Some("dep".to_string())),
                        None => (None, None),
                    };
                    Word {
                        text: doc.text[bytes.clone()].to_string(),
                        start,
                        end,
                        upos: upos.get(w).and_then(|&u| upos_labels.and_then(|l| l.get(u)).cloned()),
                        head,
                        deprel,
                        sentence: s,
                    }
                })
                .collect()
        });
        let triples = plan.triples.then(|| {
            let words = words.as_deref().unwrap_or_default();
            let mut out = Vec::new();
            for (s, range) in doc.sentence_words.iter().enumerate() {
                let (Some(sentence), Some(confidence)) = (words.get(range.clone()), confidence.get(range.clone()))
                else {
                    break;
                };
                out.extend(sentence_triples(&doc, s, sentence, confidence, &span));
            }
            out
        });
        let phrases = plan.keyphrases.then(|| {
            let words = words.as_deref().unwrap_or_default();
            self.phrase_work(&doc, words, &chunk_vectors, &word_vectors, options, plan, &span)
        });
        let words = if plan.parse { words } else { None };
        let extraction = Extraction {
            entities,
            keyphrases: None,
            triples,
            sentences: doc
                .sentences
                .iter()
                .map(|r| {
                    let (start, end) = span(r);
                    Span { start, end }
                })
                .collect(),
            words,
            offsets: options.offsets,
        };
        (extraction, phrases)
    }

    /// A document's key-phrase candidates, with what ranking them needs.
    /// `word_vectors` are the vectors of the words that may be in a phrase, in document order
    /// (those [`Self::phrase_word_vectors`] kept; empty unless embedded in context).
    #[allow(clippy::too_many_arguments)]
    fn phrase_work(
        &self,
        doc: &Prepared,
        words: &[Word],
        chunk_vectors: &[(Range<usize>, Vec<f32>)],
        word_vectors: &[(usize, Vec<f32>)],
        options: &Options,
        plan: &RunPlan,
        span: &impl Fn(&Range<usize>) -> (usize, usize),
    ) -> PhraseWork {
        let parse: Vec<ParsedWord> = words.iter().map(parsed_word).collect();
        let parsed =
            ParsedDocument { text: doc.text, words: &doc.words, sentences: &doc.sentence_words, parse: &parse };
        let kp = &options.keyphrases;
        let ranker = self.keyphrase_ranker(plan.phrase_embedding);
        let candidates = keyphrases::shortlist(keyphrases::candidates(&parsed, kp), kp.shortlist.max(kp.top_k), ranker);
        let bytes_of = |r: &Range<usize>| doc.words[r.start].start..doc.words[r.end - 1].end;
        let phrases = candidates
            .iter()
            .map(|c| {
                let text = doc.text[bytes_of(&c.occurrences[c.representative])].to_string();
                let occurrences = c
                    .occurrences
                    .iter()
                    .map(|o| {
                        let (start, end) = span(&bytes_of(o));
                        Span { start, end }
                    })
                    .collect();
                (text, occurrences)
            })
            .collect();
        let vectors = DocumentVectors::new(chunk_vectors, kp.section_words);
        let (sequences, in_context) = match plan.phrase_embedding {
            PhraseEmbedding::InContext => {
                let vector_of = |w: usize| {
                    word_vectors.binary_search_by_key(&w, |(k, _)| *k).ok().map(|i| word_vectors[i].1.as_slice())
                };
                let dim = vectors.document.len();
                let pooled = candidates.iter().map(|c| keyphrases::pool_in_context(&c.occurrences, vector_of, dim));
                (Vec::new(), Some(pooled.collect()))
            }
            PhraseEmbedding::Alone => {
                let sequences = candidates
                    .iter()
                    .map(|c| doc.phrase_sequence(&c.occurrences[c.representative], &self.model))
                    .collect();
                (sequences, None)
            }
        };
        PhraseWork { candidates, phrases, sequences, vectors, in_context }
    }
}

/// The engine's parsed word as the triple and key-phrase rules read it.
fn parsed_word(w: &Word) -> ParsedWord<'_> {
    ParsedWord {
        text: &w.text,
        upos: w.upos.as_deref().unwrap_or("X"),
        head: w.head.unwrap_or(0),
        deprel: w.deprel.as_deref().unwrap_or("dep"),
        confidence: 1.0,
    }
}

/// A document's key-phrase candidates between the two passes.
struct PhraseWork {
    candidates: Vec<Candidate>,
    /// Display text and occurrence spans of each candidate.
    phrases: Vec<(String, Vec<Span>)>,
    /// The model input of each candidate, when embedded alone.
    sequences: Vec<Sequence>,
    /// The document's and its sections' embeddings.
    vectors: DocumentVectors,
    /// Each candidate's embedding, when pooled in context.
    in_context: Option<Vec<Vec<f32>>>,
}

/// Which wanted output holds which head.
#[derive(Debug, Clone, Copy, Default)]
struct Slots {
    entities: Option<usize>,
    upos: Option<usize>,
    arcs: Option<usize>,
    deprels: Option<usize>,
    embedding: Option<usize>,
    /// The embedding output gives each wordpiece's vector, not each row's.
    embedding_per_token: bool,
}

/// What one call computes.
struct RunPlan {
    entities: bool,
    /// Words with their parse are returned.
    parse: bool,
    /// Triples are read off the parse (computed whether or not it is returned).
    triples: bool,
    /// Key phrases are chosen (from the parse, and the candidates' embeddings).
    keyphrases: bool,
    /// Where the candidates' embeddings come from: the option, unless the
    /// graph gives no per-wordpiece vectors to pool in context.
    phrase_embedding: PhraseEmbedding,
    /// Graph outputs to compute, in slot order.
    wanted: Vec<usize>,
    slots: Slots,
    /// Wordpieces per chunk, special tokens not counted.
    budget: usize,
    /// Wordpieces per pack of sentences (special tokens not counted); `None`:
    /// one sentence a chunk.
    pack: Option<usize>,
    /// How chunks sit in the model's rows.
    layout: Layout,
    /// Which batch shapes suit the backend.
    shapes: Shapes,
}

/// A document split and tokenized.
struct Prepared<'a> {
    text: &'a str,
    /// Sentence byte spans.
    sentences: Vec<Range<usize>>,
    /// Word byte spans, document order.
    words: Vec<Range<usize>>,
    /// Word index range of each sentence.
    sentence_words: Vec<Range<usize>>,
    sentence_of_word: Vec<usize>,
    /// Wordpieces of each sentence.
    pieces: Vec<Wordpieces>,
    chunks: Vec<Chunk>,
}

impl Prepared<'_> {
    /// The model input of a phrase alone: special tokens around the
    /// wordpieces of its `words` (document indices, one sentence). A phrase
    /// past the model's length (words of hundreds of wordpieces) is
    /// embedded from the wordpieces that fit.
    fn phrase_sequence(&self, words: &Range<usize>, model: &Model) -> Sequence {
        self.sequence(words.clone(), model, usize::MAX)
    }

    /// The model input of each chunk (a word longer than the whole budget
    /// keeps its first wordpieces).
    fn sequences(&self, doc: usize, model: &Model, budget: usize) -> Vec<Sequence> {
        let sequence =
            |(chunk, c): (usize, &Chunk)| Sequence { doc, chunk, ..self.sequence(c.words.clone(), model, budget) };
        self.chunks.iter().enumerate().map(sequence).collect()
    }

    /// Special tokens around the wordpieces of `words` (document indices),
    /// at most `per_word` of each word's and no more than the model reads.
    fn sequence(&self, words: Range<usize>, model: &Model, per_word: usize) -> Sequence {
        let (prefix, suffix) = (model.wordpiecer.prefix(), model.wordpiecer.suffix());
        let special = model.wordpiecer.case_id(CaseClass::None);
        let mut seq = Sequence { ids: prefix.to_vec(), case_ids: vec![special; prefix.len()], ..Default::default() };
        let mut last_first = 0;
        for w in words {
            let s = self.sentence_of_word[w];
            let local = w - self.sentence_words[s].start;
            let p = &self.pieces[s];
            let room = model.spec.max_wordpieces.saturating_sub(seq.ids.len() + suffix.len());
            let r = p.of_word[local].clone();
            let r = r.start..r.end.min(r.start + per_word.min(room));
            let at = seq.ids.len();
            seq.ids.extend_from_slice(&p.ids[r.clone()]);
            seq.case_ids.extend(std::iter::repeat_n(p.case_of_word[local], r.len()));
            // A word the normalizer erased reads the wordpiece before it.
            if !r.is_empty() {
                last_first = at;
            }
            seq.word_first.push(last_first);
            seq.word_pieces.push(at..at + r.len());
        }
        seq.ids.extend_from_slice(suffix);
        seq.case_ids.extend(std::iter::repeat_n(special, suffix.len()));
        seq
    }
}

/// Where a word's head is.
#[derive(Debug, Clone, Copy)]
enum Head {
    Root,
    /// Root of a later window of a sentence cut into windows.
    EarlierWindow,
    /// A word of the document (index).
    Word(usize),
}

/// Decoded results for the words a chunk owns, in order.
#[derive(Debug, Default)]
struct ChunkResult {
    entity_rows: Vec<Vec<f32>>,
    upos: Vec<usize>,
    heads: Vec<Head>,
    deprels: Vec<Option<usize>>,
    /// Probability of each word's head times that of its relation.
    confidence: Vec<f32>,
    /// The chunk's pooled embedding.
    embedding: Option<Vec<f32>>,
    /// Vectors of the words that may be in a key phrase (document index,
    /// vector), when key phrases are embedded in context.
    word_vectors: Vec<(usize, Vec<f32>)>,
}

/// The embedding output of a batch: one vector a row, or one a wordpiece.
enum EmbeddingView<'a> {
    Pooled(ArrayView2<'a, f32>),
    PerToken(ArrayView3<'a, f32>),
}

impl<'a> EmbeddingView<'a> {
    /// The view of the embedding slot of `outputs`, if one was wanted.
    fn of(outputs: &'a [Tensor], slots: Slots) -> Result<Option<Self>> {
        let Some(slot) = slots.embedding else { return Ok(None) };
        let view = outputs[slot].to_plain_array_view::<f32>().map_err(|e| Error::Inference(format!("{e:#}")))?;
        let rank = |e: ShapeError| Error::Inference(format!("the embedding output has an unexpected rank: {e}"));
        Ok(Some(match slots.embedding_per_token {
            true => Self::PerToken(view.into_dimensionality::<Ix3>().map_err(rank)?),
            false => Self::Pooled(view.into_dimensionality::<Ix2>().map_err(rank)?),
        }))
    }

    /// The unit embedding of the sequence of `len` wordpieces at `place`:
    /// its row's, or the mean of its wordpieces' vectors L2-normalized, as
    /// the graph pools its own output (the sum has the mean's direction).
    fn sequence(&self, place: &batch::Placement, len: usize) -> Vec<f32> {
        match self {
            Self::Pooled(rows) => rows.row(place.row).to_vec(),
            Self::PerToken(tokens) => {
                let end = (place.offset + len).min(tokens.shape()[1]);
                let pieces = tokens.slice(s![place.row, place.offset..end, ..]);
                let mut sum = pieces.sum_axis(Axis(0)).to_vec();
                let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                sum.iter_mut().for_each(|x| *x /= norm);
                sum
            }
        }
    }
}

/// [`decode::argmax`] of one output row, without a copy when the row is
/// contiguous (it is in tract's row-major outputs).
fn argmax_row(row: ArrayView1<'_, f32>) -> usize {
    match row.as_slice() {
        Some(values) => decode::argmax(values),
        None => decode::argmax(&row.to_vec()),
    }
}

/// Label probabilities of one word from its wordpieces' logits, as log-probabilities' input.
fn pooled_row(logits: &ArrayView3<'_, f32>, r: usize, pieces: &Range<usize>, aggregation: Aggregation) -> Vec<f32> {
    let k = logits.shape()[2];
    let probs = |p: usize| {
        let mut row = logits.slice(s![r, p, ..]).to_vec();
        decode::log_softmax(&mut row);
        row.iter_mut().for_each(|x| *x = x.exp());
        row
    };
    let pieces = if pieces.is_empty() { pieces.start.saturating_sub(1)..pieces.start.max(1) } else { pieces.clone() };
    let pooled = match aggregation {
        Aggregation::First => probs(pieces.start),
        Aggregation::Average => {
            let mut sum = vec![0f32; k];
            for p in pieces.clone() {
                sum.iter_mut().zip(probs(p)).for_each(|(s, x)| *s += x);
            }
            sum.iter_mut().for_each(|s| *s /= pieces.len() as f32);
            sum
        }
        Aggregation::Max => pieces
            .map(probs)
            .max_by(|a, b| a.iter().copied().fold(0f32, f32::max).total_cmp(&b.iter().copied().fold(0f32, f32::max)))
            .unwrap_or_else(|| vec![1.0 / k as f32; k]),
    };
    // Back to logits: log of the pooled probabilities (log_softmax is then a no-op up to rounding).
    pooled.into_iter().map(|p| p.max(1e-30).ln()).collect()
}

/// The triples of sentence `s`, read off its parsed `words` (with each
/// word's head-and-relation `confidence`), as document spans through `span`.
fn sentence_triples(
    doc: &Prepared,
    s: usize,
    words: &[Word],
    confidence: &[f32],
    span: &impl Fn(&Range<usize>) -> (usize, usize),
) -> Vec<Triple> {
    let parsed: Vec<ParsedWord> =
        words.iter().zip(confidence).map(|(w, &confidence)| ParsedWord { confidence, ..parsed_word(w) }).collect();
    let first = doc.sentence_words[s].start;
    // Sentence word range → document byte range.
    let bytes_of = |r: &Range<usize>| doc.words[first + r.start].start..doc.words[first + r.end - 1].end;
    let argument = |bytes: Range<usize>, parts: Vec<Span>| {
        let (start, end) = span(&bytes);
        TripleArgument { text: doc.text[bytes].to_string(), start, end, parts }
    };
    triples::triples(&parsed)
        .into_iter()
        .map(|t| {
            let object = t.object.as_ref().map(|o| argument(bytes_of(o), Vec::new()));
            let relation = match (t.relation.first(), t.relation.last()) {
                (Some(&a), Some(&b)) => {
                    let pieces = contiguous_runs(&t.relation);
                    let parts = match pieces.len() {
                        1 => Vec::new(),
                        _ => pieces
                            .iter()
                            .map(|p| {
                                let (start, end) = span(&bytes_of(p));
                                Span { start, end }
                            })
                            .collect(),
                    };
                    argument(bytes_of(&(a..b + 1)), parts)
                }
                // An implied relation: empty, where the object starts.
                _ => {
                    let at = match &t.object {
                        Some(o) => bytes_of(o).start,
                        None => bytes_of(&t.subject).end,
                    };
                    argument(at..at, Vec::new())
                }
            };
            Triple {
                subject: argument(bytes_of(&t.subject), Vec::new()),
                relation,
                label: t.label,
                object,
                arguments: t.arguments.iter().map(|a| argument(bytes_of(a), Vec::new())).collect(),
                score: t.score,
                sentence: s,
            }
        })
        .collect()
}

/// Maximal runs of consecutive indices in an ascending list: `[2, 3, 7]` → `2..4, 7..8`.
fn contiguous_runs(indices: &[usize]) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    for &i in indices {
        match runs.last_mut() {
            Some(r) if r.end == i => r.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}

/// Byte or word ranges.
type Spans = Vec<Range<usize>>;

/// Sentences for pretokenized text: the caller's tokens are the words; a
/// sentence holds the tokens that start inside it, and grows to cover a
/// token that runs past its end.
fn pretokenized_sentences(text: &str, spans: Vec<Range<usize>>) -> (Spans, Spans, Spans) {
    let tokens = words::pretokenized_words(text);
    let (mut sentences, mut ranges) = (Vec::<Range<usize>>::new(), Vec::<Range<usize>>::new());
    let mut t = 0;
    for span in spans {
        let first = t;
        while t < tokens.len() && tokens[t].start < span.end {
            t += 1;
        }
        if t == first {
            continue; // swallowed by a token of the previous sentence
        }
        // Start where the span starts, unless a token of the previous
        // sentence ran into it: then at this sentence's first token.
        let previous_end = sentences.last().map_or(0, |s| s.end);
        let start = if span.start >= previous_end { span.start.min(tokens[first].start) } else { tokens[first].start };
        sentences.push(start..span.end.max(tokens[t - 1].end));
        ranges.push(first..t);
    }
    (sentences, tokens, ranges)
}

fn default_model_dir() -> Result<(PathBuf, ModelSource)> {
    if let Some(dir) = std::env::var_os("EDGEMINE_MODELS").map(PathBuf::from) {
        let nested = dir.join(DEFAULT_MODEL);
        return Ok((if nested.is_dir() { nested } else { dir }, ModelSource::Environment));
    }
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        for candidate in [exe_dir.join("models"), exe_dir.join("../share/edgemine/models")] {
            if candidate.join(DEFAULT_MODEL).join("edgemine.json").is_file() {
                return Ok((candidate.join(DEFAULT_MODEL), ModelSource::BesideExecutable));
            }
        }
    }
    let source_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("models").join(DEFAULT_MODEL);
    if source_tree.join("edgemine.json").is_file() {
        return Ok((source_tree, ModelSource::SourceTree));
    }
    Err(Error::ModelNotFound {
        path: source_tree,
        detail: "the default models are in none of the places searched ($EDGEMINE_MODELS, models/ beside the \
                 executable, the source tree's models/)"
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<Engine>();
    }

    #[test]
    fn per_token_embeddings_are_pooled_per_sequence() {
        // One row, two sequences: wordpieces 0..2 and 2..5, then padding.
        let tokens = tract_onnx::prelude::tract_ndarray::Array3::from_shape_fn((1, 6, 2), |(_, t, k)| match (t, k) {
            (0 | 1, 0) => 1.0,
            (2..=4, 1) => 2.0,
            (5, _) => 100.0,
            _ => 0.0,
        });
        let view = EmbeddingView::PerToken(tokens.view());
        let place = |offset: usize| batch::Placement { sequence: 0, row: 0, offset, first_word: 1, root_column: 1 };
        assert_eq!(view.sequence(&place(0), 2), vec![1.0, 0.0]);
        assert_eq!(view.sequence(&place(2), 3), vec![0.0, 1.0], "its own wordpieces only, padding left out");
    }

    #[test]
    fn pretokenized_sentences_keep_tokens_whole() {
        let text = "Hello there.World is big. Yes";
        let spans = split::sentences(text);
        let (sentences, tokens, ranges) = pretokenized_sentences(text, spans);
        assert_eq!(
            tokens.iter().map(|t| &text[t.clone()]).collect::<Vec<_>>(),
            ["Hello", "there.World", "is", "big.", "Yes"]
        );
        for (s, r) in sentences.iter().zip(&ranges) {
            assert!(s.start <= tokens[r.start].start && tokens[r.end - 1].end <= s.end);
        }
        assert_eq!(ranges.last().map(|r| r.end), Some(tokens.len()));
        assert!(sentences.windows(2).all(|p| p[0].end <= p[1].start));
    }
}
