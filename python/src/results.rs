//! Typed, read-only result objects over the core's output schema.
//!
//! Each class wraps the core's own struct, so `to_dict()` serializes the
//! same value the CLI writes as JSON, key for key. An `Extraction` builds
//! its item objects once, so reading `doc.words` in a loop costs no copies.
//! Scores are the core's `f32` read as the `float` its JSON prints (0.95,
//! not 0.949999988), so `e.score == e.to_dict()["score"]`.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyString;
use serde::Serialize;

/// `json.loads(serde_json::to_string(value))`: the schema's dict, exactly
/// as the CLI's JSON reads in Python.
pub fn to_dict<'py>(py: Python<'py>, value: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let json = serde_json::to_string(value)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("cannot serialize a result: {e}")))?;
    LOADS.import(py, "json", "loads")?.call1((json,))
}

/// The shortest decimal of an `f32`, as a Python `float`: what serde_json
/// writes and `json.loads` reads back.
fn score(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::from(x))
}

/// Python's repr of a string, for `__repr__`s.
fn quoted(py: Python<'_>, s: &str) -> String {
    PyString::new(py, s).repr().map(|r| r.to_string()).unwrap_or_else(|_| format!("{s:?}"))
}

/// Everything extracted from one document.
///
/// A task that did not run leaves its attribute `None` (and its key out of
/// `to_dict()`); a task that ran and found nothing gives `[]`. Every offset
/// is in the unit named by `offsets`: with the default `"char"`,
/// `doc.text[e.start:e.end] == e.text` for every span.
#[pyclass(frozen, name = "Extraction", module = "edgemine")]
pub struct PyExtraction {
    inner: edgemine::Extraction,
    /// The document the offsets point into.
    #[pyo3(get)]
    text: Py<PyString>,
    /// Named entities in document order, or `None` if `entities` did not run.
    #[pyo3(get)]
    entities: Option<Vec<Py<PyEntity>>>,
    /// Key phrases, best first, or `None` if `keyphrases` did not run.
    #[pyo3(get)]
    keyphrases: Option<Vec<Py<PyKeyPhrase>>>,
    /// Subject–relation–object triples, or `None` if `triples` did not run.
    #[pyo3(get)]
    triples: Option<Vec<Py<PyTriple>>>,
    /// Sentence spans, always present.
    #[pyo3(get)]
    sentences: Vec<Py<PySpan>>,
    /// Words with part of speech and dependency parse, or `None` if `parse` did not run.
    #[pyo3(get)]
    words: Option<Vec<Py<PyWord>>>,
}

/// Wraps each item of an optional list in its class, once.
fn wrap_all<T: Clone, W: pyo3::PyClass + Into<pyo3::PyClassInitializer<W>>>(
    py: Python<'_>,
    items: &Option<Vec<T>>,
    wrap: impl Fn(T) -> W,
) -> PyResult<Option<Vec<Py<W>>>> {
    items.as_ref().map(|items| items.iter().map(|i| Py::new(py, wrap(i.clone()))).collect()).transpose()
}

impl PyExtraction {
    /// Wraps the core's extraction of `text`.
    pub fn new(py: Python<'_>, text: Py<PyString>, inner: edgemine::Extraction) -> PyResult<Self> {
        Ok(Self {
            entities: wrap_all(py, &inner.entities, PyEntity)?,
            keyphrases: wrap_all(py, &inner.keyphrases, PyKeyPhrase)?,
            triples: wrap_all(py, &inner.triples, PyTriple)?,
            sentences: inner.sentences.iter().map(|s| Py::new(py, PySpan(*s))).collect::<PyResult<_>>()?,
            words: wrap_all(py, &inner.words, PyWord)?,
            text,
            inner,
        })
    }
}

#[pymethods]
impl PyExtraction {
    /// The unit of every offset in this extraction. `"char"` (Python string indices), `"utf8"` or
    /// `"utf16"`.
    #[getter]
    fn offsets(&self) -> String {
        offset_name(self.inner.offsets)
    }

    /// The output schema as plain dicts and lists, equal to the CLI's JSON
    /// for the same document (without its `id`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }

