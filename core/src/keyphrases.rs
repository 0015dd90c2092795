//! Key phrases: noun phrases read off the parse, grouped by a normalized
//! form, ranked by how close their embedding is to the document's, and
//! diversified by maximal marginal relevance (MMR).
//!
//! Three steps, each a function here; the candidates' embeddings come
//! between the second and the third (see [`PhraseEmbedding`]):
//!
//! 1. [`noun_phrases`] cuts each sentence into noun phrases: nouns, proper
//!    nouns and their adjectival, compound and name modifiers, bound to
//!    their head by the dependency tree, so that two neighbouring phrases
//!    ("gave the students | books") stay apart. Leading words that carry
//!    no topic ("several", "novel", "other") are trimmed. [`of_phrases`]
//!    adds "X of Y" where the tree says Y modifies X ("quality of service").
//! 2. [`candidates`] groups the phrases of a document by their
//!    [`normalize`]d form (case folded, plurals singular) and finds every
//!    occurrence of each, including inside a longer phrase ("neural
//!    network" inside "deep neural network training"); every part of a
//!    phrase that ends on a noun is a candidate of its own.
//!    [`shortlist`] keeps the ones the text alone ranks best: only those
//!    are embedded.
//! 3. [`rank`] scores each candidate from its [`Features`]: the cosine
//!    between its embedding and the document's, the best of its sections',
//!    how often and how early it occurs, its length and termhood, blended
//!    by a fitted logistic regression; then MMR picks the top k.
//!
//! Long documents are read as sections of a few hundred words, each with
//! its own embedding: a phrase central to one section is not drowned by the
//! average of a hundred others.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::triples::ParsedWord;

/// Relations that bind a word into the noun phrase of its head.
const PHRASE_RELATIONS: [&str; 8] =
    ["amod", "compound", "flat", "fixed", "goeswith", "nmod:unmarked", "obl:unmarked", "punct"];

/// Leading modifiers that say nothing about the topic: quantity, novelty,
/// evaluation. "several sensor networks" is the phrase "sensor networks".
const EMPTY_MODIFIERS: &[&str] = &[
    "additional",
    "best",
    "better",
    "certain",
    "current",
    "different",
    "entire",
    "existing",
    "few",
    "first",
    "further",
    "given",
    "good",
    "great",
    "important",
    "last",
    "main",
    "major",
    "many",
    "more",
    "most",
    "much",
    "multiple",
    "new",
    "next",
    "novel",
    "numerous",
    "other",
    "own",
    "particular",
    "possible",
    "present",
    "previous",
    "proposed",
    "recent",
    "respective",
    "same",
    "several",
    "significant",
    "similar",
    "simple",
    "specific",
    "such",
    "various",
    "whole",
];

/// How key phrases are chosen and how many.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyphraseOptions {
    /// Phrases returned, best first.
    pub top_k: usize,
    /// MMR trade-off in [0, 1]: 1 ranks by relevance alone, lower values
    /// favour phrases unlike those already chosen.
    pub mmr_lambda: f32,
    /// Longest candidate, in words. Longer noun phrases are not candidates
    /// themselves, but the phrases inside them are.
    pub max_words: usize,
    /// Add "X of Y" phrases ("quality of service", "Bank of America").
    pub of_phrases: bool,
    /// Words per section of a long document: each section gets its own
    /// embedding, and a candidate is also scored against the sections it
    /// occurs in.
    pub section_words: usize,
    /// Candidates embedded and fully ranked per document: the best by
    /// their text signals alone (at least `top_k`). The model's second pass
    /// costs grow with this, not with the document.
    pub shortlist: usize,
    /// Return each phrase's [`Features`] beside its score.
    pub explain: bool,
    /// Where each candidate's embedding comes from.
    pub embedding: PhraseEmbedding,
}

/// Where a key-phrase candidate's embedding comes from: a trade of
/// quality for speed.
///
/// Measured with each way's own fitted [`Ranker`]: F1@10 on the
/// hand-labelled documents of `tests/keyphrases/`
/// (`python tests/keyphrase_dev.py -- --keyphrase-embedding ...`) 0.290
/// alone, 0.267 in context; on UD EWT dev sentences, one a document, all
/// tasks take about 1.5× the time of entities and parse alone and 1.05× in
/// context (ONNX Runtime, int8; `benches/side_by_side.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum PhraseEmbedding {
    /// Pooled from the vectors the sentence pass gives each wordpiece,
    /// over the candidate's occurrences: no second model run. Needs a model
    /// whose graph gives per-wordpiece vectors (its manifest's
    /// `token_output`); others embed candidates alone.
    InContext,
    /// Each candidate embedded on its own, in a second model run over the
    /// distinct new candidates of all documents of a call (and cached
    /// across calls): the embedding the model was distilled to give phrases.
    #[default]
    Alone,
}

impl PhraseEmbedding {
    /// Both ways, in the order the CLI and docs list them.
    pub const ALL: [Self; 2] = [Self::Alone, Self::InContext];

    /// The name interfaces use: `in-context` or `alone`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InContext => "in-context",
            Self::Alone => "alone",
        }
    }
}

impl std::str::FromStr for PhraseEmbedding {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s).ok_or_else(|| Error::InvalidOption {
            name: "keyphrase_embedding",
            detail: format!("{s:?}; use alone or in-context"),
        })
    }
}

impl Default for KeyphraseOptions {
    fn default() -> Self {
        Self {
            top_k: 10,
            mmr_lambda: 0.9,
            max_words: 5,
            of_phrases: true,
            section_words: 400,
            shortlist: 100,
            explain: false,
            embedding: PhraseEmbedding::default(),
        }
    }
}

