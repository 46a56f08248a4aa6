use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, assert_problem};

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_and_the_right_one_stays_refused() {
    let app = TestApp::spawn().await;
    app.create_admin("lockme", "right-password-1", "320000");
    let attempt = |password: &'static str| {
        let app = &app;
        async move {
            app.post_json(
                "/api/v1/staff/auth/login",
                &json!({"username": "lockme", "password": password}),
                None,
            )
            .await
        }
    };
    for _ in 0..4 {
        assert_problem(
            attempt("wrong-password").await,
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        )
        .await;
    }
    let fifth = attempt("wrong-password").await;
    assert!(fifth.headers().contains_key("retry-after"));
    assert_problem(fifth, StatusCode::LOCKED, "ACCOUNT_LOCKED").await;
    assert_problem(attempt("wrong-password").await, StatusCode::LOCKED, "ACCOUNT_LOCKED").await;
    let right = assert_problem(attempt("right-password-1").await, StatusCode::LOCKED, "ACCOUNT_LOCKED").await;
    assert!(right["details"]["locked_until"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_look_the_same() {
    let app = TestApp::spawn().await;
    app.create_admin("known", "right-password-1", "320000");
    let unknown = app
        .post_json(
            "/api/v1/staff/auth/login",
            &json!({"username": "nobody", "password": "whatever-1234"}),
            None,
        )
        .await;
    let wrong = app
        .post_json(
            "/api/v1/staff/auth/login",
            &json!({"username": "known", "password": "whatever-1234"}),
            None,
        )
        .await;
    let unknown = assert_problem(unknown, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    let wrong = assert_problem(wrong, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    assert_eq!(unknown["message"], wrong["message"]);
    app.stop().await;
}

#[tokio::test]
async fn administrators_create_staff_inside_their_region_only() {
    let app = TestApp::spawn().await;
    let jiangsu = app.admin("320000").await;
    assert_eq!(jiangsu.body["staff"]["roles"], json!(["admin"]));
    let reviewer = app.staff(&jiangsu, "jiangning.reviewer", &["reviewer"], "320115").await;
    assert_eq!(reviewer.body["staff"]["region_code"], "320115");

    let guangxi = json!({
        "username": "nanning.reviewer", "display_name": "南宁审核员", "password": "staff-password-0001",
        "roles": ["reviewer"], "region_code": "450100"
    });
    let outside = app
        .post_json("/api/v1/admin/staff", &guangxi, Some(&jiangsu.access_token))
        .await;
    assert_problem(outside, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;
    let not_admin = app
        .post_json("/api/v1/admin/staff", &guangxi, Some(&reviewer.access_token))
        .await;
    assert_problem(not_admin, StatusCode::FORBIDDEN, "ROLE_REQUIRED").await;

    let duplicate = json!({
        "username": "jiangning.reviewer", "display_name": "重名", "password": "staff-password-0001",
        "roles": ["reviewer"], "region_code": "320115"
    });
    let taken = app
        .post_json("/api/v1/admin/staff", &duplicate, Some(&jiangsu.access_token))
        .await;
    assert_problem(taken, StatusCode::CONFLICT, "USERNAME_TAKEN").await;
    app.stop().await;
}

#[tokio::test]
async fn weak_passwords_are_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    let admin = app.admin("320000").await;
    for password in ["too-short", "same.as.user"] {
        let body = json!({
            "username": "same.as.user", "display_name": "x", "password": password,
            "roles": ["inspector"], "region_code": "320115"
        });
        let response = app
            .post_json("/api/v1/admin/staff", &body, Some(&admin.access_token))
            .await;
        let problem = assert_problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
        assert_eq!(problem["details"]["fields"][0]["field"], "password", "{password}");
    }
    app.stop().await;
}

#[tokio::test]
async fn create_admin_refuses_a_short_password() {
    let app = TestApp::spawn().await;
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_shiminhua"))
        .args(["create-admin", "--username", "root"])
        .env("DATABASE_URL", &app.database_url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            writeln!(child.stdin.take().unwrap(), "short")?;
            child.wait()
        })
        .unwrap();
    assert!(!status.success());
    app.stop().await;
}
