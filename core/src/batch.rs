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

use std::ops::Range;

use crate::model::BatchInput;

/// Padded sequence lengths, ascending. Sequences longer than the last step
/// pad to a multiple of 64 (capped at the model's maximum).
const LENGTH_STEPS: &[usize] = &[16, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 448, 512];

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

/// Sequences (by index) run together, padded to `length` wordpieces and
/// `words` words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Batch {
    pub rows: Vec<usize>,
    pub length: usize,
    pub words: usize,
}

/// The padded length of a sequence of `len` wordpieces.
pub(crate) fn bucket_length(len: usize, max: usize) -> usize {
    let padded = LENGTH_STEPS.iter().copied().find(|&s| s >= len).unwrap_or_else(|| len.div_ceil(64) * 64);
    padded.min(max.max(len))
}

/// Cuts `sequences` into batches of at most `budget` wordpieces (rows ×
/// padded length, at least one row), with enough batches to keep `threads`
/// workers busy when there are enough sequences.
pub(crate) fn plan(sequences: &[Sequence], budget: usize, threads: usize, max_len: usize) -> Vec<Batch> {
    let bucket_of: Vec<usize> = sequences.iter().map(|s| bucket_length(s.ids.len(), max_len)).collect();
    let mut order: Vec<usize> = (0..sequences.len()).collect();
    order.sort_by_key(|&s| (bucket_of[s], s));
    let mut out = Vec::new();
    let mut k = 0;
    while k < order.len() {
        let length = bucket_of[order[k]];
        let end = order[k..].iter().position(|&s| bucket_of[s] != length).map_or(order.len(), |p| k + p);
        let bucket = &order[k..end];
        // Rows per batch: a power of two within the budget, and small enough
        // that the bucket alone gives every worker a batch.
        let per_thread = bucket.len().div_ceil(threads.max(1));
        let rows = prev_power_of_two((budget / length).max(1)).min(prev_power_of_two(per_thread.max(1)));
        let mut at = 0;
        while at < bucket.len() {
            let take = if bucket.len() - at >= rows { rows } else { 1 };
            let batch_rows = bucket[at..at + take].to_vec();
            let words = batch_rows.iter().map(|&s| sequences[s].word_first.len()).max().unwrap_or(0);
            out.push(Batch { rows: batch_rows, length, words: length.max(words.div_ceil(8) * 8) });
            at += take;
        }
        k = end;
    }
    // Longest batches first: the pool's last batches are then the short ones.
    out.sort_by_key(|b| std::cmp::Reverse(b.length * b.rows.len()));
    out
}

fn prev_power_of_two(n: usize) -> usize {
    if n == 0 { 0 } else { 1 << (usize::BITS - 1 - n.leading_zeros()) }
}

/// The padded input tensors of `rows`.
pub(crate) fn input(rows: &[&Sequence], length: usize, words: usize) -> BatchInput {
    let n = rows.len();
    let mut input = BatchInput {
        rows: n,
        sequence: length,
        words,
        input_ids: vec![0; n * length],
        attention_mask: vec![0; n * length],
        case_ids: vec![0; n * length],
        word_index: vec![0; n * words],
    };
    for (r, seq) in rows.iter().enumerate() {
        let at = r * length;
        for (k, (&id, &case)) in seq.ids.iter().zip(&seq.case_ids).enumerate().take(length) {
            input.input_ids[at + k] = i64::from(id);
            input.case_ids[at + k] = i64::from(case);
            input.attention_mask[at + k] = 1;
        }
        for (w, &first) in seq.word_first.iter().enumerate().take(words) {
            input.word_index[r * words + w] = first as i64;
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
            word_first: vec![0; len.saturating_sub(2)],
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
        let batches = plan(&seqs, 2048, 2, 512);
        let mut seen: Vec<usize> = batches.iter().flat_map(|b| b.rows.clone()).collect();
        seen.sort();
        assert_eq!(seen, (0..77).collect::<Vec<_>>());
        for b in &batches {
            assert!(b.rows.len().is_power_of_two());
            let same_length = batches.iter().filter(|o| o.length == b.length);
            let row_counts: std::collections::BTreeSet<usize> = same_length.map(|o| o.rows.len()).collect();
            assert!(
                row_counts.len() <= 2
                    && row_counts.iter().all(|&r| r == 1 || r == row_counts.last().copied().unwrap_or(1)),
                "{row_counts:?}"
            );
            assert!(b.rows.len() == 1 || b.rows.len() * b.length <= 2048);
            assert!(
                b.rows
                    .iter()
                    .all(|&s| seqs[s].ids.len() <= b.length && bucket_length(seqs[s].ids.len(), 512) == b.length)
            );
        }
    }

    #[test]
    fn a_remainder_runs_in_single_rows() {
        let batches = plan(&vec![seq(30); 13], 256, 1, 512);
        let mut rows: Vec<usize> = batches.iter().map(|b| b.rows.len()).collect();
        rows.sort();
        assert_eq!(rows, [1, 1, 1, 1, 1, 8]);
    }

    #[test]
    fn two_short_sequences_make_two_batches_for_two_threads() {
        let batches = plan(&[seq(10), seq(12)], 2048, 2, 512);
        assert_eq!(batches.len(), 2);
    }
}
