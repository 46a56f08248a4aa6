use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::support::{TestApp, fake_wechat::PHONE};

const ID_NUMBER: &str = "11010519491231002X";

#[tokio::test]
async fn the_database_holds_no_plaintext_id_or_phone_number() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("private").await;
    let saved = app
        .client
        .put(app.url("/api/v1/me/profile"))
        .bearer_auth(&worker.access_token)
        .json(&json!({"id_number": ID_NUMBER, "consent_version": "2026-11"}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    let bound = app
        .post_json(
            "/api/v1/me/phone",
            &json!({"code": "phone-ok"}),
            Some(&worker.access_token),
        )
        .await;
    assert_eq!(bound.status(), StatusCode::OK);

    let db = app.db().await;
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id_number_cipher, id_number_hash, phone_cipher, phone_hash FROM worker",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    for column in ["id_number_cipher", "id_number_hash", "phone_cipher", "phone_hash"] {
        let stored: String = rows[0].try_get("", column).unwrap();
        assert!(!stored.is_empty());
        assert!(
            !stored.contains(ID_NUMBER) && !stored.contains(PHONE) && !stored.contains("19491231"),
            "{column}"
        );
    }
    let audit = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT COALESCE(details, '') AS details FROM audit_log",
        ))
        .await
        .unwrap();
    for row in audit {
        let details: String = row.try_get("", "details").unwrap();
        assert!(!details.contains(ID_NUMBER) && !details.contains(PHONE), "{details}");
    }
    app.stop().await;
}

#[tokio::test]
async fn security_events_are_audited_and_audit_rows_cannot_be_changed() {
    let app = TestApp::spawn().await;
    app.create_admin("auditor", "right-password-1", "320000");
    for _ in 0..5 {
        app.post_json(
            "/api/v1/staff/auth/login",
            &json!({"username": "auditor", "password": "nope-nope-nope"}),
            None,
        )
        .await;
    }
    let worker = app.login_worker("audited").await;
    app.client
        .put(app.url("/api/v1/me/profile"))
        .bearer_auth(&worker.access_token)
        .json(&json!({"real_name": "李四"}))
        .send()
        .await
        .unwrap();

    let db = app.db().await;
    let backend = db.get_database_backend();
    let count = |action: &'static str, outcome: &'static str| {
        let db = &db;
        async move {
            let sql =
                format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}' AND outcome = '{outcome}'");
            let row = db
                .query_one_raw(Statement::from_string(backend, sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<i64>("", "n").unwrap()
        }
    };
    assert_eq!(count("staff.login", "failure").await, 5);
    assert_eq!(count("worker.login", "success").await, 1);
    assert_eq!(count("worker.profile.update", "success").await, 1);
    let lock_row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT details FROM audit_log WHERE action = 'staff.login' ORDER BY id DESC LIMIT 1",
        ))
        .await
        .unwrap()
        .unwrap();
    let details: String = lock_row.try_get("", "details").unwrap();
    assert!(details.contains(r#""locked_now":true"#), "{details}");

    let tampering = db
        .execute_raw(Statement::from_string(
            backend,
            "UPDATE audit_log SET outcome = 'success'",
        ))
        .await;
    assert!(tampering.is_err(), "the database refuses to change audit rows");
    let erasing = db
        .execute_raw(Statement::from_string(backend, "DELETE FROM audit_log"))
        .await;
    assert!(erasing.is_err(), "the database refuses to delete recent audit rows");
    app.stop().await;
}
