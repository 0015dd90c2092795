//! Models: a folder with `model.onnx`, `tokenizer.json` and a manifest,
//! loaded into a tract graph, a tokenizer and the heads they provide.

mod network;
mod spec;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[cfg(feature = "internals")]
pub use network::kernel_rule;
pub use network::{Backend, Precision};
pub(crate) use network::{BatchInput, InputKind, Network};
pub use spec::{DeprelAxes, FileChecksum, GraphVariant, ModelSpec};

use crate::decode::SpanLabel;
use crate::error::{Error, Result};
use crate::options::Task;
use crate::tokenize::Wordpiecer;

/// Positions of the heads' outputs in the graph.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HeadOutputs {
    pub entities: Option<usize>,
    pub upos: Option<usize>,
    pub arcs: Option<usize>,
    pub deprels: Option<usize>,
    pub embedding: Option<usize>,
    /// The embedding of each wordpiece, pooled by the engine.
    pub embedding_tokens: Option<usize>,
}

/// A loaded model: graph, tokenizer, heads.
pub(crate) struct Model {
    pub spec: ModelSpec,
    pub network: Network,
    /// What the loaded graph computes in.
    pub precision: Precision,
    pub wordpiecer: Wordpiecer,
    pub outputs: HeadOutputs,
    pub entity_labels: Vec<SpanLabel>,
    /// Whether the heads read words (a `word_index` input) or wordpieces.
    pub word_level: bool,
    /// Whether rows may hold several sequences (`segment_ids` and
    /// `position_ids` inputs, word-level heads): see [`crate::batch`].
    /// Embeddings are then pooled from `embedding_tokens` when the graph
    /// gives it; without it, runs that want an embedding take one sequence a row.
    pub packs: bool,
}

impl Model {
    /// Loads the model folder `dir` into `backend` (see [`Network::load`]),
    /// with the graph of `precision` (`None`: automatic, see [`Precision`]).
    pub fn load(
        dir: &Path,
        backend: &Backend,
        precision: Option<Precision>,
        max_plans: usize,
        threads: usize,
    ) -> Result<Self> {
        let spec = ModelSpec::read(dir)?;
        let (precision, graph_file) = choose_graph(&spec, backend, precision)?;
        let graph = dir.join(&graph_file);
        if !graph.is_file() {
            return Err(Error::ModelNotFound {
                path: graph,
                detail: format!(
                    "the manifest lists it as the {} graph, but the folder has no such file",
                    precision.name()
                ),
            });
        }
        // The checksums of the files this engine reads (not of the graphs
        // it leaves) are read on a thread of their own while the graph
        // loads (≈ 60 ms of a ≈ 250 ms load); a file that fails its
        // checksum is reported as such even if it also failed to load.
        let unread =
            |file: &str| file != graph_file && (file == "model.onnx" || spec.graphs.iter().any(|g| g.file == file));
        let (checked, loaded) = std::thread::scope(|scope| {
            let checking = scope.spawn(|| -> Result<()> {
                for (file, expected) in spec.checksums.iter().filter(|(file, _)| !unread(file)) {
                    verify_checksum(&dir.join(file), expected)?;
                }
                Ok(())
            });
            let loaded = Wordpiecer::with_case_ids(&dir.join("tokenizer.json"), spec.case_ids)
                .and_then(|w| Ok((w, Network::load(&graph, precision, backend, max_plans, threads)?)));
            let checked = checking.join().unwrap_or_else(|_| {
                Err(Error::ModelCorrupt { path: dir.to_path_buf(), detail: "checking the checksums panicked".into() })
            });
            (checked, loaded)
        });
        checked?;
        let (wordpiecer, network) = loaded?;
        let find = |name: Option<&str>| name.map(|n| network.output(&graph, n)).transpose();
        let outputs = HeadOutputs {
            entities: find(spec.entities.as_ref().map(|h| h.output.as_str()))?,
            upos: find(spec.upos.as_ref().map(|h| h.output.as_str()))?,
            arcs: find(spec.arcs.as_deref())?,
            deprels: find(spec.deprels.as_ref().map(|h| h.output.as_str()))?,
            embedding: find(spec.embedding.as_deref())?,
            embedding_tokens: find(spec.embedding_tokens.as_deref())?,
        };
        let entity_labels = spec.entities.iter().flat_map(|h| h.labels.iter().map(|l| SpanLabel::parse(l))).collect();
        let word_level = network.takes(InputKind::WordIndex);
        if !word_level && (outputs.arcs.is_some() || outputs.upos.is_some()) {
            return Err(Error::ModelUnsupported {
                path: graph,
                detail: "part-of-speech and dependency heads need a word_index input".into(),
            });
        }
        let packs = word_level && network.takes(InputKind::SegmentIds) && network.takes(InputKind::PositionIds);
        Ok(Self { spec, network, precision, wordpiecer, outputs, entity_labels, word_level, packs })
    }

