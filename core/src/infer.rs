//! infer → decode: one batch through the graph, and what each of its
//! sequences reads off the heads. The sentence pass gives each chunk's
//! words their entity scores, part of speech, head and relation (and the
//! vectors key phrases pool); the phrase pass gives each candidate its
//! embedding.

use std::ops::Range;

use tract_onnx::prelude::Tensor;
use tract_onnx::prelude::tract_ndarray::{ArrayView1, ArrayView2, ArrayView3, ArrayView4, Axis, Ix2, Ix3, Ix4, s};

use crate::batch::{self, Batch, Placement, Sequence};
use crate::decode;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::keyphrases::{self, PhraseEmbedding};
use crate::model::DeprelAxes;
use crate::options::Aggregation;
use crate::run_plan::{Call, Slots};
use crate::split::Chunk;

/// Where a word's head is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Head {
    Root,
    /// Root of a later window of a sentence cut into windows.
    EarlierWindow,
    /// A word of the document (index).
    Word(usize),
}

/// A word's place in its sentence's tree, as decoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WordHead {
    pub head: Head,
    /// The relation's label index, where the graph has a relation head.
    pub deprel: Option<usize>,
    /// Probability of the head times that of the relation.
    pub confidence: f32,
}

/// What the heads say about one word; each is there when its task ran.
#[derive(Debug, Default)]
pub(crate) struct WordOutputs {
    /// Log-probabilities of the entity labels (empty without entities).
    pub entity: Vec<f32>,
    /// The part-of-speech label index.
    pub upos: Option<usize>,
    pub head: Option<WordHead>,
}

/// What the sentence pass read off one chunk.
#[derive(Debug, Default)]
pub(crate) struct ChunkOutputs {
    /// One for each word the chunk owns, in order.
    pub words: Vec<WordOutputs>,
    /// The chunk's pooled embedding.
    pub embedding: Option<Vec<f32>>,
    /// Vectors of the words that may be in a key phrase (document index,
    /// vector), when key phrases are embedded in context.
    pub word_vectors: Vec<(usize, Vec<f32>)>,
}

/// A chunk where it sits in a batch: the index arithmetic between the
/// document's words and the row's word slots and wordpieces, in one place.
struct PlacedChunk<'a> {
    place: &'a Placement,
    seq: &'a Sequence,
    doc: &'a Document<'a>,
    chunk: &'a Chunk,
}

impl PlacedChunk<'_> {
    /// Document word `w`'s slot on the row's word axis; as a candidate
    /// head, its column is one more (column 0 is the root's).
    fn slot(&self, w: usize) -> usize {
        self.place.first_word + w - self.chunk.words.start
    }

    /// Document word `w`'s wordpieces on the row.
    fn pieces(&self, w: usize) -> Range<usize> {
        let pieces = &self.seq.word_pieces[w - self.chunk.words.start];
        pieces.start + self.place.offset..pieces.end + self.place.offset
    }
}

/// Runs one batch of the sentence pass and decodes each of its chunks:
/// (document, chunk, outputs), the chunks of failed documents left out.
pub(crate) fn sentence_batch(
    call: Call<'_>,
    b: &Batch,
    sequences: &[Sequence],
    documents: &[Result<Document>],
) -> Result<Vec<(usize, usize, ChunkOutputs)>> {
    let input = batch::input(b, sequences, call.plan.layout);
    let outputs = call.model.network.run(input, &call.plan.wanted)?;
    let heads = HeadViews::of(&outputs, call)?;
    let mut out = Vec::with_capacity(b.placements.len());
    for place in &b.placements {
        let seq = &sequences[place.sequence];
        if let Ok(doc) = &documents[seq.doc] {
            let at = PlacedChunk { place, seq, doc, chunk: &doc.chunks[seq.chunk] };
            out.push((seq.doc, seq.chunk, heads.chunk(call, &at)));
        }
    }
    Ok(out)
}

