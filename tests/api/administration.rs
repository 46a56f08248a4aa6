use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, app::Session, assert_problem};

async fn patch(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(&format!("/api/v1/admin/staff/{id}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_disabled_staff_members_token_is_refused_on_its_next_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin("320000").await;
    let inspector = app.staff(&admin, "soon.gone", &["inspector"], "320115").await;
    let id = inspector.body["staff"]["id"].as_str().unwrap();
    assert_eq!(
        app.get_with("/api/v1/staff/wage-reports", &inspector.access_token)
            .await
            .status(),
        StatusCode::OK
    );

    let disabled = patch(&app, &admin.access_token, id, json!({"disabled": true})).await;
    assert_eq!(disabled.json::<Value>().await.unwrap()["disabled"], true);
    let refused = app
        .get_with("/api/v1/staff/wage-reports", &inspector.access_token)
        .await;
    assert_problem(refused, StatusCode::UNAUTHORIZED, "SESSION_ENDED").await;
    let relogin = app
        .post_json(
            "/api/v1/staff/auth/login",
            &json!({"username": "soon.gone", "password": "staff-password-0001"}),
            None,
        )
        .await;
    assert_problem(relogin, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;

    let listed = app.get_json_with("/api/v1/admin/staff", &admin.access_token).await;
    assert_eq!(listed["total"], 2);
    let guangxi = app.admin("450000").await;
    assert_problem(
        patch(&app, &guangxi.access_token, id, json!({"disabled": false})).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;

    let changes = app
        .get_json_with("/api/v1/admin/audit-logs?action=staff.change", &admin.access_token)
        .await;
    assert_eq!(changes["total"], 1);
    assert_eq!(changes["items"][0]["details"]["fields"], json!(["disabled"]));
    app.stop().await;
}

#[tokio::test]
async fn a_rotated_or_revoked_client_loses_its_credentials_and_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
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
    let (id, client_id) = (created["id"].as_str().unwrap(), created["client_id"].as_str().unwrap());
    let token = |secret: String| {
        let (app, client_id) = (&app, client_id.to_owned());
        async move {
            app.client
                .post(app.url("/api/v1/oauth/token"))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", &client_id),
                    ("client_secret", &secret),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let old = token(created["client_secret"].as_str().unwrap().to_owned())
        .await
        .json::<Value>()
        .await
        .unwrap();
    let old_token = old["access_token"].as_str().unwrap().to_owned();

    let rotated: Value = app
        .post_json(
            &format!("/api/v1/admin/clients/{id}/rotate"),
            &json!({}),
            Some(&admin.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rotated["client_id"], client_id);
    assert_eq!(
        token(created["client_secret"].as_str().unwrap().to_owned())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_problem(
        app.get_with("/api/v1/integrations/whoami", &old_token).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_ENDED",
    )
    .await;
    let fresh = token(rotated["client_secret"].as_str().unwrap().to_owned())
        .await
        .json::<Value>()
        .await
        .unwrap();
    let fresh_token = fresh["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get_with("/api/v1/integrations/whoami", &fresh_token).await.status(),
        StatusCode::OK
    );

    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/admin/clients/{id}")))
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get_with("/api/v1/integrations/whoami", &fresh_token).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_ENDED",
    )
    .await;
    assert_eq!(
        token(rotated["client_secret"].as_str().unwrap().to_owned())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let listed = app.get_json_with("/api/v1/admin/clients", &admin.access_token).await;
    assert!(listed[0]["revoked_at"].is_string());
    assert!(listed.to_string().find("cs_").is_none(), "no secret is ever listed");
    app.stop().await;
}

/// An administrator reads the audit trail of their own region and below: a
/// Jiangsu administrator sees what happened to Jiangsu's staff, not to
/// Guangxi's, nor workers signing in (no region); a national administrator
/// sees all of it.
#[tokio::test]
async fn the_audit_trail_is_scoped_to_the_administrators_region() {
    let app = TestApp::spawn().await;
    let jiangsu = app.admin("320000").await;
    let guangxi = app.admin("450000").await;
    let nation = app.admin("000000").await;
    app.staff(&jiangsu, "jiangning.inspector", &["inspector"], "320115")
        .await;
    app.staff(&guangxi, "qingxiu.inspector", &["inspector"], "450103").await;
    app.login_worker("audited-worker").await;

    let trail = |admin: &Session| {
        let app = &app;
        let token = admin.access_token.clone();
        async move {
            let page = app
                .get_json_with("/api/v1/admin/audit-logs?page_size=100", &token)
                .await;
            page["items"].as_array().unwrap().clone()
        }
    };
    let seen = |items: &[Value]| -> Vec<(String, String)> {
        items
            .iter()
            .map(|item| {
                (
                    item["action"].as_str().unwrap().to_owned(),
                    item["region_code"].as_str().unwrap_or("none").to_owned(),
                )
            })
            .collect()
    };

    let in_jiangsu = seen(&trail(&jiangsu).await);
    assert!(
        in_jiangsu.contains(&("staff.create".to_owned(), "320115".to_owned())),
        "{in_jiangsu:?}"
    );
    assert!(
        in_jiangsu
            .iter()
            .all(|(_, region)| region == "320000" || region == "320115"),
        "only Jiangsu's rows: {in_jiangsu:?}"
    );

    let everywhere = seen(&trail(&nation).await);
    for expected in [
        ("staff.create", "320115"),
        ("staff.create", "450103"),
        ("worker.login", "none"),
    ] {
        assert!(
            everywhere.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} in {everywhere:?}"
        );
    }
    app.stop().await;
}
