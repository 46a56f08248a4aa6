use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem};

/// A token of a new client with `scopes`, created by `admin_token`'s
/// administrator for `region` (by default the administrator's own).
pub async fn integrator(app: &TestApp, admin_token: &str, scopes: &[&str], region: Option<&str>) -> String {
    let mut body = json!({"name": "社保经办平台", "scopes": scopes});
    if let Some(region) = region {
        body["region_code"] = json!(region);
    }
    let created = app.post_json("/api/v1/admin/clients", &body, Some(admin_token)).await;
    assert_eq!(created.status(), StatusCode::CREATED, "creating a client of {region:?}");
    let created: Value = created.json().await.unwrap();
    let granted: Value = token(
        app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", created["client_id"].as_str().unwrap()),
            ("client_secret", created["client_secret"].as_str().unwrap()),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    granted["access_token"].as_str().unwrap().to_owned()
}

async fn token(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/oauth/token"))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// A provincial administrator's client serves that province (by default),
/// and its token says so.
#[tokio::test]
async fn client_credentials_give_a_scoped_token_of_the_clients_region() {
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
    assert_eq!(created["region_code"], "320000");
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
    assert_eq!(whoami["region_code"], "320000");

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

/// An administrator gives a client its own region or one below, never one
/// above or beside it: a county cannot mint a national or a provincial client.
#[tokio::test]
async fn a_client_is_created_inside_the_administrators_region_only() {
    let app = TestApp::spawn().await;
    let county = app.admin("320115").await;
    for region in ["000000", "320000", "320100", "320116", "450102"] {
        let response = app
            .post_json(
                "/api/v1/admin/clients",
                &json!({"name": "越权平台", "scopes": ["si_transfer:read"], "region_code": region}),
                Some(&county.access_token),
            )
            .await;
        assert_problem(response, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;
    }
    // Left out means the administrator's own region; an explicit null is a
    // wrong value, not a way to reach the default.
    let null_region = app
        .post_json(
            "/api/v1/admin/clients",
            &json!({"name": "江宁区社保中心", "scopes": ["si_transfer:read"], "region_code": null}),
            Some(&county.access_token),
        )
        .await;
    assert_problem(null_region, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    let own: Value = app
        .post_json(
            "/api/v1/admin/clients",
            &json!({"name": "江宁区社保中心", "scopes": ["si_transfer:read"]}),
            Some(&county.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["region_code"], "320115");
    let city = app.admin("320100").await;
    let below: Value = app
        .post_json(
            "/api/v1/admin/clients",
            &json!({"name": "六合区社保中心", "scopes": ["si_transfer:read"], "region_code": "320116"}),
            Some(&city.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(below["region_code"], "320116");
    app.stop().await;
}

async fn open_transfer(app: &TestApp, worker: &crate::support::app::Session, from: &str, to: &str) -> Value {
    let opened = app
        .client
        .post(app.url("/api/v1/si-transfers"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"insurance_type": "medical", "from_region_code": from, "to_region_code": to}))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::CREATED);
    opened.json().await.unwrap()
}

async fn feed(app: &TestApp, token: &str) -> Vec<String> {
    let page = app
        .get_json_with("/api/v1/integrations/si-transfers?cursor=0", token)
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["transfer_no"].as_str().unwrap().to_owned())
        .collect()
}

/// An integrator reaches the cases with either end in its region: Zhejiang's
/// (330000) neither reads, moves, nor sees in its feed a case from 南宁 to
/// 南京, nor opens one; Guangxi's (the old place) and Nanjing's (the new)
/// do all of it.
#[tokio::test]
async fn an_integrator_reaches_only_the_cases_of_its_region() {
    let app = TestApp::spawn().await;
    let nation = app.admin("000000").await;
    let scopes = ["si_transfer:read", "si_transfer:write"];
    let zhejiang = integrator(&app, &nation.access_token, &scopes, Some("330000")).await;
    let guangxi = integrator(&app, &nation.access_token, &scopes, Some("450000")).await;
    let nanjing = integrator(&app, &nation.access_token, &scopes, Some("320100")).await;
    let worker = crate::applications::guangxi_worker(&app, "reached", "450102198801011235").await;
    let case = open_transfer(&app, &worker, "450102", "320115").await;
    let transfer_no = case["transfer_no"].as_str().unwrap();
    let path = format!("/api/v1/integrations/si-transfers/{transfer_no}");
    let step = |token: &str| {
        let (app, token, path) = (&app, token.to_owned(), path.clone());
        async move {
            app.client
                .put(app.url(&format!("{path}/steps/application_accepted")))
                .bearer_auth(token)
                .json(&json!({"status": "done", "occurred_at": "2026-11-20T09:00:00+08:00"}))
                .send()
                .await
                .unwrap()
        }
    };

    assert_problem(app.get_with(&path, &zhejiang).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_problem(step(&zhejiang).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert!(feed(&app, &zhejiang).await.is_empty());
    let opened = app
        .client
        .post(app.url("/api/v1/integrations/si-transfers"))
        .bearer_auth(&zhejiang)
        .header("Idempotency-Key", "zhejiang")
        .json(&json!({"id_number": "450103199002022342", "insurance_type": "medical", "from_region_code": "450103", "to_region_code": "320115"}))
        .send()
        .await
        .unwrap();
    assert_problem(opened, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;

    assert_eq!(app.get_with(&path, &guangxi).await.status(), StatusCode::OK);
    assert_eq!(app.get_with(&path, &nanjing).await.status(), StatusCode::OK);
    assert_eq!(step(&nanjing).await.status(), StatusCode::OK);
    assert_eq!(feed(&app, &guangxi).await, [transfer_no, transfer_no]);
    assert_eq!(feed(&app, &nanjing).await, [transfer_no, transfer_no]);
    assert!(feed(&app, &zhejiang).await.is_empty(), "nor its steps");
    app.stop().await;
}
