//! What a caller can ask of one extraction: tasks, offset unit, limits
//! ([`Options`]), and the same as a value every interface fills from its
//! own form, each field optional ([`DocumentOptions`]).

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Aggregation {
    /// The first wordpiece's probabilities.
    #[default]
    First,
    /// The mean of the wordpieces' probabilities.
    #[serde(alias = "mean")]
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

/// The options of a document as every interface takes them: each field
/// optional, a field left out keeping the value it is applied over
/// ([`DocumentOptions::apply`]): the interface's default, which is
/// [`Options::default`]'s but where the interface says otherwise (the
/// service's flags, Node's UTF-16 offsets). Its JSON form (snake_case names, unknown
/// names refused, so a typo such as `offset` is an error rather than a
/// silent default) is the `options` object of the HTTP API and of Kafka
/// messages; the CLI, Python, Node and C fill it from their flags,
/// keyword arguments, objects and setters.
///
/// The limits a deployment sets for its own protection (the largest
/// document, the batch size) are not here: they belong to whoever runs the
/// engine ([`Options::max_document_bytes`], [`Options::batch_wordpieces`]),
/// not to a service's clients.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DocumentOptions {
    /// Tasks to run: `entities`, `parse`, `keyphrases`, `triples`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<Task>>,
    /// Unit of every offset: `utf8` bytes, `char` (code points) or `utf16`
    /// code units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offsets: Option<OffsetUnit>,
    /// The text is already tokenized: words are its runs of non-whitespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretokenized: Option<bool>,
    /// How a word's scores pool from its wordpieces (`first`, `average`,
    /// `max`), for models that score wordpieces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation: Option<Aggregation>,
    /// Most wordpieces per chunk, special tokens not counted (at most the
    /// model's maximum, the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_wordpieces: Option<usize>,
    /// Wordpieces shared by neighbouring windows of a sentence that is cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_overlap: Option<usize>,
    /// Pack consecutive short sentences into one chunk (`true`), or read
    /// each alone (`false`); by default, as the model was trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_sentences: Option<bool>,
    /// How many key phrases (task `keyphrases`), best first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<usize>,
    /// Key-phrase diversity, in [0, 1]: 1 ranks by relevance alone, lower
    /// values favour phrases unlike those already chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mmr_lambda: Option<f32>,
    /// Longest key phrase, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyphrase_max_words: Option<usize>,
    /// Key phrases of the form "X of Y" ("quality of service").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of_phrases: Option<bool>,
    /// Words per section of a long document, each ranked against its own
    /// embedding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_words: Option<usize>,
    /// Key-phrase candidates embedded and fully ranked per document (the
    /// best by their text signals; at least `top_k`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shortlist: Option<usize>,
    /// Return the signals behind each key phrase's score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain_keyphrases: Option<bool>,
    /// Where key-phrase candidates' embeddings come from: `alone` (a
    /// second model pass) or `in-context` (pooled from the sentence pass:
    /// faster, ranks a little worse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyphrase_embedding: Option<crate::keyphrases::PhraseEmbedding>,
}

impl DocumentOptions {
    /// The name of every option, in the order of the fields: as JSON and
    /// Python's keyword arguments spell them (the CLI's flags with dashes,
    /// Node's in camelCase).
    pub const NAMES: [&'static str; 15] = [
        "tasks",
        "offsets",
        "pretokenized",
        "aggregation",
        "chunk_wordpieces",
        "chunk_overlap",
        "pack_sentences",
        "top_k",
        "mmr_lambda",
        "keyphrase_max_words",
        "of_phrases",
        "section_words",
        "shortlist",
        "explain_keyphrases",
        "keyphrase_embedding",
    ];

