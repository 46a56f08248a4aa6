//! The in-process store of the embedded default: one process, one map.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use async_trait::async_trait;

use super::store::{
    CURRENT, KeyValueStore, Quota, ROTATED, RateDecision, Rotation, RotationOutcome, SessionCheck, SessionVerdict,
    StoreError, StoredSession, gcra, wall_clock_ms,
};

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
        self.with_map(|map, now| add_one(map, now, key, ttl))
    }

    async fn count_in_window(&self, key: &str, window: Duration) -> Result<(i64, Duration), StoreError> {
        self.with_map(|map, now| {
            let count = add_one(map, now, key, window)?;
            let closes_at = map.live(key, now).map_or(now + window, |entry| entry.expires_at);
            Ok((count, closes_at.saturating_duration_since(now)))
        })
    }

    async fn decrement(&self, key: &str) -> Result<i64, StoreError> {
        self.with_map(|map, now| {
            let Some(entry) = map.live(key, now) else {
                return Ok(0);
            };
            let current = entry
                .value
                .parse::<i64>()
                .map_err(|_| StoreError::Protocol(format!("{key} does not hold a counter")))?;
            let expires_at = entry.expires_at;
            map.put(key, (current - 1).to_string(), expires_at, now);
            Ok(current - 1)
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

    async fn delete_if_equals(&self, key: &str, expected: &str) -> Result<bool, StoreError> {
        Ok(self.with_map(|map, now| {
            if map.live(key, now).is_some_and(|e| e.value == expected) {
                map.entries.remove(key);
                return true;
            }
            false
        }))
    }

    async fn rate_limit(&self, key: &str, quota: Quota) -> Result<RateDecision, StoreError> {
        let epoch = self.epoch;
        Ok(self.with_map(|map, now| count_request(map, now, epoch, key, quota)))
    }

    async fn authorize(&self, check: SessionCheck<'_>) -> Result<SessionVerdict, StoreError> {
        let epoch = self.epoch;
        Ok(self.with_map(|map, now| {
            let wall_ms = wall_clock_ms();
            let Some(session) = live_session(map, now, wall_ms, check.session_key, Some(check.revocation_key)) else {
                return SessionVerdict {
                    payload: None,
                    rate: RateDecision::unlimited(check.quota),
                };
            };
            if let Some(idle) = check.slide_to {
                slide(map, now, wall_ms, check.session_key, &session, idle);
            }
            SessionVerdict {
                payload: Some(session.payload),
                rate: count_request(map, now, epoch, check.rate_key, check.quota),
            }
        }))
    }

    async fn rotate_refresh(&self, rotation: Rotation<'_>) -> Result<RotationOutcome, StoreError> {
        Ok(self.with_map(|map, now| {
            let wall_ms = wall_clock_ms();
            match map.live(rotation.presented_key, now).map(|e| e.value.as_str()) {
                None => return RotationOutcome::Unknown,
                Some(ROTATED) => {
                    map.entries.remove(rotation.session_key);
                    return RotationOutcome::Reused;
                }
                Some(_) => {}
            }
            let Some(session) = live_session(map, now, wall_ms, rotation.session_key, None) else {
                return RotationOutcome::Ended;
            };
            let remaining = Duration::from_millis(session.absolute_expiry_ms - wall_ms);
            map.put(
                rotation.presented_key,
                ROTATED.to_owned(),
                now + rotation.remember_rotated,
                now,
            );
            map.put(
                rotation.replacement_key,
                CURRENT.to_owned(),
                now + rotation.idle.min(remaining),
                now,
            );
            if let Some(idle) = rotation.slide_to {
                slide(map, now, wall_ms, rotation.session_key, &session, idle);
            }
            RotationOutcome::Rotated { session }
        }))
    }
}

/// Adds one to the counter under `key`; a new counter lives for `ttl`.
fn add_one(map: &mut Map, now: Instant, key: &str, ttl: Duration) -> Result<i64, StoreError> {
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
}

fn count_request(map: &mut Map, now: Instant, epoch: Instant, key: &str, quota: Quota) -> RateDecision {
    let now_ms = now.duration_since(epoch).as_millis() as u64;
    let stored = map.live(key, now).and_then(|e| e.value.parse().ok());
    let (decision, new_tat) = gcra(quota, stored, now_ms);
    if let Some(tat) = new_tat {
        let expires_at = now + Duration::from_millis(tat - now_ms);
        map.put(key, tat.to_string(), expires_at, now);
    }
    decision
}

/// The session under `key` if it is alive and not revoked; a dead one is removed.
fn live_session(
    map: &mut Map,
    now: Instant,
    wall_ms: u64,
    key: &str,
    revocation_key: Option<&str>,
) -> Option<StoredSession> {
    let session = map.live(key, now).and_then(|e| StoredSession::decode(&e.value))?;
    let revoked_before = revocation_key
        .and_then(|k| map.live(k, now))
        .and_then(|e| e.value.parse().ok());
    if session.valid_at(wall_ms, revoked_before) {
        Some(session)
    } else {
        map.entries.remove(key);
        None
    }
}

fn slide(map: &mut Map, now: Instant, wall_ms: u64, key: &str, session: &StoredSession, idle: Duration) {
    let remaining = Duration::from_millis(session.absolute_expiry_ms.saturating_sub(wall_ms));
    map.put(key, session.encode(), now + idle.min(remaining), now);
}
