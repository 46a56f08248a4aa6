use std::time::Duration;

use reqwest::StatusCode;

use crate::support::{
    TestApp,
    app::{METRICS_TOKEN, redis_node_address},
    assert_problem,
    proxy::TcpProxy,
};

#[tokio::test]
async fn healthz_and_readyz_answer_when_everything_is_up() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get_json("/healthz").await["status"], "ok");
    let ready = app.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["database"], "up");
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = TestApp::spawn().await;
    app.get_json("/api/v1/regions/320115").await;
    app.get("/api/v1/regions/999999").await;
    app.get_json("/readyz").await;
    let text = app.metrics().await;
    let has = |needle: &str| {
        text.lines()
            .any(|l| l.starts_with("http_requests_total") && l.contains(needle))
    };
    assert!(
        has(r#"route="/api/v1/regions/{code}""#) && has(r#"status="404""#),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"), "{text}");
    assert!(
        text.contains(r#"shiminhua_dependency_up{dependency="database"} 1"#),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "mini-program-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "mini-program-42");
    let forged = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "bad id\twith spaces")
        .send()
        .await
        .unwrap();
    let generated = forged.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(generated, "bad id\twith spaces");
    assert_eq!(generated.len(), 36);
    app.stop().await;
}

/// Polls `/readyz` until it answers `status`, for at most a minute.
async fn wait_for_readiness(app: &TestApp, status: StatusCode) -> reqwest::Response {
    for _ in 0..120 {
        let response = app.get("/readyz").await;
        if response.status() == status {
            return response;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("/readyz never answered {status}");
}

#[tokio::test]
async fn readyz_follows_redis_going_away_and_coming_back_without_a_restart() {
    let target = redis_node_address();
    let proxy = TcpProxy::start(target).await;
    let proxied = format!("redis://{}", proxy.addr);
    let app = TestApp::spawn_with(|vars| {
        vars.insert("REDIS_URL", proxied);
    })
    .await;
    let ready = wait_for_readiness(&app, StatusCode::OK)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(ready["checks"]["redis"], "up");

    proxy.cut();
    let down = wait_for_readiness(&app, StatusCode::SERVICE_UNAVAILABLE).await;
    let body = assert_problem(down, StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE").await;
    assert_ne!(body["details"]["checks"]["redis"], "up");
    assert_eq!(body["details"]["checks"]["database"], "up");
    assert!(body["message"].as_str().unwrap().contains("redis"));

    proxy.restore();
    wait_for_readiness(&app, StatusCode::OK).await;
    app.stop().await;
}

#[tokio::test]
async fn metrics_are_served_only_to_the_operators_token_or_on_their_own_listener() {
    let app = TestApp::spawn().await;
    assert_problem(app.get("/metrics").await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let wrong = app.get_with("/metrics", "test-metrics-token-0123456789abcdeX").await;
    assert_problem(wrong, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let worker = app.login_worker("metrics-curious").await;
    let with_worker_token = app.get_with("/metrics", &worker.access_token).await;
    assert_problem(with_worker_token, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    assert!(app.metrics().await.contains("http_requests_total"));
    assert_eq!(app.get_json("/healthz").await["status"], "ok");
    app.stop().await;

    // Without a token, nothing opens /metrics on the public listener; the
    // operator's own listener serves it, and nothing else.
    let app = TestApp::spawn_with(|vars| {
        vars.remove("SHIMINHUA_METRICS_TOKEN");
        vars.insert("SHIMINHUA_METRICS_BIND", "127.0.0.1:0".to_owned());
    })
    .await;
    let old_token = app.get_with("/metrics", METRICS_TOKEN).await;
    assert_problem(old_token, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    assert_eq!(app.get_json("/readyz").await["status"], "ready");
    let metrics_url = format!("http://{}", app.metrics_addr().expect("a metrics listener"));
    let scraped = app.client.get(format!("{metrics_url}/metrics")).send().await.unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(scraped.text().await.unwrap().contains("http_requests_total"));
    for elsewhere in ["/api/v1/regions/320115", "/healthz", "/openapi.json"] {
        let response = app
            .client
            .get(format!("{metrics_url}{elsewhere}"))
            .send()
            .await
            .unwrap();
        assert_problem(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    app.stop().await;
}
