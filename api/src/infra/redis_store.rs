//! The Redis store, on one node or on a Redis Cluster. A single node's
//! [`ConnectionManager`] and a cluster connection both reconnect by
//! themselves, so the process survives a Redis restart; every command is
//! bounded by a response timeout, so a Redis that hangs is reported as
//! unavailable, not waited for.
//!
//! `REDIS_URL` names a cluster by listing its nodes, comma-separated
//! (`redis://10.0.0.1:7000,redis://10.0.0.2:7000`), or by one node with
//! `?cluster=true`. On a cluster, a script's keys must lie in one hash slot:
//! the callers give every key of one call the same hash tag (`{…}`).

use std::time::Duration;

use async_trait::async_trait;
use redis::{
    AsyncCommands, Cmd, Pipeline, RedisFuture, Script, Value,
    aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig},
    cluster::{ClusterClient, ClusterClientBuilder},
    cluster_async::ClusterConnection,
};
use tokio::sync::OnceCell;

use super::store::{
    KeyValueStore, Quota, RateDecision, Rotation, RotationOutcome, SessionCheck, SessionVerdict, StoreError,
    StoredSession,
};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(1500);

/// KEYS[1] counter; ARGV[1] ttl ms. The TTL is set only by the first increment.
const INCREMENT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n";

/// KEYS[1] counter; ARGV[1] window ms, opened by the first increment.
/// Returns {count, ms until the window closes}.
const COUNT_IN_WINDOW: &str = r"
local n = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {n, left}";

/// KEYS[1] counter. DECR on a missing key would create one without a TTL.
const DECREMENT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('DECR', KEYS[1])";

/// KEYS[1] key; ARGV[1] expected ('' with ARGV[4] = '0' means absent), ARGV[2] new, ARGV[3] ttl ms.
const COMPARE_AND_SET: &str = r"
local current = redis.call('GET', KEYS[1])
local expected_present = ARGV[4] == '1'
if (expected_present and current ~= ARGV[1]) or (not expected_present and current) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1";

/// Helpers shared by the scripts: the server's wall clock, GCRA (the same rule
/// as `store::gcra`), and the session check (the same rule as `StoredSession::valid_at`).
macro_rules! lua_prelude {
    () => {
        r"
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function gcra(key, interval, limit, now)
  local window = interval * limit
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - window
  if now < allow_at then
    return {0, 0, tat - now, allow_at - now}
  end
  redis.call('SET', key, new_tat, 'PX', new_tat - now)
  return {1, math.floor((now + window - new_tat) / interval), new_tat - now, 0}
end

local function live_session(key, revocation_key, now)
  local value = redis.call('GET', key)
  if not value then return nil end
  local expiry, created, payload = string.match(value, '^(%d+)|(%d+)|(.*)$')
  local mark = -1
  if revocation_key then mark = tonumber(redis.call('GET', revocation_key) or '-1') end
  if not expiry or tonumber(expiry) <= now or tonumber(created) <= mark then
    redis.call('DEL', key)
    return nil
  end
  return {value = value, expiry = tonumber(expiry), payload = payload}
end

local function slide(key, session, idle, now)
  local remaining = session.expiry - now
  if idle < remaining then remaining = idle end
  redis.call('PEXPIRE', key, remaining)
end
"
    };
}

/// KEYS[1] tat key; ARGV[1] interval ms, ARGV[2] limit.
/// Returns {allowed, remaining, reset_after_ms, retry_after_ms}.
const RATE_LIMIT: &str = concat!(
    lua_prelude!(),
    r"
return gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), now_ms())"
);

/// KEYS[1] session, KEYS[2] revocation mark, KEYS[3] rate key;
/// ARGV[1] slide ms (0: none), ARGV[2] interval ms, ARGV[3] limit.
/// Returns {found, payload, allowed, remaining, reset_after_ms, retry_after_ms}.
const AUTHORIZE: &str = concat!(
    lua_prelude!(),
    r"
local now = now_ms()
local session = live_session(KEYS[1], KEYS[2], now)
if not session then return {0, '', 1, 0, 0, 0} end
local idle = tonumber(ARGV[1])
if idle > 0 then slide(KEYS[1], session, idle, now) end
local rate = gcra(KEYS[3], tonumber(ARGV[2]), tonumber(ARGV[3]), now)
return {1, session.payload, rate[1], rate[2], rate[3], rate[4]}"
);

/// KEYS[1] presented token, KEYS[2] replacement, KEYS[3] session;
/// ARGV[1] idle ms, ARGV[2] remember-rotated ms, ARGV[3] session slide ms (0: none).
/// Returns {1, stored session} rotated, {0, ''} unknown, {2, ''} reused (session revoked), {3, ''} ended.
const ROTATE_REFRESH: &str = concat!(
    lua_prelude!(),
    r"
local state = redis.call('GET', KEYS[1])
if not state then return {0, ''} end
if state == 'rotated' then
  redis.call('DEL', KEYS[3])
  return {2, ''}
end
local now = now_ms()
local session = live_session(KEYS[3], nil, now)
if not session then return {3, ''} end
local remaining = session.expiry - now
local idle = tonumber(ARGV[1])
if idle < remaining then remaining = idle end
redis.call('SET', KEYS[1], 'rotated', 'PX', ARGV[2])
redis.call('SET', KEYS[2], 'current', 'PX', remaining)
local slide_to = tonumber(ARGV[3])
if slide_to > 0 then slide(KEYS[3], session, slide_to, now) end
return {1, session.value}"
);

