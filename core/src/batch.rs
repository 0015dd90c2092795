//! Batch: model inputs grouped by length into buckets, and buckets cut into
//! batches by a wordpiece budget.
//!
//! The shapes depend on the backend ([`Shapes`]): ONNX Runtime runs any
//! shape as it comes, so its batches pad each axis only to a multiple of 8.
//! tract optimizes a plan per shape, so for tract:
//!
//! Bucket lengths are multiples of 8 (the AVX2 fp32 width) on a coarse,
//! roughly geometric ladder, so that a handful of plan shapes serve every
//! document (each new shape costs a plan optimization: ≈ 60 ms, ≈ 5–40 MB)
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
//! plan shape — or, when they make only a few rows, in rows of the length
//! the threads finish first (see `units`). Rows stay short because past
//! 64 wordpieces tract's time per wordpiece grows with the row (attention
//! and the label head are quadratic in it): rows of 128 ≈ 12 % more.
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

/// Which batch shapes suit the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shapes {
    /// Few: tract optimizes a plan per input shape, so lengths keep to the
    /// ladder, packed rows to [`PACKED_ROW`] (a shorter rung when too few to
    /// fill one a thread), a bucket's batches to two row counts, and the word
    /// axis to at least the row's length.
    Few,
    /// Fitted: ONNX Runtime runs any shape as it comes, so each axis fits
    /// what it holds, rounded up to 8. Small batches (a service's few
    /// sentences) then pad nothing: four sentences of 68 wordpieces ran as
    /// two rows of 64, and run as rows of 56 and 16. The label head is
    /// quadratic in the word axis, so a row holding 40 words is cheaper
    /// with 40 slots than with 64.
    Fitted,
}

/// Whether a pass reads the word heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Words {
    /// `word_index` lists every sequence's words.
    Read,
    /// One slot, never read: a pass that wants the embedding alone (the
    /// key-phrase candidates). The word heads then cost next to nothing
    /// (int8 graph in ONNX Runtime, 8 rows of 64 wordpieces: 59 ms instead
    /// of 73 ms).
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
    /// Whether `word_index` holds the sequences' words.
    pub words_read: Words,
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
    /// A row shared by short sequences (or open to them).
    packed: bool,
}

/// Word slots a sequence takes in `layout`: its words, and its `[CLS]` in
/// the segment layout.
fn word_slots(seq: &Sequence, layout: Layout) -> usize {
    seq.word_first.len() + usize::from(layout != Layout::Plain)
}

/// The rows of `sequences` ([`pack`]), the packed rows as long as suits
/// the threads and the backend's shapes.
fn units(sequences: &[Sequence], layout: Layout, max_len: usize, shapes: Shapes, threads: usize) -> Vec<Unit> {
    let packs = layout == Layout::Segments { pack: true } && PACKED_ROW <= max_len;
    let short: usize = sequences.iter().map(|s| s.ids.len()).filter(|&l| l <= PACKED_ROW).sum();
    let threads = threads.max(1);
    // Short sequences too few to fill a row for each thread (a service's
    // few sentences, their key-phrase candidates, one short document)
    // share shorter rows, one for each thread, rather than one row that
    // leaves a thread idle and pads half its length: two rows of 32 run
    // side by side in the time of 5.3 ms where one of 64 took 9.4 (int8
    // graph, ONNX Runtime, one thread).
    let per_thread = short.div_ceil(threads);
    match shapes {
        Shapes::Fitted => pack(sequences, layout, max_len, shapes, packs, fitted(per_thread).clamp(8, PACKED_ROW)),
        // Few shapes keep to the ladder. Where the short sequences make a
        // few rows only, whole sequences seldom fill rows one for each
        // thread, and a row left over runs while the other threads wait:
        // 70 wordpieces of sentences take three rows of 40 or two of 48.
        // So the rows one for each thread are weighed against rows of 32,
        // 48 and 64, and those the threads finish first ([`makespan`]) are
        // kept. On tract, UD EWT dev sentences, 2 threads, AVX2, all tasks,
        // four a call: 25.7-31.7 s -> 19.5-24.0 s; eight a call:
        // 18.5-23.1 s -> 17.5-21.4 s. Weighing every rung of the ladder
        // was slower (eight a call 20.0-25.2 s): each new row length is a
        // new plan to build.
        Shapes::Few if packs && short <= threads * PACKED_ROW * FEW_ROWS_PER_THREAD => {
            let one_each = bucket_length(per_thread, PACKED_ROW).min(PACKED_ROW);
            let others = FEW_ROW_LENGTHS.into_iter().filter(|&row| row != one_each);
            std::iter::once(one_each)
                .chain(others)
                .map(|row| pack(sequences, layout, max_len, shapes, packs, row))
                .min_by_key(|units| (makespan(units, threads), units.iter().map(|u| row_cost(u.length)).sum::<usize>()))
                .unwrap_or_default()
        }
        Shapes::Few => pack(sequences, layout, max_len, shapes, packs, PACKED_ROW),
    }
}

