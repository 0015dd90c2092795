//! What the service reads and writes around the core's schema: document
//! ids, per-document options, extraction records and error bodies. Shared
//! by the HTTP API and the Kafka worker, so both speak the same JSON.

use edgemine::Extraction;
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
/// documents: the core's, applied over the server's defaults (its flags).
pub use edgemine::DocumentOptions;

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
}