impl KeyphraseOptions {
    /// Rejects options that cannot work, naming the option.
    pub fn check(&self) -> Result<()> {
        let invalid = |name, detail: &str| Err(Error::InvalidOption { name, detail: detail.into() });
        if self.top_k == 0 {
            return invalid(
                "top_k",
                "0 key phrases asks for nothing; use 1 or more (leave keyphrases out of the tasks to skip them)",
            );
        }
        if !(0.0..=1.0).contains(&self.mmr_lambda) {
            return invalid("mmr_lambda", "must be in [0, 1]: 1 ranks by relevance alone, lower values add diversity");
        }
        if self.max_words == 0 {
            return invalid("max_words", "candidates need at least 1 word");
        }
        if self.section_words == 0 {
            return invalid("section_words", "sections need at least 1 word");
        }
        Ok(())
    }
}

/// The noun phrases of one sentence, as word ranges.
///
/// `spans` are the words' byte spans: a hyphen joins its neighbours only
/// when it touches both ("data-driven").
pub fn noun_phrases(words: &[ParsedWord<'_>], spans: &[Range<usize>]) -> Vec<Range<usize>> {
    let n = words.len().min(spans.len());
    let joining_hyphen = |i: usize| {
        words[i].text == "-"
            && i > 0
            && i + 1 < n
            && spans[i - 1].end == spans[i].start
            && spans[i].end == spans[i + 1].start
            && takes_part(&words[i - 1])
            && takes_part(&words[i + 1])
    };
    let eligible: Vec<bool> = (0..n).map(|i| takes_part(&words[i]) || joining_hyphen(i)).collect();
    // Each word's phrase head: follow the relations that bind a word into
    // its head's phrase, across eligible words only.
    let bound_to = |i: usize| -> Option<usize> {
        let h = words[i].head.checked_sub(1)?;
        let relation = words[i].deprel;
        let binds = PHRASE_RELATIONS.contains(&relation) && (relation != "punct" || joining_hyphen(i));
        let between = if h < i { h..i } else { i..h + 1 };
        (binds && h < n && between.clone().all(|k| eligible[k])).then_some(h)
    };
    let root: Vec<usize> = (0..n)
        .map(|i| {
            let mut r = i;
            // At most n steps: a malformed tree with a cycle ends here too.
            for _ in 0..n {
                match bound_to(r) {
                    Some(h) if eligible[r] => r = h,
                    _ => break,
                }
            }
            r
        })
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        if !eligible[i] {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < n && eligible[end] && root[end] == root[i] {
            end += 1;
        }
        let mut phrase = i..end;
        while !phrase.is_empty() && !is_nominal(&words[phrase.end - 1]) {
            phrase.end -= 1;
        }
        // Trim a leading hyphen, a word that says nothing, or the second half
        // of a hyphenated word whose first half is not in the phrase
        // ("remote-controlled" when "remote" is an adverb).
        while !phrase.is_empty()
            && (words[phrase.start].text == "-"
                || is_empty_modifier(&words[phrase.start])
                || (phrase.start > 0
                    && words[phrase.start - 1].text == "-"
                    && spans[phrase.start - 1].end == spans[phrase.start].start))
        {
            phrase.start += 1;
        }
        if !phrase.is_empty() {
            out.push(phrase);
        }
        i = end;
    }
    out
}

/// "X of Y" phrases over neighbouring noun phrases of one sentence, where
/// Y's head modifies X's head (`nmod`) through "of".
pub fn of_phrases(words: &[ParsedWord<'_>], phrases: &[Range<usize>]) -> Vec<Range<usize>> {
    let head_of = |p: &Range<usize>| p.clone().find(|&i| !(p.start + 1..p.end + 1).contains(&words[i].head));
    let mut out = Vec::new();
    for pair in phrases.windows(2) {
        let (x, y) = (&pair[0], &pair[1]);
        let Some(of) = words.get(x.end) else { continue };
        if y.start != x.end + 1 || !of.text.eq_ignore_ascii_case("of") {
            continue;
        }
        if let (Some(hx), Some(hy)) = (head_of(x), head_of(y)) {
            if words[hy].head == hx + 1 && words[hy].deprel.starts_with("nmod") && of.head == hy + 1 {
                out.push(x.start..y.end);
            }
        }
    }
    out
}

/// Can this word be part of a noun phrase?
fn takes_part(w: &ParsedWord<'_>) -> bool {
    content_word(w.upos, w.deprel)
}

/// Can this word, by its text, part of speech and relation, be part of a
/// candidate (as a content word, a joining hyphen, or the "of" of
/// [`of_phrases`])?
pub fn may_be_in_phrase(text: &str, upos: &str, deprel: &str) -> bool {
    content_word(upos, deprel) || text == "-" || text.eq_ignore_ascii_case("of")
}

/// Can a word of this part of speech and relation be a content word of a
/// noun phrase?
fn content_word(upos: &str, deprel: &str) -> bool {
    match upos {
        "NOUN" | "PROPN" | "ADJ" => true,
        // Participles used as adjectives: "labelled data", "data-driven".
        "VERB" => matches!(deprel, "amod" | "compound"),
        // Numbers inside names: "Windows 11", "COVID-19".
        "NUM" => matches!(deprel, "compound" | "flat" | "nummod" | "goeswith"),
        _ => false,
    }
}

/// A candidate's unit embedding in context: each occurrence's words'
/// vectors (`vector_of` a document word: the sum of its wordpieces'
/// vectors from the sentence pass; `None` for a word that
/// [`may_be_in_phrase`] rules out) summed and L2-normalized, then the occurrences'
/// mean direction, so a phrase used in many places reads as all of them.
pub fn pool_in_context<'v>(
    occurrences: &[Range<usize>],
    vector_of: impl Fn(usize) -> Option<&'v [f32]>,
    dim: usize,
) -> Vec<f32> {
    let each = occurrences.iter().map(|o| mean_direction(o.clone().filter_map(&vector_of).map(|v| (v, 1.0)), dim));
    let each: Vec<Vec<f32>> = each.collect();
    mean_direction(each.iter().map(|v| (v.as_slice(), 1.0)), dim)
}

fn is_nominal(w: &ParsedWord<'_>) -> bool {
    matches!(w.upos, "NOUN" | "PROPN")
}

fn is_empty_modifier(w: &ParsedWord<'_>) -> bool {
    matches!(w.upos, "ADJ" | "VERB" | "NUM") && EMPTY_MODIFIERS.contains(&w.text.to_lowercase().as_str())
}

/// The form that groups a phrase's variants: its letter-and-digit runs,
/// lowercased, plurals made singular, joined by single spaces.
/// "Neural Networks", "neural network" and "neural-network" all give
/// "neural network". Every occurrence of a [`KeyPhrase`](crate::KeyPhrase)
/// normalizes to its phrase's form, so this is also the key to merge the
/// key phrases of many documents by (`edgemine::normalize_phrase`).
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for token in text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        let lower = token.to_lowercase();
        let capitals = |t: &str| t.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase);
        let stem = if capitals(token) {
            // An acronym: "GPS", "AIDS" keep their S.
            Cow::Borrowed(lower.as_str())
        } else if let Some(acronym) = token.strip_suffix('s').filter(|a| a.chars().count() >= 2 && capitals(a)) {
            // An acronym's plural: "GPUs".
            Cow::Owned(acronym.to_lowercase())
        } else {
            singular(&lower)
        };
        out.push_str(&stem);
    }
    out
}

