use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, app::redis_url, assert_problem, proxy::TcpProxy};

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
    let target = redis_url()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
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
    let metrics = app.get("/metrics").await.text().await.unwrap();
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
