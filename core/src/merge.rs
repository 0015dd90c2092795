//! merge: a document's chunk outputs, in document order, into its
//! [`Extraction`] — entities, words with their parse, triples, every span
//! in the caller's offset unit — and its key-phrase candidates, handed on
//! to the phrase pass.

use std::ops::Range;

use crate::decode;
use crate::document::Document;
use crate::extraction::{Entity, Extraction, Span, Triple, TripleArgument, Word};
use crate::infer::{ChunkOutputs, Head, WordOutputs};
use crate::model::Model;
use crate::offsets::OffsetMap;
use crate::phrase_pass::{self, PhraseWork};
use crate::run_plan::Call;
use crate::triples::{self, ParsedWord};

/// The extraction of `doc` from its chunks' outputs (any order; each
/// chunk's index beside it), with its key-phrase candidates when the call
/// chooses key phrases.
pub(crate) fn assemble(
    call: Call<'_>,
    doc: Document,
    mut chunks: Vec<(usize, ChunkOutputs)>,
) -> (Extraction, Option<PhraseWork>) {
    let plan = call.plan;
    chunks.sort_by_key(|(c, _)| *c);
    let chunk_vectors: Vec<(Range<usize>, Vec<f32>)> =
        chunks.iter_mut().filter_map(|(c, r)| Some((doc.chunks[*c].owned.clone(), r.embedding.take()?))).collect();
    let (mut outputs, mut word_vectors) = (Vec::with_capacity(doc.words.len()), Vec::new());
    for (_, chunk) in chunks {
        outputs.extend(chunk.words);
        word_vectors.extend(chunk.word_vectors);
    }
    let map = OffsetMap::new(doc.text, call.options.offsets);
    let entities = plan.entities.then(|| entities(call.model, &doc, &mut outputs, &map));
    let words = (plan.parse || plan.triples || plan.keyphrases).then(|| words(call.model, &doc, &outputs, &map));
    let triples = plan.triples.then(|| {
        let words = words.as_deref().unwrap_or_default();
        let mut out = Vec::new();
        for (s, range) in doc.sentence_words.iter().enumerate() {
            let confidence: Option<Vec<f32>> =
                outputs.get(range.clone()).and_then(|o| o.iter().map(|w| Some(w.head?.confidence)).collect());
            let (Some(sentence), Some(confidence)) = (words.get(range.clone()), confidence) else { break };
            out.extend(sentence_triples(&doc, s, sentence, &confidence, &map));
        }
        out
    });
    let phrases = plan.keyphrases.then(|| {
        phrase_pass::work(call, &doc, words.as_deref().unwrap_or_default(), &chunk_vectors, &word_vectors, &map)
    });
    let extraction = Extraction {
        entities,
        keyphrases: None,
        triples,
        sentences: doc.sentences.iter().map(|r| map.span(r)).collect(),
        words: if plan.parse { words } else { None },
        offsets: call.options.offsets,
    };
    (extraction, phrases)
}

/// The entities of the document, sentence by sentence, from its words'
/// entity scores (taken out of `outputs`).
fn entities(model: &Model, doc: &Document, outputs: &mut [WordOutputs], map: &OffsetMap) -> Vec<Entity> {
    let rows: Vec<Vec<f32>> = outputs.iter_mut().map(|w| std::mem::take(&mut w.entity)).collect();
    let mut out = Vec::new();
    for (s, words) in doc.sentence_words.iter().enumerate() {
        if rows.len() < words.end {
            break;
        }
        for e in decode::bio_spans(&rows[words.clone()], &model.entity_labels) {
            let bytes = doc.bytes_of(&doc.in_sentence(s, &e.words));
            let Span { start, end } = map.span(&bytes);
            out.push(Entity {
                text: doc.text[bytes].to_string(),
                label: e.kind,
                start,
                end,
                score: e.score,
                sentence: s,
            });
        }
    }
    out
}

