//! The embeddings of key-phrase candidates already seen, by model input.
//!
//! Ranking key phrases embeds each candidate alone in a second model pass,
//! and candidates repeat: across the documents of one call ("people",
//! "service" in a stream of reviews) and across calls. A candidate's
//! embedding depends only on its wordpieces and their case classes, so the
//! engine keeps the most recently used ones and runs only the new ones.
//!
//! A cached vector can differ from a recomputed one in the last bits of a
//! float (rows of another shape sum in another order), never more.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;

/// Candidate embeddings kept by default: ≈ 1.6 KB each for a 384-wide
/// embedding, ≈ 13 MB in all. On the UD EWT dev sentences (2,001
/// one-sentence documents), 8,101 candidates hold 5,072 distinct inputs.
pub const DEFAULT_PHRASE_CACHE: usize = 8192;

/// A candidate's model input as a key: each wordpiece id with its case class.
pub(crate) type PhraseKey = Box<[u64]>;

/// A bounded least-recently-used map from a candidate's model input to
/// its unit embedding; capacity 0 keeps nothing.
pub(crate) struct PhraseCache {
    entries: Option<Mutex<LruCache<PhraseKey, Box<[f32]>>>>,
}

impl PhraseCache {
    pub fn new(capacity: usize) -> Self {
        Self { entries: NonZeroUsize::new(capacity).map(|n| Mutex::new(LruCache::new(n))) }
    }

    /// The key of a model input: each wordpiece id with its case class.
    pub fn key(ids: &[u32], case_ids: &[u8]) -> PhraseKey {
        ids.iter().zip(case_ids).map(|(&id, &case)| (u64::from(id) << 8) | u64::from(case)).collect()
    }

    /// The embedding of `key`, if kept.
    pub fn get(&self, key: &[u64]) -> Option<Vec<f32>> {
        let mut entries = self.entries.as_ref()?.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).map(|v| v.to_vec())
    }

    /// Keeps `vector` as the embedding of `key`, forgetting the least
    /// recently used entry when full.
    pub fn put(&self, key: PhraseKey, vector: &[f32]) {
        if let Some(entries) = &self.entries {
            entries.lock().unwrap_or_else(|e| e.into_inner()).put(key, vector.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_most_recently_used() {
        let cache = PhraseCache::new(2);
        let (a, b, c) =
            (PhraseCache::key(&[1, 2], &[0, 1]), PhraseCache::key(&[1, 2], &[0, 2]), PhraseCache::key(&[3], &[0]));
        assert_ne!(a, b, "the case class is part of the key");
        cache.put(a.clone(), &[1.0]);
        cache.put(b.clone(), &[2.0]);
        assert_eq!(cache.get(&a), Some(vec![1.0]), "a is now the most recent");
        cache.put(c.clone(), &[3.0]);
        assert_eq!(cache.get(&b), None, "b was the least recently used");
        assert_eq!(cache.get(&a), Some(vec![1.0]));
        assert_eq!(cache.get(&c), Some(vec![3.0]));
    }

    #[test]
    fn capacity_zero_keeps_nothing() {
        let cache = PhraseCache::new(0);
        let key = PhraseCache::key(&[7], &[0]);
        cache.put(key.clone(), &[1.0]);
        assert_eq!(cache.get(&key), None);
    }
}