/// Up to this many rows of [`PACKED_ROW`] a thread, the length of the rows
/// of short sequences is weighed by [`makespan`]; beyond, rows of
/// [`PACKED_ROW`] keep the threads as busy and pay the fixed cost of a row
/// least often.
const FEW_ROWS_PER_THREAD: usize = 4;

/// The row lengths weighed for few short sequences, besides one row for
/// each thread.
const FEW_ROW_LENGTHS: [usize; 3] = [32, 48, PACKED_ROW];

/// A row's cost in wordpieces' worth of time: a fixed part (the weights
/// streamed through, the heads' set-up) of about ten wordpieces, then its
/// wordpieces. One row on one tract thread, AVX2: 16 wordpieces ≈ 10 ms,
/// 32 ≈ 17, 48 ≈ 22, 64 ≈ 30 (`tract-profile model.onnx 1 N`).
fn row_cost(length: usize) -> usize {
    10 + length
}

/// When `threads` finish `units`, each taking the costliest row left
/// (longest processing time first, as the pool's batches run longest first).
fn makespan(units: &[Unit], threads: usize) -> usize {
    let mut costs: Vec<usize> = units.iter().map(|u| row_cost(u.length)).collect();
    costs.sort_unstable_by(|a, b| b.cmp(a));
    let mut load = vec![0; threads];
    for cost in costs {
        if let Some(least) = load.iter_mut().min() {
            *least += cost;
        }
    }
    load.into_iter().max().unwrap_or(0)
}

/// The rows of `sequences`: short ones (up to `row` wordpieces, when the
/// layout `packs`) packed into rows of `row` best fit by decreasing length
/// (each into the fullest row it fits), every other sequence alone.
fn pack(sequences: &[Sequence], layout: Layout, max_len: usize, shapes: Shapes, packs: bool, row: usize) -> Vec<Unit> {
    let mut order: Vec<usize> = (0..sequences.len()).collect();
    order.sort_by_key(|&s| (std::cmp::Reverse(sequences[s].ids.len()), s));
    let mut units: Vec<Unit> = Vec::new();
    // Packed rows (indices into `units`) by the wordpieces they have left:
    // finding a row is a look at most PACKED_ROW lists, whatever the count of rows.
    let mut by_room: Vec<Vec<usize>> = vec![Vec::new(); PACKED_ROW];
    for s in order {
        let (len, words) = (sequences[s].ids.len(), word_slots(&sequences[s], layout));
        if !packs || len > row {
            let length = match shapes {
                Shapes::Few => bucket_length(len, max_len),
                Shapes::Fitted => fitted(len).min(max_len.max(len)),
            };
            units.push(Unit { sequences: vec![s], length, words, packed: false });
            continue;
        }
        let (u, room) = match (len..row).find_map(|room| Some((by_room[room].pop()?, room))) {
            Some((u, room)) => {
                units[u].sequences.push(s);
                units[u].words += words;
                (u, room - len)
            }
            None => {
                units.push(Unit { sequences: vec![s], length: row, words, packed: true });
                (units.len() - 1, row - len)
            }
        };
        if room > 0 {
            by_room[room].push(u);
        }
    }
    if shapes == Shapes::Fitted {
        // A packed row is as long as the sequences it holds.
        for unit in units.iter_mut().filter(|u| u.packed) {
            unit.length = fitted(unit.sequences.iter().map(|&s| sequences[s].ids.len()).sum());
        }
    }
    units
}

/// `n` rounded up to a multiple of 8.
fn fitted(n: usize) -> usize {
    n.div_ceil(8) * 8
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
    shapes: Shapes,
    words: Words,
) -> Vec<Batch> {
    let mut units = units(sequences, layout, max_len, shapes, threads);
    units.sort_by_key(|u| (u.length, u.sequences[0]));
    let mut out = Vec::new();
    let mut k = 0;
    while k < units.len() {
        let length = units[k].length;
        let end = units[k..].iter().position(|u| u.length != length).map_or(units.len(), |p| k + p);
        let bucket = &units[k..end];
        // Rows per batch: within the budget, and few enough that the bucket
        // alone gives every worker a batch; for few shapes a power of two,
        // the remainder in single rows.
        let per_thread = bucket.len().div_ceil(threads.max(1)).max(1);
        let rows = match shapes {
            Shapes::Few => prev_power_of_two((budget / length).max(1)).min(prev_power_of_two(per_thread)),
            Shapes::Fitted => (budget / length).clamp(1, per_thread),
        };
        let mut at = 0;
        while at < bucket.len() {
            let left = bucket.len() - at;
            let take = match shapes {
                Shapes::Few if left < rows => 1,
                _ => rows.min(left),
            };
            out.push(place(&bucket[at..at + take], sequences, length, layout, shapes, words));
            at += take;
        }
        k = end;
    }
    // Longest batches first: the pool's last batches are then the short ones.
    out.sort_by_key(|b| std::cmp::Reverse(b.length * b.rows));
    out
}

