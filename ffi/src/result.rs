//! A result and its accessors: counts, items as plain structs whose
//! strings borrow from the result, and the whole result as JSON.

use std::cell::OnceCell;
use std::ffi::c_char;

use edgemine::{Extraction, TripleArgument};

use crate::engine::{EDGEMINE_TASK_ENTITIES, EDGEMINE_TASK_KEYPHRASES, EDGEMINE_TASK_PARSE, EDGEMINE_TASK_TRIPLES};
use crate::status::{Failure, edgemine_status, guard};

/// Everything extracted from one document. Read it with the
/// `edgemine_result_*` functions; free it with `edgemine_result_free`.
/// Strings it hands out live as long as it does. One thread at a time.
pub struct edgemine_result {
    extraction: Extraction,
    json: OnceCell<String>,
}

impl edgemine_result {
    pub fn new(extraction: Extraction) -> Self {
        Self { extraction, json: OnceCell::new() }
    }
}

/// UTF-8 text borrowed from a result: `len` bytes at `data`, not
/// NUL-terminated (print it with `"%.*s", (int)s.len, s.data`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct edgemine_str {
    /// The first byte; never NULL (an empty string points at a valid, empty place).
    pub data: *const c_char,
    /// Length in bytes.
    pub len: usize,
}

impl edgemine_str {
    fn of(s: &str) -> Self {
        Self { data: s.as_ptr().cast(), len: s.len() }
    }
}

/// A span of the document, in the offset unit of the options.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct edgemine_span {
    /// Start offset.
    pub start: usize,
    /// End offset (exclusive).
    pub end: usize,
}

/// A named entity.
#[repr(C)]
pub struct edgemine_entity {
    /// The entity's text, exactly as in the document.
    pub text: edgemine_str,
    /// Its type: PER, ORG or LOC with the default models.
    pub label: edgemine_str,
    /// Start offset.
    pub start: usize,
    /// End offset (exclusive).
    pub end: usize,
    /// Probability, in [0, 1], that the words' labels spell exactly this span with this type (over the label sequences IOB2 allows).
    pub score: f32,
    /// Index of its sentence.
    pub sentence: usize,
}

/// A key phrase; its occurrences come from `edgemine_result_keyphrase_occurrence`.
#[repr(C)]
pub struct edgemine_keyphrase {
    /// The phrase as the document most often writes it (of equally frequent forms, the one with the
    /// fewest capitals), exactly as at one of its occurrences.
    pub text: edgemine_str,
    /// How likely a reader would pick it as a key phrase, in [0, 1]. Phrases come in the order
    /// diversity (MMR) picks them, which can differ from the order of their scores.
    pub score: f32,
    /// How many places it occurs.
    pub occurrence_count: usize,
}

/// A part of a triple and its span (from its first word to its last).
#[repr(C)]
pub struct edgemine_argument {
    /// The text, exactly as in the document: `document[start..end]`.
    pub text: edgemine_str,
    /// Start offset.
    pub start: usize,
    /// End offset (exclusive).
    pub end: usize,
}

/// A subject-relation-object triple; further arguments come from
/// `edgemine_result_triple_argument`.
#[repr(C)]
pub struct edgemine_triple {
    /// Who or what.
    pub subject: edgemine_argument,
    /// What it does or is: the span from the relation's first word to its last (see `parts` for its
    /// pieces). Empty, at the object's start, when the relation is implied (the "is" of an
    /// apposition).
    pub relation: edgemine_argument,
    /// The relation as a phrase: its words joined by single spaces, or the implied verb. What an
    /// edge of a graph or an Open IE scorer reads.
    pub label: edgemine_str,
    /// Whether `object` holds an object (a clause may have none).
    pub has_object: bool,
    /// To whom or what; all zero when `has_object` is false.
    pub object: edgemine_argument,
    /// Further arguments: indirect objects, obliques, clausal complements.
    pub argument_count: usize,
    /// Confidence in [0, 1]: how the triple was built, times the parser's confidence in the arcs it
    /// rests on. Ranks triples; not calibrated.
    pub score: f32,
    /// Index of its sentence.
    pub sentence: usize,
}

/// A word with its part of speech and place in the dependency tree.
#[repr(C)]
pub struct edgemine_word {
    /// The word, exactly as in the document.
    pub text: edgemine_str,
    /// Start offset.
    pub start: usize,
    /// End offset (exclusive).
    pub end: usize,
    /// Universal part-of-speech tag (empty if the model has none).
    pub upos: edgemine_str,
    /// Index of the head word within the sentence, 1-based; 0 for the root (as in CoNLL-U).
    pub head: usize,
    /// Universal dependency relation to the head (empty if none).
    pub deprel: edgemine_str,
    /// Index of its sentence.
    pub sentence: usize,
}

fn argument(a: &TripleArgument) -> edgemine_argument {
    edgemine_argument { text: edgemine_str::of(&a.text), start: a.start, end: a.end }
}

