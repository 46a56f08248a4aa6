//! One behavioural suite run against both stores. The Redis half needs a
//! Redis server (`SHIMINHUA_TEST_REDIS_URL`, default the local one) and fails
//! loudly without one: a store that is not tested is not known to work.

use std::{sync::Arc, time::Duration};

use super::{
    memory_store::MemoryStore,
    redis_store::RedisStore,
    store::{KeyValueStore, Quota, Rotation, RotationOutcome, SessionCheck, StoredSession, wall_clock_ms},
};

fn redis_store() -> RedisStore {
    let url = std::env::var("SHIMINHUA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("shiminhua-test:{}:", uuid::Uuid::new_v4());
    RedisStore::connect(&url, &prefix).expect("the Redis URL parses")
}

async fn require(store: &dyn KeyValueStore) {
    store.ping().await.unwrap_or_else(|err| {
        panic!("Redis is required by this test and did not answer ({err}); start it or set SHIMINHUA_TEST_REDIS_URL")
    });
}

async fn values_expire(store: &dyn KeyValueStore) {
    store.set("v", "one", Duration::from_millis(150)).await.unwrap();
    assert_eq!(store.get("v").await.unwrap().as_deref(), Some("one"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.get("v").await.unwrap(), None);
    assert!(!store.delete("v").await.unwrap());
}

async fn set_if_absent_sets_once(store: &dyn KeyValueStore) {
    assert!(store.set_if_absent("nx", "a", Duration::from_secs(5)).await.unwrap());
    assert!(!store.set_if_absent("nx", "b", Duration::from_secs(5)).await.unwrap());
    assert_eq!(store.get("nx").await.unwrap().as_deref(), Some("a"));
    assert!(store.delete("nx").await.unwrap());
    assert!(store.set_if_absent("nx", "c", Duration::from_secs(5)).await.unwrap());
}

async fn counters_are_atomic(store: Arc<dyn KeyValueStore>) {
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.increment("counter", Duration::from_secs(5)).await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=50).collect::<Vec<i64>>());
}

async fn a_decrement_takes_back_one_and_creates_nothing(store: &dyn KeyValueStore) {
    let ttl = Duration::from_secs(5);
    store.increment("taken", ttl).await.unwrap();
    store.increment("taken", ttl).await.unwrap();
    assert_eq!(store.decrement("taken").await.unwrap(), 1);
    assert_eq!(store.increment("taken", ttl).await.unwrap(), 2);
    assert_eq!(store.decrement("never").await.unwrap(), 0);
    assert_eq!(store.get("never").await.unwrap(), None);
}

async fn compare_and_set_swaps_only_the_expected_value(store: &dyn KeyValueStore) {
    let ttl = Duration::from_secs(5);
    assert!(store.compare_and_set("cas", None, "v1", ttl).await.unwrap());
    assert!(!store.compare_and_set("cas", None, "v2", ttl).await.unwrap());
    assert!(!store.compare_and_set("cas", Some("v0"), "v2", ttl).await.unwrap());
    assert!(store.compare_and_set("cas", Some("v1"), "v2", ttl).await.unwrap());
    assert_eq!(store.get("cas").await.unwrap().as_deref(), Some("v2"));
}

async fn rate_limit_counts_a_burst_then_refuses(store: Arc<dyn KeyValueStore>) {
    let quota = Quota::per_minute(5);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.rate_limit("rl", quota).await.unwrap() })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        let decision = task.await.unwrap();
        assert_eq!(decision.limit, 5);
        if decision.allowed {
            allowed += 1;
        } else {
            assert!(decision.retry_after > Duration::ZERO);
            assert!(decision.retry_after <= Duration::from_secs(12));
        }
    }
    assert_eq!(allowed, 5);
    let other = store.rate_limit("rl-other", quota).await.unwrap();
    assert!(other.allowed);
    assert_eq!(other.remaining, 4);
}

async fn delete_if_equals_spares_a_replaced_value(store: &dyn KeyValueStore) {
    let ttl = Duration::from_secs(5);
    store.set("token", "old", ttl).await.unwrap();
    store.set("token", "new", ttl).await.unwrap();
    assert!(!store.delete_if_equals("token", "old").await.unwrap());
    assert!(store.delete_if_equals("token", "new").await.unwrap());
    assert_eq!(store.get("token").await.unwrap(), None);
}

fn session(created_ms: u64, lifetime: Duration) -> String {
    StoredSession {
        absolute_expiry_ms: created_ms + lifetime.as_millis() as u64,
        created_ms,
        payload: r#"{"aud":"staff"}"#.to_owned(),
    }
    .encode()
}

fn check<'a>(quota: Quota) -> SessionCheck<'a> {
    SessionCheck {
        session_key: "sess:{u1}:s1",
        slide_to: Some(Duration::from_secs(60)),
        revocation_key: "revoked:{u1}:staff",
        rate_key: "rl:{u1}:staff",
        quota,
    }
}