    /// Tasks this model can do, in schema order.
    pub fn tasks(&self) -> Vec<Task> {
        let o = &self.outputs;
        let tree = o.upos.is_some() && o.arcs.is_some();
        Task::ALL
            .into_iter()
            .filter(|t| match t {
                Task::Entities => o.entities.is_some(),
                Task::Parse => o.upos.is_some() || o.arcs.is_some(),
                Task::Triples => tree && o.deprels.is_some(),
                // Candidates come from the parse, their ranking from the embedding.
                Task::Keyphrases => tree && o.embedding.is_some(),
            })
            .collect()
    }
}

/// The precision and graph file to load: the one asked for, or
/// automatically the model's int8 graph where its manifest makes it the
/// default for `backend` and `backend` computes it exactly on this CPU
/// ([`Backend::int8_exact`]), else `model.onnx` (fp32).
fn choose_graph(spec: &ModelSpec, backend: &Backend, precision: Option<Precision>) -> Result<(Precision, String)> {
    let fp32 = || (Precision::Fp32, "model.onnx".to_owned());
    let variant = |p: Precision| spec.graphs.iter().find(|g| g.precision == p);
    let for_backend = |g: &GraphVariant| g.backends.iter().any(|b| b == backend.name());
    match precision {
        Some(Precision::Fp32) => Ok(fp32()),
        None => Ok(variant(Precision::Int8)
            .filter(|g| g.default && for_backend(g) && backend.int8_exact())
            .map_or_else(fp32, |g| (g.precision, g.file.clone()))),
        Some(p) => match variant(p) {
            Some(g) if for_backend(g) => Ok((p, g.file.clone())),
            Some(g) => Err(Error::InvalidOption {
                name: "precision",
                detail: format!(
                    "the model's {} graph is made for {} (whose kernels for it are fast), not for {}; choose that \
                     backend or precision fp32",
                    p.name(),
                    g.backends.join(", "),
                    backend.name()
                ),
            }),
            None => Err(Error::InvalidOption {
                name: "precision",
                detail: format!(
                    "the model in {} has no {} graph; use precision fp32 or auto",
                    spec.dir.display(),
                    p.name()
                ),
            }),
        },
    }
}

fn verify_checksum(path: &PathBuf, expected: &FileChecksum) -> Result<()> {
    let corrupt = |detail: String| Error::ModelCorrupt { path: path.clone(), detail };
    let mut file = File::open(path)
        .map_err(|e| Error::ModelNotFound { path: path.clone(), detail: format!("listed in edgemine.json: {e}") })?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| corrupt(format!("cannot read it: {e}")))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
    }
    let digest: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    if bytes != expected.bytes || digest != expected.sha256 {
        return Err(corrupt(format!(
            "{bytes} bytes with sha256 {digest}, but edgemine.json expects {} bytes with sha256 {} (a truncated \
             download, or a Git LFS pointer instead of the file?)",
            expected.bytes, expected.sha256
        )));
    }
    Ok(())
}