/// A light English plural stemmer (after Harman's S-stemmer): "batteries"
/// → "battery", "processes" → "process", "networks" → "network"; "status",
/// "analysis", "class" stay as they are.
fn singular(word: &str) -> Cow<'_, str> {
    if word.len() <= 3 || !word.ends_with('s') {
        return Cow::Borrowed(word);
    }
    if let Some(stem) = word.strip_suffix("ies") {
        if !stem.ends_with(['a', 'e']) {
            return Cow::Owned(format!("{stem}y"));
        }
    }
    for suffix in ["sses", "shes", "ches", "xes", "zzes"] {
        if word.ends_with(suffix) {
            return Cow::Borrowed(&word[..word.len() - 2]);
        }
    }
    if word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") {
        return Cow::Borrowed(word);
    }
    Cow::Borrowed(&word[..word.len() - 1])
}

/// A candidate phrase of one document and every place it occurs.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Its [`normalize`]d form.
    pub key: String,
    /// Every occurrence, as a range of document words, in document order.
    pub occurrences: Vec<Range<usize>>,
    /// The occurrence that names the phrase: the first of its most frequent
    /// written form.
    pub representative: usize,
    /// What the text alone says about it (no embeddings).
    pub stats: TextStats,
}

/// What the text alone says about a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TextStats {
    /// Words of its normalized form.
    pub words: usize,
    /// C-value termhood (Frantzi et al.): `log2(words + 1)` times its
    /// count, less the mean count of the longer candidates it is part of. A
    /// term that mostly occurs inside one longer term scores low.
    pub termhood: f32,
    /// It never occurs outside one particular longer candidate ("supervised
    /// depth" of "self-supervised depth completion").
    pub nested: bool,
    /// Mean over its words of ln(1 + how often the word occurs in the document).
    pub word_frequency: f32,
    /// Share of its occurrences that end on the head of their noun phrase:
    /// 0 for a modifier that never names anything alone ("wireless sensor"
    /// of "wireless sensor networks").
    pub head_share: f32,
}

/// A parsed document, as [`candidates`] reads it.
pub struct ParsedDocument<'d, 'a> {
    /// The document.
    pub text: &'d str,
    /// Byte span of every word.
    pub words: &'d [Range<usize>],
    /// Word range of every sentence.
    pub sentences: &'d [Range<usize>],
    /// Every word with its parse (heads within its sentence).
    pub parse: &'d [ParsedWord<'a>],
}

/// The candidate phrases of a document, in order of first occurrence.
pub fn candidates(doc: &ParsedDocument<'_, '_>, options: &KeyphraseOptions) -> Vec<Candidate> {
    let key_of = |r: &Range<usize>| normalize(&doc.text[doc.words[r.start].start..doc.words[r.end - 1].end]);
    // Noun phrases (document word ranges), and "X of Y" phrases.
    let mut phrases = Vec::new();
    let mut extended = Vec::new();
    for sentence in doc.sentences {
        let (Some(parse), Some(spans)) = (doc.parse.get(sentence.clone()), doc.words.get(sentence.clone())) else {
            break;
        };
        let local = noun_phrases(parse, spans);
        if options.of_phrases {
            extended.extend(
                of_phrases(parse, &local).into_iter().map(|r| r.start + sentence.start..r.end + sentence.start),
            );
        }
        phrases.extend(local.into_iter().map(|r| r.start + sentence.start..r.end + sentence.start));
    }
    // Every part of a phrase that could name something: it ends on a noun,
    // starts on a word that carries meaning, and keeps hyphenated words
    // whole ("self-supervised", never "supervised"). The parse cannot tell
    // the parts that name something ("yaw system" in "yaw system fault")
    // from those that do not ("self-supervised depth" in "self-supervised
    // depth completion"): UD attaches every modifier of a compound to its
    // last noun. The ranking tells them apart.
    let hyphen = |i: usize| doc.parse[i].text == "-";
    let mut parts: Vec<(String, Range<usize>)> = Vec::new();
    // Word ranges of the parts that end where their noun phrase ends (on its head).
    let mut heads: Vec<Range<usize>> = Vec::new();
    for p in &phrases {
        for start in p.clone() {
            if hyphen(start) || (start > p.start && hyphen(start - 1)) || is_empty_modifier(&doc.parse[start]) {
                continue;
            }
            for end in start + 1..=p.end.min(start + options.max_words) {
                if is_nominal(&doc.parse[end - 1]) && (end == p.end || !hyphen(end)) {
                    parts.push((key_of(&(start..end)), start..end));
                    if end == p.end {
                        heads.push(start..end);
                    }
                }
            }
        }
    }
    // Candidates: every part, and every "X of Y" phrase, in order of first occurrence.
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Candidate> = Vec::new();
    let extended: Vec<(String, Range<usize>)> =
        extended.into_iter().filter(|p| p.len() <= options.max_words).map(|p| (key_of(&p), p)).collect();
    let mut seeds: Vec<&(String, Range<usize>)> = parts.iter().chain(&extended).collect();
    seeds.sort_by_key(|(_, r)| r.start);
    for (key, _) in seeds {
        if !key.is_empty() && !index.contains_key(key) {
            index.insert(key.clone(), out.len());
            out.push(Candidate {
                key: key.clone(),
                occurrences: Vec::new(),
                representative: 0,
                stats: TextStats::default(),
            });
        }
    }
    // Occurrences: every part that is a candidate, and the "X of Y" phrases.
    for (key, range) in parts.into_iter().chain(extended.iter().cloned()) {
        if let Some(&c) = index.get(&key) {
            out[c].occurrences.push(range);
        }
    }
    for c in &mut out {
        c.occurrences.sort_by_key(|r| (r.start, r.end));
        c.occurrences.dedup();
        c.representative = representative(doc, &c.occurrences);
    }
    heads.extend(extended.into_iter().map(|(_, r)| r));
    heads.sort_by_key(|r| (r.start, r.end));
    text_stats(doc, &heads, &mut out);
    out
}

