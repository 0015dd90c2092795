//! What a model folder holds, read from its manifest: `edgemine.json` for
//! edgemine's own models, or a Hugging Face `config.json` (`id2label`) for a
//! token-classification model exported with optimum.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::network::Precision;
use crate::error::{Error, Result};
use crate::keyphrases::Rankers;
use crate::tokenize::CaseIds;
use crate::words;

/// One classification head: the graph output and its labels.
#[derive(Debug, Clone)]
pub struct LabelHead {
    /// Name of the graph output holding the logits.
    pub output: String,
    /// Label of each logit column.
    pub labels: Vec<String>,
}

/// Everything the engine needs to know about a model folder.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    /// The folder the model was loaded from.
    pub dir: PathBuf,
    /// Model name.
    pub name: String,
    /// Model version.
    pub version: String,
    /// Which manifest described the model: `edgemine.json` or `config.json`.
    pub manifest: &'static str,
    /// Longest sequence the model accepts, special tokens included.
    pub max_wordpieces: usize,
    /// For a model trained on consecutive sentences packed into one
    /// sequence: the most wordpieces of such a sequence, special tokens
    /// included. The engine packs sentences the same way by default.
    pub pack_wordpieces: Option<usize>,
    /// Entity head (IOB2 labels such as `B-PER`), if any.
    pub entities: Option<LabelHead>,
    /// Part-of-speech head, if any.
    pub upos: Option<LabelHead>,
    /// Dependency arc scores output, if any.
    pub arcs: Option<String>,
    /// Dependency label head, if any (needs `arcs`).
    pub deprels: Option<LabelHead>,
    /// The order of the label head's last two axes.
    pub deprel_axes: DeprelAxes,
    /// Pooled embedding output, if any.
    pub embedding: Option<String>,
    /// The same embedding for each wordpiece, before pooling (the mean over a
    /// sequence's wordpieces, L2-normalized, is its pooled embedding), if any:
    /// what lets rows that hold several sequences give each its embedding.
    pub embedding_tokens: Option<String>,
    /// Graphs besides `model.onnx` that compute in another precision, for
    /// the backends they name (the manifest's `graphs`).
    pub graphs: Vec<GraphVariant>,
    /// The id the model's `case_ids` input gives each case class (the
    /// manifest's `inputs.case_ids.classes`; the default order without).
    pub case_ids: CaseIds,
    /// The key-phrase rankers fitted on this model's embedding (the
    /// manifest's `keyphrases.rankers`); none for a model without them.
    pub keyphrase_rankers: Rankers,
    /// sha256 and size of each file, when the manifest lists them.
    pub checksums: BTreeMap<String, FileChecksum>,
}

/// The order of the dependency label scores' last two axes: the candidate
/// heads (`words+1`: ROOT, then each word) and the labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeprelAxes {
    /// `[batch, words, words+1, labels]`: how the exporter first wrote it.
    #[default]
    HeadsThenLabels,
    /// `[batch, words, labels, words+1]`: the order the label product
    /// computes in, so the graph needs no transpose (and tract fuses the
    /// label bias into the product; `models/recipe/fuse.py`).
    LabelsThenHeads,
}

impl DeprelAxes {
    /// The order a manifest's `shape` names: `"words+1"` third or fourth.
    fn from_shape(shape: &[serde_json::Value]) -> Option<Self> {
        let heads = serde_json::Value::from("words+1");
        match shape {
            [] => Some(Self::HeadsThenLabels),
            [_, _, h, _] if *h == heads => Some(Self::HeadsThenLabels),
            [_, _, _, h] if *h == heads => Some(Self::LabelsThenHeads),
            _ => None,
        }
    }
}

/// A graph of the same model that computes in another precision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphVariant {
    /// What its matrix products compute in.
    pub precision: Precision,
    /// Its file in the model folder.
    pub file: String,
    /// The backends it is made for ([`super::Backend::name`]s): those
    /// whose kernels for its operators are fast.
    pub backends: Vec<String>,
    /// Whether automatic precision picks it on those backends: a graph
    /// that costs accuracy is only ever run when asked for.
    pub default: bool,
}

