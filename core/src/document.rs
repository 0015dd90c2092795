//! split → tokenize: a document's sentences, words and wordpieces, the
//! chunks the model reads, and the model input of any run of its words —
//! one sequence builder for its chunks and its key-phrase candidates alike.

use std::ops::Range;

use crate::batch::Sequence;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::run_plan::Call;
use crate::split::{self, Chunk};
use crate::tokenize::{CaseClass, Wordpieces};
use crate::words;

/// A document split and tokenized. Word indices are the document's, in
/// order; byte ranges index `text`.
pub(crate) struct Document<'a> {
    pub text: &'a str,
    /// Sentence byte spans.
    pub sentences: Vec<Range<usize>>,
    /// Word byte spans, document order.
    pub words: Vec<Range<usize>>,
    /// Word index range of each sentence.
    pub sentence_words: Vec<Range<usize>>,
    pub sentence_of_word: Vec<usize>,
    /// Wordpieces of each sentence.
    pub pieces: Vec<Wordpieces>,
    pub chunks: Vec<Chunk>,
}

impl<'a> Document<'a> {
    /// Splits `text` into sentences and words, tokenizes each sentence and
    /// cuts the document into chunks, as `call` says.
    pub fn prepare(text: &'a str, call: Call<'_>) -> Result<Self> {
        let options = call.options;
        if text.len() > options.max_document_bytes {
            return Err(Error::DocumentTooLarge { bytes: text.len(), limit: options.max_document_bytes });
        }
        let sentence_spans = split::sentences(text);
        if sentence_spans.is_empty() {
            return Err(Error::EmptyDocument);
        }
        let (sentences, words, sentence_words) = match options.pretokenized {
            true => pretokenized_sentences(text, sentence_spans),
            false => sentence_words(text, sentence_spans),
        };
        let pieces = sentence_words
            .iter()
            .map(|r| call.model.wordpiecer.encode(text, &words[r.clone()]))
            .collect::<Result<Vec<_>>>()?;
        let counts: Vec<usize> = pieces.iter().flat_map(|p| p.of_word.iter().map(|r| r.len())).collect();
        let chunks = split::chunks(&sentence_words, &counts, call.plan.chunks);
        let mut sentence_of_word = vec![0; words.len()];
        for (s, r) in sentence_words.iter().enumerate() {
            sentence_of_word[r.clone()].fill(s);
        }
        Ok(Self { text, sentences, words, sentence_words, sentence_of_word, pieces, chunks })
    }

    /// The byte range of the words `words` (document indices, not empty).
    pub fn bytes_of(&self, words: &Range<usize>) -> Range<usize> {
        self.words[words.start].start..self.words[words.end - 1].end
    }

    // Word indices come in three kinds: the document's (0-based, what
    // `words` and the stages use), a sentence's (0-based, what the decoders
    // and rules read) and the parse's head numbers (1-based in the
    // sentence, 0 for the root). These are the only conversions.

    /// Sentence `s`'s words `local` (indices inside the sentence) as
    /// document word indices.
    pub fn in_sentence(&self, s: usize, local: &Range<usize>) -> Range<usize> {
        let first = self.sentence_words[s].start;
        first + local.start..first + local.end
    }

    /// Document word `w`'s sentence and its index inside it.
    pub fn sentence_of(&self, w: usize) -> (usize, usize) {
        let s = self.sentence_of_word[w];
        (s, w - self.sentence_words[s].start)
    }

    /// Document word `w` as a head is written in the parse: its 1-based
    /// number in its sentence.
    pub fn head_number(&self, w: usize) -> usize {
        self.sentence_of(w).1 + 1
    }

    /// The model input of each chunk, for document `doc` of a call (a word
    /// longer than the whole chunk budget keeps its first wordpieces).
    pub fn chunk_sequences(&self, doc: usize, model: &Model, budget: usize) -> Vec<Sequence> {
        let sequence =
            |(chunk, c): (usize, &Chunk)| Sequence { doc, chunk, ..self.sequence(c.words.clone(), model, budget) };
        self.chunks.iter().enumerate().map(sequence).collect()
    }

