//! [`Coherent`]: a bounded copy of stored rows (connections, sessions) that writers and the
//! change bus invalidate, so a request with everything warm reads no database.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A bounded cache of stored values that stays coherent with the store: a reader fills it only
/// if nothing was invalidated since it began reading (an epoch counts invalidations), so a value
/// read just before a change can never outlive that change's invalidation. Entries also lapse
/// after `ttl`, a backstop for a change nobody heard of.
pub struct Coherent<K, V> {
    entries: quick_cache::sync::Cache<K, (Instant, V)>,
    ttl: Duration,
    epoch: AtomicU64,
}

impl<K: Eq + Hash + Clone, V: Clone> std::fmt::Debug for Coherent<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coherent")
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// A reader's ticket: taken before it reads the store, handed back to [`Coherent::fill`].
#[derive(Clone, Copy, Debug)]
pub struct Epoch(u64);

impl<K: Eq + Hash + Clone, V: Clone> Coherent<K, V> {
    /// A cache of at most about `capacity` entries, each trusted for `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Coherent {
            entries: quick_cache::sync::Cache::new(capacity.max(1)),
            ttl,
            epoch: AtomicU64::new(0),
        }
    }

    /// The cached value for `key`, if there is one still trusted.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Hash + quick_cache::Equivalent<K> + ?Sized,
    {
        let (at, value) = self.entries.get(key)?;
        (at.elapsed() < self.ttl).then_some(value)
    }

    /// Taken before reading the store for a later [`Coherent::fill`].
    pub fn epoch(&self) -> Epoch {
        Epoch(self.epoch.load(Ordering::Acquire))
    }

    /// Caches what the store said at `seen`, unless something was invalidated since.
    pub fn fill(&self, seen: Epoch, key: K, value: V) {
        if self.epoch.load(Ordering::Acquire) == seen.0 {
            self.entries.insert(key, (Instant::now(), value));
        }
    }

    /// Drops `key` (it changed); readers still in flight will not cache what they read.
    pub fn invalidate<Q>(&self, key: &Q)
    where
        Q: Hash + quick_cache::Equivalent<K> + ?Sized,
    {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.entries.remove(key);
    }

    /// Drops everything (changes may have been missed).
    pub fn invalidate_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_read_before_an_invalidation_is_not_cached_after_it() {
        let cache = Coherent::new(16, Duration::from_secs(60));
        let seen = cache.epoch();
        // ... the store is read here, then someone changes the row and invalidates it ...
        cache.invalidate(&"c1");
        cache.fill(seen, "c1", "stale");
        assert_eq!(cache.get(&"c1"), None, "the stale read is dropped");
        let seen = cache.epoch();
        cache.fill(seen, "c1", "fresh");
        assert_eq!(cache.get(&"c1"), Some("fresh"));
        cache.invalidate_all();
        assert_eq!(cache.get(&"c1"), None);
    }

    #[test]
    fn coherent_entries_lapse_after_their_ttl_and_the_cache_stays_bounded() {
        let cache = Coherent::new(100, Duration::from_millis(30));
        cache.fill(cache.epoch(), 1, 1);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get(&1), None, "lapsed");
        let cache = Coherent::new(100, Duration::from_secs(60));
        for i in 0..10_000 {
            cache.fill(cache.epoch(), i, i);
        }
        assert!(cache.len() <= 200, "bounded: {} entries", cache.len());
    }
}
