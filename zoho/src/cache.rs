//! [`Expiring`]: values by key, each good for a fixed time after it was stored (the CRM client
//! keeps Zoho's module and field metadata in it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Values by key, each good for `ttl` after it was stored.
#[derive(Debug)]
pub struct Expiring<V> {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<V>)>>,
}

impl<V> Expiring<V> {
    pub fn new(ttl: Duration) -> Self {
        Expiring {
            ttl,
            entries: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Arc<V>)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The stored value for `key` if it is still fresh.
    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        self.lock()
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    /// Stores `value` for `key`, dropping entries that have gone stale.
    pub fn put(&self, key: String, value: V) -> Arc<V> {
        let value = Arc::new(value);
        let mut entries = self.lock();
        entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
        entries.insert(key, (Instant::now(), value.clone()));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_per_key_until_they_go_stale() {
        let cache = Expiring::new(Duration::from_millis(50));
        cache.put("c1 Leads".into(), 1);
        cache.put("c2 Leads".into(), 2);
        assert_eq!(cache.get("c1 Leads").as_deref(), Some(&1));
        assert_eq!(cache.get("c2 Leads").as_deref(), Some(&2));
        assert_eq!(cache.get("c1 Deals"), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("c2 Leads"), None, "stale after the TTL");
        cache.put("c3 Leads".into(), 3);
        assert_eq!(
            cache.lock().len(),
            1,
            "stale entries are dropped on the next store"
        );
    }
}