/// Reads item `index` of a list of `result` and writes it through `out`.
///
/// # Safety
/// `result` is NULL or live; `out` is NULL or valid for a write.
unsafe fn item<T, I>(
    result: *const edgemine_result,
    list: impl FnOnce(&Extraction) -> Result<&[I], Failure>,
    index: usize,
    what: &str,
    out: *mut T,
    make: impl FnOnce(&I) -> T,
) -> edgemine_status {
    guard(|| {
        // SAFETY: NULL or live, by the caller's contract.
        let result = unsafe { result.as_ref() }.ok_or_else(|| Failure::null("result"))?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let item = nth(list(&result.extraction)?, index, what)?;
        // SAFETY: `out` is not NULL and valid for a write by the caller's contract.
        unsafe { out.write(make(item)) };
        Ok(())
    })
}

/// Item `index` of `items`, or `EDGEMINE_STATUS_OUT_OF_RANGE` naming what was asked.
fn nth<'a, I>(items: &'a [I], index: usize, what: &str) -> Result<&'a I, Failure> {
    items.get(index).ok_or_else(|| {
        Failure::new(edgemine_status::OutOfRange, format!("{what} {index} asked for; there are {}", items.len()))
    })
}

/// The length of a list of a result; 0 for NULL.
///
/// # Safety
/// `result` is NULL or live.
unsafe fn count<I>(result: *const edgemine_result, list: impl FnOnce(&Extraction) -> &[I]) -> usize {
    // SAFETY: NULL or live, by the caller's contract.
    unsafe { result.as_ref() }.map_or(0, |r| list(&r.extraction).len())
}

fn entities(x: &Extraction) -> &[edgemine::Entity] {
    x.entities.as_deref().unwrap_or_default()
}
fn keyphrases(x: &Extraction) -> &[edgemine::KeyPhrase] {
    x.keyphrases.as_deref().unwrap_or_default()
}
fn triples(x: &Extraction) -> &[edgemine::Triple] {
    x.triples.as_deref().unwrap_or_default()
}
fn words(x: &Extraction) -> &[edgemine::Word] {
    x.words.as_deref().unwrap_or_default()
}

/// Whether the task `EDGEMINE_TASK_*` ran for this result (a task that ran
/// may still have found nothing); false for NULL.
///
/// # Safety
/// `result` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_has(result: *const edgemine_result, task: u32) -> bool {
    // SAFETY: NULL or live, by the caller's contract.
    let Some(r) = (unsafe { result.as_ref() }) else { return false };
    let x = &r.extraction;
    match task {
        EDGEMINE_TASK_ENTITIES => x.entities.is_some(),
        EDGEMINE_TASK_PARSE => x.words.is_some(),
        EDGEMINE_TASK_KEYPHRASES => x.keyphrases.is_some(),
        EDGEMINE_TASK_TRIPLES => x.triples.is_some(),
        _ => false,
    }
}

/// The number of entities; 0 for NULL or when the task did not run.
///
/// # Safety
/// `result` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_entity_count(result: *const edgemine_result) -> usize {
    // SAFETY: forwarded contract.
    unsafe { count(result, entities) }
}

/// Entity `index` (in document order) into `*out`.
///
/// # Safety
/// `result` is NULL or live; `out` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_entity(
    result: *const edgemine_result,
    index: usize,
    out: *mut edgemine_entity,
) -> edgemine_status {
    // SAFETY: forwarded contract.
    unsafe {
        item(
            result,
            |x| Ok(entities(x)),
            index,
            "entity",
            out,
            |e| edgemine_entity {
                text: edgemine_str::of(&e.text),
                label: edgemine_str::of(&e.label),
                start: e.start,
                end: e.end,
                score: e.score,
                sentence: e.sentence,
            },
        )
    }
}

/// The number of key phrases; 0 for NULL or when the task did not run.
///
/// # Safety
/// `result` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_keyphrase_count(result: *const edgemine_result) -> usize {
    // SAFETY: forwarded contract.
    unsafe { count(result, keyphrases) }
}

/// Key phrase `index` (best first) into `*out`.
///
/// # Safety
/// `result` is NULL or live; `out` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_keyphrase(
    result: *const edgemine_result,
    index: usize,
    out: *mut edgemine_keyphrase,
) -> edgemine_status {
    // SAFETY: forwarded contract.
    unsafe {
        item(
            result,
            |x| Ok(keyphrases(x)),
            index,
            "key phrase",
            out,
            |k| edgemine_keyphrase {
                text: edgemine_str::of(&k.text),
                score: k.score,
                occurrence_count: k.occurrences.len(),
            },
        )
    }
}

/// Occurrence `occurrence` of key phrase `index` into `*out`.
///
/// # Safety
/// `result` is NULL or live; `out` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_keyphrase_occurrence(
    result: *const edgemine_result,
    index: usize,
    occurrence: usize,
    out: *mut edgemine_span,
) -> edgemine_status {
    // SAFETY: forwarded contract.
    unsafe {
        item(
            result,
            |x| Ok(&nth(keyphrases(x), index, "key phrase")?.occurrences),
            occurrence,
            "occurrence",
            out,
            |s| edgemine_span { start: s.start, end: s.end },
        )
    }
}