    /// The model input of a phrase alone: special tokens around the
    /// wordpieces of its `words` (document indices, one sentence). A phrase
    /// past the model's length (words of hundreds of wordpieces) is
    /// embedded from the wordpieces that fit.
    pub fn phrase_sequence(&self, words: &Range<usize>, model: &Model) -> Sequence {
        self.sequence(words.clone(), model, usize::MAX)
    }

    /// Special tokens around the wordpieces of `words` (document indices),
    /// at most `per_word` of each word's and no more than the model reads.
    fn sequence(&self, words: Range<usize>, model: &Model, per_word: usize) -> Sequence {
        let (prefix, suffix) = (model.wordpiecer.prefix(), model.wordpiecer.suffix());
        let special = model.wordpiecer.case_id(CaseClass::None);
        let mut seq = Sequence { ids: prefix.to_vec(), case_ids: vec![special; prefix.len()], ..Default::default() };
        let mut last_first = 0;
        for w in words {
            let (s, local) = self.sentence_of(w);
            let p = &self.pieces[s];
            let room = model.spec.max_wordpieces.saturating_sub(seq.ids.len() + suffix.len());
            let r = p.of_word[local].clone();
            let r = r.start..r.end.min(r.start + per_word.min(room));
            let at = seq.ids.len();
            seq.ids.extend_from_slice(&p.ids[r.clone()]);
            seq.case_ids.extend(std::iter::repeat_n(p.case_of_word[local], r.len()));
            // A word the normalizer erased reads the wordpiece before it.
            if !r.is_empty() {
                last_first = at;
            }
            seq.word_first.push(last_first);
            seq.word_pieces.push(at..at + r.len());
        }
        seq.ids.extend_from_slice(suffix);
        seq.case_ids.extend(std::iter::repeat_n(special, suffix.len()));
        seq
    }
}

/// Byte or word ranges.
type Spans = Vec<Range<usize>>;

/// Sentences, words and each sentence's word range, the words found by
/// [`words::words`] inside each sentence.
fn sentence_words(text: &str, sentences: Spans) -> (Spans, Spans, Spans) {
    let mut all = Vec::new();
    let mut ranges = Vec::with_capacity(sentences.len());
    for s in &sentences {
        let first = all.len();
        all.extend(words::words(&text[s.clone()]).into_iter().map(|w| w.start + s.start..w.end + s.start));
        ranges.push(first..all.len());
    }
    (sentences, all, ranges)
}

/// Sentences for pretokenized text: the caller's tokens are the words; a
/// sentence holds the tokens that start inside it, and grows to cover a
/// token that runs past its end.
fn pretokenized_sentences(text: &str, spans: Spans) -> (Spans, Spans, Spans) {
    let tokens = words::pretokenized_words(text);
    let (mut sentences, mut ranges) = (Vec::<Range<usize>>::new(), Vec::<Range<usize>>::new());
    let mut t = 0;
    for span in spans {
        let first = t;
        while t < tokens.len() && tokens[t].start < span.end {
            t += 1;
        }
        if t == first {
            continue; // swallowed by a token of the previous sentence
        }
        // Start where the span starts, unless a token of the previous
        // sentence ran into it: then at this sentence's first token.
        let previous_end = sentences.last().map_or(0, |s| s.end);
        let start = if span.start >= previous_end { span.start.min(tokens[first].start) } else { tokens[first].start };
        sentences.push(start..span.end.max(tokens[t - 1].end));
        ranges.push(first..t);
    }
    (sentences, tokens, ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretokenized_sentences_keep_tokens_whole() {
        let text = "Hello there.World is big. Yes";
        let spans = split::sentences(text);
        let (sentences, tokens, ranges) = pretokenized_sentences(text, spans);
        assert_eq!(
            tokens.iter().map(|t| &text[t.clone()]).collect::<Vec<_>>(),
            ["Hello", "there.World", "is", "big.", "Yes"]
        );
        for (s, r) in sentences.iter().zip(&ranges) {
            assert!(s.start <= tokens[r.start].start && tokens[r.end - 1].end <= s.end);
        }
        assert_eq!(ranges.last().map(|r| r.end), Some(tokens.len()));
        assert!(sentences.windows(2).all(|p| p[0].end <= p[1].start));
    }
}