/// Fills each candidate's [`TextStats`]; `heads` are the occurrences (word
/// ranges, sorted) that end on the head of their noun phrase.
fn text_stats(doc: &ParsedDocument<'_, '_>, heads: &[Range<usize>], candidates: &mut [Candidate]) {
    let mut word_counts: HashMap<String, usize> = HashMap::new();
    for w in doc.words {
        for token in normalize(&doc.text[w.clone()]).split(' ').filter(|t| !t.is_empty()) {
            *word_counts.entry(token.to_string()).or_default() += 1;
        }
    }
    let index: HashMap<&str, usize> = candidates.iter().enumerate().map(|(i, c)| (c.key.as_str(), i)).collect();
    // The longer candidates each candidate is part of: every run of words
    // of a key that is itself a key.
    let mut containers: Vec<Vec<usize>> = vec![Vec::new(); candidates.len()];
    for (b, c) in candidates.iter().enumerate() {
        let tokens: Vec<&str> = c.key.split(' ').collect();
        for start in 0..tokens.len() {
            for end in start + 1..=tokens.len() {
                if end - start < tokens.len() {
                    if let Some(&a) = index.get(tokens[start..end].join(" ").as_str()) {
                        if !containers[a].contains(&b) {
                            containers[a].push(b);
                        }
                    }
                }
            }
        }
    }
    let counts: Vec<f32> = candidates.iter().map(|c| c.occurrences.len() as f32).collect();
    for (a, c) in candidates.iter_mut().enumerate() {
        let tokens: Vec<&str> = c.key.split(' ').collect();
        let words = tokens.len();
        let length = (words as f32 + 1.0).log2();
        let longer = &containers[a];
        let (termhood, nested) = if longer.is_empty() {
            (length * counts[a], false)
        } else {
            let mean = longer.iter().map(|&b| counts[b]).sum::<f32>() / longer.len() as f32;
            let most = longer.iter().map(|&b| counts[b]).fold(0.0, f32::max);
            (length * (counts[a] - mean).max(0.0), most >= counts[a])
        };
        let word_frequency =
            tokens.iter().map(|t| (1.0 + word_counts.get(*t).copied().unwrap_or(0) as f32).ln()).sum::<f32>()
                / words.max(1) as f32;
        let on_head = c
            .occurrences
            .iter()
            .filter(|o| heads.binary_search_by_key(&(o.start, o.end), |h| (h.start, h.end)).is_ok())
            .count();
        let head_share = on_head as f32 / c.occurrences.len().max(1) as f32;
        c.stats = TextStats { words, termhood, nested, word_frequency, head_share };
    }
}

/// Index of the first occurrence of the most frequent written form; of
/// forms as frequent, the one with the fewest capitals (a title's "Depth
/// Completion" names the phrase less well than the body's "depth
/// completion").
fn representative(doc: &ParsedDocument<'_, '_>, occurrences: &[Range<usize>]) -> usize {
    let text = |r: &Range<usize>| &doc.text[doc.words[r.start].start..doc.words[r.end - 1].end];
    let mut forms: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, r) in occurrences.iter().enumerate() {
        forms.entry(text(r)).or_insert((0, i)).0 += 1;
    }
    let capitals = |form: &str| form.chars().filter(|c| c.is_uppercase()).count();
    forms
        .into_iter()
        .max_by_key(|&(form, (count, first))| (count, std::cmp::Reverse(capitals(form)), std::cmp::Reverse(first)))
        .map_or(0, |(_, (_, first))| first)
}

/// What [`rank`] knows about a document besides its candidates.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentVectors {
    /// Unit embedding of the whole document.
    pub document: Vec<f32>,
    /// Sections in order: first word of each, and its unit embedding.
    pub sections: Vec<(usize, Vec<f32>)>,
}

impl DocumentVectors {
    /// The document's and its sections' embeddings from its chunks' (each
    /// with the document words it owns, in order): the word-weighted mean
    /// direction of all of them, and of runs of whole chunks of about
    /// `section_words` words.
    pub fn new(chunks: &[(Range<usize>, Vec<f32>)], section_words: usize) -> Self {
        let dim = chunks.first().map_or(0, |(_, v)| v.len());
        let mean = |chunks: &[(Range<usize>, Vec<f32>)]| {
            mean_direction(chunks.iter().map(|(r, v)| (v.as_slice(), r.len() as f32)), dim)
        };
        let mut sections = Vec::new();
        let mut k = 0;
        while k < chunks.len() {
            let first = chunks[k].0.start;
            let mut end = k + 1;
            while end < chunks.len() && chunks[end].0.end - first <= section_words {
                end += 1;
            }
            sections.push((first, mean(&chunks[k..end])));
            k = end;
        }
        Self { document: mean(chunks), sections }
    }
}

