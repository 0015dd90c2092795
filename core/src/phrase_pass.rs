//! The key-phrase pass, after merge: each document's candidates (from its
//! parse), their embeddings — pooled from the sentence pass in context,
//! or each candidate run through the model alone, once for all documents
//! of a call and cached across calls — and each document's ranking.

use std::collections::HashMap;
use std::ops::Range;

use rayon::prelude::*;

use crate::batch::{self, Sequence, Words};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::extraction::{Extraction, KeyPhrase, Span, Word};
use crate::infer;
use crate::keyphrases::{self, Candidate, DocumentVectors, ParsedDocument, PhraseEmbedding};
use crate::merge::parsed_word;
use crate::offsets::OffsetMap;
use crate::phrase_cache::{PhraseCache, PhraseKey};
use crate::run_plan::Call;
use crate::triples::ParsedWord;

/// A document's key-phrase candidates between the two passes.
pub(crate) struct PhraseWork {
    candidates: Vec<Candidate>,
    /// Display text and occurrence spans of each candidate.
    phrases: Vec<(String, Vec<Span>)>,
    /// The model input of each candidate, when embedded alone.
    sequences: Vec<Sequence>,
    /// The document's and its sections' embeddings.
    vectors: DocumentVectors,
    /// Each candidate's embedding, when pooled in context.
    in_context: Option<Vec<Vec<f32>>>,
}

/// A document's key-phrase candidates, with what ranking them needs.
/// `chunk_vectors` are its chunks' embeddings (each beside the words it
/// owns); `word_vectors` the vectors of the words that may be in a phrase,
/// in document order (empty unless embedded in context).
pub(crate) fn work(
    call: Call<'_>,
    doc: &Document,
    words: &[Word],
    chunk_vectors: &[(Range<usize>, Vec<f32>)],
    word_vectors: &[(usize, Vec<f32>)],
    map: &OffsetMap,
) -> PhraseWork {
    let parse: Vec<ParsedWord> = words.iter().map(parsed_word).collect();
    let parsed = ParsedDocument { text: doc.text, words: &doc.words, sentences: &doc.sentence_words, parse: &parse };
    let kp = &call.options.keyphrases;
    let ranker = call.model.spec.keyphrase_rankers.get(call.plan.phrase_embedding);
    let candidates = keyphrases::shortlist(keyphrases::candidates(&parsed, kp), kp.shortlist.max(kp.top_k), ranker);
    let phrases = candidates
        .iter()
        .map(|c| {
            let text = doc.text[doc.bytes_of(&c.occurrences[c.representative])].to_string();
            (text, c.occurrences.iter().map(|o| map.span(&doc.bytes_of(o))).collect())
        })
        .collect();
    let vectors = DocumentVectors::new(chunk_vectors, kp.section_words);
    let (sequences, in_context) = match call.plan.phrase_embedding {
        PhraseEmbedding::InContext => {
            let vector_of = |w: usize| {
                word_vectors.binary_search_by_key(&w, |(k, _)| *k).ok().map(|i| word_vectors[i].1.as_slice())
            };
            let dim = vectors.document.len();
            let pooled = candidates.iter().map(|c| keyphrases::pool_in_context(&c.occurrences, vector_of, dim));
            (Vec::new(), Some(pooled.collect()))
        }
        PhraseEmbedding::Alone => {
            let sequence = |c: &Candidate| doc.phrase_sequence(&c.occurrences[c.representative], call.model);
            (candidates.iter().map(sequence).collect(), None)
        }
    };
    PhraseWork { candidates, phrases, sequences, vectors, in_context }
}

/// The key phrases of every assembled document: each candidate's
/// embedding pooled in context, or (embedded alone) from the cache or
/// from one more pass through the model for the distinct new candidates
/// of all documents together (short sequences, so they fill few batches);
/// then each document's ranking. Runs on the caller's thread pool.
pub(crate) fn add_keyphrases(
    call: Call<'_>,
    cache: &PhraseCache,
    assembled: Vec<Result<(Extraction, Option<PhraseWork>)>>,
) -> Vec<Result<Extraction>> {
    let mut lookup = Lookup::of(cache, &assembled);
    let computed = embed(call, cache, lookup.new);
    let mut failed: Vec<Option<Error>> = assembled.iter().map(|_| None).collect();
    for (d, c, n) in lookup.waiting {
        match &computed[n] {
            Ok(e) => lookup.embeddings[d][c] = e.clone(),
            Err(e) => failed[d] = Some(e.clone()),
        }
    }
    assembled
        .into_iter()
        .zip(lookup.embeddings)
        .zip(failed)
        .map(|((doc, embeddings), failed)| {
            let (extraction, work) = doc?;
            match (failed, work) {
                (Some(e), _) => Err(e),
                (None, None) => Ok(extraction),
                (None, Some(work)) => Ok(rank(call, extraction, work, embeddings)),
            }
        })
        .collect()
}