/// The number of triples; 0 for NULL or when the task did not run.
///
/// # Safety
/// `result` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_triple_count(result: *const edgemine_result) -> usize {
    // SAFETY: forwarded contract.
    unsafe { count(result, triples) }
}

/// Triple `index` into `*out`.
///
/// # Safety
/// `result` is NULL or live; `out` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_triple(
    result: *const edgemine_result,
    index: usize,
    out: *mut edgemine_triple,
) -> edgemine_status {
    // SAFETY: forwarded contract.
    unsafe {
        item(
            result,
            |x| Ok(triples(x)),
            index,
            "triple",
            out,
            |t| edgemine_triple {
                subject: argument(&t.subject),
                relation: argument(&t.relation),
                label: edgemine_str::of(&t.label),
                has_object: t.object.is_some(),
                object: t
                    .object
                    .as_ref()
                    .map_or(edgemine_argument { text: edgemine_str::of(""), start: 0, end: 0 }, argument),
                argument_count: t.arguments.len(),
                score: t.score,
                sentence: t.sentence,
            },
        )
    }
}

/// Further argument `argument` of triple `index` into `*out`.
///
/// # Safety
/// `result` is NULL or live; `out` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_triple_argument(
    result: *const edgemine_result,
    index: usize,
    argument_index: usize,
    out: *mut edgemine_argument,
) -> edgemine_status {
    // SAFETY: forwarded contract.
    unsafe {
        item(result, |x| Ok(&nth(triples(x), index, "triple")?.arguments), argument_index, "argument", out, argument)
    }
}

/// The number of sentences; 0 for NULL.
///
/// # Safety
/// `result` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_sentence_count(result: *const edgemine_result) -> usize {
    // SAFETY: forwarded contract.
    unsafe { count(result, |x| x.sentences.as_slice()) }
}

/// Sentence `index` into `*out`.
///
/// # Safety
/// `result` is NULL or live; `out` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_sentence(
    result: *const edgemine_result,
    index: usize,
    out: *mut edgemine_span,
) -> edgemine_status {
    // SAFETY: forwarded contract.
    unsafe {
        item(
            result,
            |x| Ok(x.sentences.as_slice()),
            index,
            "sentence",
            out,
            |s| edgemine_span { start: s.start, end: s.end },
        )
    }
}

/// The number of words; 0 for NULL or when the parse did not run.
///
/// # Safety
/// `result` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_word_count(result: *const edgemine_result) -> usize {
    // SAFETY: forwarded contract.
    unsafe { count(result, words) }
}

/// Word `index` into `*out`.
///
/// # Safety
/// `result` is NULL or live; `out` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_word(
    result: *const edgemine_result,
    index: usize,
    out: *mut edgemine_word,
) -> edgemine_status {
    // SAFETY: forwarded contract.
    unsafe {
        item(
            result,
            |x| Ok(words(x)),
            index,
            "word",
            out,
            |w| edgemine_word {
                text: edgemine_str::of(&w.text),
                start: w.start,
                end: w.end,
                upos: edgemine_str::of(w.upos.as_deref().unwrap_or("")),
                head: w.head.unwrap_or(0),
                deprel: edgemine_str::of(w.deprel.as_deref().unwrap_or("")),
                sentence: w.sentence,
            },
        )
    }
}

/// The whole result as JSON, the schema every interface shares (as the
/// CLI writes it, without `id`), into `*out`: NUL-terminated as well as
/// counted, and living as long as the result.
///
/// # Safety
/// `result` is NULL or live; `out` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_json(
    result: *const edgemine_result,
    out: *mut edgemine_str,
) -> edgemine_status {
    guard(|| {
        // SAFETY: NULL or live, by the caller's contract.
        let result = unsafe { result.as_ref() }.ok_or_else(|| Failure::null("result"))?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let json = match result.json.get() {
            Some(json) => json,
            None => {
                let mut json = serde_json::to_string(&result.extraction)
                    .map_err(|e| Failure::new(edgemine_status::Panic, format!("cannot serialize the result: {e}")))?;
                json.push('\0');
                result.json.get_or_init(|| json)
            }
        };
        let without_nul = &json[..json.len() - 1];
        // SAFETY: `out` is not NULL and valid for a write by the caller's contract.
        unsafe { out.write(edgemine_str::of(without_nul)) };
        Ok(())
    })
}

/// Frees a result and every string borrowed from it. NULL is ignored.
///
/// # Safety
/// `result` is NULL or came from `edgemine_extract` and was not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_result_free(result: *mut edgemine_result) {
    if !result.is_null() {
        // SAFETY: it came from Box::into_raw in edgemine_extract, once.
        drop(unsafe { Box::from_raw(result) });
    }
}
