//! The service on a Redis Cluster: sessions, refresh-token rotation and rate
//! limits run their multi-key scripts on the node that holds every key of
//! the principal, and principals spread over the cluster's nodes.
//! This test uses the three-master cluster `scripts/services.sh` starts in
//! every pass (`SHIMINHUA_TEST_REDIS_CLUSTER_URL`); `scripts/test.sh` also
//! runs the whole suite against it.

use std::collections::{BTreeMap, BTreeSet};

use redis::AsyncCommands;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

/// The nodes of the local cluster, comma-separated.
fn cluster_url() -> String {
    std::env::var("SHIMINHUA_TEST_REDIS_CLUSTER_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:7001,redis://127.0.0.1:7002,redis://127.0.0.1:7003".to_owned())
}

/// Every key under `prefix` on every master, with the node that holds it.
async fn keys_by_node(prefix: &str) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for node in cluster_url().split(',') {
        let client = redis::Client::open(node).expect("a node URL");
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|err| {
                panic!("the Redis Cluster node {node} did not answer ({err}): scripts/test.sh starts the cluster, or set SHIMINHUA_TEST_REDIS_CLUSTER_URL")
            });
        let keys: Vec<String> = connection.keys(format!("{prefix}*")).await.expect("KEYS answers");
        for key in keys {
            found.insert(key, node.to_owned());
        }
    }
    found
}

/// The hash tag of a key: what Redis Cluster hashes to place it.
fn hash_tag(key: &str) -> Option<&str> {
    let open = key.find('{')?;
    let close = key[open + 1..].find('}')?;
    Some(&key[open + 1..open + 1 + close])
}

#[tokio::test]
async fn each_principal_keeps_its_keys_on_one_node_and_principals_spread_over_the_cluster() {
    let prefix = format!("shiminhua-cluster-test:{}:", uuid::Uuid::new_v4().simple());
    let app = TestApp::spawn_with(|vars| {
        vars.insert("REDIS_URL", cluster_url());
        vars.insert("SHIMINHUA_REDIS_PREFIX", prefix.clone());
        vars.insert("SHIMINHUA_RATE_PUBLIC_WRITE", "600".to_owned());
    })
    .await;

    for n in 0..24 {
        let worker = app.login_worker(&format!("cluster-worker-{n}")).await;
        assert_eq!(
            app.get_with("/api/v1/me", &worker.access_token).await.status(),
            StatusCode::OK
        );
        let refreshed = app
            .post_json(
                "/api/v1/auth/refresh",
                &json!({"refresh_token": worker.refresh_token}),
                None,
            )
            .await;
        assert_eq!(refreshed.status(), StatusCode::OK, "rotation runs on the cluster");
        let reused = app
            .post_json(
                "/api/v1/auth/refresh",
                &json!({"refresh_token": worker.refresh_token}),
                None,
            )
            .await;
        assert_eq!(
            reused.status(),
            StatusCode::UNAUTHORIZED,
            "a reused refresh token is refused"
        );
        assert_eq!(
            app.get_with("/api/v1/me", &worker.access_token).await.status(),
            StatusCode::UNAUTHORIZED,
            "reuse ended the session on the cluster"
        );
    }

    let keys = keys_by_node(&prefix).await;
    let mut nodes_by_tag: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (key, node) in &keys {
        if let Some(tag) = hash_tag(key) {
            nodes_by_tag.entry(tag).or_default().insert(node);
        }
    }
    assert!(nodes_by_tag.len() >= 24, "each worker's keys carry a tag: {keys:?}");
    for (tag, nodes) in &nodes_by_tag {
        assert_eq!(nodes.len(), 1, "the keys tagged {tag} are on one node: {keys:?}");
    }
    let used: BTreeSet<&String> = keys.values().collect();
    assert!(used.len() >= 2, "24 principals spread over several nodes: {keys:?}");
    app.stop().await;
}
