//! Loading the engine and the defaults every document starts from; the
//! flags both modes share.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use edgemine::{Engine, EngineConfig, KeyphraseOptions, OffsetUnit, Options, PhraseEmbedding, Task};

/// Engine flags, each also read from an `EDGEMINE_*` variable (a
/// Kubernetes ConfigMap sets them).
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// Model folder; default: the models shipped with the image
    /// (EDGEMINE_MODELS, then the default search of the core).
    #[arg(long, env = "EDGEMINE_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,
    /// Threads of the engine's pool; default: the CPUs the container may
    /// use (its cgroup CPU quota).
    #[arg(long, env = "EDGEMINE_THREADS")]
    pub threads: Option<usize>,
    /// Optimized plans kept, one per batch shape (memory against re-planning).
    #[arg(long, env = "EDGEMINE_MAX_PLANS")]
    pub max_plans: Option<usize>,
    /// Key-phrase candidate embeddings kept for reuse across requests
    /// (≈ 1.6 KB each; 0: none; default: the engine's).
    #[arg(long, env = "EDGEMINE_PHRASE_CACHE")]
    pub phrase_cache: Option<usize>,
    /// The library that runs the model: tract (built in, the default) or
    /// onnxruntime (loaded at run time from --onnxruntime-library).
    #[arg(long, env = "EDGEMINE_BACKEND", value_parser = edgemine::Backend::NAMES)]
    pub backend: Option<String>,
    /// The libonnxruntime shared library for the onnxruntime backend
    /// (default: ORT_DYLIB_PATH, else libonnxruntime.so on the loader's
    /// path). Given, it asks for the onnxruntime backend; ORT_DYLIB_PATH
    /// only names the library, so it is not this flag's variable: a path
    /// set there for other programs must not switch the backend.
    #[arg(long, env = "EDGEMINE_ONNXRUNTIME_LIBRARY")]
    pub onnxruntime_library: Option<PathBuf>,
    #[arg(long, env = "EDGEMINE_ONNXRUNTIME_SESSIONS", help = edgemine::Backend::SESSIONS_HELP)]
    pub onnxruntime_sessions: Option<usize>,
    #[arg(long, env = "EDGEMINE_PRECISION", value_parser = edgemine::Precision::NAMES, help = edgemine::Precision::HELP)]
    pub precision: Option<String>,
    /// Default tasks, comma separated (entities,parse,keyphrases,triples);
    /// default: every task the model can do. Requests may choose their own.
    #[arg(long, env = "EDGEMINE_TASKS", value_delimiter = ',')]
    pub tasks: Option<Vec<Task>>,
    /// Default offset unit: utf8, char or utf16. Requests may choose their own.
    #[arg(long, env = "EDGEMINE_OFFSETS", default_value = "char")]
    pub offsets: OffsetUnit,
    /// Default for where key-phrase candidates' embeddings come from:
    /// alone (a second model pass) or in-context (pooled from the sentence
    /// pass: faster, ranks a little worse). Requests may choose their own.
    #[arg(long, env = "EDGEMINE_KEYPHRASE_EMBEDDING", default_value = "alone")]
    pub keyphrase_embedding: PhraseEmbedding,
    /// Largest document accepted, in UTF-8 bytes; larger ones fail alone
    /// with DOCUMENT_TOO_LARGE.
    #[arg(long, env = "EDGEMINE_MAX_DOCUMENT_BYTES", default_value_t = 1 << 20)]
    pub max_document_bytes: usize,
}

impl EngineArgs {
    /// The options every document starts from.
    pub fn defaults(&self) -> Options {
        Options {
            tasks: self.tasks.clone(),
            offsets: self.offsets,
            max_document_bytes: self.max_document_bytes,
            keyphrases: KeyphraseOptions { embedding: self.keyphrase_embedding, ..KeyphraseOptions::default() },
            ..Options::default()
        }
    }

    /// Loads the engine, returning it with the seconds it took.
    pub fn load(&self) -> anyhow::Result<(Arc<Engine>, f64)> {
        let started = Instant::now();
        let config = EngineConfig {
            model_dir: self.model_dir.clone(),
            model_roots: Vec::new(),
            threads: self.threads,
            max_plans: self.max_plans,
            phrase_cache: self.phrase_cache,
            backend: edgemine::Backend::from_args(
                self.backend.as_deref(),
                self.onnxruntime_library.clone(),
                self.onnxruntime_sessions,
            )?,
            precision: self.precision.as_deref().map(edgemine::Precision::from_name).transpose()?.flatten(),
        };
        let engine = Engine::with_config(config).context("cannot load the models")?;
        Ok((Arc::new(engine), started.elapsed().as_secs_f64()))
    }
}