/// Every word of the document with its part of speech, head (1-based in
/// its sentence, 0 for the root) and relation.
fn words(model: &Model, doc: &Document, outputs: &[WordOutputs], map: &OffsetMap) -> Vec<Word> {
    let upos_labels = model.spec.upos.as_ref().map(|h| &h.labels);
    let deprel_labels = model.spec.deprels.as_ref().map(|h| &h.labels);
    let mut sentence_root = vec![0usize; doc.sentence_words.len()];
    for (w, out) in outputs.iter().enumerate() {
        if matches!(out.head, Some(h) if matches!(h.head, Head::Root)) {
            sentence_root[doc.sentence_of_word[w]] = w;
        }
    }
    doc.words
        .iter()
        .enumerate()
        .map(|(w, bytes)| {
            let s = doc.sentence_of_word[w];
            let Span { start, end } = map.span(bytes);
            let out = outputs.get(w);
            let head = out.and_then(|o| o.head);
            let predicted = || head?.deprel.and_then(|d| deprel_labels?.get(d).cloned());
            let (head, deprel) = match head.map(|h| h.head) {
                Some(Head::Root) => (Some(0), predicted()),
                Some(Head::Word(h)) => (Some(doc.head_number(h)), predicted()),
                // The root of a later window of a cut sentence hangs on the sentence's root.
                Some(Head::EarlierWindow) => (Some(doc.head_number(sentence_root[s])), Some("dep".to_string())),
                None => (None, None),
            };
            Word {
                text: doc.text[bytes.clone()].to_string(),
                start,
                end,
                upos: out.and_then(|o| o.upos).and_then(|u| upos_labels.and_then(|l| l.get(u)).cloned()),
                head,
                deprel,
                sentence: s,
            }
        })
        .collect()
}

/// The engine's parsed word as the triple and key-phrase rules read it.
pub(crate) fn parsed_word(w: &Word) -> ParsedWord<'_> {
    ParsedWord {
        text: &w.text,
        upos: w.upos.as_deref().unwrap_or("X"),
        head: w.head.unwrap_or(0),
        deprel: w.deprel.as_deref().unwrap_or("dep"),
        confidence: 1.0,
    }
}

/// The triples of sentence `s`, read off its parsed `words` (with each
/// word's head-and-relation `confidence`), as document spans.
fn sentence_triples(doc: &Document, s: usize, words: &[Word], confidence: &[f32], map: &OffsetMap) -> Vec<Triple> {
    let parsed: Vec<ParsedWord> =
        words.iter().zip(confidence).map(|(w, &confidence)| ParsedWord { confidence, ..parsed_word(w) }).collect();
    // Sentence word range → document byte range.
    let bytes_of = |r: &Range<usize>| doc.bytes_of(&doc.in_sentence(s, r));
    let argument = |bytes: Range<usize>, parts: Vec<Span>| {
        let Span { start, end } = map.span(&bytes);
        TripleArgument { text: doc.text[bytes].to_string(), start, end, parts }
    };
    triples::triples(&parsed)
        .into_iter()
        .map(|t| {
            let relation = match (t.relation.first(), t.relation.last()) {
                (Some(&a), Some(&b)) => {
                    let pieces = contiguous_runs(&t.relation);
                    let parts = match pieces.len() {
                        1 => Vec::new(),
                        _ => pieces.iter().map(|p| map.span(&bytes_of(p))).collect(),
                    };
                    argument(bytes_of(&(a..b + 1)), parts)
                }
                // An implied relation: empty, where the object starts.
                _ => {
                    let at = match &t.object {
                        Some(o) => bytes_of(o).start,
                        None => bytes_of(&t.subject).end,
                    };
                    argument(at..at, Vec::new())
                }
            };
            Triple {
                subject: argument(bytes_of(&t.subject), Vec::new()),
                relation,
                label: t.label,
                object: t.object.as_ref().map(|o| argument(bytes_of(o), Vec::new())),
                arguments: t.arguments.iter().map(|a| argument(bytes_of(a), Vec::new())).collect(),
                score: t.score,
                sentence: s,
            }
        })
        .collect()
}

/// Maximal runs of consecutive indices in an ascending list: `[2, 3, 7]` → `2..4, 7..8`.
fn contiguous_runs(indices: &[usize]) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    for &i in indices {
        match runs.last_mut() {
            Some(r) if r.end == i => r.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}