/// Runs one batch of the phrase pass: the unit embedding of each sequence,
/// in placement order. The batch asks for the embedding alone and has one
/// unread word slot ([`batch::Words::Unread`]), so the word heads, whose
/// label head is quadratic in the word axis, cost next to nothing. (It once
/// asked for the sentence pass's outputs and word axis, to reuse its tract
/// plans; the plans of its own cost less than those heads: UD EWT dev
/// sentences, all tasks, 13.5 s → 12.3 s on tract, 4.8 s → 4.4 s on
/// ONNX Runtime int8.)
pub(crate) fn phrase_batch(call: Call<'_>, b: &Batch, sequences: &[Sequence]) -> Result<Vec<Vec<f32>>> {
    let plan = call.plan;
    let no_embedding = || Error::Inference("no embedding output".into());
    let output = plan.slots.embedding.map(|slot| plan.wanted[slot]).ok_or_else(no_embedding)?;
    let outputs = call.model.network.run(batch::input(b, sequences, plan.layout), &[output])?;
    let slots = Slots { embedding: Some(0), embedding_per_token: plan.slots.embedding_per_token, ..Slots::default() };
    let view = EmbeddingView::of(&outputs, slots)?.ok_or_else(no_embedding)?;
    Ok(b.placements.iter().map(|p| view.sequence(p, sequences[p.sequence].ids.len())).collect())
}

/// The wanted outputs of a sentence batch as views of fixed rank, so rows
/// are read as contiguous slices, not by dynamic indexing.
struct HeadViews<'o> {
    entities: Option<ArrayView3<'o, f32>>,
    upos: Option<ArrayView3<'o, f32>>,
    arcs: Option<ArrayView3<'o, f32>>,
    /// [batch, words, words + 1, labels], whatever the graph's order.
    deprels: Option<ArrayView4<'o, f32>>,
    embedding: Option<EmbeddingView<'o>>,
}

impl<'o> HeadViews<'o> {
    fn of(outputs: &'o [Tensor], call: Call<'_>) -> Result<Self> {
        let slots = call.plan.slots;
        let view = |slot: Option<usize>| {
            slot.map(|i| outputs[i].to_plain_array_view::<f32>().map_err(|e| Error::Inference(format!("{e:#}"))))
                .transpose()
        };
        let fixed = |e: tract_onnx::prelude::tract_ndarray::ShapeError| {
            Error::Inference(format!("an output has an unexpected rank: {e}"))
        };
        let rank3 = |slot| view(slot)?.map(|v| v.into_dimensionality::<Ix3>()).transpose().map_err(fixed);
        let deprels = view(slots.deprels)?.map(|v| v.into_dimensionality::<Ix4>()).transpose().map_err(fixed)?;
        Ok(Self {
            entities: rank3(slots.entities)?,
            upos: rank3(slots.upos)?,
            arcs: rank3(slots.arcs)?,
            deprels: deprels.map(|v| match call.model.spec.deprel_axes {
                DeprelAxes::HeadsThenLabels => v,
                DeprelAxes::LabelsThenHeads => v.permuted_axes([0, 1, 3, 2]),
            }),
            embedding: EmbeddingView::of(outputs, slots)?,
        })
    }

    /// The outputs of the chunk `at`.
    fn chunk(&self, call: Call<'_>, at: &PlacedChunk) -> ChunkOutputs {
        let r = at.place.row;
        let mut words: Vec<WordOutputs> = at
            .chunk
            .owned
            .clone()
            .map(|w| WordOutputs {
                entity: self.entities.as_ref().map(|e| entity_row(call, e, at, w)).unwrap_or_default(),
                upos: self.upos.as_ref().map(|upos| argmax_row(upos.slice(s![r, at.slot(w), ..]))),
                head: None,
            })
            .collect();
        if let Some(arcs) = &self.arcs {
            self.trees(arcs, at, &mut words);
        }
        let word_vectors = match (&self.embedding, call.plan.keyphrases, call.plan.phrase_embedding) {
            (Some(EmbeddingView::PerToken(tokens)), true, PhraseEmbedding::InContext) => {
                phrase_word_vectors(call, tokens, at, &words)
            }
            _ => Vec::new(),
        };
        let embedding = self.embedding.as_ref().map(|e| e.sequence(at.place, at.seq.ids.len()));
        ChunkOutputs { words, embedding, word_vectors }
    }

