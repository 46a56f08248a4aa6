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

    /// Replaces the value only while it is still `expected` (`None`: absent).
    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&str>,
        new: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    /// Counts one request against `quota` under `key`, atomically.
    async fn rate_limit(&self, key: &str, quota: Quota) -> Result<RateDecision, StoreError>;
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