    /// The output schema as a JSON string, as the CLI writes it.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner)
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("cannot serialize a result: {e}")))
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(other) = other.cast::<PyExtraction>() else { return Ok(false) };
        let other = other.get();
        Ok(self.inner == other.inner && PyAnyMethods::eq(self.text.bind(py).as_any(), other.text.bind(py))?)
    }

    fn __repr__(&self) -> String {
        let count = |n: Option<usize>| n.map_or("None".to_string(), |n| n.to_string());
        format!(
            "Extraction(sentences={}, entities={}, keyphrases={}, triples={}, words={}, offsets='{}')",
            self.inner.sentences.len(),
            count(self.inner.entities.as_ref().map(Vec::len)),
            count(self.inner.keyphrases.as_ref().map(Vec::len)),
            count(self.inner.triples.as_ref().map(Vec::len)),
            count(self.inner.words.as_ref().map(Vec::len)),
            offset_name(self.inner.offsets),
        )
    }
}

/// The name of an offset unit, as `offsets=` takes it.
pub fn offset_name(unit: edgemine::OffsetUnit) -> String {
    serde_json::to_value(unit).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The methods of an item class: its own, plus those every item shares
/// (`to_dict()` and equality of the wrapped values).
macro_rules! item_methods {
    ($class:ident { $($methods:tt)* }) => {
        #[pymethods]
        impl $class {
            /// This item as the schema's dict, as in the CLI's JSON.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                to_dict(py, &self.0)
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
                other.cast::<$class>().is_ok_and(|o| o.get().0 == self.0)
            }

            $($methods)*
        }
    };
}

/// A span of the document: `start` to `end` (exclusive).
#[pyclass(frozen, name = "Span", module = "edgemine")]
pub struct PySpan(edgemine::Span);
item_methods!(PySpan {
/// Start offset.
#[getter]
fn start(&self) -> usize {
    self.0.start
}
/// End offset (exclusive).
#[getter]
fn end(&self) -> usize {
    self.0.end
}
fn __repr__(&self) -> String {
    format!("Span(start={}, end={})", self.0.start, self.0.end)
}});

/// A named entity: `text == document[start:end]` (in the extraction's offset unit).
#[pyclass(frozen, name = "Entity", module = "edgemine")]
pub struct PyEntity(edgemine::Entity);
item_methods!(PyEntity {
/// The entity's text, exactly as in the document.
#[getter]
fn text(&self) -> &str {
    &self.0.text
}
/// Its type: `PER`, `ORG` or `LOC` with the default models.
#[getter]
fn label(&self) -> &str {
    &self.0.label
}
/// Start offset.
#[getter]
fn start(&self) -> usize {
    self.0.start
}
/// End offset (exclusive).
#[getter]
fn end(&self) -> usize {
    self.0.end
}
/// Probability, in [0, 1], that the words' labels spell exactly this span with this type (over the label sequences IOB2 allows).
#[getter]
fn score(&self) -> f64 {
    score(self.0.score)
}
/// Index of its sentence in `Extraction.sentences`.
#[getter]
fn sentence(&self) -> usize {
    self.0.sentence
}
fn __repr__(&self, py: Python<'_>) -> String {
    format!(
        "Entity(label={}, text={}, start={}, end={}, score={})",
        quoted(py, &self.0.label),
        quoted(py, &self.0.text),
        self.0.start,
        self.0.end,
        score(self.0.score)
    )
}});

/// A key phrase and every place it occurs.
#[pyclass(frozen, name = "KeyPhrase", module = "edgemine")]
pub struct PyKeyPhrase(edgemine::KeyPhrase);
item_methods!(PyKeyPhrase {
/// The phrase as the document most often writes it (of equally frequent forms, the one with the
/// fewest capitals), exactly as at one of its occurrences.
#[getter]
fn text(&self) -> &str {
    &self.0.text
}
/// How likely a reader would pick it as a key phrase, in [0, 1]. Phrases come in the order
/// diversity (MMR) picks them, which can differ from the order of their scores.
#[getter]
fn score(&self) -> f64 {
    score(self.0.score)
}
/// Every occurrence, in document order, inside longer phrases too: each span's text normalizes to
/// the phrase's normalized form (case, plurals and hyphens aside, the same words).
#[getter]
fn occurrences(&self) -> Vec<PySpan> {
    self.0.occurrences.iter().copied().map(PySpan).collect()
}
/// The signals behind the score (a dict), only with `explain_keyphrases=True`; else `None`.
#[getter]
fn features<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
    self.0.features.as_ref().map(|f| to_dict(py, f)).transpose()
}
fn __repr__(&self, py: Python<'_>) -> String {
    format!(
        "KeyPhrase(text={}, score={}, occurrences={})",
        quoted(py, &self.0.text),
        score(self.0.score),
        self.0.occurrences.len()
    )
}});

