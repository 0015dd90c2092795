//! Words: UD-style English word tokenization with byte spans.
//!
//! The default models were trained on Universal Dependencies English-EWT
//! words, so the engine cuts text the same way: punctuation split off,
//! hyphens between word parts as their own words ("well - known"), clitics
//! as their own words ("do n't", "John 's", "we 're"), while abbreviations
//! ("Dr.", "U.S."), numbers ("48,500", "3.5"), URLs, e-mail addresses,
//! hashtags and runs of the same punctuation ("...", "!!") stay whole.
//! Every word is a `start..end` byte span of the input, so the text of a
//! word is always exactly `text[start..end]`.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

/// The name a model's manifest gives these words (`words.unit`): a model
/// whose heads read other units is refused at load.
pub const UNIT: &str = "ud_word";

/// Abbreviations that keep their final period (compared in lowercase,
/// without the period). Single letters ("J.") and dotted forms ("U.S.",
/// "e.g.") are recognised by shape and need no entry.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "vs", "etc", "inc", "ltd", "co", "corp", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no", "nos", "vol", "fig", "approx",
    "dept", "est", "gen", "gov", "sen", "rep", "rev", "capt", "col", "lt", "sgt", "ave", "blvd", "rd", "pp", "ca",
];

/// Prefixes that keep their hyphen, as EWT writes them ("e-mail",
/// "non-human", "co-workers"); other hyphens between word parts are words.
const HYPHEN_PREFIXES: &[&str] = &[
    "e", "non", "mid", "pre", "anti", "re", "post", "co", "over", "pro", "multi", "ex", "sub", "semi", "neo", "cross",
    "micro", "intra", "inter", "vice", "un", "socio", "psycho", "counter",
];

/// Emoticons kept whole.
const EMOTICONS: &[&str] = &[
    ":)", ":-)", ":(", ":-(", ":D", ":-D", ";)", ";-)", ":P", ":-P", ":p", ":-p", ":/", ":-/", ":|", ":'(", "<3", ":o",
    ":O", "XD", "^_^", "^^", ":]", "=)", "=(",
];

/// Clitics split from the end of a word, longest first.
const CLITICS: &[&str] = &["n't", "'s", "'re", "'ve", "'ll", "'d", "'m"];

/// Cuts `text` into words; spans are byte ranges of `text`.
///
/// `text` is expected to be one sentence (or a run of text without sentence
/// breaks): an abbreviation's period at the very end is taken to end the
/// sentence too and becomes its own word, as in UD ("in the U.S ." ).
pub fn words(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let tokens = pretokenized_words(text);
    let last = tokens.len().saturating_sub(1);
    for (k, token) in tokens.into_iter().enumerate() {
        split_token(text, token.start, token.end, k == last, &mut out);
    }
    out
}

/// Words given by the caller: every maximal run of non-whitespace is one word.
pub fn pretokenized_words(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push(s..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..text.len());
    }
    out
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}')
}

/// One whitespace-free token `text[start..end]` into words. Works on
/// grapheme clusters, so an emoji with its modifiers or a letter with its
/// combining marks is never cut apart.
fn split_token(text: &str, start: usize, end: usize, sentence_end: bool, out: &mut Vec<Range<usize>>) {
    let token = &text[start..end];
    // A clitic already split off ("John 's", as tokenized text writes it) stays one word.
    let is_clitic = || {
        let normalized: String =
            token.chars().map(|c| if c == '\u{2019}' { '\'' } else { c.to_ascii_lowercase() }).collect();
        CLITICS.contains(&normalized.as_str())
    };
    if EMOTICONS.contains(&token) || is_clitic() {
        out.push(start..end);
        return;
    }
    // Brackets and sentence punctuation around an address are not part of it.
    let lead = token.len() - token.trim_start_matches(['<', '(', '[', '"', '\'']).len();
    let inner = token[lead..].trim_end_matches(|c: char| ".,;:!?)>\"'\u{201D}\u{2019}]".contains(c));
    if !inner.is_empty() && is_url_or_email(inner) {
        let (lo, hi) = (start + lead, start + lead + inner.len());
        push_runs(text, start, lo, out);
        out.push(lo..hi);
        push_runs(text, hi, end, out);
        return;
    }
    let graphemes: Vec<(usize, &str)> = token.grapheme_indices(true).map(|(i, g)| (start + i, g)).collect();
    let first = |g: &str| g.chars().next().unwrap_or(' ');
    let g_end = |k: usize| graphemes.get(k).map_or(end, |&(i, _)| i);

    // Leading punctuation, one run of the same grapheme at a time.
    let mut lo = 0;
    while lo < graphemes.len() {
        let c = first(graphemes[lo].1);
        let next = graphemes.get(lo + 1).map(|&(_, g)| first(g));
        let keeps_sigil = matches!(c, '#' | '@') && next.is_some_and(char::is_alphanumeric);
        let leads_number = c == '.' && lo == 0 && next.is_some_and(|n| n.is_ascii_digit());
        if is_word_char(c) || keeps_sigil || leads_number {
            break;
        }
        let mut run = lo + 1;
        while run < graphemes.len() && graphemes[run].1 == graphemes[lo].1 {
            run += 1;
        }
        out.push(graphemes[lo].0..g_end(run));
        lo = run;
    }
    if lo == graphemes.len() {
        return;
    }
    // Trailing punctuation, peeled from the end, kept in order.
    let mut hi = graphemes.len();
    let mut tail = Vec::new();
    while hi > lo {
        let g = graphemes[hi - 1].1;
        let c = first(g);
        if is_word_char(c) {
            break;
        }
        if c == '.' && !(sentence_end && hi == graphemes.len()) && is_abbreviation(&text[graphemes[lo].0..g_end(hi)]) {
            break;
        }
        if is_apostrophe(c) && hi - 1 > lo && ends_plural_possessive(&text[graphemes[lo].0..graphemes[hi - 1].0]) {
            // "students'" -> "students" "'"
            tail.push(graphemes[hi - 1].0..g_end(hi));
            hi -= 1;
            break;
        }
        let mut run = hi - 1;
        while run > lo && graphemes[run - 1].1 == g {
            run -= 1;
        }
        tail.push(graphemes[run].0..g_end(hi));
        hi = run;
    }
    if hi > lo {
        split_core(text, graphemes[lo].0, g_end(hi), out);
    }
    out.extend(tail.into_iter().rev());
}

