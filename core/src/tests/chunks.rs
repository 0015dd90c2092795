//! Chunking never loses a byte: over any document, sentences → words →
//! chunks leave every non-whitespace byte inside exactly one owned chunk,
//! and no chunk reads more wordpieces than the budget allows.

use crate::split::{ChunkLimits, chunks, sentences};
use crate::words::words;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_byte_lies_in_one_owned_chunk(
        text in "([A-Za-z]{1,9}|[.,!?]|\\.\\.\\.|Dr\\.|3\\.5|👋|東京|e\u{301}|\n| |  ){0,200}",
        budget in 1usize..40,
        overlap in 0usize..12,
        pack in proptest::option::of(1usize..60),
    ) {
        let mut all = Vec::new();
        let mut ranges = Vec::new();
        for s in sentences(&text) {
            let first = all.len();
            all.extend(words(&text[s.clone()]).into_iter().map(|w| w.start + s.start..w.end + s.start));
            ranges.push(first..all.len());
        }
        // A stand-in for wordpieces: about one per three bytes.
        let pieces: Vec<usize> = all.iter().map(|w| w.len().div_ceil(3)).collect();
        let limits = ChunkLimits { wordpieces: budget, overlap, pack_wordpieces: pack };
        let cs = chunks(&ranges, &pieces, limits);
        let mut owner = vec![0usize; text.len()];
        for c in &cs {
            let read: usize = c.words.clone().map(|w| pieces[w].min(budget)).sum();
            prop_assert!(read <= budget || c.words.len() == 1, "chunk {c:?} reads {read} > {budget}");
            prop_assert!(c.words.start <= c.owned.start && c.owned.end <= c.words.end);
            for w in c.owned.clone() {
                for b in all[w].clone() {
                    owner[b] += 1;
                }
            }
        }
        for (b, c) in text.char_indices() {
            if !c.is_whitespace() {
                prop_assert_eq!(owner[b], 1, "byte {} ({:?}) owned {} times", b, c, owner[b]);
            }
        }
        prop_assert!(cs.windows(2).all(|p| p[0].owned.end == p[1].owned.start));
    }
}
