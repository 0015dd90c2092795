//! Batch: model inputs grouped by length into buckets, and buckets cut into
//! batches by a wordpiece budget.
//!
//! Bucket lengths are multiples of 8 (the AVX2 fp32 width) on a coarse,
//! roughly geometric ladder, so that a handful of plan shapes serve every
//! document (each new shape costs a plan optimization: ≈ 60 ms, ≈ 60 MB)
//! while padding stays small. For the same reason a bucket's batches take
//! only two row counts: `R`, a power of two that fits the wordpiece budget,
//! and 1 for the remainder (13 = 8 + 1 + 1 + 1 + 1 + 1), never padded with
//! empty rows. tract's throughput per wordpiece is nearly flat from 1 to
//! 16 rows and falls for batches past ≈ 512 wordpieces, so single rows
//! cost little and a small budget is the fast one.
//!
//! Packing: a model that takes `segment_ids` and `position_ids` (see
//! `models/recipe/packing.py`) reads several sequences in one row, each as
//! if alone. Sequences of at most [`PACKED_ROW`] wordpieces then share rows
//! of exactly that length, best fit by decreasing length: a sentence of 7
//! wordpieces no longer pads to 16, and every short sequence runs in one
//! plan shape. Rows stay short because tract's time per wordpiece grows
//! with the row (attention and the label head are quadratic in it): rows of
//! 64 cost about what rows of 16 do, rows of 128 ≈ 12 % more.
//!
//! Layout of a row for such a model: every sequence's `[CLS]` is listed in
//! `word_index` as a word of its own, just before the sequence's words, and
//! the parse heads' ROOT column of that sequence is the column of that
//! pseudo-word (the heads score the row's `[CLS]` as ROOT through the same
//! layers they score words with, so the scores are the same). Rows of one
//! sequence use the same layout, so one model reads one way.

use std::ops::Range;

use crate::model::BatchInput;

/// Padded sequence lengths, ascending. Sequences longer than the last step
/// pad to a multiple of 64 (capped at the model's maximum).
const LENGTH_STEPS: &[usize] = &[16, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 448, 512];

/// Length of a packed row, in wordpieces: sequences up to this long share rows.
pub(crate) const PACKED_ROW: usize = 64;

/// The model input of one chunk.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sequence {
    /// Document index in the call.
    pub doc: usize,
    /// Chunk index in the document.
    pub chunk: usize,
    /// Wordpiece ids with special tokens.
    pub ids: Vec<u32>,
    /// Case class of each wordpiece (0 for special tokens).
    pub case_ids: Vec<u8>,
    /// Position of each word's first wordpiece (what word-level heads read).
    pub word_first: Vec<usize>,
    /// Positions of each word's wordpieces (what wordpiece-level heads pool).
    pub word_pieces: Vec<Range<usize>>,
}

/// How wide a batch's word axis is (`word_index` and the word heads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WordAxis {
    /// At least the row's length: one shape per row length, for a backend
    /// that optimizes a plan per shape (tract).
    RowLength,
    /// The batch's word slots, rounded up to 8, for a backend whose cost
    /// does not depend on the shapes it has seen (ONNX Runtime). The label
    /// head is quadratic in the axis, so a row of 64 wordpieces holding 40
    /// words costs less with 40 slots than with 64.
    Fit,
    /// One slot, never read: a pass that wants the embedding alone (the
    /// key-phrase candidates). The word heads then cost next to nothing
    /// (int8 graph in ONNX Runtime, rows of 64 wordpieces: 59 ms instead
    /// of 73 ms a batch of 8 rows).
    Unread,
}

/// How sequences sit in rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// One sequence a row, its words from slot 0, ROOT in column 0: any model.
    Plain,
    /// The segment layout of a model that takes `segment_ids` (see the
    /// module docs); `pack`: short sequences share rows.
    Segments { pack: bool },
}

/// Where one sequence sits in its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placement {
    /// The sequence (index into the planned slice).
    pub sequence: usize,
    /// Row of the batch.
    pub row: usize,
    /// Position of the sequence's first wordpiece in the row.
    pub offset: usize,
    /// Slot of the sequence's first word on the word axis; word `k` is read
    /// at slot `first_word + k` and scored as a head in column `first_word + k + 1`.
    pub first_word: usize,
    /// Column of the arc and label outputs that scores ROOT as the head of
    /// this sequence's words.
    pub root_column: usize,
}

/// Sequences run together: `rows` rows of `length` wordpieces and `words`
/// word slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Batch {
    /// Every sequence of the batch, row by row.
    pub placements: Vec<Placement>,
    pub rows: usize,
    pub length: usize,
    pub words: usize,
    /// Whether `word_index` holds the sequences' words (see [`WordAxis::Unread`]).
    pub words_read: bool,
}