/// A file's expected sha256 and size.
#[derive(Debug, Clone, Deserialize)]
pub struct FileChecksum {
    /// Hex sha256 of the file.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

#[derive(Deserialize)]
struct Manifest {
    format: String,
    format_version: u32,
    name: String,
    version: String,
    #[serde(default)]
    files: BTreeMap<String, FileChecksum>,
    tokenizer: ManifestTokenizer,
    heads: ManifestHeads,
    #[serde(default)]
    graphs: BTreeMap<String, ManifestGraph>,
    #[serde(default)]
    keyphrases: Option<ManifestKeyphrases>,
    #[serde(default)]
    words: Option<ManifestWords>,
    #[serde(default)]
    inputs: BTreeMap<String, ManifestInput>,
}

#[derive(Deserialize)]
struct ManifestWords {
    unit: String,
}

#[derive(Deserialize)]
struct ManifestInput {
    #[serde(default)]
    classes: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct ManifestKeyphrases {
    rankers: Rankers,
}

#[derive(Deserialize)]
struct ManifestGraph {
    file: String,
    backends: Vec<String>,
    #[serde(default)]
    default: bool,
}

#[derive(Deserialize)]
struct ManifestTokenizer {
    max_wordpieces: usize,
    #[serde(default)]
    pack_wordpieces: Option<usize>,
}

#[derive(Deserialize)]
struct ManifestHeads {
    entities: Option<ManifestLabelHead>,
    upos: Option<ManifestLabelHead>,
    arcs: Option<ManifestOutput>,
    deprels: Option<ManifestLabelHead>,
    embedding: Option<ManifestEmbedding>,
}

#[derive(Deserialize)]
struct ManifestEmbedding {
    output: String,
    #[serde(default)]
    token_output: Option<String>,
}

#[derive(Deserialize)]
struct ManifestLabelHead {
    output: String,
    labels: Vec<String>,
    #[serde(default)]
    shape: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct ManifestOutput {
    output: String,
}

#[derive(Deserialize)]
struct HfConfig {
    id2label: BTreeMap<String, String>,
    #[serde(default)]
    max_position_embeddings: Option<usize>,
    #[serde(default)]
    name_or_path: Option<String>,
    #[serde(default, rename = "_name_or_path")]
    underscore_name_or_path: Option<String>,
    #[serde(default)]
    model_type: Option<String>,
}

impl ModelSpec {
    /// Reads the manifest of the model folder `dir`: `edgemine.json` if
    /// present, else a Hugging Face `config.json` with `id2label`.
    pub fn read(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(Error::ModelNotFound { path: dir.to_path_buf(), detail: "no such folder".into() });
        }
        for file in ["model.onnx", "tokenizer.json"] {
            if !dir.join(file).is_file() {
                return Err(Error::ModelNotFound { path: dir.join(file), detail: format!("the folder has no {file}") });
            }
        }
        let manifest = dir.join("edgemine.json");
        if manifest.is_file() {
            return Self::from_manifest(dir, &manifest);
        }
        let config = dir.join("config.json");
        if config.is_file() {
            return Self::from_hf_config(dir, &config);
        }
        Err(Error::ModelNotFound {
            path: dir.to_path_buf(),
            detail: "the folder has neither edgemine.json nor a Hugging Face config.json with id2label".into(),
        })
    }