    /// Each owned word's head and relation: one tree per piece of a
    /// sentence the chunk owns.
    fn trees(&self, arcs: &ArrayView3<'_, f32>, at: &PlacedChunk, words: &mut [WordOutputs]) {
        let (place, doc, chunk) = (at.place, at.doc, at.chunk);
        let r = place.row;
        let mut w = chunk.owned.start;
        while w < chunk.owned.end {
            let s = doc.sentence_of_word[w];
            let seg = w..chunk.owned.end.min(doc.sentence_words[s].end);
            let first_of_sentence = seg.start == doc.sentence_words[s].start;
            // Candidate heads: ROOT, then the segment's words (their slots + 1).
            let (first, n) = (at.slot(seg.start), seg.len());
            let column = |h: usize| if h == 0 { place.root_column } else { first + h };
            let scores: Vec<Vec<f32>> = (0..n)
                .map(|d| {
                    let mut row = Vec::with_capacity(n + 1);
                    row.push(arcs[[r, first + d, place.root_column]]);
                    row.extend(arcs.slice(s![r, first + d, first + 1..first + n + 1]).iter());
                    decode::log_softmax(&mut row);
                    row
                })
                .collect();
            for (d, h) in decode::mst_heads(&scores).into_iter().enumerate() {
                let (deprel, label_prob) = match &self.deprels {
                    Some(dl) => {
                        let (best, p) =
                            decode::most_probable(dl.slice(s![r, first + d, column(h), ..]).iter().copied());
                        (Some(best), p)
                    }
                    None => (None, 1.0),
                };
                let head = match h {
                    0 if first_of_sentence => Head::Root,
                    0 => Head::EarlierWindow,
                    h => Head::Word(seg.start + h - 1),
                };
                let confidence = scores[d][h].exp() * label_prob;
                words[seg.start + d - chunk.owned.start].head = Some(WordHead { head, deprel, confidence });
            }
            w = seg.end;
        }
    }
}

/// The entity labels' log-probabilities of word `w`: its row on a
/// word-level head, else pooled from its wordpieces' rows.
fn entity_row(call: Call<'_>, entities: &ArrayView3<'_, f32>, at: &PlacedChunk, w: usize) -> Vec<f32> {
    let mut row = match call.model.word_level {
        true => entities.slice(s![at.place.row, at.slot(w), ..]).to_vec(),
        false => pooled_row(entities, at.place.row, &at.pieces(w), call.options.aggregation),
    };
    decode::log_softmax(&mut row);
    row
}

/// The vectors of the words of a chunk that may be part of a key
/// phrase ([`keyphrases::may_be_in_phrase`] by their text and decoded
/// UPOS and relation): the sum of each word's wordpieces' vectors. Only
/// those are kept, so the memory in-context pooling needs grows with
/// the nouns and their modifiers, not with every wordpiece.
fn phrase_word_vectors(
    call: Call<'_>,
    tokens: &ArrayView3<'_, f32>,
    at: &PlacedChunk,
    words: &[WordOutputs],
) -> Vec<(usize, Vec<f32>)> {
    let spec = &call.model.spec;
    fn label(labels: Option<&Vec<String>>, i: Option<usize>) -> Option<&str> {
        labels.zip(i).and_then(|(l, i)| l.get(i)).map(String::as_str)
    }
    let upos_labels = spec.upos.as_ref().map(|h| &h.labels);
    let deprel_labels = spec.deprels.as_ref().map(|h| &h.labels);
    at.chunk
        .owned
        .clone()
        .zip(words)
        .filter(|(w, out)| {
            let upos = label(upos_labels, out.upos).unwrap_or("X");
            let deprel = label(deprel_labels, out.head.and_then(|h| h.deprel)).unwrap_or("dep");
            keyphrases::may_be_in_phrase(&at.doc.text[at.doc.words[*w].clone()], upos, deprel)
        })
        .map(|(w, _)| {
            let pieces = at.pieces(w);
            let end = pieces.end.min(tokens.shape()[1]);
            let start = pieces.start.min(end);
            (w, tokens.slice(s![at.place.row, start..end, ..]).sum_axis(Axis(0)).to_vec())
        })
        .collect()
}

