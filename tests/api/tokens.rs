use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, assert_problem};

const TEST_SECRET: &[u8] = b"test-jwt-secret-0123456789abcdef0123456789";

fn forge(secret: &[u8], exp_offset: i64, sid: &str, sub: &str) -> String {
    let now = jsonwebtoken::get_current_timestamp() as i64;
    let claims = json!({
        "iss": "shiminhua", "aud": "worker", "sub": sub, "iat": now - 60, "exp": now + exp_offset,
        "jti": "forged", "typ": "access", "sid": sid
    });
    encode(&Header::default(), &claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn session_id(token: &str) -> (String, String) {
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    (
        claims["sid"].as_str().unwrap().to_owned(),
        claims["sub"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_token_only_opens_its_own_audiences_routes() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("audience").await;
    let admin = app.admin("320000").await;
    let client_body = json!({"name": "x", "scopes": ["si_transfer:read"]});
    let worker_on_staff = app
        .post_json("/api/v1/admin/clients", &client_body, Some(&worker.access_token))
        .await;
    assert_problem(worker_on_staff, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let staff_on_integrator = app.get_with("/api/v1/integrations/whoami", &admin.access_token).await;
    assert_problem(staff_on_integrator, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let staff_on_worker = app.get_with("/api/v1/me", &admin.access_token).await;
    assert_problem(staff_on_worker, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    app.stop().await;
}

#[tokio::test]
async fn expired_foreign_unsigned_and_missing_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("forger").await;
    let (sid, sub) = session_id(&worker.access_token);

    let genuine_but_fresh = forge(TEST_SECRET, 600, &sid, &sub);
    assert_eq!(
        app.get_with("/api/v1/me", &genuine_but_fresh).await.status(),
        StatusCode::OK,
        "the forge is faithful"
    );

    let expired = forge(TEST_SECRET, -600, &sid, &sub);
    assert_problem(
        app.get_with("/api/v1/me", &expired).await,
        StatusCode::UNAUTHORIZED,
        "TOKEN_EXPIRED",
    )
    .await;
    let foreign = forge(b"some-other-secret-some-other-secret-00", 600, &sid, &sub);
    assert_problem(
        app.get_with("/api/v1/me", &foreign).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    let body = genuine_but_fresh.split('.').nth(1).unwrap();
    let unsigned = format!("{}.{body}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#));
    assert_problem(
        app.get_with("/api/v1/me", &unsigned).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    let missing = app.get("/api/v1/me").await;
    assert_problem(missing, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let basic = app
        .client
        .get(app.url("/api/v1/me"))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_problem(basic, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    app.stop().await;
}
