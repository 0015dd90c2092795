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
    /// The model's id of each word's case class ([`case_class`], numbered
    /// by [`CaseIds`]).
    pub case_of_word: Vec<u8>,
}

/// The model's tokenizer, the special tokens it puts around a sequence, and
/// the ids the model gives case classes.
pub struct Wordpiecer {
    tokenizer: Tokenizer,
    prefix: Vec<u32>,
    suffix: Vec<u32>,
    case_ids: CaseIds,
}

impl Wordpiecer {
    /// Loads `tokenizer.json`, with case classes numbered in the default
    /// order ([`CaseIds::default`]). Truncation and padding set in the file
    /// are turned off: the engine cuts and pads sequences itself. (The
    /// engine loads with the model's own numbering; this is for the
    /// benchmarks, `internals`.)
    #[cfg(feature = "internals")]
    pub fn from_file(path: &Path) -> Result<Self> {
        Self::with_case_ids(path, CaseIds::default())
    }

    /// Loads `tokenizer.json` for a model that numbers case classes as
    /// `case_ids` says.
    pub fn with_case_ids(path: &Path, case_ids: CaseIds) -> Result<Self> {
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
        Ok(Self { prefix: ids[..first].to_vec(), suffix: ids[last..].to_vec(), tokenizer, case_ids })
    }

    /// Special tokens before the wordpieces of a sequence.
    pub fn prefix(&self) -> &[u32] {
        &self.prefix
    }

    /// The model's id for `class`: [`CaseClass::None`]'s is what special
    /// tokens take, as the default models were trained.
    pub fn case_id(&self, class: CaseClass) -> u8 {
        self.case_ids.of(class)
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
            case_of_word: strs.iter().map(|w| self.case_ids.of(case_class(w))).collect(),
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

/// The capitalization of a word, over its cased letters (letters with an
/// upper and a lower case): what the default models read beside its
/// lowercased wordpieces, since capitals are among the strongest entity cues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseClass {
    /// No cased letter ("1984", "--").
    None,
    /// All lowercase.
    Lower,
    /// First uppercase, the rest lowercase; a lone capital too ("I").
    Title,
    /// All uppercase, at least two ("IBM", "U.S.").
    Upper,
    /// Anything else ("iPhone", "McDonald").
    Mixed,
}

impl CaseClass {
    /// Every class, in the default models' order (their ids 0 to 4).
    pub const ALL: [Self; 5] = [Self::None, Self::Lower, Self::Title, Self::Upper, Self::Mixed];

    /// The name a manifest's `inputs.case_ids.classes` lists it by.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Lower => "lower",
            Self::Title => "title",
            Self::Upper => "upper",
            Self::Mixed => "mixed",
        }
    }
}

/// The class of `word`.
pub fn case_class(word: &str) -> CaseClass {
    let mut cased = word.chars().filter(|c| c.is_uppercase() || c.is_lowercase());
    let Some(first) = cased.next() else { return CaseClass::None };
    let (mut all_lower, mut all_upper, mut rest_lower, mut n) = (first.is_lowercase(), first.is_uppercase(), true, 1);
    for c in cased {
        n += 1;
        all_lower &= c.is_lowercase();
        all_upper &= c.is_uppercase();
        rest_lower &= c.is_lowercase();
    }
    match () {
        _ if all_lower => CaseClass::Lower,
        _ if first.is_uppercase() && rest_lower => CaseClass::Title,
        _ if all_upper && n >= 2 => CaseClass::Upper,
        _ => CaseClass::Mixed,
    }
}

/// The id a model gives each [`CaseClass`]: its position in the
/// manifest's `inputs.case_ids.classes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseIds([u8; CaseClass::ALL.len()]);

impl Default for CaseIds {
    /// The default models' order: none, lower, title, upper, mixed.
    fn default() -> Self {
        Self([0, 1, 2, 3, 4])
    }
}

impl CaseIds {
    /// The ids of a manifest's list of class names, or what is wrong with
    /// it: every class named once, no other name.
    pub fn from_names(names: &[String]) -> std::result::Result<Self, String> {
        let known = || CaseClass::ALL.map(CaseClass::name).join(", ");
        let mut ids = [None; CaseClass::ALL.len()];
        for (id, name) in names.iter().enumerate() {
            let Some(class) = CaseClass::ALL.into_iter().find(|c| c.name() == name) else {
                return Err(format!("unknown case class {name:?}; this engine computes {}", known()));
            };
            if ids[class as usize].replace(id as u8).is_some() {
                return Err(format!("case class {name:?} listed twice"));
            }
        }
        match ids.iter().position(Option::is_none) {
            Some(missing) => {
                Err(format!("no id for case class {:?}; list all of {}", CaseClass::ALL[missing].name(), known()))
            }
            None => Ok(Self(ids.map(|id| id.unwrap_or_default()))),
        }
    }

    /// The model's id of `class`.
    pub fn of(self, class: CaseClass) -> u8 {
        self.0[class as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::{CaseClass, CaseIds, case_class};

    #[test]
    fn case_classes_follow_the_training_rule() {
        use CaseClass as C;
        for (word, class) in [
            ("1984", C::None),
            ("--", C::None),
            ("apple", C::Lower),
            ("Apple", C::Title),
            ("I", C::Title),
            ("IBM", C::Upper),
            ("iPhone", C::Mixed),
            ("McDonald", C::Mixed),
            ("U.S.", C::Upper),
            ("Émile", C::Title),
        ] {
            assert_eq!(case_class(word), class, "{word}");
        }
    }

    #[test]
    fn case_ids_follow_the_manifest_and_refuse_what_they_cannot_compute() {
        let names = |list: &[&str]| list.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let default = CaseIds::from_names(&names(&["none", "lower", "title", "upper", "mixed"])).expect("the default");
        assert_eq!(default, CaseIds::default());
        let reordered = CaseIds::from_names(&names(&["none", "upper", "lower", "mixed", "title"])).expect("any order");
        assert_eq!((reordered.of(CaseClass::Upper), reordered.of(CaseClass::Title)), (1, 4));
        let unknown = CaseIds::from_names(&names(&["none", "lower", "title", "upper", "camel"])).expect_err("unknown");
        assert!(unknown.contains("camel") && unknown.contains("mixed"), "{unknown}");
        let twice = CaseIds::from_names(&names(&["none", "lower", "lower", "upper", "mixed"])).expect_err("twice");
        assert!(twice.contains("twice"), "{twice}");
        let short = CaseIds::from_names(&names(&["none", "lower", "title", "upper"])).expect_err("one missing");
        assert!(short.contains("mixed"), "{short}");
    }
}
