//! Split: a document into sentences, and sentences into chunks that fit the
//! model's wordpiece budget.
//!
//! Chunks are runs of words (see [`chunks`]): one sentence per chunk, or
//! several consecutive whole sentences packed up to a packing budget (for
//! models trained on such packs; the manifest says). A sentence longer than
//! the budget is
//! cut at word boundaries into overlapping windows, and every word is owned
//! by exactly one chunk (the one where it sits farthest from a cut), so that
//! results never repeat and never miss a word.
//!
//! Sentences come from Unicode sentence boundaries (UAX #29, via
//! `unicode-segmentation`), corrected where UAX #29 is naive for English:
//! no break after an abbreviation or an initial ("Dr. Keller", "J. Smith",
//! "approx. 3"), and every line break ends a sentence. Decimal numbers
//! ("3.5") never break under UAX #29. Spans are byte ranges without the
//! surrounding whitespace; every non-whitespace byte of the document lies in
//! exactly one sentence.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use crate::words::is_abbreviation;

/// Sentence spans of `text` (byte ranges, trimmed of whitespace, in order).
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut glue_next = false;
    for (start, piece) in text.split_sentence_bound_indices() {
        let Some(span) = trim(text, start..start + piece.len()) else { continue };
        match out.last_mut() {
            Some(last) if glue_next => last.end = span.end,
            _ => out.push(span),
        }
        let last = out.last().cloned().unwrap_or(0..0);
        // Glue the next piece on when this one ends in an abbreviation and the
        // break was not a line break.
        let ends_line = text[last.end..start + piece.len()].contains(['\n', '\r', '\u{2029}', '\u{2028}']);
        glue_next = !ends_line && ends_with_abbreviation(&text[last]);
    }
    out
}

fn trim(text: &str, span: Range<usize>) -> Option<Range<usize>> {
    let piece = &text[span.clone()];
    let lead = piece.len() - piece.trim_start().len();
    let body = piece.trim();
    (!body.is_empty()).then(|| span.start + lead..span.start + lead + body.len())
}

fn ends_with_abbreviation(sentence: &str) -> bool {
    let Some(last) = sentence.split_whitespace().last() else { return false };
    let last = last.trim_start_matches(['(', '"', '\'', '[']);
    last.ends_with('.') && !last.ends_with("..") && is_abbreviation(last)
}

/// A run of words the model reads as one sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The words the model reads (indices into the document's words).
    pub words: Range<usize>,
    /// The words whose results come from this chunk. Over all chunks of a
    /// document the owned ranges are disjoint, in order, and cover every word.
    pub owned: Range<usize>,
}

/// How words are grouped into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    /// Most wordpieces in a chunk, special tokens not counted.
    pub wordpieces: usize,
    /// Wordpieces two windows of a cut sentence share, so that no word is
    /// read at the very edge of its window. Must be below half the budget.
    pub overlap: usize,
    /// Pack consecutive whole sentences into one chunk while together they
    /// take at most this many wordpieces (at most `wordpieces`); `None`:
    /// one sentence per chunk. A sentence longer than this is a chunk of its
    /// own, cut only where it exceeds `wordpieces`.
    pub pack_wordpieces: Option<usize>,
}

/// Chunks over a document whose sentences are `sentences` (ranges of word
/// indices, in order, covering the words) and whose word `i` has
/// `wordpieces[i]` wordpieces. A single word longer than the whole budget
/// gets a chunk of its own (the engine feeds its first wordpieces; the word
/// and its span stay whole).
pub fn chunks(sentences: &[Range<usize>], wordpieces: &[usize], limits: ChunkLimits) -> Vec<Chunk> {
    let budget = limits.wordpieces.max(1);
    let pack_budget = limits.pack_wordpieces.map(|p| p.min(budget));
    let cost = |w: usize| wordpieces[w].min(budget);
    let mut out: Vec<Chunk> = Vec::new();
    let mut packed_cost = 0;
    for sentence in sentences {
        let total: usize = sentence.clone().map(cost).sum();
        if total <= budget {
            match out.last_mut() {
                Some(last)
                    if last.words == last.owned
                        && last.words.end == sentence.start
                        && pack_budget.is_some_and(|p| packed_cost + total <= p) =>
                {
                    last.words.end = sentence.end;
                    last.owned.end = sentence.end;
                    packed_cost += total;
                }
                _ => {
                    out.push(Chunk { words: sentence.clone(), owned: sentence.clone() });
                    packed_cost = total;
                }
            }
            continue;
        }
        // Cut into windows that share about `overlap` wordpieces.
        let overlap = limits.overlap.min(budget.saturating_sub(1) / 2);
        let first_window = out.len();
        let mut start = sentence.start;
        loop {
            let mut end = start;
            let mut used = 0;
            while end < sentence.end && used + cost(end) <= budget {
                used += cost(end);
                end += 1;
            }
            end = end.max(start + 1);
            out.push(Chunk { words: start..end, owned: start..end });
            if end == sentence.end {
                break;
            }
            let mut next = end;
            let mut shared = 0;
            while next > start + 1 && shared + cost(next - 1) <= overlap {
                next -= 1;
                shared += cost(next);
            }
            start = next;
        }
        // Owned ranges meet in the middle of each overlap.
        for k in first_window + 1..out.len() {
            let cut = (out[k].words.start + out[k - 1].words.end).div_ceil(2);
            out[k - 1].owned.end = cut;
            out[k].owned.start = cut;
        }
        packed_cost = budget;
    }
    out
}

