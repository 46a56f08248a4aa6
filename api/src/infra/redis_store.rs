//! The Redis store. A [`ConnectionManager`] reconnects by itself, so the
//! process survives a Redis restart; every command is bounded by a response
//! timeout, so a Redis that hangs is reported as unavailable, not waited for.

use std::time::Duration;

use async_trait::async_trait;
use redis::{
    AsyncCommands, Script,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

use super::store::{KeyValueStore, Quota, RateDecision, StoreError};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(1500);

/// KEYS[1] counter; ARGV[1] ttl ms. The TTL is set only by the first increment.
const INCREMENT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n";

/// KEYS[1] key; ARGV[1] expected ('' with ARGV[4] = '0' means absent), ARGV[2] new, ARGV[3] ttl ms.
const COMPARE_AND_SET: &str = r"
local current = redis.call('GET', KEYS[1])
local expected_present = ARGV[4] == '1'
if (expected_present and current ~= ARGV[1]) or (not expected_present and current) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1";

/// GCRA, the same rule as `store::gcra`. KEYS[1] tat key; ARGV[1] interval ms, ARGV[2] limit.
/// Returns {allowed, remaining, reset_after_ms, retry_after_ms}.
const RATE_LIMIT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = interval * limit
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - window
if now < allow_at then
  return {0, 0, tat - now, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, math.floor((now + window - new_tat) / interval), new_tat - now, 0}";

pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    increment: Script,
    compare_and_set: Script,
    rate_limit: Script,
}

impl RedisStore {
    /// Connects lazily: the service starts (and reports not ready) while Redis is down.
    pub fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
            increment: Script::new(INCREMENT),
            compare_and_set: Script::new(COMPARE_AND_SET),
            rate_limit: Script::new(RATE_LIMIT),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn unavailable(err: redis::RedisError) -> StoreError {
    StoreError::Unavailable(err.to_string())
}

fn millis(duration: Duration) -> u64 {
    (duration.as_millis() as u64).max(1)
}

#[async_trait]
impl KeyValueStore for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let pong: String = redis::cmd("PING")
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(StoreError::Protocol(format!("PING answered {pong:?}")))
        }
    }

    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut connection = self.connection.clone();
        connection.get(self.key(key)).await.map_err(unavailable)
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        connection
            .pset_ex(self.key(key), value, millis(ttl))
            .await
            .map_err(unavailable)
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(set.is_some())
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let removed: i64 = connection.del(self.key(key)).await.map_err(unavailable)?;
        Ok(removed > 0)
    }

    async fn increment(&self, key: &str, ttl: Duration) -> Result<i64, StoreError> {
        let mut connection = self.connection.clone();
        self.increment
            .key(self.key(key))
            .arg(millis(ttl))
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&str>,
        new: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let swapped: i64 = self
            .compare_and_set
            .key(self.key(key))
            .arg(expected.unwrap_or_default())
            .arg(new)
            .arg(millis(ttl))
            .arg(if expected.is_some() { "1" } else { "0" })
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(swapped == 1)
    }

    async fn rate_limit(&self, key: &str, quota: Quota) -> Result<RateDecision, StoreError> {
        let mut connection = self.connection.clone();
        let interval = (millis(quota.period) / u64::from(quota.limit.max(1))).max(1);
        let (allowed, remaining, reset_ms, retry_ms): (i64, i64, i64, i64) = self
            .rate_limit
            .key(self.key(key))
            .arg(interval)
            .arg(quota.limit.max(1))
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(RateDecision {
            allowed: allowed == 1,
            limit: quota.limit,
            remaining: remaining.max(0) as u32,
            reset_after: Duration::from_millis(reset_ms.max(0) as u64),
            retry_after: Duration::from_millis(retry_ms.max(0) as u64),
        })
    }
}
