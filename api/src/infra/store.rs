//! What the service keeps in Redis (sessions, rate limits, the WeChat access
//! token, idempotency locks), behind one trait with two implementations:
//! [`RedisStore`](super::redis_store::RedisStore) for production and
//! [`MemoryStore`](super::memory_store::MemoryStore) for the embedded default.
//!
//! Every compound operation is atomic in both: in Redis as one Lua script, in
//! memory under one lock.

use std::time::Duration;

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the key-value store is unreachable: {0}")]
    Unavailable(String),
    #[error("the key-value store answered something unexpected: {0}")]
    Protocol(String),
}

/// A rate: `limit` requests per `period`, all of which may arrive in one burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub period: Duration,
}

impl Quota {
    pub const fn per_minute(limit: u32) -> Self {
        Self {
            limit,
            period: Duration::from_secs(60),
        }
    }

    fn emission_interval_ms(&self) -> u64 {
        (self.period.as_millis() as u64 / u64::from(self.limit.max(1))).max(1)
    }
}

/// The outcome of one request against a [`Quota`] (GCRA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// When the quota is whole again.
    pub reset_after: Duration,
    /// When the next request would be allowed (zero when this one was).
    pub retry_after: Duration,
}

impl RateDecision {
    /// The verdict on a request that was not counted (its session had ended).
    pub fn unlimited(quota: Quota) -> Self {
        Self {
            allowed: true,
            limit: quota.limit,
            remaining: quota.limit,
            reset_after: Duration::ZERO,
            retry_after: Duration::ZERO,
        }
    }
}

/// The Generic Cell Rate Algorithm on a stored "theoretical arrival time",
/// in milliseconds. Both stores run this exact rule (Redis as Lua).
pub(crate) fn gcra(quota: Quota, stored_tat_ms: Option<u64>, now_ms: u64) -> (RateDecision, Option<u64>) {
    let interval = quota.emission_interval_ms();
    let burst_window = interval * u64::from(quota.limit.max(1));
    let tat = stored_tat_ms.unwrap_or(now_ms).max(now_ms);
    let new_tat = tat + interval;
    let allow_at = new_tat.saturating_sub(burst_window);
    if now_ms < allow_at {
        let decision = RateDecision {
            allowed: false,
            limit: quota.limit,
            remaining: 0,
            reset_after: Duration::from_millis(tat - now_ms),
            retry_after: Duration::from_millis(allow_at - now_ms),
        };
        return (decision, None);
    }
    let remaining = ((now_ms + burst_window - new_tat) / interval) as u32;
    let decision = RateDecision {
        allowed: true,
        limit: quota.limit,
        remaining,
        reset_after: Duration::from_millis(new_tat - now_ms),
        retry_after: Duration::ZERO,
    };
    (decision, Some(new_tat))
}

/// A session as the store keeps it: `{absolute_expiry_ms}|{created_ms}|{payload}`,
/// wall-clock milliseconds, so both the Lua scripts and the in-process store
/// can enforce the absolute lifetime and principal-wide revocation themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub absolute_expiry_ms: u64,
    pub created_ms: u64,
    pub payload: String,
}

impl StoredSession {
    pub fn encode(&self) -> String {
        format!("{}|{}|{}", self.absolute_expiry_ms, self.created_ms, self.payload)
    }

    pub fn decode(value: &str) -> Option<Self> {
        let mut parts = value.splitn(3, '|');
        Some(Self {
            absolute_expiry_ms: parts.next()?.parse().ok()?,
            created_ms: parts.next()?.parse().ok()?,
            payload: parts.next()?.to_owned(),
        })
    }

    /// Alive at `now_ms` and not created before the principal's revocation mark.
    pub fn valid_at(&self, now_ms: u64, revoked_before_ms: Option<u64>) -> bool {
        self.absolute_expiry_ms > now_ms && revoked_before_ms.is_none_or(|mark| self.created_ms > mark)
    }
}

