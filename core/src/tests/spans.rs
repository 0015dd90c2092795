//! Invariants over arbitrary text: every word and sentence span is exact,
//! ordered and disjoint; no non-whitespace byte is ever dropped; offsets
//! convert exactly in every unit.

use crate::offsets::{OffsetMap, OffsetUnit};
use crate::{split, words};
use proptest::prelude::*;

/// Text with the characters that break naive tokenizers: clitics, dots,
/// hyphens, emoji with modifiers, combining marks, CJK, line breaks.
fn tricky_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "Dr.",
        "U.S.",
        "don't",
        "it's",
        "e-mail",
        "well-known",
        "3.5",
        "48,500",
        "...",
        "!!",
        "?",
        ",",
        ";",
        "(",
        ")",
        "\"",
        "'",
        "-",
        "—",
        "👍🏽",
        "👩‍👩‍👧",
        "e\u{301}",
        "東京",
        "Zürich",
        "a@b.com",
        "https://x.org/a.b",
        "#tag",
        ":)",
        "\n",
        "\n\n",
        " ",
        "  ",
        "\t",
        "word",
        "Word",
        "WORD",
        "x",
        "$",
        "%",
        "…",
        "’s",
        "n’t",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.join(" "))
}

fn check_cover(text: &str, spans: &[std::ops::Range<usize>]) {
    let mut last = 0;
    for s in spans {
        assert!(s.start >= last && s.start < s.end && s.end <= text.len(), "bad span {s:?} in {text:?}");
        assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
        assert!(text[last..s.start].chars().all(char::is_whitespace), "dropped {:?} in {text:?}", &text[last..s.start]);
        last = s.end;
    }
    assert!(text[last..].chars().all(char::is_whitespace), "dropped tail in {text:?}");
}

proptest! {
    #[test]
    fn words_cover_every_non_space_byte(text in tricky_text()) {
        let spans = words::words(&text);
        check_cover(&text, &spans);
        for s in &spans {
            prop_assert!(!text[s.clone()].chars().any(char::is_whitespace));
        }
    }

    #[test]
    fn arbitrary_unicode_never_breaks_words(text in "\\PC{0,60}") {
        check_cover(&text, &words::words(&text));
        check_cover(&text, &split::sentences(&text));
    }

    #[test]
    fn sentences_cover_every_non_space_byte(text in tricky_text()) {
        let sentences = split::sentences(&text);
        check_cover(&text, &sentences);
        for s in &sentences {
            prop_assert_eq!(text[s.clone()].trim(), &text[s.clone()]);
        }
    }

    #[test]
    fn pretokenized_words_round_trip(tokens in prop::collection::vec("[^\\s]{1,8}", 0..20), sep in "[ \t\n]{1,3}") {
        let text = tokens.join(&sep);
        let got: Vec<&str> = words::pretokenized_words(&text).into_iter().map(|r| &text[r]).collect();
        prop_assert_eq!(got, tokens.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn offsets_slice_the_same_text_in_every_unit(text in tricky_text()) {
        for span in words::words(&text) {
            let word = &text[span.clone()];
            let chars = OffsetMap::new(&text, OffsetUnit::Char);
            let (s, e) = (chars.convert(span.start), chars.convert(span.end));
            prop_assert_eq!(text.chars().skip(s).take(e - s).collect::<String>(), word);
            let utf16 = OffsetMap::new(&text, OffsetUnit::Utf16);
            let units: Vec<u16> = text.encode_utf16().collect();
            let (s, e) = (utf16.convert(span.start), utf16.convert(span.end));
            prop_assert_eq!(String::from_utf16(&units[s..e]).unwrap(), word);
        }
    }
}
