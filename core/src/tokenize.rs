//! Tokenize: words into the model's wordpieces with the model's own
//! `tokenizer.json`, every wordpiece carrying its byte span in the document.

use std::ops::Range;
use std::path::Path;

use tokenizers::Tokenizer;

use crate::error::{Error, Result};

/// The wordpieces of a run of words (usually one sentence).
#[derive(Debug, Clone, Default)]
pub struct Wordpieces {
    /// Vocabulary id of each wordpiece.
    pub ids: Vec<u32>,
    /// Byte span of each wordpiece in the document.
    pub spans: Vec<Range<usize>>,
    /// For each word, the range of its wordpieces in `ids`. A word the
    /// normalizer erases entirely (a lone control or zero-width character)
    /// has an empty range.
    pub of_word: Vec<Range<usize>>,
    /// Case class of each word (see [`case_class`]).
    pub case_of_word: Vec<u8>,
}

/// The model's tokenizer, and the special tokens it puts around a sequence.
pub struct Wordpiecer {
    tokenizer: Tokenizer,
    prefix: Vec<u32>,
    suffix: Vec<u32>,
}

impl Wordpiecer {
    /// Loads `tokenizer.json`. Truncation and padding set in the file are
    /// turned off: the engine cuts and pads sequences itself.
    pub fn from_file(path: &Path) -> Result<Self> {
        let mut tokenizer = Tokenizer::from_file(path)
            .map_err(|e| Error::ModelCorrupt { path: path.to_path_buf(), detail: format!("not a tokenizer: {e}") })?;
        tokenizer.with_truncation(None).map_err(|e| Error::ModelCorrupt {
            path: path.to_path_buf(),
            detail: format!("cannot turn truncation off: {e}"),
        })?;
        tokenizer.with_padding(None);
        // The special tokens are whatever the post-processor adds around one
        // word: [CLS] … [SEP] for BERT, <s> … </s> for RoBERTa.
        let probe = tokenizer
            .encode(&["a"][..], true)
            .map_err(|e| Error::ModelCorrupt { path: path.to_path_buf(), detail: format!("cannot encode: {e}") })?;
        let words = probe.get_word_ids();
        let first = words.iter().position(Option::is_some).unwrap_or(words.len());
        let last = words.iter().rposition(Option::is_some).map_or(first, |p| p + 1);
        let ids = probe.get_ids();
        Ok(Self { prefix: ids[..first].to_vec(), suffix: ids[last..].to_vec(), tokenizer })
    }

    /// Special tokens before the wordpieces of a sequence.
    pub fn prefix(&self) -> &[u32] {
        &self.prefix
    }

    /// Special tokens after the wordpieces of a sequence.
    pub fn suffix(&self) -> &[u32] {
        &self.suffix
    }

    /// Wordpieces of `words` (byte spans of `text`).
    pub fn encode(&self, text: &str, words: &[Range<usize>]) -> Result<Wordpieces> {
        let strs: Vec<&str> = words.iter().map(|w| &text[w.clone()]).collect();
        let enc = self.tokenizer.encode(&strs[..], false).map_err(|e| Error::Inference(format!("tokenizer: {e}")))?;
        let mut out = Wordpieces {
            ids: enc.get_ids().to_vec(),
            spans: Vec::with_capacity(enc.len()),
            of_word: vec![0..0; words.len()],
            case_of_word: strs.iter().map(|w| case_class(w)).collect(),
        };
        for (pos, (word, &(start, end))) in enc.get_word_ids().iter().zip(enc.get_offsets()).enumerate() {
            let Some(w) = word.map(|w| w as usize).filter(|&w| w < words.len()) else {
                out.spans.push(0..0);
                continue;
            };
            // Offsets of pretokenized input are relative to the word.
            let span = &words[w];
            let (s, e) = (span.start + start.min(span.len()), span.start + end.min(span.len()));
            out.spans.push(s..e.max(s));
            // Word ids never decrease, so a word's pieces are contiguous.
            if out.of_word[w].is_empty() {
                out.of_word[w] = pos..pos + 1;
            } else {
                out.of_word[w].end = pos + 1;
            }
        }
        // Words erased by the normalizer sit, empty, where they belong.
        let mut last_end = 0;
        for r in &mut out.of_word {
            if r.start == r.end {
                *r = last_end..last_end;
            } else {
                last_end = r.end;
            }
        }
        Ok(out)
    }
}

/// Case class of a word, as the default models were trained: 0 no cased
/// letter, 1 lower, 2 Title (a lone capital too), 3 UPPER (two or more), 4 mixed.
pub fn case_class(word: &str) -> u8 {
    let mut cased = word.chars().filter(|c| c.is_uppercase() || c.is_lowercase());
    let Some(first) = cased.next() else { return 0 };
    let (mut all_lower, mut all_upper, mut rest_lower, mut n) = (first.is_lowercase(), first.is_uppercase(), true, 1);
    for c in cased {
        n += 1;
        all_lower &= c.is_lowercase();
        all_upper &= c.is_uppercase();
        rest_lower &= c.is_lowercase();
    }
    match () {
        _ if all_lower => 1,
        _ if first.is_uppercase() && rest_lower => 2,
        _ if all_upper && n >= 2 => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::case_class;

    #[test]
    fn case_classes_follow_the_training_rule() {
        for (word, class) in [
            ("1984", 0),
            ("--", 0),
            ("apple", 1),
            ("Apple", 2),
            ("I", 2),
            ("IBM", 3),
            ("iPhone", 4),
            ("McDonald", 4),
            ("U.S.", 3),
            ("Émile", 2),
        ] {
            assert_eq!(case_class(word), class, "{word}");
        }
    }
}