/// KEYS[1] key; ARGV[1] expected value.
const DELETE_IF_EQUALS: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// Where the commands go: one node, or a cluster that routes each by its key.
enum Link {
    Node(ConnectionManager),
    /// Connected on first use and kept: the service starts (and reports not
    /// ready) while the cluster is down, and a failed connect is tried again
    /// by the next command.
    Cluster(Box<LazyCluster>),
}

struct LazyCluster {
    client: ClusterClient,
    connection: OnceCell<ClusterConnection>,
}

/// One command's connection, whichever the link.
#[derive(Clone)]
enum Connection {
    Node(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Node(node) => node.req_packed_command(cmd),
            Connection::Cluster(cluster) => cluster.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Node(node) => node.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(cluster) => cluster.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Node(node) => node.get_db(),
            Connection::Cluster(cluster) => cluster.get_db(),
        }
    }
}

/// The cluster's seed nodes when `url` names a cluster: several
/// comma-separated URLs, or one with `cluster=true` in its query.
fn cluster_nodes(url: &str) -> Option<Vec<String>> {
    let nodes: Vec<&str> = url.split(',').map(str::trim).filter(|node| !node.is_empty()).collect();
    if nodes.len() > 1 {
        return Some(nodes.into_iter().map(str::to_owned).collect());
    }
    let (base, query) = url.split_once('?')?;
    let mut cluster = false;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let flag = matches!(*pair, "cluster=true" | "cluster=1");
            cluster |= flag;
            !flag
        })
        .collect();
    cluster.then(|| {
        if kept.is_empty() {
            vec![base.to_owned()]
        } else {
            vec![format!("{base}?{}", kept.join("&"))]
        }
    })
}

fn single_node(url: &str) -> Result<Link, StoreError> {
    let client = redis::Client::open(url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500));
    let connection =
        ConnectionManager::new_lazy_with_config(client, config).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(Link::Node(connection))
}

fn cluster(nodes: Vec<String>) -> Result<Link, StoreError> {
    let client = ClusterClientBuilder::new(nodes)
        .connection_timeout(CONNECT_TIMEOUT)
        .response_timeout(RESPONSE_TIMEOUT)
        .retries(1)
        .max_retry_wait(500)
        .build()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(Link::Cluster(Box::new(LazyCluster {
        client,
        connection: OnceCell::new(),
    })))
}

pub struct RedisStore {
    link: Link,
    prefix: String,
    increment: Script,
    count_in_window: Script,
    decrement: Script,
    compare_and_set: Script,
    delete_if_equals: Script,
    rate_limit: Script,
    authorize: Script,
    rotate_refresh: Script,
}

impl RedisStore {
    /// Connects lazily: the service starts (and reports not ready) while Redis is down.
    pub fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let link = match cluster_nodes(url) {
            Some(nodes) => cluster(nodes)?,
            None => single_node(url)?,
        };
        Ok(Self {
            link,
            prefix: prefix.to_owned(),
            increment: Script::new(INCREMENT),
            count_in_window: Script::new(COUNT_IN_WINDOW),
            decrement: Script::new(DECREMENT),
            compare_and_set: Script::new(COMPARE_AND_SET),
            delete_if_equals: Script::new(DELETE_IF_EQUALS),
            rate_limit: Script::new(RATE_LIMIT),
            authorize: Script::new(AUTHORIZE),
            rotate_refresh: Script::new(ROTATE_REFRESH),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn connection(&self) -> Result<Connection, StoreError> {
        match &self.link {
            Link::Node(node) => Ok(Connection::Node(node.clone())),
            Link::Cluster(cluster) => {
                let connected = tokio::time::timeout(
                    CONNECT_TIMEOUT * 3,
                    cluster
                        .connection
                        .get_or_try_init(|| cluster.client.get_async_connection()),
                )
                .await
                .map_err(|_| StoreError::Unavailable("the Redis Cluster did not answer in time".to_owned()))?
                .map_err(unavailable)?;
                Ok(Connection::Cluster(connected.clone()))
            }
        }
    }
}

fn unavailable(err: redis::RedisError) -> StoreError {
    StoreError::Unavailable(err.to_string())
}

fn millis(duration: Duration) -> u64 {
    (duration.as_millis() as u64).max(1)
}

fn interval_ms(quota: Quota) -> u64 {
    (millis(quota.period) / u64::from(quota.limit.max(1))).max(1)
}

fn decision(quota: Quota, allowed: i64, remaining: i64, reset_ms: i64, retry_ms: i64) -> RateDecision {
    RateDecision {
        allowed: allowed == 1,
        limit: quota.limit,
        remaining: remaining.max(0) as u32,
        reset_after: Duration::from_millis(reset_ms.max(0) as u64),
        retry_after: Duration::from_millis(retry_ms.max(0) as u64),
    }
}

#[async_trait]
impl KeyValueStore for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection().await?;
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
        let mut connection = self.connection().await?;
        connection.get(self.key(key)).await.map_err(unavailable)
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError> {
        let mut connection = self.connection().await?;
        connection
            .pset_ex(self.key(key), value, millis(ttl))
            .await
            .map_err(unavailable)
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut connection = self.connection().await?;
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
        let mut connection = self.connection().await?;
        let removed: i64 = connection.del(self.key(key)).await.map_err(unavailable)?;
        Ok(removed > 0)
    }

    async fn increment(&self, key: &str, ttl: Duration) -> Result<i64, StoreError> {
        let mut connection = self.connection().await?;
        self.increment
            .key(self.key(key))
            .arg(millis(ttl))
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)
    }

