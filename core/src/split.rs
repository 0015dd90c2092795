//! Split: a document into sentences, and sentences into chunks that fit the
//! model's wordpiece budget.
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

#[cfg(test)]
mod tests {
    use super::*;

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