#[cfg(test)]
// `&[0..n]` is a list of one sentence's word range, not a mistaken range.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    fn limits(wordpieces: usize, overlap: usize, pack: bool) -> ChunkLimits {
        ChunkLimits { wordpieces, overlap, pack_wordpieces: pack.then_some(wordpieces) }
    }

    #[test]
    fn short_sentences_are_one_chunk_each_or_packed() {
        let sentences = [0..3, 3..5, 5..9];
        let pieces = [1; 9];
        let one = chunks(&sentences, &pieces, limits(10, 2, false));
        assert_eq!(one.iter().map(|c| c.words.clone()).collect::<Vec<_>>(), [0..3, 3..5, 5..9]);
        let packed = chunks(&sentences, &pieces, limits(6, 2, true));
        assert_eq!(packed.iter().map(|c| c.words.clone()).collect::<Vec<_>>(), [0..5, 5..9]);
        assert!(packed.iter().all(|c| c.words == c.owned));
    }

    #[test]
    fn packs_stay_within_their_own_budget_and_long_sentences_stay_whole() {
        // Sentences of 2, 2, 5, 2, 2 wordpieces; packs of at most 4, chunks of at most 10.
        let sentences = [0..2, 2..4, 4..9, 9..11, 11..13];
        let limits = ChunkLimits { wordpieces: 10, overlap: 2, pack_wordpieces: Some(4) };
        let c = chunks(&sentences, &[1; 13], limits);
        assert_eq!(c.iter().map(|c| c.words.clone()).collect::<Vec<_>>(), [0..4, 4..9, 9..13]);
        assert!(c.iter().all(|c| c.words == c.owned));
    }

    #[test]
    fn long_sentences_are_cut_into_overlapping_windows() {
        // 20 words of 1 wordpiece, budget 8, overlap 2.
        let c = chunks(&[0..20], &[1; 20], limits(8, 2, false));
        assert!(c.len() >= 3);
        for pair in c.windows(2) {
            assert!(pair[1].words.start < pair[0].words.end, "windows overlap: {c:?}");
            assert_eq!(pair[0].owned.end, pair[1].owned.start);
        }
        assert_eq!(c[0].owned.start, 0);
        assert_eq!(c.last().map(|x| x.owned.end), Some(20));
        assert!(c.iter().all(|x| x.words.len() <= 8));
    }

    #[test]
    fn a_word_longer_than_the_budget_gets_its_own_chunk() {
        let c = chunks(&[0..3], &[2, 50, 2], limits(8, 2, false));
        assert_eq!(c.iter().map(|x| x.owned.clone()).collect::<Vec<_>>(), [0..1, 1..2, 2..3]);
    }

    fn texts(text: &str) -> Vec<&str> {
        sentences(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn abbreviations_initials_and_decimals_do_not_break() {
        assert_eq!(
            texts("Dr. Anna Keller met J. Smith at 3.5 p.m. today. It rained! Did it?"),
            ["Dr. Anna Keller met J. Smith at 3.5 p.m. today.", "It rained!", "Did it?"]
        );
        assert_eq!(texts("Costs were approx. 48,500 euros. Fine."), ["Costs were approx. 48,500 euros.", "Fine."]);
    }

    #[test]
    fn line_breaks_end_sentences() {
        assert_eq!(
            texts("Field report, Hamburg plant\n\nDr. Keller inspected it"),
            ["Field report, Hamburg plant", "Dr. Keller inspected it"]
        );
        assert_eq!(texts("Contact: Dr.\nKeller"), ["Contact: Dr.", "Keller"]);
    }

    #[test]
    fn whitespace_only_text_has_no_sentences() {
        assert!(sentences(" \n\t ").is_empty());
        assert!(sentences("").is_empty());
    }
}