/// The core of a token: clitics off its end, hyphens and other inner
/// punctuation between its parts.
fn split_core(text: &str, start: usize, end: usize, out: &mut Vec<Range<usize>>) {
    let core = &text[start..end];
    if let Some(cut) = clitic_cut(core) {
        split_core(text, start, start + cut, out);
        out.push(start + cut..end);
        return;
    }
    if is_number(core) || (core.ends_with('.') && is_abbreviation(core)) {
        out.push(start..end);
        return;
    }
    // Split at punctuation between word parts, except apostrophes in names
    // ("O'Brien"), periods in dotted forms ("U.S") and "&" ("AT&T").
    let graphemes: Vec<(usize, &str)> = core.grapheme_indices(true).map(|(i, g)| (start + i, g)).collect();
    let first = |g: &str| g.chars().next().unwrap_or(' ');
    let mut piece = start;
    let mut k = 0;
    while k < graphemes.len() {
        let (at, g) = graphemes[k];
        let c = first(g);
        if is_word_char(c) {
            k += 1;
            continue;
        }
        let prev_word = k > 0 && is_word_char(first(graphemes[k - 1].1));
        let next_word = graphemes.get(k + 1).is_some_and(|&(_, n)| is_word_char(first(n)));
        let inner = (is_apostrophe(c) || c == '.' || c == '&') && prev_word && next_word;
        let sigil = k == 0 && matches!(c, '#' | '@') && next_word; // "#audiobooks", "@bob"
        let prefix = c == '-' && next_word && HYPHEN_PREFIXES.contains(&text[piece..at].to_lowercase().as_str());
        if inner || sigil || prefix {
            k += 1;
            continue;
        }
        if at > piece {
            out.push(piece..at);
        }
        let mut run = k + 1;
        while run < graphemes.len() && graphemes[run].1 == g {
            run += 1;
        }
        piece = graphemes.get(run).map_or(end, |&(i, _)| i);
        out.push(at..piece);
        k = run;
    }
    if piece < end {
        out.push(piece..end);
    }
}

/// Byte position inside `core` where a clitic starts, if it ends in one
/// after a letter ("John's", "don't"; not "'s" alone).
fn clitic_cut(core: &str) -> Option<usize> {
    let normalized: String =
        core.chars().map(|c| if c == '\u{2019}' { '\'' } else { c.to_ascii_lowercase() }).collect();
    if normalized == "cannot" {
        return Some(3);
    }
    for clitic in CLITICS {
        if !normalized.ends_with(clitic) {
            continue;
        }
        let n_chars = clitic.chars().count();
        let cut = core.char_indices().rev().nth(n_chars - 1).map(|(i, _)| i)?;
        // "can't" -> "ca n't", "won't" -> "wo n't": UD keeps the stem as written.
        if cut > 0 && core[..cut].chars().next_back().is_some_and(char::is_alphabetic) {
            return Some(cut);
        }
    }
    None
}

fn ends_plural_possessive(word: &str) -> bool {
    word.chars().count() > 1 && word.ends_with(['s', 'S']) && word.chars().all(char::is_alphabetic)
}

