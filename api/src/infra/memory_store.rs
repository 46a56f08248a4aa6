//! The in-process store of the embedded default: one process, one map.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use async_trait::async_trait;

use super::store::{KeyValueStore, Quota, RateDecision, StoreError, gcra};

/// Expired entries are dropped lazily on read and in a sweep every this many writes.
const SWEEP_EVERY_WRITES: u64 = 4096;

struct Entry {
    value: String,
    expires_at: Instant,
}

#[derive(Default)]
struct Map {
    entries: HashMap<String, Entry>,
    writes: u64,
}

impl Map {
    fn live(&self, key: &str, now: Instant) -> Option<&Entry> {
        self.entries.get(key).filter(|e| e.expires_at > now)
    }

    fn put(&mut self, key: &str, value: String, expires_at: Instant, now: Instant) {
        self.writes += 1;
        if self.writes.is_multiple_of(SWEEP_EVERY_WRITES) {
            self.entries.retain(|_, e| e.expires_at > now);
        }
        self.entries.insert(key.to_owned(), Entry { value, expires_at });
    }
}

pub struct MemoryStore {
    map: Mutex<Map>,
    epoch: Instant,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            map: Mutex::new(Map::default()),
            epoch: Instant::now(),
        }
    }
}

impl MemoryStore {
    fn with_map<T>(&self, f: impl FnOnce(&mut Map, Instant) -> T) -> T {
        // A panic while holding the lock cannot leave a half-written entry
        // (every write is one insert), so a poisoned lock is still usable.
        let mut map = self.map.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut map, Instant::now())
    }
}

#[async_trait]
impl KeyValueStore for MemoryStore {
    fn kind(&self) -> &'static str {
        "in-process"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.with_map(|map, now| map.live(key, now).map(|e| e.value.clone())))
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError> {
        self.with_map(|map, now| map.put(key, value.to_owned(), now + ttl, now));
        Ok(())
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, StoreError> {
        Ok(self.with_map(|map, now| {
            if map.live(key, now).is_some() {
                return false;
            }
            map.put(key, value.to_owned(), now + ttl, now);
            true
        }))
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.with_map(|map, now| map.entries.remove(key).is_some_and(|e| e.expires_at > now)))
    }

    async fn increment(&self, key: &str, ttl: Duration) -> Result<i64, StoreError> {
        self.with_map(|map, now| {
            let (current, expires_at) = match map.live(key, now) {
                Some(entry) => (
                    entry
                        .value
                        .parse::<i64>()
                        .map_err(|_| StoreError::Protocol(format!("{key} does not hold a counter")))?,
                    entry.expires_at,
                ),
                None => (0, now + ttl),
            };
            map.put(key, (current + 1).to_string(), expires_at, now);
            Ok(current + 1)
        })
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&str>,
        new: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        Ok(self.with_map(|map, now| {
            let current = map.live(key, now).map(|e| e.value.as_str());
            if current != expected {
                return false;
            }
            map.put(key, new.to_owned(), now + ttl, now);
            true
        }))
    }

    async fn rate_limit(&self, key: &str, quota: Quota) -> Result<RateDecision, StoreError> {
        let epoch = self.epoch;
        Ok(self.with_map(|map, now| {
            let now_ms = now.duration_since(epoch).as_millis() as u64;
            let stored = map.live(key, now).and_then(|e| e.value.parse().ok());
            let (decision, new_tat) = gcra(quota, stored, now_ms);
            if let Some(tat) = new_tat {
                let expires_at = now + Duration::from_millis(tat - now_ms);
                map.put(key, tat.to_string(), expires_at, now);
            }
            decision
        }))
    }
}
