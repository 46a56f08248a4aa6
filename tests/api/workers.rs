use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, assert_problem};

#[tokio::test]
async fn a_worker_signs_in_with_wechat_and_never_sees_the_session_key() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json("/api/v1/auth/wechat/login", &json!({"code": "u-first"}), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(!text.contains("sk_") && !text.contains("session_key"), "{text}");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let me = app.get_with("/api/v1/me", body["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["id"], body["user"]["id"]);

    let again = app.login_worker("u-first").await;
    assert_eq!(
        again.body["user"]["id"], body["user"]["id"],
        "the same openid is the same worker"
    );
    let other = app.login_worker("someone-else").await;
    assert_ne!(other.body["user"]["id"], body["user"]["id"]);
    app.stop().await;
}

#[tokio::test]
async fn wechat_refusals_and_failures_map_to_documented_statuses() {
    let app = TestApp::spawn().await;
    let cases = [
        ("bad", StatusCode::BAD_REQUEST, "WECHAT_CODE_INVALID"),
        ("busy", StatusCode::TOO_MANY_REQUESTS, "WECHAT_RATE_LIMITED"),
        ("risky", StatusCode::FORBIDDEN, "WECHAT_RISKY_USER"),
        ("system", StatusCode::SERVICE_UNAVAILABLE, "WECHAT_UNAVAILABLE"),
        ("http500", StatusCode::SERVICE_UNAVAILABLE, "WECHAT_UNAVAILABLE"),
        ("garbage", StatusCode::SERVICE_UNAVAILABLE, "WECHAT_UNAVAILABLE"),
        ("huge", StatusCode::SERVICE_UNAVAILABLE, "WECHAT_UNAVAILABLE"),
        ("slow", StatusCode::SERVICE_UNAVAILABLE, "WECHAT_UNAVAILABLE"),
    ];
    for (code, status, problem) in cases {
        let response = app
            .post_json("/api/v1/auth/wechat/login", &json!({ "code": code }), None)
            .await;
        assert_problem(response, status, problem).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_refresh_token_works_once_and_its_reuse_ends_the_session() {
    let app = TestApp::spawn().await;
    let first = app.login_worker("refresher").await;
    let rotated = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": first.refresh_token}),
            None,
        )
        .await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: serde_json::Value = rotated.json().await.unwrap();
    let new_access = rotated["access_token"].as_str().unwrap();
    let new_refresh = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, first.refresh_token);
    assert_eq!(app.get_with("/api/v1/me", new_access).await.status(), StatusCode::OK);

    let replay = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": first.refresh_token}),
            None,
        )
        .await;
    assert_problem(replay, StatusCode::UNAUTHORIZED, "REFRESH_TOKEN_INVALID").await;
    let successor = app
        .post_json("/api/v1/auth/refresh", &json!({"refresh_token": new_refresh}), None)
        .await;
    assert_problem(successor, StatusCode::UNAUTHORIZED, "REFRESH_TOKEN_INVALID").await;
    assert_problem(
        app.get_with("/api/v1/me", new_access).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_ENDED",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn after_logout_the_access_token_fails_at_once() {
    let app = TestApp::spawn().await;
    let session = app.login_worker("leaver").await;
    let out = app
        .post_json("/api/v1/auth/logout", &json!({}), Some(&session.access_token))
        .await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get_with("/api/v1/me", &session.access_token).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_ENDED",
    )
    .await;
    let refresh = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": session.refresh_token}),
            None,
        )
        .await;
    assert_problem(refresh, StatusCode::UNAUTHORIZED, "REFRESH_TOKEN_INVALID").await;
    app.stop().await;
}

#[tokio::test]
async fn the_profile_keeps_id_numbers_only_with_consent_and_masks_them() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("profiled").await;
    let put = |body: serde_json::Value| {
        let app = &app;
        let token = worker.access_token.clone();
        async move {
            app.client
                .put(app.url("/api/v1/me/profile"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let no_consent = put(json!({"id_number": "11010519491231002X"})).await;
    assert_problem(no_consent, StatusCode::BAD_REQUEST, "CONSENT_REQUIRED").await;
    let bad_digit = put(json!({"id_number": "110105194912310021", "consent_version": "2026-11"})).await;
    let body = assert_problem(bad_digit, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(body["details"]["fields"][0]["field"], "id_number");
    let bad_region = put(json!({"work_region_code": "999999"})).await;
    let body = assert_problem(bad_region, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(body["details"]["fields"][0]["field"], "work_region_code");

    let saved = put(json!({
        "real_name": "张三",
        "id_number": "11010519491231002X",
        "consent_version": "2026-11",
        "hukou_region_code": "450100",
        "hukou_type": "agricultural",
        "work_region_code": "320115"
    }))
    .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let profile: serde_json::Value = saved.json().await.unwrap();
    assert_eq!(profile["id_number"], "1101**********002X");
    assert_eq!(profile["real_name"], "张三");
    assert_eq!(profile["hukou_type"], "agricultural");
    let me = app.get_json_with("/api/v1/me", &worker.access_token).await;
    assert_eq!(me["id_number"], "1101**********002X");
    assert_eq!(me["work_region_code"], "320115");

    let other = app.login_worker("impostor").await;
    let taken = app
        .client
        .put(app.url("/api/v1/me/profile"))
        .bearer_auth(&other.access_token)
        .json(&json!({"id_number": "11010519491231002X", "consent_version": "2026-11"}))
        .send()
        .await
        .unwrap();
    assert_problem(taken, StatusCode::CONFLICT, "ID_NUMBER_IN_USE").await;
    app.stop().await;
}

#[tokio::test]
async fn the_phone_is_bound_through_wechat_with_one_shared_access_token() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("caller").await;
    let bind = |code: &'static str| {
        let (app, token) = (&app, &worker.access_token);
        async move {
            app.post_json("/api/v1/me/phone", &json!({ "code": code }), Some(token))
                .await
        }
    };
    let bound = bind("phone-ok").await;
    assert_eq!(bound.status(), StatusCode::OK);
    assert_eq!(bound.json::<serde_json::Value>().await.unwrap()["phone"], "138****5678");
    assert_eq!(bind("phone-ok").await.status(), StatusCode::OK);
    assert_eq!(app.wechat.tokens_issued(), 1, "the access token is cached and shared");

    app.wechat.expire("token-1");
    assert_eq!(
        bind("phone-ok").await.status(),
        StatusCode::OK,
        "an expired token is replaced"
    );
    assert_eq!(app.wechat.tokens_issued(), 2);

    assert_problem(
        bind("phone-foreign").await,
        StatusCode::BAD_REQUEST,
        "WECHAT_CODE_INVALID",
    )
    .await;
    assert_problem(bind("nonsense").await, StatusCode::BAD_REQUEST, "WECHAT_CODE_INVALID").await;
    app.stop().await;
}

#[tokio::test]
async fn sandbox_mode_signs_in_without_wechat() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_WECHAT_MODE", "sandbox".to_owned());
        vars.insert("SHIMINHUA_WECHAT_API_BASE", "http://127.0.0.1:1".to_owned());
    })
    .await;
    let first = app.login_worker("any-code").await;
    let again = app.login_worker("any-code").await;
    assert_eq!(first.body["user"]["id"], again.body["user"]["id"]);
    app.stop().await;
}