    fn from_manifest(dir: &Path, path: &Path) -> Result<Self> {
        let m: Manifest = read_json(path)?;
        if m.format != "edgemine-model" || m.format_version != 1 {
            return Err(Error::ModelUnsupported {
                path: path.to_path_buf(),
                detail: format!(
                    "manifest format {:?} version {}; this engine reads \"edgemine-model\" version 1",
                    m.format, m.format_version
                ),
            });
        }
        let unsupported = |detail: String| Error::ModelUnsupported { path: path.to_path_buf(), detail };
        let deprel_shape = m.heads.deprels.as_ref().map(|h| h.shape.as_slice()).unwrap_or_default();
        let deprel_axes = DeprelAxes::from_shape(deprel_shape).ok_or_else(|| {
            unsupported(format!(
                "heads.deprels.shape {}: expected [\"batch\", \"words\", \"words+1\", labels] or \
                 [\"batch\", \"words\", labels, \"words+1\"]",
                serde_json::Value::Array(deprel_shape.to_vec())
            ))
        })?;
        if let Some(unit) = m.words.as_ref().map(|w| w.unit.as_str()).filter(|&u| u != words::UNIT) {
            return Err(unsupported(format!(
                "words.unit {unit:?}: this engine cuts text into {:?} words (UD English) only",
                words::UNIT
            )));
        }
        let case_ids = match m.inputs.get("case_ids").and_then(|i| i.classes.as_deref()) {
            Some(names) => {
                CaseIds::from_names(names).map_err(|e| unsupported(format!("inputs.case_ids.classes: {e}")))?
            }
            None => CaseIds::default(),
        };
        let label_head = |h: Option<ManifestLabelHead>| h.map(|h| LabelHead { output: h.output, labels: h.labels });
        let mut graphs = Vec::with_capacity(m.graphs.len());
        for (name, graph) in m.graphs {
            let precision = match Precision::from_name(&name) {
                Ok(Some(p)) if p != Precision::Fp32 => p,
                _ => return Err(unsupported(format!("graphs.{name}: this engine knows int8 graphs only"))),
            };
            // A file of the folder, never a path out of it.
            if Path::new(&graph.file).file_name().is_none_or(|f| f != graph.file.as_str()) {
                return Err(unsupported(format!("graphs.{name}.file `{}` is not a file name", graph.file)));
            }
            graphs.push(GraphVariant { precision, file: graph.file, backends: graph.backends, default: graph.default });
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            name: m.name,
            version: m.version,
            manifest: "edgemine.json",
            max_wordpieces: m.tokenizer.max_wordpieces,
            pack_wordpieces: m.tokenizer.pack_wordpieces,
            entities: label_head(m.heads.entities),
            upos: label_head(m.heads.upos),
            arcs: m.heads.arcs.map(|a| a.output),
            deprels: label_head(m.heads.deprels),
            deprel_axes,
            embedding_tokens: m.heads.embedding.as_ref().and_then(|e| e.token_output.clone()),
            embedding: m.heads.embedding.map(|e| e.output),
            graphs,
            case_ids,
            keyphrase_rankers: m.keyphrases.map(|k| k.rankers).unwrap_or_default(),
            checksums: m.files,
        })
    }

    /// A token-classification model as optimum exports it: one `logits`
    /// output per wordpiece, labels from `id2label`.
    fn from_hf_config(dir: &Path, path: &Path) -> Result<Self> {
        let c: HfConfig = read_json(path)?;
        let mut labels = Vec::with_capacity(c.id2label.len());
        for k in 0..c.id2label.len() {
            match c.id2label.get(&k.to_string()) {
                Some(label) => labels.push(label.clone()),
                None => {
                    return Err(Error::ModelCorrupt {
                        path: path.to_path_buf(),
                        detail: format!("id2label has no entry for id {k}; ids must run 0..{}", c.id2label.len()),
                    });
                }
            }
        }
        let name = c.name_or_path.or(c.underscore_name_or_path).or(c.model_type).unwrap_or_else(|| {
            dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into())
        });
        Ok(Self {
            dir: dir.to_path_buf(),
            name,
            version: String::new(),
            manifest: "config.json",
            max_wordpieces: c.max_position_embeddings.unwrap_or(512).min(512),
            pack_wordpieces: None,
            entities: Some(LabelHead { output: "logits".into(), labels }),
            upos: None,
            arcs: None,
            deprels: None,
            deprel_axes: DeprelAxes::default(),
            embedding: None,
            embedding_tokens: None,
            graphs: Vec::new(),
            case_ids: CaseIds::default(),
            keyphrase_rankers: Rankers::default(),
            checksums: BTreeMap::new(),
        })
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::ModelCorrupt { path: path.to_path_buf(), detail: format!("cannot read it: {e}") })?;
    serde_json::from_str(&text)
        .map_err(|e| Error::ModelCorrupt { path: path.to_path_buf(), detail: format!("not the JSON expected: {e}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_axes_follow_the_manifest_shape() {
        let shape = |v: serde_json::Value| v.as_array().cloned().unwrap_or_default();
        let heads_first = shape(serde_json::json!(["batch", "words", "words+1", 51]));
        let labels_first = shape(serde_json::json!(["batch", "words", 51, "words+1"]));
        assert_eq!(DeprelAxes::from_shape(&heads_first), Some(DeprelAxes::HeadsThenLabels));
        assert_eq!(DeprelAxes::from_shape(&labels_first), Some(DeprelAxes::LabelsThenHeads));
        assert_eq!(DeprelAxes::from_shape(&[]), Some(DeprelAxes::HeadsThenLabels), "no shape: the first order");
        assert_eq!(DeprelAxes::from_shape(&shape(serde_json::json!(["batch", "words", 51]))), None);
    }
}
