use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, app::redis_node_address, assert_problem, proxy::TcpProxy};

#[tokio::test]
async fn hammering_login_from_one_address_gets_429_with_retry_after() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_RATE_PUBLIC_WRITE", "3".to_owned());
    })
    .await;
    for _ in 0..3 {
        let ok = app
            .post_json("/api/v1/auth/wechat/login", &json!({"code": "hammer"}), None)
            .await;
        assert_eq!(ok.status(), StatusCode::OK);
        assert!(ok.headers()["ratelimit-policy"].to_str().unwrap().contains("q=3"));
    }
    let limited = app
        .post_json("/api/v1/auth/wechat/login", &json!({"code": "hammer"}), None)
        .await;
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    assert!(limited.headers()["ratelimit"].to_str().unwrap().contains("r=0"));
    assert_problem(limited, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    app.stop().await;
}

#[tokio::test]
async fn each_principal_has_its_own_quota() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_RATE_WORKER", "2".to_owned());
    })
    .await;
    let busy = app.login_worker("busy-worker").await;
    let calm = app.login_worker("calm-worker").await;
    for _ in 0..2 {
        assert_eq!(
            app.get_with("/api/v1/me", &busy.access_token).await.status(),
            StatusCode::OK
        );
    }
    assert_problem(
        app.get_with("/api/v1/me", &busy.access_token).await,
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
    )
    .await;
    assert_eq!(
        app.get_with("/api/v1/me", &calm.access_token).await.status(),
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn with_redis_down_logins_fail_closed_and_public_reads_fail_open() {
    let target = redis_node_address();
    let proxy = TcpProxy::start(target).await;
    let proxied = format!("redis://{}", proxy.addr);
    let app = TestApp::spawn_with(|vars| {
        vars.insert("REDIS_URL", proxied);
    })
    .await;
    let worker = app.login_worker("before-outage").await;

    proxy.cut();
    let login = app
        .post_json("/api/v1/auth/wechat/login", &json!({"code": "during-outage"}), None)
        .await;
    assert_problem(login, StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE").await;
    let me = app.get_with("/api/v1/me", &worker.access_token).await;
    assert_problem(me, StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE").await;
    assert_eq!(app.get_json("/api/v1/regions/320115").await["name"], "江宁区");
    let metrics = app.metrics().await;
    assert!(metrics.contains("shiminhua_rate_limit_fail_open_total"), "{metrics}");

    proxy.restore();
    let mut recovered = false;
    for _ in 0..60 {
        if app.get_with("/api/v1/me", &worker.access_token).await.status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(recovered, "the session works again once Redis is back");
    app.stop().await;
}

async fn login_from(app: &TestApp, forwarded_for: &str) -> StatusCode {
    app.client
        .post(app.url("/api/v1/auth/wechat/login"))
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({"code": "forwarded"}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_quota() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_RATE_PUBLIC_WRITE", "2".to_owned());
        vars.insert("SHIMINHUA_TRUSTED_PROXIES", "127.0.0.0/8, ::1".to_owned());
    })
    .await;
    for _ in 0..2 {
        assert_eq!(login_from(&app, "203.0.113.7").await, StatusCode::OK);
    }
    assert_eq!(login_from(&app, "203.0.113.7").await, StatusCode::TOO_MANY_REQUESTS);
    // What the client wrote itself stands left of what the proxy appended.
    assert_eq!(
        login_from(&app, "198.51.100.1, 203.0.113.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(login_from(&app, "203.0.113.8").await, StatusCode::OK);
    // An IPv6 client is counted by its /64, not by each of its addresses.
    assert_eq!(login_from(&app, "2001:db8:1:2::1").await, StatusCode::OK);
    assert_eq!(login_from(&app, "2001:db8:1:2::2").await, StatusCode::OK);
    assert_eq!(login_from(&app, "2001:db8:1:2::3").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login_from(&app, "2001:db8:1:3::1").await, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn from_an_untrusted_peer_a_forged_forwarded_for_cannot_escape_the_quota() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_RATE_PUBLIC_WRITE", "2".to_owned());
        vars.insert("SHIMINHUA_TRUSTED_PROXIES", "10.0.0.0/8".to_owned());
    })
    .await;
    assert_eq!(login_from(&app, "203.0.113.1").await, StatusCode::OK);
    assert_eq!(login_from(&app, "203.0.113.2").await, StatusCode::OK);
    let limited = app
        .client
        .post(app.url("/api/v1/auth/wechat/login"))
        .header("X-Forwarded-For", "203.0.113.3")
        .json(&json!({"code": "forwarded"}))
        .send()
        .await
        .unwrap();
    assert_problem(limited, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    app.stop().await;
}