    async fn count_in_window(&self, key: &str, window: Duration) -> Result<(i64, Duration), StoreError> {
        let mut connection = self.connection().await?;
        let (count, left_ms): (i64, i64) = self
            .count_in_window
            .key(self.key(key))
            .arg(millis(window))
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok((count, Duration::from_millis(left_ms.max(0) as u64)))
    }

    async fn decrement(&self, key: &str) -> Result<i64, StoreError> {
        let mut connection = self.connection().await?;
        self.decrement
            .key(self.key(key))
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
        let mut connection = self.connection().await?;
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

    async fn delete_if_equals(&self, key: &str, expected: &str) -> Result<bool, StoreError> {
        let mut connection = self.connection().await?;
        let deleted: i64 = self
            .delete_if_equals
            .key(self.key(key))
            .arg(expected)
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(deleted == 1)
    }

    async fn rate_limit(&self, key: &str, quota: Quota) -> Result<RateDecision, StoreError> {
        let mut connection = self.connection().await?;
        let (allowed, remaining, reset_ms, retry_ms): (i64, i64, i64, i64) = self
            .rate_limit
            .key(self.key(key))
            .arg(interval_ms(quota))
            .arg(quota.limit.max(1))
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(decision(quota, allowed, remaining, reset_ms, retry_ms))
    }

    async fn authorize(&self, check: SessionCheck<'_>) -> Result<SessionVerdict, StoreError> {
        let mut connection = self.connection().await?;
        let (found, payload, allowed, remaining, reset_ms, retry_ms): (i64, String, i64, i64, i64, i64) = self
            .authorize
            .key(self.key(check.session_key))
            .key(self.key(check.revocation_key))
            .key(self.key(check.rate_key))
            .arg(check.slide_to.map_or(0, millis))
            .arg(interval_ms(check.quota))
            .arg(check.quota.limit.max(1))
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(SessionVerdict {
            payload: (found == 1).then_some(payload),
            rate: decision(check.quota, allowed, remaining, reset_ms, retry_ms),
        })
    }

    async fn rotate_refresh(&self, rotation: Rotation<'_>) -> Result<RotationOutcome, StoreError> {
        let mut connection = self.connection().await?;
        let (outcome, value): (i64, String) = self
            .rotate_refresh
            .key(self.key(rotation.presented_key))
            .key(self.key(rotation.replacement_key))
            .key(self.key(rotation.session_key))
            .arg(millis(rotation.idle))
            .arg(millis(rotation.remember_rotated))
            .arg(rotation.slide_to.map_or(0, millis))
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(match outcome {
            1 => StoredSession::decode(&value)
                .map(|session| RotationOutcome::Rotated { session })
                .ok_or_else(|| StoreError::Protocol("a session is stored in an unknown format".to_owned()))?,
            2 => RotationOutcome::Reused,
            3 => RotationOutcome::Ended,
            _ => RotationOutcome::Unknown,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::cluster_nodes;

    #[test]
    fn a_single_url_is_one_node() {
        assert_eq!(cluster_nodes("redis://10.0.0.1:6379"), None);
        assert_eq!(cluster_nodes("redis://10.0.0.1:6379/2?protocol=resp3"), None);
    }

    #[test]
    fn several_urls_or_the_cluster_flag_name_a_cluster() {
        assert_eq!(
            cluster_nodes("redis://10.0.0.1:7000, redis://10.0.0.2:7000"),
            Some(vec![
                "redis://10.0.0.1:7000".to_owned(),
                "redis://10.0.0.2:7000".to_owned()
            ])
        );
        assert_eq!(
            cluster_nodes("redis://cache:7000?cluster=true"),
            Some(vec!["redis://cache:7000".to_owned()])
        );
        assert_eq!(
            cluster_nodes("rediss://cache:7000?cluster=1&protocol=resp3"),
            Some(vec!["rediss://cache:7000?protocol=resp3".to_owned()])
        );
    }
}