/// A chosen candidate, its score, and what the score was made of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    /// Index into the candidates.
    pub candidate: usize,
    /// How likely it is a key phrase, in [0, 1] (see [`Features::score`]).
    pub score: f32,
    /// The signals behind the score.
    pub features: Features,
}

/// The signals the ranking reads for one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Features {
    /// Cosine between its embedding and the document's.
    pub document: f32,
    /// Best cosine between its embedding and a section's it occurs in.
    pub section: f32,
    /// ln(1 + occurrences).
    pub frequency: f32,
    /// ln(1 + index of the word where it first occurs).
    pub first_word: f32,
    /// Words of its normalized form.
    pub words: usize,
    /// ln(1 + C-value termhood (Frantzi et al.): `log2(words + 1)` times
    /// its count, less the mean count of the longer candidates it is part of).
    pub termhood: f32,
    /// It never occurs outside one longer candidate.
    pub nested: bool,
    /// Mean ln(1 + document count) of its words.
    pub word_frequency: f32,
    /// Share of its occurrences that end on their noun phrase's head.
    pub head_share: f32,
}

impl Features {
    /// The probability that a reader would pick this phrase, from the
    /// `ranker` of the way its embedding was made
    /// ([`Engine::keyphrase_ranker`](crate::Engine::keyphrase_ranker)).
    pub fn score(&self, ranker: &Ranker) -> f32 {
        let z = ranker.document * self.document + ranker.section * self.section + self.text_logit(ranker);
        1.0 / (1.0 + (-z).exp())
    }

    /// The part of the score's logit that needs no embedding.
    fn text_logit(&self, r: &Ranker) -> f32 {
        let length = [self.words == 1, self.words == 2, self.words == 3, self.words >= 4];
        let mut z = r.bias
            + r.frequency * self.frequency
            + r.first_word * self.first_word
            + r.termhood * self.termhood
            + r.nested * f32::from(u8::from(self.nested))
            + r.word_frequency * self.word_frequency
            + r.head_share * self.head_share;
        for (on, w) in length.into_iter().zip(r.words) {
            if on {
                z += w;
            }
        }
        z
    }

    /// The features the text gives, before any embedding.
    fn of_text(c: &Candidate) -> Self {
        let first = c.occurrences.first().map_or(0, |o| o.start);
        Features {
            document: 0.0,
            section: 0.0,
            frequency: (1.0 + c.occurrences.len() as f32).ln(),
            first_word: (1.0 + first as f32).ln(),
            words: c.stats.words,
            termhood: c.stats.termhood.ln_1p(),
            nested: c.stats.nested,
            word_frequency: c.stats.word_frequency,
            head_share: c.stats.head_share,
        }
    }
}

/// The `n` candidates the text alone ranks best, in document order: the
/// ones worth embedding. On the hand-labelled documents, ranking the best
/// 50 by text gives the same F1@10 as ranking all of them (a paper has
/// ≈ 1,000), so the model's second pass grows with `n`, not with the
/// document.
pub fn shortlist(candidates: Vec<Candidate>, n: usize, ranker: &Ranker) -> Vec<Candidate> {
    if candidates.len() <= n {
        return candidates;
    }
    let logits: Vec<f32> = candidates.iter().map(|c| Features::of_text(c).text_logit(ranker)).collect();
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
    let mut keep = vec![false; candidates.len()];
    order.into_iter().take(n).for_each(|c| keep[c] = true);
    candidates.into_iter().zip(keep).filter_map(|(c, k)| k.then_some(c)).collect()
}

/// Coefficients of [`Features::score`]: a logistic regression over the
/// features, fitted on the hand-labelled documents in `tests/keyphrases/`
/// by `models/recipe/keyphrase_ranker.py`, one for each [`PhraseEmbedding`]
/// (the embedding signals mean different things in context and alone).
/// They belong to the model whose embedding they read, so its manifest
/// holds them (`keyphrases.rankers`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ranker {
    /// The logit's constant.
    pub bias: f32,
    /// Weight of [`Features::document`]; the others likewise.
    pub document: f32,
    #[allow(missing_docs)]
    pub section: f32,
    #[allow(missing_docs)]
    pub frequency: f32,
    #[allow(missing_docs)]
    pub first_word: f32,
    #[allow(missing_docs)]
    pub termhood: f32,
    #[allow(missing_docs)]
    pub nested: f32,
    #[allow(missing_docs)]
    pub word_frequency: f32,
    #[allow(missing_docs)]
    pub head_share: f32,
    /// One word, two, three, four or more.
    pub words: [f32; 4],
}

impl Ranker {
    /// What ranks candidates when the model has no ranker fitted for the
    /// way they were embedded: their cosine to the document alone
    /// (KeyBERT's rule), so a score is `sigmoid(cosine)`, a rank and not a
    /// probability.
    pub const SIMILARITY: Self = Self {
        bias: 0.0,
        document: 1.0,
        section: 0.0,
        frequency: 0.0,
        first_word: 0.0,
        termhood: 0.0,
        nested: 0.0,
        word_frequency: 0.0,
        head_share: 0.0,
        words: [0.0; 4],
    };
}

/// The rankers fitted for one model, by the way candidates are embedded:
/// the manifest's `keyphrases.rankers`, `{"alone": {...}, "in-context":
/// {...}}`, each a [`Ranker`]'s fields (a name or field not listed here is
/// refused when the model loads).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Rankers {
    /// For candidates embedded alone.
    #[serde(default)]
    pub alone: Option<Ranker>,
    /// For candidates embedded in context.
    #[serde(default)]
    pub in_context: Option<Ranker>,
}

impl Rankers {
    /// The ranker for candidates embedded as `embedding`:
    /// [`Ranker::SIMILARITY`] when none was fitted.
    pub fn get(&self, embedding: PhraseEmbedding) -> &Ranker {
        self.fitted_for(embedding).unwrap_or(&Ranker::SIMILARITY)
    }

    /// The ways of embedding that have a fitted ranker.
    pub fn fitted(&self) -> Vec<PhraseEmbedding> {
        PhraseEmbedding::ALL.into_iter().filter(|&e| self.fitted_for(e).is_some()).collect()
    }

