//! The output schema (DESIGN.md), one for every binding and the service.
//!
//! Offsets are in the unit the caller chose ([`OffsetUnit`]); for every span
//! `text == document[start..end]` in that unit. Keys of tasks that did not
//! run are left out, so an absent `words` means "not asked", never "none".

use serde::{Deserialize, Serialize};

use crate::keyphrases::Features;
use crate::offsets::OffsetUnit;

/// Everything extracted from one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Extraction {
    /// Named entities, in document order (task `entities`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entities: Option<Vec<Entity>>,
    /// Key phrases, best first (task `keyphrases`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyphrases: Option<Vec<KeyPhrase>>,
    /// Subject–relation–object triples (task `triples`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triples: Option<Vec<Triple>>,
    /// Sentence spans, always present.
    pub sentences: Vec<Span>,
    /// Words with part of speech and dependency parse (task `parse`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<Vec<Word>>,
    /// The unit of every offset in this extraction.
    pub offsets: OffsetUnit,
}

/// How far a document's scores and key-phrase features may move with the
/// batch it runs in: the tolerance to give [`Extraction::equal_up_to`] when
/// one extraction of a document ran in a batch (or a redelivered service
/// batch) and the other alone or in another batch.
pub const BATCH_ROUNDING: f64 = 1e-5;

impl Extraction {
    /// Whether `other` is this extraction but for scores and key-phrase
    /// features within `tolerance` of each other: every text, span, label,
    /// head and index equal.
    ///
    /// What to compare a document's extraction in a batch with its
    /// extraction alone: the packed rows it shares with other sequences move
    /// it to other columns of tract's SIMD sums, in rows of another length,
    /// so its floats can differ in the last bits (on UD EWT dev sentences,
    /// all tasks, AVX2: 1,510 of 2,001 equal bit for bit, every span, tag,
    /// head and key phrase equal, scores within 4.2e-6). Also what to
    /// compare two backends' extractions with.
    pub fn equal_up_to(&self, other: &Self, tolerance: f64) -> bool {
        fn same(a: &serde_json::Value, b: &serde_json::Value, tolerance: f64) -> bool {
            use serde_json::Value::{Array, Number, Object};
            match (a, b) {
                (Number(x), Number(y)) if x.is_f64() || y.is_f64() => {
                    x.as_f64().zip(y.as_f64()).is_some_and(|(x, y)| (x - y).abs() <= tolerance)
                }
                (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y, tolerance)),
                (Object(x), Object(y)) => {
                    x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w, tolerance)))
                }
                _ => a == b,
            }
        }
        match (serde_json::to_value(self), serde_json::to_value(other)) {
            (Ok(a), Ok(b)) => same(&a, &b, tolerance),
            _ => false,
        }
    }
}

/// A span of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Span {
    /// Start offset.
    pub start: usize,
    /// End offset (exclusive).
    pub end: usize,
}

/// A named entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entity {
    /// The entity's text, exactly as in the document.
    pub text: String,
    /// Its type: `PER`, `ORG` or `LOC` with the default models.
    pub label: String,
    /// Start offset.
    pub start: usize,
    /// End offset (exclusive).
    pub end: usize,
    /// Probability, in [0, 1], that the words' labels spell exactly this span with this type (over the label sequences IOB2 allows).
    pub score: f32,
    /// Index of its sentence.
    pub sentence: usize,
}

/// A key phrase and every place it occurs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyPhrase {
    /// The phrase as the document most often writes it (of equally
    /// frequent forms, the one with the fewest capitals), exactly as at one
    /// of its occurrences.
    pub text: String,
    /// How likely a reader would pick it as a key phrase, in [0, 1].
    /// Phrases come in the order diversity (MMR) picks them, which can
    /// differ from the order of their scores.
    pub score: f32,
    /// Every occurrence, in document order, inside longer phrases too: each
    /// span's text normalizes to the phrase's normalized form (case, plurals
    /// and hyphens aside, the same words).
    ///
    /// The form is [`normalize_phrase`](crate::normalize_phrase)'s.
    pub occurrences: Vec<Span>,
    /// The signals behind the score, when asked for (`explain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Features>,
}

/// A part of a triple with its span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TripleArgument {
    /// The text, exactly as in the document: `document[start..end]`.
    pub text: String,
    /// Start offset.
    pub start: usize,
    /// End offset (exclusive).
    pub end: usize,
    /// The pieces, when the words of a relation leave gaps ("turn … off",
    /// "has … been found"): each piece's span.
    ///
    /// Absent when the part is contiguous.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Span>,
}

/// A subject–relation–object triple.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Triple {
    /// Who or what.
    pub subject: TripleArgument,
    /// What it does or is: the span from the relation's first word to its
    /// last (see `parts` for its pieces). Empty, at the object's start, when
    /// the relation is implied (the "is" of an apposition).
    pub relation: TripleArgument,
    /// The relation as a phrase: its words joined by single spaces, or the
    /// implied verb. What an edge of a graph or an Open IE scorer reads.
    pub label: String,
    /// To whom or what.
    ///
    /// `null` for a clause without an object ("the plant closed").
    pub object: Option<TripleArgument>,
    /// Further arguments after the object: indirect objects, obliques and
    /// clausal complements not folded into the relation, in sentence order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<TripleArgument>,
    /// Confidence in [0, 1]: how the triple was built, times the parser's
    /// confidence in the arcs it rests on. Ranks triples; not calibrated.
    pub score: f32,
    /// Index of its sentence.
    pub sentence: usize,
}

/// A word with its part of speech and place in the dependency tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Word {
    /// The word, exactly as in the document.
    pub text: String,
    /// Start offset.
    pub start: usize,
    /// End offset (exclusive).
    pub end: usize,
    /// Universal part-of-speech tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upos: Option<String>,
    /// Index of the head word within the sentence, 1-based; 0 for the root
    /// (as in CoNLL-U).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<usize>,
    /// Universal dependency relation to the head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprel: Option<String>,
    /// Index of its sentence.
    pub sentence: usize,
}