    /// `base` with every option these set. Values are checked where the
    /// engine uses them: a call with an unusable one fails with
    /// [`Error::InvalidOption`] naming it.
    pub fn apply(&self, base: &Options) -> Options {
        fn set<T: Clone>(field: &mut T, value: &Option<T>) {
            if let Some(value) = value {
                *field = value.clone();
            }
        }
        let mut options = base.clone();
        if let Some(tasks) = &self.tasks {
            options.tasks = Some(tasks.clone());
        }
        set(&mut options.offsets, &self.offsets);
        set(&mut options.pretokenized, &self.pretokenized);
        set(&mut options.aggregation, &self.aggregation);
        if let Some(wordpieces) = self.chunk_wordpieces {
            options.chunk_wordpieces = Some(wordpieces);
        }
        set(&mut options.chunk_overlap, &self.chunk_overlap);
        if let Some(pack) = self.pack_sentences {
            options.pack_sentences = Some(pack);
        }
        let keyphrases = &mut options.keyphrases;
        set(&mut keyphrases.top_k, &self.top_k);
        set(&mut keyphrases.mmr_lambda, &self.mmr_lambda);
        set(&mut keyphrases.max_words, &self.keyphrase_max_words);
        set(&mut keyphrases.of_phrases, &self.of_phrases);
        set(&mut keyphrases.section_words, &self.section_words);
        set(&mut keyphrases.shortlist, &self.shortlist);
        set(&mut keyphrases.explain, &self.explain_keyphrases);
        set(&mut keyphrases.embedding, &self.keyphrase_embedding);
        options
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyphrases::PhraseEmbedding;

    #[test]
    fn document_options_override_only_what_they_set() {
        let set: DocumentOptions = serde_json::from_str(r#"{"offsets": "utf16", "top_k": 3}"#).unwrap();
        let base = Options::default().with_tasks([Task::Entities]);
        let options = set.apply(&base);
        assert_eq!(options.offsets, OffsetUnit::Utf16);
        assert_eq!(options.keyphrases.top_k, 3);
        assert_eq!(options.tasks, Some(vec![Task::Entities]), "kept from the base");
        assert_eq!(options.keyphrases.embedding, PhraseEmbedding::Alone, "the default");
        assert_eq!(DocumentOptions::default().apply(&base), base, "nothing set, nothing changed");
        let set: DocumentOptions = serde_json::from_str(
            r#"{"keyphrase_embedding": "in-context", "aggregation": "mean", "pack_sentences": false,
                "chunk_wordpieces": 40, "chunk_overlap": 8, "keyphrase_max_words": 2, "of_phrases": false,
                "section_words": 50, "shortlist": 20, "explain_keyphrases": true, "mmr_lambda": 0.5}"#,
        )
        .unwrap();
        let options = set.apply(&base);
        assert_eq!(options.keyphrases.embedding, PhraseEmbedding::InContext);
        assert_eq!(options.aggregation, Aggregation::Average);
        assert_eq!(
            (options.pack_sentences, options.chunk_wordpieces, options.chunk_overlap),
            (Some(false), Some(40), 8)
        );
        let k = &options.keyphrases;
        assert_eq!((k.max_words, k.of_phrases, k.section_words, k.shortlist), (2, false, 50, 20));
        assert!(k.explain && k.mmr_lambda == 0.5);
    }

    #[test]
    fn names_are_the_fields() {
        let every = DocumentOptions {
            tasks: Some(vec![Task::Entities]),
            offsets: Some(OffsetUnit::Utf8),
            pretokenized: Some(true),
            aggregation: Some(Aggregation::Max),
            chunk_wordpieces: Some(1),
            chunk_overlap: Some(1),
            pack_sentences: Some(true),
            top_k: Some(1),
            mmr_lambda: Some(1.0),
            keyphrase_max_words: Some(1),
            of_phrases: Some(true),
            section_words: Some(1),
            shortlist: Some(1),
            explain_keyphrases: Some(true),
            keyphrase_embedding: Some(PhraseEmbedding::InContext),
        };
        let json = serde_json::to_value(&every).unwrap();
        let names: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = DocumentOptions::NAMES.to_vec();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "serde_json sorts its keys");
    }

    #[test]
    fn document_options_refuse_unknown_names_and_values() {
        let bad = serde_json::from_str::<DocumentOptions>(r#"{"keyphrase_embedding": "context"}"#).unwrap_err();
        assert!(bad.to_string().contains("unknown variant `context`"), "{bad}");
        let typo = serde_json::from_str::<DocumentOptions>(r#"{"offset": "utf16"}"#).unwrap_err();
        assert!(typo.to_string().contains("unknown field `offset`"), "{typo}");
        let limit = serde_json::from_str::<DocumentOptions>(r#"{"max_document_bytes": 10}"#).unwrap_err();
        assert!(limit.to_string().contains("unknown field `max_document_bytes`"), "{limit}");
    }
}