impl Batch {
    /// The sequences of the batch.
    pub fn sequences(&self) -> impl Iterator<Item = usize> + '_ {
        self.placements.iter().map(|p| p.sequence)
    }
}

/// The padded length of a sequence of `len` wordpieces.
pub(crate) fn bucket_length(len: usize, max: usize) -> usize {
    let padded = LENGTH_STEPS.iter().copied().find(|&s| s >= len).unwrap_or_else(|| len.div_ceil(64) * 64);
    padded.min(max.max(len))
}

/// One row's worth of sequences, before it is given a batch.
struct Unit {
    sequences: Vec<usize>,
    length: usize,
    words: usize,
}

/// Word slots a sequence takes in `layout`: its words, and its `[CLS]` in
/// the segment layout.
fn word_slots(seq: &Sequence, layout: Layout) -> usize {
    seq.word_first.len() + usize::from(layout != Layout::Plain)
}

/// The rows of `sequences`: short ones packed best fit by decreasing
/// length (each into the fullest row it fits), every other sequence alone.
fn units(sequences: &[Sequence], layout: Layout, max_len: usize) -> Vec<Unit> {
    let packs = layout == Layout::Segments { pack: true } && PACKED_ROW <= max_len;
    let mut order: Vec<usize> = (0..sequences.len()).collect();
    order.sort_by_key(|&s| (std::cmp::Reverse(sequences[s].ids.len()), s));
    let mut units: Vec<Unit> = Vec::new();
    // Packed rows (indices into `units`) by the wordpieces they have left:
    // finding a row is a look at most PACKED_ROW lists, whatever the count of rows.
    let mut by_room: Vec<Vec<usize>> = vec![Vec::new(); PACKED_ROW];
    for s in order {
        let (len, words) = (sequences[s].ids.len(), word_slots(&sequences[s], layout));
        if !packs || len > PACKED_ROW {
            units.push(Unit { sequences: vec![s], length: bucket_length(len, max_len), words });
            continue;
        }
        let (u, room) = match (len..PACKED_ROW).find_map(|room| Some((by_room[room].pop()?, room))) {
            Some((u, room)) => {
                units[u].sequences.push(s);
                units[u].words += words;
                (u, room - len)
            }
            None => {
                units.push(Unit { sequences: vec![s], length: PACKED_ROW, words });
                (units.len() - 1, PACKED_ROW - len)
            }
        };
        if room > 0 {
            by_room[room].push(u);
        }
    }
    units
}

/// Cuts `sequences` into batches of at most `budget` wordpieces (rows ×
/// padded length, at least one row), with enough batches to keep `threads`
/// workers busy when there are enough rows.
pub(crate) fn plan(
    sequences: &[Sequence],
    budget: usize,
    threads: usize,
    max_len: usize,
    layout: Layout,
    word_axis: WordAxis,
) -> Vec<Batch> {
    let mut units = units(sequences, layout, max_len);
    units.sort_by_key(|u| (u.length, u.sequences[0]));
    let mut out = Vec::new();
    let mut k = 0;
    while k < units.len() {
        let length = units[k].length;
        let end = units[k..].iter().position(|u| u.length != length).map_or(units.len(), |p| k + p);
        let bucket = &units[k..end];
        // Rows per batch: a power of two within the budget, and small enough
        // that the bucket alone gives every worker a batch.
        let per_thread = bucket.len().div_ceil(threads.max(1));
        let rows = prev_power_of_two((budget / length).max(1)).min(prev_power_of_two(per_thread.max(1)));
        let mut at = 0;
        while at < bucket.len() {
            let take = if bucket.len() - at >= rows { rows } else { 1 };
            out.push(place(&bucket[at..at + take], sequences, length, layout, word_axis));
            at += take;
        }
        k = end;
    }
    // Longest batches first: the pool's last batches are then the short ones.
    out.sort_by_key(|b| std::cmp::Reverse(b.length * b.rows));
    out
}

/// The batch of `units`, one a row, with each sequence's place.
fn place(units: &[Unit], sequences: &[Sequence], length: usize, layout: Layout, word_axis: WordAxis) -> Batch {
    let mut placements = Vec::new();
    for (row, unit) in units.iter().enumerate() {
        let (mut offset, mut slot) = (0, 0);
        for &s in &unit.sequences {
            let placement = match layout {
                Layout::Plain => Placement { sequence: s, row, offset, first_word: 0, root_column: 0 },
                // The [CLS] pseudo-word at `slot`, scored in column `slot + 1`.
                Layout::Segments { .. } => {
                    Placement { sequence: s, row, offset, first_word: slot + 1, root_column: slot + 1 }
                }
            };
            placements.push(placement);
            offset += sequences[s].ids.len();
            slot += word_slots(&sequences[s], layout);
        }
    }
    let fit = units.iter().map(|u| u.words).max().unwrap_or(0).div_ceil(8) * 8;
    let words = match word_axis {
        WordAxis::RowLength => length.max(fit),
        WordAxis::Fit => fit.max(8),
        WordAxis::Unread => 1,
    };
    Batch { placements, rows: units.len(), length, words, words_read: word_axis != WordAxis::Unread }
}