    fn fitted_for(&self, embedding: PhraseEmbedding) -> Option<&Ranker> {
        match embedding {
            PhraseEmbedding::Alone => self.alone.as_ref(),
            PhraseEmbedding::InContext => self.in_context.as_ref(),
        }
    }
}

/// The top `options.top_k` candidates, in the order MMR picks them, given
/// each candidate's unit embedding, the way it was made and the ranker
/// fitted for that way.
pub fn rank(
    candidates: &[Candidate],
    embeddings: &[Vec<f32>],
    doc: &DocumentVectors,
    options: &KeyphraseOptions,
    embedding: PhraseEmbedding,
    ranker: &Ranker,
) -> Vec<Ranked> {
    let features = features(candidates, embeddings, doc);
    let scores: Vec<f32> = features.iter().map(|f| f.score(ranker)).collect();
    // In context, a sentence's phrases share its direction; MMR compares
    // them with the document's direction taken out (measured: F1@10 on
    // tests/keyphrases 0.256 without, 0.267 with; alone, 0.290 without and
    // 0.284 with, so alone compares whole vectors).
    let apart: Vec<Vec<f32>>;
    let for_mmr = match embedding {
        PhraseEmbedding::Alone => embeddings,
        PhraseEmbedding::InContext => {
            apart = embeddings.iter().map(|e| without_direction(e, &doc.document)).collect();
            &apart
        }
    };
    mmr(&scores, for_mmr, options.top_k, options.mmr_lambda)
        .into_iter()
        .map(|c| Ranked { candidate: c, score: scores[c], features: features[c] })
        .collect()
}

/// The features of each candidate.
fn features(candidates: &[Candidate], embeddings: &[Vec<f32>], doc: &DocumentVectors) -> Vec<Features> {
    let section_of = |word: usize| doc.sections.partition_point(|(first, _)| *first <= word).saturating_sub(1);
    candidates
        .iter()
        .zip(embeddings)
        .map(|(c, e)| {
            let document = dot(e, &doc.document);
            let section = c
                .occurrences
                .iter()
                .filter_map(|o| doc.sections.get(section_of(o.start)))
                .map(|(_, s)| dot(e, s))
                .fold(f32::NEG_INFINITY, f32::max);
            Features { document, section: if section.is_finite() { section } else { document }, ..Features::of_text(c) }
        })
        .collect()
}

/// Maximal marginal relevance: repeatedly pick the candidate with the best
/// `λ · score − (1 − λ) · (greatest cosine to one already picked)`.
fn mmr(scores: &[f32], embeddings: &[Vec<f32>], k: usize, lambda: f32) -> Vec<usize> {
    let mut closest = vec![f32::NEG_INFINITY; scores.len()];
    let mut taken = vec![false; scores.len()];
    let mut out = Vec::with_capacity(k.min(scores.len()));
    while out.len() < k {
        let marginal = |c: usize| {
            let redundancy = if closest[c].is_finite() { closest[c] } else { 0.0 };
            lambda * scores[c] - (1.0 - lambda) * redundancy
        };
        let Some(best) = (0..scores.len()).filter(|&c| !taken[c]).max_by(|&a, &b| marginal(a).total_cmp(&marginal(b)))
        else {
            break;
        };
        taken[best] = true;
        out.push(best);
        for c in 0..scores.len() {
            if !taken[c] {
                closest[c] = closest[c].max(dot(&embeddings[c], &embeddings[best]));
            }
        }
    }
    out
}

