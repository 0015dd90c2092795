//! What a caller can ask of one extraction: tasks, offset unit, limits.

use crate::error::{Error, Result};
use crate::keyphrases::KeyphraseOptions;
use crate::offsets::OffsetUnit;

/// A kind of result the engine can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Named entities.
    Entities,
    /// Words with part of speech, head and dependency relation.
    Parse,
    /// Ranked key phrases.
    Keyphrases,
    /// Subject–relation–object triples.
    Triples,
}

impl Task {
    /// Every task, in schema order.
    pub const ALL: [Task; 4] = [Task::Entities, Task::Parse, Task::Keyphrases, Task::Triples];

    /// The name used in options, on the command line and in the schema.
    pub fn as_str(self) -> &'static str {
        match self {
            Task::Entities => "entities",
            Task::Parse => "parse",
            Task::Keyphrases => "keyphrases",
            Task::Triples => "triples",
        }
    }
}

impl std::str::FromStr for Task {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Task::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| Error::InvalidOption {
            name: "tasks",
            detail: format!("unknown task `{s}`; tasks are entities, parse, keyphrases, triples"),
        })
    }
}

/// How a word's label scores are pooled from its wordpieces, for models
/// whose heads score wordpieces (Hugging Face token classifiers). The
/// default models score words directly (from each word's first wordpiece)
/// and ignore this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aggregation {
    /// The first wordpiece's probabilities.
    #[default]
    First,
    /// The mean of the wordpieces' probabilities.
    Average,
    /// The probabilities of the wordpiece with the most confident label.
    Max,
}

impl std::str::FromStr for Aggregation {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "first" => Ok(Aggregation::First),
            "average" | "mean" => Ok(Aggregation::Average),
            "max" => Ok(Aggregation::Max),
            other => Err(Error::InvalidOption {
                name: "aggregation",
                detail: format!("unknown aggregation `{other}`; use first, average or max"),
            }),
        }
    }
}

/// Options of one extraction call. `Options::default()` runs every task the
/// model can do, with code-point offsets.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Tasks to run; `None` runs every task the loaded model supports.
    pub tasks: Option<Vec<Task>>,
    /// Unit of every offset in the result.
    pub offsets: OffsetUnit,
    /// The document is already tokenized: words are the runs of
    /// non-whitespace, exactly as given.
    pub pretokenized: bool,
    /// Wordpiece pooling for wordpiece-level models.
    pub aggregation: Aggregation,
    /// Documents larger than this many UTF-8 bytes are refused.
    pub max_document_bytes: usize,
    /// Most wordpieces per chunk, special tokens not counted; `None` uses
    /// the model's maximum.
    pub chunk_wordpieces: Option<usize>,
    /// Wordpieces shared by neighbouring windows of a sentence that is cut.
    pub chunk_overlap: usize,
    /// Pack consecutive short sentences into one chunk. `None` (the
    /// default) does what the model was trained for: packs of up to the
    /// manifest's `tokenizer.pack_wordpieces` for a model trained on packed
    /// sentences, one sentence a chunk otherwise. `Some(true)` packs up to
    /// that size, or up to the chunk budget for a model that names none;
    /// `Some(false)` reads every sentence alone.
    pub pack_sentences: Option<bool>,
    /// Wordpieces per inference batch (rows × padded length): big enough
    /// to keep the matrix kernels busy, small enough to stay in cache. A
    /// sequence longer than this runs alone.
    pub batch_wordpieces: usize,
    /// How many key phrases, and how they are chosen (task `keyphrases`).
    pub keyphrases: KeyphraseOptions,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            tasks: None,
            offsets: OffsetUnit::Char,
            pretokenized: false,
            aggregation: Aggregation::First,
            max_document_bytes: 32 << 20,
            chunk_wordpieces: None,
            chunk_overlap: 32,
            pack_sentences: None,
            batch_wordpieces: 256,
            keyphrases: KeyphraseOptions::default(),
        }
    }
}

impl Options {
    /// These options with only `tasks` run.
    pub fn with_tasks(mut self, tasks: impl IntoIterator<Item = Task>) -> Self {
        self.tasks = Some(tasks.into_iter().collect());
        self
    }

    /// These options with offsets in `unit`.
    pub fn with_offsets(mut self, unit: OffsetUnit) -> Self {
        self.offsets = unit;
        self
    }

    /// These options for pretokenized text (or not).
    pub fn with_pretokenized(mut self, pretokenized: bool) -> Self {
        self.pretokenized = pretokenized;
        self
    }
}