/// A part of a triple: its text and span, and its pieces when its words leave gaps.
#[pyclass(frozen, name = "TripleArgument", module = "edgemine")]
pub struct PyTripleArgument(edgemine::TripleArgument);
item_methods!(PyTripleArgument {
/// The text, exactly as in the document: `document[start..end]`.
#[getter]
fn text(&self) -> &str {
    &self.0.text
}
/// Start offset.
#[getter]
fn start(&self) -> usize {
    self.0.start
}
/// End offset (exclusive).
#[getter]
fn end(&self) -> usize {
    self.0.end
}
/// The pieces, when the words of a relation leave gaps ("turn … off", "has … been found"): each
/// piece's span. `[]` when contiguous.
#[getter]
fn parts(&self) -> Vec<PySpan> {
    self.0.parts.iter().copied().map(PySpan).collect()
}
fn __repr__(&self, py: Python<'_>) -> String {
    format!("TripleArgument(text={}, start={}, end={})", quoted(py, &self.0.text), self.0.start, self.0.end)
}});

/// A subject–relation–object triple.
#[pyclass(frozen, name = "Triple", module = "edgemine")]
pub struct PyTriple(edgemine::Triple);
item_methods!(PyTriple {
/// Who or what.
#[getter]
fn subject(&self) -> PyTripleArgument {
    PyTripleArgument(self.0.subject.clone())
}
/// What it does or is: the span from the relation's first word to its last (see `parts` for its
/// pieces). Empty, at the object's start, when the relation is implied (the "is" of an apposition).
#[getter]
fn relation(&self) -> PyTripleArgument {
    PyTripleArgument(self.0.relation.clone())
}
/// The relation as a phrase: its words joined by single spaces, or the implied verb. What an edge
/// of a graph or an Open IE scorer reads.
#[getter]
fn label(&self) -> &str {
    &self.0.label
}
/// To whom or what; `None` for a clause without an object.
#[getter]
fn object(&self) -> Option<PyTripleArgument> {
    self.0.object.clone().map(PyTripleArgument)
}
/// Further arguments after the object: indirect objects, obliques and clausal complements not
/// folded into the relation, in sentence order.
#[getter]
fn arguments(&self) -> Vec<PyTripleArgument> {
    self.0.arguments.iter().cloned().map(PyTripleArgument).collect()
}
/// Confidence in [0, 1]: how the triple was built, times the parser's confidence in the arcs it
/// rests on. Ranks triples; not calibrated.
#[getter]
fn score(&self) -> f64 {
    score(self.0.score)
}
/// Index of its sentence.
#[getter]
fn sentence(&self) -> usize {
    self.0.sentence
}
fn __repr__(&self, py: Python<'_>) -> String {
    format!(
        "Triple(subject={}, relation={}, object={}, score={})",
        quoted(py, &self.0.subject.text),
        quoted(py, &self.0.label),
        self.0.object.as_ref().map_or("None".to_string(), |o| quoted(py, &o.text)),
        score(self.0.score)
    )
}});

/// A word with its part of speech and place in the dependency tree.
#[pyclass(frozen, name = "Word", module = "edgemine")]
pub struct PyWord(edgemine::Word);
item_methods!(PyWord {
/// The word, exactly as in the document.
#[getter]
fn text(&self) -> &str {
    &self.0.text
}
/// Start offset.
#[getter]
fn start(&self) -> usize {
    self.0.start
}
/// End offset (exclusive).
#[getter]
fn end(&self) -> usize {
    self.0.end
}
/// Universal part-of-speech tag.
#[getter]
fn upos(&self) -> Option<&str> {
    self.0.upos.as_deref()
}
/// Index of the head word within the sentence, 1-based; 0 for the root (as in CoNLL-U).
#[getter]
fn head(&self) -> Option<usize> {
    self.0.head
}
/// Universal dependency relation to the head.
#[getter]
fn deprel(&self) -> Option<&str> {
    self.0.deprel.as_deref()
}
/// Index of its sentence.
#[getter]
fn sentence(&self) -> usize {
    self.0.sentence
}
fn __repr__(&self, py: Python<'_>) -> String {
    format!(
        "Word(text={}, upos={}, head={}, deprel={})",
        quoted(py, &self.0.text),
        self.0.upos.as_deref().map_or("None".to_string(), |s| quoted(py, s)),
        self.0.head.map_or("None".to_string(), |h| h.to_string()),
        self.0.deprel.as_deref().map_or("None".to_string(), |s| quoted(py, s)),
    )
}});