pub fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// One authenticated request: is its session alive, and may it pass the rate limit?
/// Its three keys share one hash tag (`{…}`), so a Redis Cluster keeps them on one node.
#[derive(Debug, Clone, Copy)]
pub struct SessionCheck<'a> {
    pub session_key: &'a str,
    /// Staff sessions slide: each request extends the session to this idle timeout.
    pub slide_to: Option<Duration>,
    /// Holds the instant (ms) before which every session of the principal is revoked.
    pub revocation_key: &'a str,
    pub rate_key: &'a str,
    pub quota: Quota,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionVerdict {
    /// The session's payload; `None` when it ended, expired or was revoked.
    pub payload: Option<String>,
    pub rate: RateDecision,
}

/// Refresh-token rotation. A refresh token's key holds `current` or, once used, `rotated`.
/// Its three keys share one hash tag (`{…}`), so a Redis Cluster keeps them on one node.
#[derive(Debug, Clone, Copy)]
pub struct Rotation<'a> {
    pub presented_key: &'a str,
    pub replacement_key: &'a str,
    pub session_key: &'a str,
    /// Staff sessions slide: the rotation extends the session to this idle
    /// timeout, in the same atomic step, so nothing writes the session after it.
    pub slide_to: Option<Duration>,
    /// How long an unused refresh token stays valid (idle lifetime).
    pub idle: Duration,
    /// How long a rotated token is remembered, to detect its reuse.
    pub remember_rotated: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationOutcome {
    /// The session as stored; the caller checks principal-wide revocation,
    /// whose key only the session's payload names.
    Rotated { session: StoredSession },
    /// No such refresh token (never issued, or idle too long).
    Unknown,
    /// A rotated token came back: the session has been revoked.
    Reused,
    /// The session ended (logout, absolute lifetime).
    Ended,
}

pub(crate) const CURRENT: &str = "current";
pub(crate) const ROTATED: &str = "rotated";

#[async_trait]
pub trait KeyValueStore: Send + Sync + 'static {
    /// Which implementation this is, for `/readyz` and the logs.
    fn kind(&self) -> &'static str;

    async fn ping(&self) -> Result<(), StoreError>;

    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError>;

    /// Sets the value only when the key is absent; true when it was set.
    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, StoreError>;

    /// True when the key existed.
    async fn delete(&self, key: &str) -> Result<bool, StoreError>;

    /// Adds one; a new counter lives for `ttl` from its first increment.
    async fn increment(&self, key: &str, ttl: Duration) -> Result<i64, StoreError>;

    /// Adds one to a counter whose window opens with its first increment and
    /// lasts `window`: the count so far, and how long until the window closes.
    async fn count_in_window(&self, key: &str, window: Duration) -> Result<(i64, Duration), StoreError>;

    /// Takes back one increment of a live counter, keeping its expiry; a
    /// counter already gone stays gone (0).
    async fn decrement(&self, key: &str) -> Result<i64, StoreError>;

    /// Replaces the value only while it is still `expected` (`None`: absent).
    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&str>,
        new: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    /// Deletes the key only while it holds `expected`; true when deleted.
    async fn delete_if_equals(&self, key: &str, expected: &str) -> Result<bool, StoreError>;

    /// Counts one request against `quota` under `key`, atomically.
    async fn rate_limit(&self, key: &str, quota: Quota) -> Result<RateDecision, StoreError>;

    /// Checks a session and counts the request against the principal's quota,
    /// in one atomic step (one round trip to Redis).
    async fn authorize(&self, check: SessionCheck<'_>) -> Result<SessionVerdict, StoreError>;

    /// Rotates a refresh token atomically; a rotated token presented again
    /// revokes its whole session.
    async fn rotate_refresh(&self, rotation: Rotation<'_>) -> Result<RotationOutcome, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_allows_a_burst_then_spaces_requests() {
        let quota = Quota {
            limit: 3,
            period: Duration::from_secs(3),
        };
        let mut tat = None;
        for expected_remaining in [2, 1, 0] {
            let (decision, new_tat) = gcra(quota, tat, 10_000);
            assert!(decision.allowed);
            assert_eq!(decision.remaining, expected_remaining);
            tat = new_tat;
        }
        let (refused, unchanged) = gcra(quota, tat, 10_000);
        assert!(!refused.allowed);
        assert_eq!(unchanged, None);
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        let (later, _) = gcra(quota, tat, 11_000);
        assert!(later.allowed);
    }
}
