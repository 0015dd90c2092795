//! How an engine is set up: what the caller gives ([`EngineConfig`]),
//! filled in from the environment and the defaults.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::locate::{ModelSource, default_model_dir};
use crate::model::{Backend, Precision};
use crate::phrase_cache::DEFAULT_PHRASE_CACHE;

/// How an engine is set up. `EngineConfig::default()` loads the default
/// models on a pool of as many threads as the process may really use.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// A model folder; `None` finds the default models (see [`Engine::new`](crate::Engine::new)).
    pub model_dir: Option<PathBuf>,
    /// Folders that may hold the default model folder (`minilm-tagger/`),
    /// searched after `$EDGEMINE_MODELS` and before the places beside the
    /// executable: where a package keeps the models it ships (Python's and
    /// Node's package folder, the C library's install prefix).
    pub model_roots: Vec<PathBuf>,
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

/// An [`EngineConfig`] with every choice made.
pub(crate) struct Settings {
    pub dir: PathBuf,
    pub source: ModelSource,
    pub threads: usize,
    pub max_plans: usize,
    pub backend: Backend,
    pub precision: Option<Precision>,
    pub phrase_cache: usize,
}

impl EngineConfig {
    /// Every choice this leaves open, made from the environment and the
    /// defaults; or the first that cannot run.
    pub(crate) fn resolve(self) -> Result<Settings> {
        let (dir, source) = match self.model_dir {
            Some(dir) => (dir, ModelSource::Given),
            None => default_model_dir(&self.model_roots)?,
        };
        let max_plans = match self.max_plans {
            Some(0) => {
                return Err(Error::InvalidOption {
                    name: "max_plans",
                    detail: "the engine needs at least one plan to run; use 1 or more".into(),
                });
            }
            Some(n) => n,
            None => DEFAULT_MAX_PLANS,
        };
        let threads = match self.threads.or_else(|| std::env::var("EDGEMINE_THREADS").ok()?.parse().ok()) {
            Some(0) => {
                return Err(Error::InvalidOption {
                    name: "threads",
                    detail: "0 threads cannot run anything; use 1 or more".into(),
                });
            }
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let backend = match self.backend {
            Some(backend) => backend,
            None => match std::env::var("EDGEMINE_BACKEND") {
                Ok(name) => Backend::from_name(&name).map_err(|_| Error::InvalidOption {
                    name: "backend",
                    detail: format!("EDGEMINE_BACKEND is `{name}`; use one of {}", Backend::NAMES.join(", ")),
                })?,
                Err(_) => Backend::default(),
            },
        };
        let precision = match self.precision {
            Some(precision) => Some(precision),
            None => match std::env::var("EDGEMINE_PRECISION") {
                Ok(name) => Precision::from_name(&name).map_err(|_| Error::InvalidOption {
                    name: "precision",
                    detail: format!("EDGEMINE_PRECISION is `{name}`; use one of {}", Precision::NAMES.join(", ")),
                })?,
                Err(_) => None,
            },
        };
        let phrase_cache = self.phrase_cache.unwrap_or(DEFAULT_PHRASE_CACHE);
        Ok(Settings { dir, source, threads, max_plans, backend, precision, phrase_cache })
    }
}