async fn authorize_checks_the_session_and_counts_the_request(store: &dyn KeyValueStore) {
    let quota = Quota::per_minute(2);
    assert_eq!(store.authorize(check(quota)).await.unwrap().payload, None);

    let now = wall_clock_ms();
    store
        .set(
            "sess:{u1}:s1",
            &session(now - 10, Duration::from_secs(3600)),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let first = store.authorize(check(quota)).await.unwrap();
    assert_eq!(first.payload.as_deref(), Some(r#"{"aud":"staff"}"#));
    assert!(first.rate.allowed);
    assert_eq!(first.rate.remaining, 1);
    assert!(store.authorize(check(quota)).await.unwrap().rate.allowed);
    let third = store.authorize(check(quota)).await.unwrap();
    assert!(third.payload.is_some() && !third.rate.allowed);

    store
        .set("revoked:{u1}:staff", &now.to_string(), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        store.authorize(check(quota)).await.unwrap().payload,
        None,
        "revoked principal"
    );
    assert_eq!(
        store.get("sess:{u1}:s1").await.unwrap(),
        None,
        "a revoked session is removed"
    );

    store
        .set(
            "sess:{u1}:s1",
            &session(now - 7_200_000, Duration::from_secs(3600)),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    store.delete("revoked:{u1}:staff").await.unwrap();
    assert_eq!(
        store.authorize(check(quota)).await.unwrap().payload,
        None,
        "past its absolute lifetime"
    );
}

fn rotation<'a>(presented: &'a str, replacement: &'a str) -> Rotation<'a> {
    Rotation {
        presented_key: presented,
        replacement_key: replacement,
        session_key: "sess:{s2}",
        slide_to: None,
        idle: Duration::from_secs(60),
        remember_rotated: Duration::from_secs(120),
    }
}

async fn refresh_tokens_rotate_once_and_reuse_revokes_the_session(store: &dyn KeyValueStore) {
    let now = wall_clock_ms();
    store
        .set(
            "sess:{s2}",
            &session(now, Duration::from_secs(3600)),
            Duration::from_secs(3600),
        )
        .await
        .unwrap();
    store
        .set("rt:{s2}:a", "current", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        store
            .rotate_refresh(rotation("rt:{s2}:none", "rt:{s2}:x"))
            .await
            .unwrap(),
        RotationOutcome::Unknown
    );
    let rotated = store.rotate_refresh(rotation("rt:{s2}:a", "rt:{s2}:b")).await.unwrap();
    assert!(matches!(rotated, RotationOutcome::Rotated { ref session } if session.payload.contains("staff")));
    assert!(matches!(
        store.rotate_refresh(rotation("rt:{s2}:b", "rt:{s2}:c")).await.unwrap(),
        RotationOutcome::Rotated { .. }
    ));
    assert_eq!(
        store.rotate_refresh(rotation("rt:{s2}:a", "rt:{s2}:d")).await.unwrap(),
        RotationOutcome::Reused
    );
    assert_eq!(store.get("sess:{s2}").await.unwrap(), None, "reuse revokes the session");
    assert_eq!(
        store.rotate_refresh(rotation("rt:{s2}:c", "rt:{s2}:e")).await.unwrap(),
        RotationOutcome::Ended
    );
}

async fn a_rotation_slides_the_session_itself(store: &dyn KeyValueStore) {
    let now = wall_clock_ms();
    store
        .set(
            "sess:{s2}",
            &session(now, Duration::from_secs(3600)),
            Duration::from_millis(150),
        )
        .await
        .unwrap();
    store
        .set("rt:{s2}:slide", "current", Duration::from_secs(60))
        .await
        .unwrap();
    let sliding = Rotation {
        slide_to: Some(Duration::from_secs(60)),
        ..rotation("rt:{s2}:slide", "rt:{s2}:slid")
    };
    assert!(matches!(
        store.rotate_refresh(sliding).await.unwrap(),
        RotationOutcome::Rotated { .. }
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        store.get("sess:{s2}").await.unwrap().is_some(),
        "the rotation slid the session"
    );
    store.delete("sess:{s2}").await.unwrap();
}

async fn attempts_count_in_a_window_that_opens_with_the_first(store: &dyn KeyValueStore) {
    let window = Duration::from_millis(200);
    let (first, closes_in) = store.count_in_window("attempts", window).await.unwrap();
    assert_eq!(first, 1);
    assert!(closes_in > Duration::ZERO && closes_in <= window);
    let (second, later) = store.count_in_window("attempts", window).await.unwrap();
    assert_eq!(second, 2);
    assert!(later <= closes_in, "the second attempt does not extend the window");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.count_in_window("attempts", window).await.unwrap().0, 1);
}

async fn run_suite(store: Arc<dyn KeyValueStore>) {
    delete_if_equals_spares_a_replaced_value(store.as_ref()).await;
    authorize_checks_the_session_and_counts_the_request(store.as_ref()).await;
    refresh_tokens_rotate_once_and_reuse_revokes_the_session(store.as_ref()).await;
    a_rotation_slides_the_session_itself(store.as_ref()).await;
    attempts_count_in_a_window_that_opens_with_the_first(store.as_ref()).await;
    values_expire(store.as_ref()).await;
    set_if_absent_sets_once(store.as_ref()).await;
    counters_are_atomic(store.clone()).await;
    a_decrement_takes_back_one_and_creates_nothing(store.as_ref()).await;
    compare_and_set_swaps_only_the_expected_value(store.as_ref()).await;
    rate_limit_counts_a_burst_then_refuses(store).await;
}

#[tokio::test]
async fn memory_store_conforms() {
    run_suite(Arc::new(MemoryStore::default())).await;
}

#[tokio::test]
async fn redis_store_conforms() {
    let store = redis_store();
    require(&store).await;
    run_suite(Arc::new(store)).await;
}

#[tokio::test]
async fn an_unreachable_redis_is_reported_unavailable_quickly() {
    let store = RedisStore::connect("redis://127.0.0.1:1", "x:").unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(30), store.get("k"))
        .await
        .expect("a dead Redis must be reported, not waited for");
    assert!(answer.is_err());
}