/// Each document's candidate embeddings from the cache, and the distinct
/// candidates the cache lacks.
struct Lookup {
    /// Per document, per candidate: its embedding, or empty while it waits
    /// for `new`.
    embeddings: Vec<Vec<Vec<f32>>>,
    /// The candidates to embed, one entry per distinct input.
    new: Vec<(PhraseKey, Sequence)>,
    /// (document, candidate, its entry in `new`).
    waiting: Vec<(usize, usize, usize)>,
}

impl Lookup {
    fn of(cache: &PhraseCache, assembled: &[Result<(Extraction, Option<PhraseWork>)>]) -> Self {
        let mut lookup = Self { embeddings: Vec::with_capacity(assembled.len()), new: Vec::new(), waiting: Vec::new() };
        let mut index_of_new = HashMap::new();
        for (d, doc) in assembled.iter().enumerate() {
            let sequences = match doc {
                Ok((_, Some(work))) if work.in_context.is_none() => work.sequences.as_slice(),
                _ => &[],
            };
            let mut vectors = Vec::with_capacity(sequences.len());
            for (c, seq) in sequences.iter().enumerate() {
                let key = PhraseCache::key(&seq.ids, &seq.case_ids);
                match cache.get(&key) {
                    Some(v) => vectors.push(v),
                    None => {
                        let new = &mut lookup.new;
                        let n = *index_of_new.entry(key.clone()).or_insert_with(|| {
                            new.push((key, Sequence { doc: new.len(), chunk: 0, ..seq.clone() }));
                            new.len() - 1
                        });
                        lookup.waiting.push((d, c, n));
                        vectors.push(Vec::new());
                    }
                }
            }
            lookup.embeddings.push(vectors);
        }
        lookup
    }
}

/// The embedding of each of `new`, run through the model in batches of
/// their own, each put in the cache.
fn embed(call: Call<'_>, cache: &PhraseCache, new: Vec<(PhraseKey, Sequence)>) -> Vec<Result<Vec<f32>>> {
    let (keys, sequences): (Vec<_>, Vec<_>) = new.into_iter().unzip();
    let (plan, options) = (call.plan, call.options);
    let max_len = call.model.spec.max_wordpieces;
    let batches = batch::plan(
        &sequences,
        options.batch_wordpieces,
        call.threads,
        max_len,
        plan.layout,
        plan.shapes,
        Words::Unread,
    );
    let results: Vec<Result<Vec<Vec<f32>>>> =
        batches.par_iter().map(|b| infer::phrase_batch(call, b, &sequences)).collect();
    let mut computed: Vec<Result<Vec<f32>>> = (0..sequences.len()).map(|_| Ok(Vec::new())).collect();
    for (b, result) in batches.iter().zip(results) {
        match result {
            Ok(vectors) => b.placements.iter().zip(vectors).for_each(|(p, e)| {
                cache.put(keys[p.sequence].clone(), &e);
                computed[p.sequence] = Ok(e);
            }),
            Err(e) => b.sequences().for_each(|s| computed[s] = Err(e.clone())),
        }
    }
    computed
}

/// `extraction` with its key phrases: `work`'s candidates ranked with
/// their `embeddings` (unless pooled in context).
fn rank(call: Call<'_>, mut extraction: Extraction, work: PhraseWork, embeddings: Vec<Vec<f32>>) -> Extraction {
    let (options, embedding) = (&call.options.keyphrases, call.plan.phrase_embedding);
    let embeddings = work.in_context.unwrap_or(embeddings);
    let ranker = call.model.spec.keyphrase_rankers.get(embedding);
    let ranked = keyphrases::rank(&work.candidates, &embeddings, &work.vectors, options, embedding, ranker);
    let mut phrases = work.phrases;
    let keyphrase = |r: keyphrases::Ranked| {
        let (text, occurrences) = std::mem::take(&mut phrases[r.candidate]);
        KeyPhrase { text, score: r.score, occurrences, features: options.explain.then_some(r.features) }
    };
    extraction.keyphrases = Some(ranked.into_iter().map(keyphrase).collect());
    extraction
}