fn prev_power_of_two(n: usize) -> usize {
    if n == 0 { 0 } else { 1 << (usize::BITS - 1 - n.leading_zeros()) }
}

/// The padded input tensors of `batch`.
pub(crate) fn input(batch: &Batch, sequences: &[Sequence], layout: Layout) -> BatchInput {
    let (n, length, words) = (batch.rows, batch.length, batch.words);
    let mut input = BatchInput {
        rows: n,
        sequence: length,
        words,
        input_ids: vec![0; n * length],
        attention_mask: vec![0; n * length],
        case_ids: vec![0; n * length],
        segment_ids: vec![0; n * length],
        position_ids: vec![0; n * length],
        word_index: vec![0; n * words],
    };
    let mut segment = 0;
    for (k, p) in batch.placements.iter().enumerate() {
        let seq = &sequences[p.sequence];
        // Segments count from 1 within a row; padding keeps 0.
        segment = if k > 0 && batch.placements[k - 1].row == p.row { segment + 1 } else { 1 };
        let at = p.row * length + p.offset;
        let room = length.saturating_sub(p.offset);
        for (t, (&id, &case)) in seq.ids.iter().zip(&seq.case_ids).enumerate().take(room) {
            input.input_ids[at + t] = i64::from(id);
            input.case_ids[at + t] = i64::from(case);
            input.attention_mask[at + t] = 1;
            input.segment_ids[at + t] = segment;
            input.position_ids[at + t] = t as i64;
        }
        if !batch.words_read {
            continue;
        }
        let row_words = &mut input.word_index[p.row * words..(p.row + 1) * words];
        if layout != Layout::Plain && p.first_word > 0 {
            row_words[p.first_word - 1] = p.offset as i64;
        }
        for (slot, &first) in row_words[p.first_word.min(words)..].iter_mut().zip(&seq.word_first) {
            *slot = (p.offset + first) as i64;
        }
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(len: usize) -> Sequence {
        Sequence {
            ids: vec![1; len],
            case_ids: vec![0; len],
            word_first: (1..len.saturating_sub(1)).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn buckets_are_multiples_of_eight_and_fit() {
        for len in 1..=512 {
            let b = bucket_length(len, 512);
            assert!(b >= len && b % 8 == 0 && b <= 512, "{len} -> {b}");
        }
        assert_eq!(bucket_length(510, 510), 510);
    }

    #[test]
    fn every_sequence_lands_in_exactly_one_batch_within_budget() {
        let seqs: Vec<Sequence> = (0..77).map(|i| seq(5 + (i * 37) % 300)).collect();
        let batches = plan(&seqs, 2048, 2, 512, Layout::Plain, WordAxis::RowLength);
        let mut seen: Vec<usize> = batches.iter().flat_map(|b| b.sequences().collect::<Vec<_>>()).collect();
        seen.sort();
        assert_eq!(seen, (0..77).collect::<Vec<_>>());
        for b in &batches {
            assert!(b.rows.is_power_of_two() && b.placements.len() == b.rows);
            let same_length = batches.iter().filter(|o| o.length == b.length);
            let row_counts: std::collections::BTreeSet<usize> = same_length.map(|o| o.rows).collect();
            assert!(
                row_counts.len() <= 2
                    && row_counts.iter().all(|&r| r == 1 || r == row_counts.last().copied().unwrap_or(1)),
                "{row_counts:?}"
            );
            assert!(b.rows == 1 || b.rows * b.length <= 2048);
            assert!(
                b.sequences()
                    .all(|s| seqs[s].ids.len() <= b.length && bucket_length(seqs[s].ids.len(), 512) == b.length)
            );
        }
    }

    #[test]
    fn a_remainder_runs_in_single_rows() {
        let batches = plan(&vec![seq(30); 13], 256, 1, 512, Layout::Plain, WordAxis::RowLength);
        let mut rows: Vec<usize> = batches.iter().map(|b| b.rows).collect();
        rows.sort();
        assert_eq!(rows, [1, 1, 1, 1, 1, 8]);
    }

    #[test]
    fn two_short_sequences_make_two_batches_for_two_threads() {
        let batches = plan(&[seq(10), seq(12)], 2048, 2, 512, Layout::Plain, WordAxis::RowLength);
        assert_eq!(batches.len(), 2);
    }

    #[test]
    fn packed_rows_hold_short_sequences_whole_and_apart() {
        let seqs: Vec<Sequence> = (0..120).map(|i| seq(3 + (i * 29) % 90)).collect();
        let layout = Layout::Segments { pack: true };
        for axis in [WordAxis::RowLength, WordAxis::Fit] {
            check_packed_rows(&seqs, layout, axis);
        }
    }

    fn check_packed_rows(seqs: &[Sequence], layout: Layout, axis: WordAxis) {
        let batches = plan(seqs, 256, 2, 512, layout, axis);
        let mut seen: Vec<usize> = batches.iter().flat_map(|b| b.sequences().collect::<Vec<_>>()).collect();
        seen.sort();
        assert_eq!(seen, (0..120).collect::<Vec<_>>(), "every sequence once");
        let mut shared_rows = 0;
        for b in &batches {
            let input = input(b, seqs, layout);
            for row in 0..b.rows {
                let in_row: Vec<&Placement> = b.placements.iter().filter(|p| p.row == row).collect();
                shared_rows += usize::from(in_row.len() > 1);
                let mut end = 0;
                for (k, p) in in_row.iter().enumerate() {
                    let len = seqs[p.sequence].ids.len();
                    assert_eq!(p.offset, end, "sequences follow each other");
                    assert!(in_row.len() == 1 || len <= PACKED_ROW, "only short sequences share a row");
                    end += len;
                    let at = row * b.length + p.offset;
                    assert!(input.segment_ids[at..at + len].iter().all(|&s| s == k as i64 + 1));
                    assert_eq!(input.position_ids[at..at + len], (0..len as i64).collect::<Vec<_>>()[..]);
                    // The [CLS] pseudo-word, then the words at their row positions.
                    let words = &input.word_index[row * b.words..];
                    assert_eq!(words[p.first_word - 1], p.offset as i64);
                    assert_eq!(p.root_column, p.first_word);
                    for (w, &first) in seqs[p.sequence].word_first.iter().enumerate() {
                        assert_eq!(words[p.first_word + w], (p.offset + first) as i64);
                    }
                }
                assert!(end <= b.length);
                assert!(input.attention_mask[row * b.length + end..(row + 1) * b.length].iter().all(|&m| m == 0));
            }
        }
        assert!(shared_rows > 0, "short sequences were packed");
        assert!(batches.iter().filter(|b| b.length == PACKED_ROW).all(|b| b.rows == 1 || b.rows == 4));
    }

    #[test]
    fn the_word_axis_is_as_wide_as_the_backend_and_the_pass_need() {
        // Three sequences of 20 wordpieces (18 words each) share a row of 64:
        // 57 word slots with their [CLS] pseudo-words.
        let seqs = vec![seq(20); 3];
        let layout = Layout::Segments { pack: true };
        let words = |axis| plan(&seqs, 256, 1, 512, layout, axis).iter().map(|b| b.words).collect::<Vec<_>>();
        assert_eq!(words(WordAxis::RowLength), [64]);
        assert_eq!(words(WordAxis::Fit), [64]);
        let seqs = vec![seq(40)];
        let words = |axis| plan(&seqs, 256, 1, 512, layout, axis).iter().map(|b| b.words).collect::<Vec<_>>();
        assert_eq!(words(WordAxis::RowLength), [64], "one shape per row length");
        assert_eq!(words(WordAxis::Fit), [40], "39 slots, rounded up to 8");
        let batches = plan(&seqs, 256, 1, 512, layout, WordAxis::Unread);
        assert_eq!(batches[0].words, 1);
        let unread = input(&batches[0], &seqs, layout);
        assert_eq!(unread.word_index, [0], "nothing written to the one slot");
        assert_eq!(unread.input_ids.iter().filter(|&&id| id != 0).count(), 40, "the wordpieces are all there");
    }

    #[test]
    fn equal_short_sequences_fill_rows_exactly() {
        let seqs = vec![seq(16); 1000];
        let batches = plan(&seqs, 256, 2, 512, Layout::Segments { pack: true }, WordAxis::RowLength);
        let rows: usize = batches.iter().map(|b| b.rows).sum();
        assert_eq!(rows, 250, "4 sequences of 16 to a row of 64");
    }

    #[test]
    fn without_packing_the_segment_layout_keeps_one_sequence_a_row() {
        let seqs: Vec<Sequence> = (0..9).map(|i| seq(4 + i)).collect();
        let batches = plan(&seqs, 256, 1, 512, Layout::Segments { pack: false }, WordAxis::RowLength);
        for b in &batches {
            assert_eq!(b.placements.len(), b.rows);
            assert!(b.placements.iter().all(|p| p.offset == 0 && p.first_word == 1 && p.root_column == 1));
        }
    }
}