/// Is `word` (with its final period) an abbreviation or an initial, so that
/// it keeps the period? ("Dr.", "U.S.", "e.g.", "J.")
pub(crate) fn is_abbreviation(word: &str) -> bool {
    let Some(stem) = word.strip_suffix('.') else { return false };
    if stem.is_empty() {
        return false;
    }
    if ABBREVIATIONS.contains(&stem.to_lowercase().as_str()) {
        return true;
    }
    // An initial ("J.") or dotted single letters ("U.S", "e.g").
    stem.split('.').all(|p| p.chars().count() == 1 && p.chars().all(char::is_alphabetic))
}

/// "48,500.00", "3.5", "10:30", "1/2", and phone numbers ("410-468-3499").
fn is_number(s: &str) -> bool {
    let phone = s.matches('-').count() >= 2;
    s.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '.')
        && s.chars().last().is_some_and(|c| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ':' | '/') || (phone && c == '-'))
}

fn is_url_or_email(token: &str) -> bool {
    let lower = token.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.") {
        return true;
    }
    match token.split_once('@') {
        Some((user, host)) => {
            // "rreynol...@cogeco.ca": the archive's elided addresses count too.
            user.chars().any(char::is_alphanumeric)
                && !host.contains('@')
                && host.contains('.')
                && host.chars().next().is_some_and(char::is_alphanumeric)
        }
        None => false,
    }
}

/// `text[at..end]` as runs of the same grapheme (punctuation after a URL).
fn push_runs(text: &str, at: usize, end: usize, out: &mut Vec<Range<usize>>) {
    let graphemes: Vec<(usize, &str)> = text[at..end].grapheme_indices(true).map(|(i, g)| (at + i, g)).collect();
    let mut k = 0;
    while k < graphemes.len() {
        let mut run = k + 1;
        while run < graphemes.len() && graphemes[run].1 == graphemes[k].1 {
            run += 1;
        }
        out.push(graphemes[k].0..graphemes.get(run).map_or(end, |&(i, _)| i));
        k = run;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        words(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn punctuation_and_clitics() {
        assert_eq!(texts("I don't know, do you?"), ["I", "do", "n't", "know", ",", "do", "you", "?"]);
        assert_eq!(texts("We can't, they won't."), ["We", "ca", "n't", ",", "they", "wo", "n't", "."]);
        assert_eq!(texts("John's car; they're here"), ["John", "'s", "car", ";", "they", "'re", "here"]);
        assert_eq!(texts("John 's car ; they ’re here"), ["John", "'s", "car", ";", "they", "’re", "here"]);
        assert_eq!(texts("It\u{2019}s fine"), ["It", "\u{2019}s", "fine"]);
        assert_eq!(texts("I cannot go"), ["I", "can", "not", "go"]);
        assert_eq!(texts("the students' rooms"), ["the", "students", "'", "rooms"]);
    }

    #[test]
    fn abbreviations_numbers_and_addresses_stay_whole() {
        assert_eq!(
            texts("Dr. Keller met Mr. O'Brien in the U.S. today."),
            ["Dr.", "Keller", "met", "Mr.", "O'Brien", "in", "the", "U.S.", "today", "."]
        );
        assert_eq!(
            texts("It costs $48,500.00 (approx. 3.5%)"),
            ["It", "costs", "$", "48,500.00", "(", "approx.", "3.5", "%", ")"]
        );
        assert_eq!(
            texts("Mail bob@example.com or see https://example.com/a?b=1."),
            ["Mail", "bob@example.com", "or", "see", "https://example.com/a?b=1", "."]
        );
        assert_eq!(texts("join #audiobooks @bob"), ["join", "#audiobooks", "@bob"]);
    }

    #[test]
    fn hyphens_and_runs() {
        assert_eq!(texts("a well-known e-mail..."), ["a", "well", "-", "known", "e-mail", "..."]);
        assert_eq!(
            texts("non-human co-workers :) call 410-468-3499"),
            ["non-human", "co-workers", ":)", "call", "410-468-3499"]
        );
        assert_eq!(
            texts("<bob@example.com> moved to the U.S."),
            ["<", "bob@example.com", ">", "moved", "to", "the", "U.S", "."]
        );
        assert_eq!(texts("Wow!! \"Really?\""), ["Wow", "!!", "\"", "Really", "?", "\""]);
        assert_eq!(texts("AT&T and/or 10:30"), ["AT&T", "and", "/", "or", "10:30"]);
    }

    #[test]
    fn non_ascii() {
        assert_eq!(texts("Café Zürich 東京 👍🏽!"), ["Café", "Zürich", "東京", "👍🏽", "!"]);
        assert_eq!(texts("cafe\u{301}s"), ["cafe\u{301}s"]);
    }

    #[test]
    fn pretokenized_is_whitespace_runs() {
        let text = "  New   York-based\tfirm ";
        let got: Vec<_> = pretokenized_words(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(got, ["New", "York-based", "firm"]);
    }
}
