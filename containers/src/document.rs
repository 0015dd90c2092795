//! What the service reads and writes around the core's schema: document
//! ids, per-document options, extraction records and error bodies. Shared
//! by the HTTP API and the Kafka worker, so both speak the same JSON.

use edgemine::{Extraction, OffsetUnit, Options, PhraseEmbedding, Task};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A caller's name for a document, echoed back with its result: a string
/// or an integer, exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum DocumentId {
    /// `"doc-17"`
    Text(String),
    /// `17`
    Number(i64),
}

impl DocumentId {
    /// The id as a Kafka record key: the string itself, or the integer's
    /// decimal digits.
    pub fn key(&self) -> String {
        match self {
            DocumentId::Text(s) => s.clone(),
            DocumentId::Number(n) => n.to_string(),
        }
    }
}

/// Options a request (HTTP) or a message (Kafka) may set for its
/// documents; anything left out takes the server's defaults. Unknown keys
/// are refused, so a typo (`offset`) is an error rather than a silent
/// default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentOptions {
    /// Tasks to run: `entities`, `parse`, `keyphrases`, `triples`. Default:
    /// the server's (`--tasks`), which is every task the model can do
    /// unless set.
    #[serde(default)]
    pub tasks: Option<Vec<Task>>,
    /// Unit of every offset: `utf8` bytes, `char` (code points) or `utf16`
    /// code units. Default: the server's (`--offsets`), `char` unless set.
    #[serde(default)]
    pub offsets: Option<OffsetUnit>,
    /// The text is already tokenized: words are its runs of non-whitespace.
    #[serde(default)]
    pub pretokenized: Option<bool>,
    /// How many key phrases (task `keyphrases`).
    #[serde(default)]
    pub top_k: Option<usize>,
    /// Key-phrase diversity, in [0, 1]: 1 ranks by relevance alone.
    #[serde(default)]
    pub mmr_lambda: Option<f32>,
    /// Return the signals behind each key phrase's score.
    #[serde(default)]
    pub explain_keyphrases: Option<bool>,
    /// Where key-phrase candidates' embeddings come from: `alone` (a
    /// second model pass) or `in-context` (pooled from the sentence pass:
    /// faster, ranks a little worse). Default: the server's
    /// (`--keyphrase-embedding`), `alone` unless set.
    #[serde(default)]
    pub keyphrase_embedding: Option<PhraseEmbedding>,
}

impl DocumentOptions {
    /// The core's options: `defaults` with what these set.
    pub fn apply(&self, defaults: &Options) -> Options {
        let mut options = defaults.clone();
        if let Some(tasks) = &self.tasks {
            options.tasks = Some(tasks.clone());
        }
        if let Some(unit) = self.offsets {
            options.offsets = unit;
        }
        if let Some(pretokenized) = self.pretokenized {
            options.pretokenized = pretokenized;
        }
        if let Some(top_k) = self.top_k {
            options.keyphrases.top_k = top_k;
        }
        if let Some(lambda) = self.mmr_lambda {
            options.keyphrases.mmr_lambda = lambda;
        }
        if let Some(explain) = self.explain_keyphrases {
            options.keyphrases.explain = explain;
        }
        if let Some(embedding) = self.keyphrase_embedding {
            options.keyphrases.embedding = embedding;
        }
        options
    }
}

/// One document's extraction with its id: the core's schema (DESIGN.md)
/// plus `id` when the caller gave one. The Kafka worker's output records
/// and the CLI's JSON lines have this shape.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Extracted {
    /// The document's id, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<DocumentId>,
    /// The extraction.
    #[serde(flatten)]
    pub extraction: Extraction,
}

/// Why something failed: a stable `code` to branch on and a message for
/// people, which says what was wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// `EMPTY_DOCUMENT`, `DOCUMENT_TOO_LARGE`, `INVALID_OPTION`,
    /// `INVALID_REQUEST`, `OVERLOADED`, `TIMEOUT`… (README lists them).
    pub code: String,
    /// What went wrong and what to do about it.
    pub message: String,
}

impl ErrorDetail {
    /// A detail with this code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into() }
    }
}

impl From<&edgemine::Error> for ErrorDetail {
    fn from(error: &edgemine::Error) -> Self {
        Self::new(error.code(), error.to_string())
    }
}

/// Counts the words of a text the way the metrics do: runs of
/// non-whitespace. Cheap, and the same whichever tasks ran.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_as_sent_and_key_as_text() {
        let ids: Vec<DocumentId> = serde_json::from_str(r#"["a-1", 17]"#).unwrap();
        assert_eq!(ids, vec![DocumentId::Text("a-1".into()), DocumentId::Number(17)]);
        assert_eq!(serde_json::to_string(&ids).unwrap(), r#"["a-1",17]"#);
        assert_eq!(ids[1].key(), "17");
    }

    #[test]
    fn options_override_only_what_they_set() {
        let set: DocumentOptions = serde_json::from_str(r#"{"offsets": "utf16", "top_k": 3}"#).unwrap();
        let defaults = Options::default().with_tasks([Task::Entities]);
        let options = set.apply(&defaults);
        assert_eq!(options.offsets, OffsetUnit::Utf16);
        assert_eq!(options.keyphrases.top_k, 3);
        assert_eq!(options.tasks, Some(vec![Task::Entities]));
        assert_eq!(options.keyphrases.embedding, PhraseEmbedding::Alone, "the default");
        let set: DocumentOptions = serde_json::from_str(r#"{"keyphrase_embedding": "in-context"}"#).unwrap();
        assert_eq!(set.apply(&defaults).keyphrases.embedding, PhraseEmbedding::InContext);
        let bad = serde_json::from_str::<DocumentOptions>(r#"{"keyphrase_embedding": "context"}"#).unwrap_err();
        assert!(bad.to_string().contains("unknown variant `context`"), "{bad}");
        let typo = serde_json::from_str::<DocumentOptions>(r#"{"offset": "utf16"}"#).unwrap_err();
        assert!(typo.to_string().contains("unknown field `offset`"), "{typo}");
    }
}