/// `v` less its component along the unit vector `direction`, L2-normalized.
fn without_direction(v: &[f32], direction: &[f32]) -> Vec<f32> {
    let along = dot(v, direction);
    mean_direction([(v, 1.0), (direction, -along)], v.len())
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The unit-length weighted mean of `vectors`.
fn mean_direction<'v>(vectors: impl IntoIterator<Item = (&'v [f32], f32)>, dim: usize) -> Vec<f32> {
    let mut sum = vec![0f32; dim];
    for (v, w) in vectors {
        sum.iter_mut().zip(v).for_each(|(s, x)| *s += w * x);
    }
    let norm = dot(&sum, &sum).sqrt();
    if norm > 0.0 {
        sum.iter_mut().for_each(|s| *s /= norm);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-parsed sentence: words separated by spaces, `~` joining two
    /// words without a space ("data~-~driven"); one (upos, head, deprel) per word.
    struct Sentence {
        text: String,
        spans: Vec<Range<usize>>,
        tags: Vec<Tag>,
    }

    impl Sentence {
        fn new(words: &str, tags: &[Tag]) -> Self {
            let (mut text, mut spans) = (String::new(), Vec::new());
            for (k, group) in words.split(' ').enumerate() {
                if k > 0 {
                    text.push(' ');
                }
                for word in group.split('~') {
                    spans.push(text.len()..text.len() + word.len());
                    text.push_str(word);
                }
            }
            assert_eq!(spans.len(), tags.len(), "one tag per word");
            Self { text, spans, tags: tags.to_vec() }
        }

        fn parse(&self) -> Vec<ParsedWord<'_>> {
            self.spans
                .iter()
                .zip(&self.tags)
                .map(|(s, &(upos, head, deprel))| ParsedWord {
                    text: &self.text[s.clone()],
                    upos,
                    head,
                    deprel,
                    confidence: 1.0,
                })
                .collect()
        }

        fn phrases(&self) -> Vec<&str> {
            noun_phrases(&self.parse(), &self.spans)
                .into_iter()
                .map(|r| &self.text[self.spans[r.start].start..self.spans[r.end - 1].end])
                .collect()
        }
    }

    #[test]
    fn variants_normalize_alike() {
        assert_eq!(normalize("Neural Networks"), "neural network");
        assert_eq!(normalize("neural-network"), "neural network");
        assert_eq!(normalize("lithium batteries"), "lithium battery");
        assert_eq!(normalize("Processes"), normalize("process"));
        assert_eq!(normalize("boxes"), "box");
        for kept in ["analysis", "status", "class", "gas", "AIDS", "GPS"] {
            assert_eq!(normalize(kept), kept.to_lowercase(), "{kept}");
        }
        assert_eq!(normalize("GPUs"), "gpu");
        assert_eq!(normalize("  Zoë's  café "), "zoë s café");
        assert_eq!(normalize("—"), "");
    }

    #[test]
    fn noun_phrases_follow_the_tree() {
        // "The deep neural network labels satellite images ."
        let s = Sentence::new(
            "The deep neural network labels satellite images .",
            &[
                ("DET", 4, "det"),
                ("ADJ", 4, "amod"),
                ("ADJ", 4, "amod"),
                ("NOUN", 5, "nsubj"),
                ("VERB", 0, "root"),
                ("NOUN", 7, "compound"),
                ("NOUN", 5, "obj"),
                ("PUNCT", 5, "punct"),
            ],
        );
        assert_eq!(s.phrases(), ["deep neural network", "satellite images"]);
    }

    #[test]
    fn neighbouring_objects_stay_apart() {
        let s = Sentence::new("gave students books", &[("VERB", 0, "root"), ("NOUN", 1, "iobj"), ("NOUN", 1, "obj")]);
        assert_eq!(s.phrases(), ["students", "books"]);
    }

    #[test]
    fn hyphens_join_only_touching_words_and_empty_modifiers_go() {
        let s = Sentence::new(
            "several data~-~driven methods",
            &[
                ("ADJ", 5, "amod"),
                ("NOUN", 4, "obl:unmarked"),
                ("PUNCT", 4, "punct"),
                ("VERB", 5, "amod"),
                ("NOUN", 0, "root"),
            ],
        );
        assert_eq!(s.phrases(), ["data-driven methods"]);
        // "remote" is an adverb: the phrase must not start inside "remote-controlled".
        let s = Sentence::new(
            "remote~-~controlled cranes",
            &[("ADV", 3, "advmod"), ("PUNCT", 3, "punct"), ("VERB", 4, "amod"), ("NOUN", 0, "root")],
        );
        assert_eq!(s.phrases(), ["cranes"]);
    }

    #[test]
    fn names_with_a_flat_tail_stay_whole() {
        let s = Sentence::new(
            "Anna Keller visited Hamburg",
            &[("PROPN", 3, "nsubj"), ("PROPN", 1, "flat"), ("VERB", 0, "root"), ("PROPN", 3, "obj")],
        );
        assert_eq!(s.phrases(), ["Anna Keller", "Hamburg"]);
    }

    #[test]
    fn of_phrases_need_the_tree_to_agree() {
        let s = Sentence::new(
            "quality of service matters",
            &[("NOUN", 4, "nsubj"), ("ADP", 3, "case"), ("NOUN", 1, "nmod"), ("VERB", 0, "root")],
        );
        let parse = s.parse();
        let phrases = noun_phrases(&parse, &s.spans);
        assert_eq!(of_phrases(&parse, &phrases), vec![Range { start: 0, end: 3 }]);
        // "of" attached elsewhere: no phrase.
        let s = Sentence::new(
            "think of service quality",
            &[("VERB", 0, "root"), ("ADP", 4, "case"), ("NOUN", 4, "compound"), ("NOUN", 1, "obl")],
        );
        let parse = s.parse();
        assert!(of_phrases(&parse, &noun_phrases(&parse, &s.spans)).is_empty());
    }

    type Tag = (&'static str, usize, &'static str);

    /// A document of hand-parsed sentences.
    struct HandDocument {
        text: String,
        words: Vec<Range<usize>>,
        sentences: Vec<Range<usize>>,
        tags: Vec<Tag>,
    }

    impl HandDocument {
        fn new(sentences: &[Sentence]) -> Self {
            let mut doc =
                HandDocument { text: String::new(), words: Vec::new(), sentences: Vec::new(), tags: Vec::new() };
            for s in sentences {
                if !doc.text.is_empty() {
                    doc.text.push(' ');
                }
                let (offset, first) = (doc.text.len(), doc.words.len());
                doc.text.push_str(&s.text);
                doc.words.extend(s.spans.iter().map(|r| r.start + offset..r.end + offset));
                doc.sentences.push(first..doc.words.len());
                doc.tags.extend(&s.tags);
            }
            doc
        }

        fn parse(&self) -> Vec<ParsedWord<'_>> {
            self.words
                .iter()
                .zip(&self.tags)
                .map(|(w, &(upos, head, deprel))| ParsedWord {
                    text: &self.text[w.clone()],
                    upos,
                    head,
                    deprel,
                    confidence: 1.0,
                })
                .collect()
        }

        fn candidates(&self) -> Vec<Candidate> {
            let parse = self.parse();
            let doc =
                ParsedDocument { text: &self.text, words: &self.words, sentences: &self.sentences, parse: &parse };
            candidates(&doc, &KeyphraseOptions::default())
        }

        fn written(&self, occurrence: &Range<usize>) -> &str {
            &self.text[self.words[occurrence.start].start..self.words[occurrence.end - 1].end]
        }
    }

    /// Two sentences about cooling pumps.
    fn pump_document() -> HandDocument {
        HandDocument::new(&[
            Sentence::new(
                "Cooling Pumps fail .",
                &[("NOUN", 2, "compound"), ("NOUN", 3, "nsubj"), ("VERB", 0, "root"), ("PUNCT", 3, "punct")],
            ),
            Sentence::new(
                "The cooling pump bearing and the cooling pump broke .",
                &[
                    ("DET", 4, "det"),
                    ("NOUN", 3, "compound"),
                    ("NOUN", 4, "compound"),
                    ("NOUN", 9, "nsubj"),
                    ("CCONJ", 8, "cc"),
                    ("DET", 8, "det"),
                    ("NOUN", 8, "compound"),
                    ("NOUN", 4, "conj"),
                    ("VERB", 0, "root"),
                    ("PUNCT", 9, "punct"),
                ],
            ),
        ])
    }

    #[test]
    fn candidates_group_variants_and_find_every_occurrence() {
        let doc = pump_document();
        let found = doc.candidates();
        let by_key = |k: &str| found.iter().find(|c| c.key == k).unwrap_or_else(|| panic!("{k} in {found:?}"));
        let pump = by_key("cooling pump");
        // "Cooling Pumps", inside "cooling pump bearing", and alone.
        assert_eq!(pump.occurrences.len(), 3);
        for o in &pump.occurrences {
            assert_eq!(normalize(doc.written(o)), "cooling pump");
        }
        assert_eq!(doc.written(&pump.occurrences[pump.representative]), "cooling pump", "fewest capitals");
        assert_eq!(by_key("cooling pump bearing").occurrences.len(), 1);
        assert!(by_key("cooling pump bearing").stats.words == 3 && pump.stats.words == 2);
        // "cooling pump bearing" holds "pump bearing", which never occurs elsewhere.
        assert!(by_key("pump bearing").stats.nested);
        assert!(!pump.stats.nested);
        assert_eq!(pump.stats.head_share, 2.0 / 3.0, "two of three occurrences end their phrase");
        let keys: Vec<&str> = found.iter().map(|c| c.key.as_str()).collect();
        assert!(!keys.contains(&"the cooling pump"), "no determiners: {keys:?}");
    }

    #[test]
    fn the_shortlist_keeps_the_best_by_text_in_document_order() {
        let all = pump_document().candidates();
        let short = shortlist(all.clone(), 2, &shipped_rankers().alone.expect("fitted alone"));
        assert_eq!(short.len(), 2);
        let firsts: Vec<usize> = short.iter().map(|c| c.occurrences[0].start).collect();
        assert!(firsts.windows(2).all(|w| w[0] <= w[1]), "document order");
        assert!(short.iter().any(|c| c.key == "cooling pump"), "the most frequent two-word phrase stays");
        assert_eq!(shortlist(all.clone(), 100, &Ranker::SIMILARITY), all);
    }

    #[test]
    fn sections_are_runs_of_whole_chunks_of_about_the_asked_words() {
        let chunk = |start: usize, x: f32| (start..start + 200, vec![x, 1.0 - x]);
        let chunks = [chunk(0, 1.0), chunk(200, 1.0), chunk(400, 0.0), chunk(600, 0.0), chunk(800, 0.0)];
        let v = DocumentVectors::new(&chunks, 400);
        let firsts: Vec<usize> = v.sections.iter().map(|(f, _)| *f).collect();
        assert_eq!(firsts, [0, 400, 800]);
        assert_eq!(v.sections[0].1, [1.0, 0.0]);
        assert_eq!(v.sections[1].1, [0.0, 1.0]);
        // Two chunks of 200 words one way, three the other: weighted by words.
        let d = &v.document;
        assert!((d[0] - 2.0 / 13f32.sqrt()).abs() < 1e-6 && (d[1] - 3.0 / 13f32.sqrt()).abs() < 1e-6, "{d:?}");
        assert_eq!(DocumentVectors::new(&chunks[..1], 10).sections.len(), 1, "a chunk longer than a section is one");
    }

    #[test]
    fn mmr_trades_relevance_for_diversity() {
        let e = |x: f32, y: f32| {
            let n = (x * x + y * y).sqrt();
            vec![x / n, y / n]
        };
        let embeddings = vec![e(1.0, 0.0), e(0.99, 0.01), e(0.0, 1.0)];
        let scores = [0.9, 0.8, 0.5];
        assert_eq!(mmr(&scores, &embeddings, 3, 1.0), [0, 1, 2], "λ = 1: by score");
        assert_eq!(mmr(&scores, &embeddings, 2, 0.5), [0, 2], "λ = 0.5: the near-duplicate waits");
        assert_eq!(mmr(&scores, &embeddings, 10, 0.5).len(), 3, "never more than there are");
    }

    /// The rankers the shipped model's manifest holds.
    fn shipped_rankers() -> Rankers {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/minilm-tagger");
        crate::model::ModelSpec::read(&dir).expect("the shipped manifest reads").keyphrase_rankers
    }

    #[test]
    fn the_score_rises_with_similarity_and_is_a_probability() {
        let base = Features { words: 2, frequency: 1.0, ..Features::default() };
        let close = Features { document: 0.8, section: 0.8, ..base };
        let rankers = shipped_rankers();
        assert_eq!(rankers.fitted(), PhraseEmbedding::ALL, "the shipped model has both rankers");
        for ranker in PhraseEmbedding::ALL.map(|e| rankers.get(e)).into_iter().chain([&Ranker::SIMILARITY]) {
            assert!(close.score(ranker) > base.score(ranker));
            for f in [base, close] {
                assert!((0.0..=1.0).contains(&f.score(ranker)));
            }
        }
    }

    #[test]
    fn rankers_read_from_a_manifest_and_unknown_names_are_refused() {
        let read = |json: &str| serde_json::from_str::<Rankers>(json);
        let one = read(
            r#"{"in-context": {"bias": -1, "document": 2, "section": 0, "frequency": 0, "first_word": 0,
            "termhood": 0, "nested": 0, "word_frequency": 0, "head_share": 0, "words": [0, 0, 0, 0]}}"#,
        )
        .expect("reads");
        assert_eq!(one.get(PhraseEmbedding::InContext).bias, -1.0);
        assert_eq!(one.get(PhraseEmbedding::Alone), &Ranker::SIMILARITY, "none fitted: similarity");
        assert_eq!(one.fitted(), [PhraseEmbedding::InContext]);
        let unknown_way = read(r#"{"elsewhere": {}}"#).expect_err("an unknown way of embedding");
        assert!(unknown_way.to_string().contains("elsewhere"), "{unknown_way}");
        let missing = read(r#"{"alone": {"bias": 0}}"#).expect_err("a ranker missing coefficients");
        assert!(missing.to_string().contains("document"), "{missing}");
    }
}