/// The embedding output of a batch: one vector a row, or one a wordpiece.
pub(crate) enum EmbeddingView<'a> {
    Pooled(ArrayView2<'a, f32>),
    PerToken(ArrayView3<'a, f32>),
}

impl<'a> EmbeddingView<'a> {
    /// The view of the embedding slot of `outputs`, if one was wanted.
    fn of(outputs: &'a [Tensor], slots: Slots) -> Result<Option<Self>> {
        let Some(slot) = slots.embedding else { return Ok(None) };
        let view = outputs[slot].to_plain_array_view::<f32>().map_err(|e| Error::Inference(format!("{e:#}")))?;
        let rank = |e: tract_onnx::prelude::tract_ndarray::ShapeError| {
            Error::Inference(format!("the embedding output has an unexpected rank: {e}"))
        };
        Ok(Some(match slots.embedding_per_token {
            true => Self::PerToken(view.into_dimensionality::<Ix3>().map_err(rank)?),
            false => Self::Pooled(view.into_dimensionality::<Ix2>().map_err(rank)?),
        }))
    }

    /// The unit embedding of the sequence of `len` wordpieces at `place`:
    /// its row's, or the mean of its wordpieces' vectors L2-normalized, as
    /// the graph pools its own output (the sum has the mean's direction).
    fn sequence(&self, place: &Placement, len: usize) -> Vec<f32> {
        match self {
            Self::Pooled(rows) => rows.row(place.row).to_vec(),
            Self::PerToken(tokens) => {
                let end = (place.offset + len).min(tokens.shape()[1]);
                let pieces = tokens.slice(s![place.row, place.offset..end, ..]);
                let mut sum = pieces.sum_axis(Axis(0)).to_vec();
                let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                sum.iter_mut().for_each(|x| *x /= norm);
                sum
            }
        }
    }
}

/// [`decode::argmax`] of one output row, without a copy when the row is
/// contiguous (it is in tract's row-major outputs).
fn argmax_row(row: ArrayView1<'_, f32>) -> usize {
    match row.as_slice() {
        Some(values) => decode::argmax(values),
        None => decode::argmax(&row.to_vec()),
    }
}

/// Label probabilities of one word from its wordpieces' logits, as log-probabilities' input.
fn pooled_row(logits: &ArrayView3<'_, f32>, r: usize, pieces: &Range<usize>, aggregation: Aggregation) -> Vec<f32> {
    let k = logits.shape()[2];
    let probs = |p: usize| {
        let mut row = logits.slice(s![r, p, ..]).to_vec();
        decode::log_softmax(&mut row);
        row.iter_mut().for_each(|x| *x = x.exp());
        row
    };
    let pieces = if pieces.is_empty() { pieces.start.saturating_sub(1)..pieces.start.max(1) } else { pieces.clone() };
    let pooled = match aggregation {
        Aggregation::First => probs(pieces.start),
        Aggregation::Average => {
            let mut sum = vec![0f32; k];
            for p in pieces.clone() {
                sum.iter_mut().zip(probs(p)).for_each(|(s, x)| *s += x);
            }
            sum.iter_mut().for_each(|s| *s /= pieces.len() as f32);
            sum
        }
        Aggregation::Max => pieces
            .map(probs)
            .max_by(|a, b| a.iter().copied().fold(0f32, f32::max).total_cmp(&b.iter().copied().fold(0f32, f32::max)))
            .unwrap_or_else(|| vec![1.0 / k as f32; k]),
    };
    // Back to logits: log of the pooled probabilities (log_softmax is then a no-op up to rounding).
    pooled.into_iter().map(|p| p.max(1e-30).ln()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_token_embeddings_are_pooled_per_sequence() {
        // One row, two sequences: wordpieces 0..2 and 2..5, then padding.
        let tokens = tract_onnx::prelude::tract_ndarray::Array3::from_shape_fn((1, 6, 2), |(_, t, k)| match (t, k) {
            (0 | 1, 0) => 1.0,
            (2..=4, 1) => 2.0,
            (5, _) => 100.0,
            _ => 0.0,
        });
        let view = EmbeddingView::PerToken(tokens.view());
        let place = |offset: usize| Placement { sequence: 0, row: 0, offset, first_word: 1, root_column: 1 };
        assert_eq!(view.sequence(&place(0), 2), vec![1.0, 0.0]);
        assert_eq!(view.sequence(&place(2), 3), vec![0.0, 1.0], "its own wordpieces only, padding left out");
    }
}
