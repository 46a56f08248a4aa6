use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem};

async fn token(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/oauth/token"))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn client_credentials_give_a_scoped_token() {
    let app = TestApp::spawn().await;
    let admin = app.admin("320000").await;
    let created = app
        .post_json(
            "/api/v1/admin/clients",
            &json!({"name": "江宁区社保中心", "scopes": ["si_transfer:read", "si_transfer:write"]}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let (id, secret) = (
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    );

    let granted = token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ],
    )
    .await;
    assert_eq!(granted.status(), StatusCode::OK);
    assert_eq!(granted.headers()["cache-control"], "no-store");
    let granted: Value = granted.json().await.unwrap();
    assert_eq!(granted["token_type"], "Bearer");
    assert_eq!(granted["scope"], "si_transfer:read si_transfer:write");
    let whoami = app
        .get_json_with("/api/v1/integrations/whoami", granted["access_token"].as_str().unwrap())
        .await;
    assert_eq!(whoami["client_id"], id);

    let narrowed = app
        .client
        .post(app.url("/api/v1/oauth/token"))
        .header(
            "Authorization",
            format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
        )
        .form(&[("grant_type", "client_credentials"), ("scope", "si_transfer:read")])
        .send()
        .await
        .unwrap();
    assert_eq!(narrowed.json::<Value>().await.unwrap()["scope"], "si_transfer:read");
    app.stop().await;
}

#[tokio::test]
async fn token_errors_follow_rfc_6749() {
    let app = TestApp::spawn().await;
    let admin = app.admin("320000").await;
    let created: Value = app
        .post_json(
            "/api/v1/admin/clients",
            &json!({"name": "县平台", "scopes": ["si_transfer:read"]}),
            Some(&admin.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["client_id"].as_str().unwrap();
    type Case<'a> = (&'a [(&'a str, &'a str)], StatusCode, &'a str);
    let cases: [Case; 5] = [
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", "wrong"),
            ],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            &[("grant_type", "password"), ("client_id", id), ("client_secret", "x")],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            &[("grant_type", "client_credentials")],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            &[("client_id", id), ("client_secret", "x")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", created["client_secret"].as_str().unwrap()),
                ("scope", "si_transfer:write"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
    ];
    for (form, status, error) in cases {
        let response = token(&app, form).await;
        assert_eq!(response.status(), status, "{error}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], error);
        assert!(body["request_id"].is_string() && body["message"].is_string());
    }
    app.stop().await;
}

#[tokio::test]
async fn only_administrators_create_clients() {
    let app = TestApp::spawn().await;
    let admin = app.admin("320000").await;
    let inspector = app.staff(&admin, "inspector1", &["inspector"], "320115").await;
    let response = app
        .post_json(
            "/api/v1/admin/clients",
            &json!({"name": "x", "scopes": ["si_transfer:read"]}),
            Some(&inspector.access_token),
        )
        .await;
    assert_problem(response, StatusCode::FORBIDDEN, "ROLE_REQUIRED").await;
    app.stop().await;
}