/// The batch of `units`, one a row, with each sequence's place.
fn place(units: &[Unit], sequences: &[Sequence], length: usize, layout: Layout, shapes: Shapes, words: Words) -> Batch {
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
    let slots = fitted(units.iter().map(|u| u.words).max().unwrap_or(0));
    let width = match (words, shapes) {
        (Words::Unread, _) => 1,
        (Words::Read, Shapes::Few) => length.max(slots),
        (Words::Read, Shapes::Fitted) => slots.max(8),
    };
    Batch { placements, rows: units.len(), length, words: width, words_read: words }
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
        if batch.words_read == Words::Unread {
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
        let batches = plan(&seqs, 2048, 2, 512, Layout::Plain, Shapes::Few, Words::Read);
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
        let fitted = plan(&seqs, 2048, 2, 512, Layout::Plain, Shapes::Fitted, Words::Read);
        let mut seen: Vec<usize> = fitted.iter().flat_map(|b| b.sequences().collect::<Vec<_>>()).collect();
        seen.sort();
        assert_eq!(seen, (0..77).collect::<Vec<_>>());
        for b in &fitted {
            assert!(b.rows == 1 || b.rows * b.length <= 2048);
            assert!(b.sequences().all(|s| b.length - seqs[s].ids.len() < 8), "padded to a multiple of 8 at most");
        }
    }

    #[test]
    fn a_remainder_runs_in_single_rows() {
        let batches = plan(&vec![seq(30); 13], 256, 1, 512, Layout::Plain, Shapes::Few, Words::Read);
        let mut rows: Vec<usize> = batches.iter().map(|b| b.rows).collect();
        rows.sort();
        assert_eq!(rows, [1, 1, 1, 1, 1, 8]);
    }

    #[test]
    fn two_short_sequences_make_two_batches_for_two_threads() {
        let batches = plan(&[seq(10), seq(12)], 2048, 2, 512, Layout::Plain, Shapes::Few, Words::Read);
        assert_eq!(batches.len(), 2);
    }

    #[test]
    fn packed_rows_hold_short_sequences_whole_and_apart() {
        let seqs: Vec<Sequence> = (0..120).map(|i| seq(3 + (i * 29) % 90)).collect();
        let layout = Layout::Segments { pack: true };
        for shapes in [Shapes::Few, Shapes::Fitted] {
            check_packed_rows(&seqs, layout, shapes);
        }
    }

    fn check_packed_rows(seqs: &[Sequence], layout: Layout, shapes: Shapes) {
        let batches = plan(seqs, 256, 2, 512, layout, shapes, Words::Read);
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
        if shapes == Shapes::Few {
            assert!(batches.iter().filter(|b| b.length == PACKED_ROW).all(|b| b.rows == 1 || b.rows == 4));
        }
    }

    #[test]
    fn fitted_shapes_pad_only_to_a_multiple_of_eight() {
        // Three sequences of 20 wordpieces (18 words each) and one of 10
        // share rows of 64: 57 word slots with their [CLS] pseudo-words.
        let seqs = vec![seq(20), seq(20), seq(20), seq(10)];
        let layout = Layout::Segments { pack: true };
        let shape = |shapes, words| {
            let batches = plan(&seqs, 256, 1, 512, layout, shapes, words);
            batches.iter().map(|b| (b.rows, b.length, b.words)).collect::<Vec<_>>()
        };
        assert_eq!(shape(Shapes::Few, Words::Read), [(2, 48, 48)], "rows of 40 and 30, one shape per row length");
        assert_eq!(shape(Shapes::Fitted, Words::Read), [(1, 64, 64), (1, 16, 16)], "rows of 60 and 10");
        assert_eq!(shape(Shapes::Fitted, Words::Unread), [(1, 64, 1), (1, 16, 1)]);
        let seqs = vec![seq(40), seq(100)];
        let layout = Layout::Segments { pack: false };
        assert_eq!(
            plan(&seqs, 256, 1, 512, layout, Shapes::Few, Words::Read)
                .iter()
                .map(|b| (b.length, b.words))
                .collect::<Vec<_>>(),
            [(128, 128), (40, 40)]
        );
        assert_eq!(
            plan(&seqs, 256, 1, 512, layout, Shapes::Fitted, Words::Read)
                .iter()
                .map(|b| (b.length, b.words))
                .collect::<Vec<_>>(),
            [(104, 104), (40, 40)],
            "99 and 39 word slots, rounded up to 8"
        );
        let batches = plan(&seqs, 256, 1, 512, layout, Shapes::Fitted, Words::Unread);
        let unread = input(&batches[1], &seqs, layout);
        assert_eq!(unread.word_index, [0], "nothing written to the one slot");
        assert_eq!(unread.input_ids.iter().filter(|&&id| id != 0).count(), 40, "the wordpieces are all there");
    }

    #[test]
    fn few_short_sequences_share_a_row_for_each_thread() {
        // 60 wordpieces of candidates: two rows of at most 32 for two
        // threads, of the ladder's 32 for tract, one row of 64 for one thread.
        let seqs: Vec<Sequence> = (0..15).map(|_| seq(4)).collect();
        let layout = Layout::Segments { pack: true };
        let shape = |shapes, threads| {
            let batches = plan(&seqs, 256, threads, 512, layout, shapes, Words::Unread);
            batches.iter().map(|b| (b.rows, b.length)).collect::<Vec<_>>()
        };
        assert_eq!(shape(Shapes::Few, 2), [(1, 32), (1, 32)], "8 and 7 candidates, a row of 32 each");
        assert_eq!(shape(Shapes::Few, 1), [(1, 64)]);
        let three: Vec<Sequence> = (0..3).map(|_| seq(4)).collect();
        let batches = plan(&three, 256, 2, 512, layout, Shapes::Few, Words::Unread);
        assert_eq!(batches.iter().map(|b| (b.rows, b.length)).collect::<Vec<_>>(), [(1, 16)], "the shortest rung");
        assert_eq!(shape(Shapes::Fitted, 1), [(1, 64)], "60 wordpieces, rounded up to 64");
        assert_eq!(shape(Shapes::Fitted, 2), [(1, 32), (1, 32)], "8 and 7 candidates, in rows of at most 32");
        // Enough for full rows: rows of 64 whatever the threads.
        let seqs: Vec<Sequence> = (0..100).map(|_| seq(4)).collect();
        let batches = plan(&seqs, 256, 2, 512, layout, Shapes::Fitted, Words::Unread);
        let mut rows: Vec<usize> = batches.iter().flat_map(|b| vec![b.length; b.rows]).collect();
        rows.sort();
        assert_eq!(rows, [16, 64, 64, 64, 64, 64, 64], "400 wordpieces: six rows of 64, the rest in 16");
    }

    #[test]
    fn a_few_rows_are_as_long_as_the_threads_finish_first() {
        let layout = Layout::Segments { pack: true };
        let shape = |seqs: &[Sequence], threads| {
            let batches = plan(seqs, 256, threads, 512, layout, Shapes::Few, Words::Read);
            let mut rows: Vec<usize> = batches.iter().flat_map(|b| vec![b.length; b.rows]).collect();
            rows.sort();
            rows
        };
        // 70 wordpieces: rows of 40, one for each of two threads, would
        // hold 24, 23 and 23 in three, one thread running two; two of 48 hold them.
        let three = [seq(24), seq(23), seq(23)];
        assert_eq!(shape(&three, 2), [48, 48]);
        // One thread: two rows of 48 rather than two of 64.
        assert_eq!(shape(&three, 1), [48, 48]);
        // Where the rows one for each thread fit, they stay.
        assert_eq!(shape(&[seq(20), seq(18), seq(17), seq(15)], 2), [40, 40]);
    }

    #[test]
    fn fitted_batches_take_any_row_count_within_the_budget() {
        let seqs = vec![seq(64); 13];
        let layout = Layout::Segments { pack: true };
        let rows =
            |shapes| plan(&seqs, 512, 1, 512, layout, shapes, Words::Read).iter().map(|b| b.rows).collect::<Vec<_>>();
        assert_eq!(rows(Shapes::Few), [8, 1, 1, 1, 1, 1]);
        assert_eq!(rows(Shapes::Fitted), [8, 5]);
    }

    #[test]
    fn equal_short_sequences_fill_rows_exactly() {
        let seqs = vec![seq(16); 1000];
        let batches = plan(&seqs, 256, 2, 512, Layout::Segments { pack: true }, Shapes::Few, Words::Read);
        let rows: usize = batches.iter().map(|b| b.rows).sum();
        assert_eq!(rows, 250, "4 sequences of 16 to a row of 64");
    }

    #[test]
    fn without_packing_the_segment_layout_keeps_one_sequence_a_row() {
        let seqs: Vec<Sequence> = (0..9).map(|i| seq(4 + i)).collect();
        let batches = plan(&seqs, 256, 1, 512, Layout::Segments { pack: false }, Shapes::Few, Words::Read);
        for b in &batches {
            assert_eq!(b.placements.len(), b.rows);
            assert!(b.placements.iter().all(|p| p.offset == 0 && p.first_word == 1 && p.root_column == 1));
        }
    }
}
