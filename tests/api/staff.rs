use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem};

const LOGIN: &str = "/api/v1/staff/auth/login";

/// A server whose anonymous quota lets a burst of sign-ins through, so that
/// only the lockout answers them.
async fn spawn_for_bursts() -> TestApp {
    TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_RATE_PUBLIC_WRITE", "1000".to_owned());
    })
    .await
}

/// What a client sees of a refused sign-in: status, code, the shape of the
/// details, and whether it is told when to retry.
async fn seen(response: reqwest::Response) -> (StatusCode, String, Vec<String>, bool) {
    let status = response.status();
    let retry_after = response.headers().contains_key("retry-after");
    let body: Value = response.json().await.unwrap();
    let details = body["details"]
        .as_object()
        .map(|details| details.keys().cloned().collect())
        .unwrap_or_default();
    (
        status,
        body["code"].as_str().unwrap_or_default().to_owned(),
        details,
        retry_after,
    )
}

async fn staff_login_rows(app: &TestApp) -> Vec<(Option<String>, Option<String>, String, String)> {
    let db = app.db().await;
    let sql = "SELECT actor_id, target_id, outcome, COALESCE(details, '') AS details FROM audit_log \
               WHERE action = 'staff.login' ORDER BY id";
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.try_get("", "actor_id").unwrap(),
                row.try_get("", "target_id").unwrap(),
                row.try_get("", "outcome").unwrap(),
                row.try_get("", "details").unwrap(),
            )
        })
        .collect()
}

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

#[tokio::test]
async fn a_burst_of_wrong_passwords_evaluates_at_most_five_and_a_correct_one_inside_it_is_refused() {
    let app = spawn_for_bursts().await;
    app.create_admin("burst.target", "right-password-1", "320000");
    let attempt = |password: &'static str| {
        let app = &app;
        async move {
            app.post_json(LOGIN, &json!({"username": "burst.target", "password": password}), None)
                .await
        }
    };
    let mut burst: Vec<_> = (0..25).map(|_| attempt("wrong-password")).collect();
    burst.push(attempt("right-password-1"));
    let answers = futures_util::future::join_all(burst).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|answer| answer.status()).collect();
    assert_eq!(
        statuses[25],
        StatusCode::LOCKED,
        "the correct password inside the burst: {statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|status| [StatusCode::UNAUTHORIZED, StatusCode::LOCKED].contains(status)),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::UNAUTHORIZED)
            .count()
            <= 4,
        "{statuses:?}"
    );
    let evaluated = staff_login_rows(&app)
        .await
        .into_iter()
        .filter(|(_, _, outcome, _)| outcome == "failure")
        .count();
    assert!(evaluated <= 5, "{evaluated} passwords were evaluated");
    app.stop().await;
}

#[tokio::test]
async fn six_failures_look_the_same_for_a_real_and_an_unknown_username() {
    let app = spawn_for_bursts().await;
    app.create_admin("real.person", "right-password-1", "320000");
    let mut answers = Vec::new();
    for username in ["real.person", "made.up.name"] {
        let mut seen_here = Vec::new();
        for _ in 0..6 {
            let body = json!({"username": username, "password": "wrong-password"});
            seen_here.push(seen(app.post_json(LOGIN, &body, None).await).await);
        }
        answers.push(seen_here);
    }
    assert_eq!(answers[0], answers[1]);
    let statuses: Vec<StatusCode> = answers[0].iter().map(|answer| answer.0).collect();
    assert_eq!(statuses[..4], [StatusCode::UNAUTHORIZED; 4]);
    assert_eq!(statuses[4..], [StatusCode::LOCKED; 2]);
    assert_eq!(answers[0][5].2, ["locked_until"]);
    assert!(answers[0][5].3, "a lock says when to retry");
    app.stop().await;
}

#[tokio::test]
async fn a_disabled_account_answers_as_a_wrong_password_does() {
    let app = TestApp::spawn().await;
    let admin = app.admin("320000").await;
    let inspector = app.staff(&admin, "now.disabled", &["inspector"], "320115").await;
    let id = inspector.body["staff"]["id"].as_str().unwrap();
    let disabled = app
        .client
        .patch(app.url(&format!("/api/v1/admin/staff/{id}")))
        .bearer_auth(&admin.access_token)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), StatusCode::OK);
    for password in ["staff-password-0001", "wrong-password-1"] {
        let body = json!({"username": "now.disabled", "password": password});
        let answer = assert_problem(
            app.post_json(LOGIN, &body, None).await,
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        )
        .await;
        assert_eq!(answer["details"], Value::Null, "{password}");
    }
    app.stop().await;
}

#[tokio::test]
async fn failures_from_one_network_do_not_lock_the_account_for_another() {
    // Bound to both stacks, the server sees 127.0.0.1 and ::1 as two clients.
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_BIND", "[::]:0".to_owned());
    })
    .await;
    app.create_admin("targeted", "right-password-1", "320000");
    let port = app.base_url.rsplit(':').next().unwrap().to_owned();
    let login = |host: &'static str, password: &'static str| {
        let (app, port) = (&app, port.clone());
        async move {
            app.client
                .post(format!("http://{host}:{port}{LOGIN}"))
                .json(&json!({"username": "targeted", "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..5 {
        login("127.0.0.1", "wrong-password").await;
    }
    let attacker = login("127.0.0.1", "right-password-1").await;
    assert_problem(attacker, StatusCode::LOCKED, "ACCOUNT_LOCKED").await;
    let owner = login("[::1]", "right-password-1").await;
    assert_eq!(
        owner.status(),
        StatusCode::OK,
        "the owner, on another network, signs in"
    );
    app.stop().await;
}

#[tokio::test]
async fn failed_sign_ins_keep_no_typed_username() {
    let app = TestApp::spawn().await;
    let admin = app.admin("320000").await;
    let admin_id = admin.body["staff"]["id"].as_str().unwrap().to_owned();
    for username in ["my-password-typed-here", "admin320000"] {
        let body = json!({"username": username, "password": "wrong-password-1"});
        assert_eq!(
            app.post_json(LOGIN, &body, None).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let failures: Vec<_> = staff_login_rows(&app)
        .await
        .into_iter()
        .filter(|(_, _, outcome, _)| outcome == "failure")
        .collect();
    assert_eq!(failures.len(), 2);
    for (actor, target, _, details) in &failures {
        assert_eq!(actor, &None);
        for typed in ["my-password-typed-here", "admin320000"] {
            assert!(!details.contains(typed), "{details}");
            assert_ne!(target.as_deref(), Some(typed));
        }
    }
    assert_eq!(failures[0].1, None, "an unknown name names no account");
    assert_eq!(
        failures[1].1.as_deref(),
        Some(admin_id.as_str()),
        "a real one names the account by id"
    );
    app.stop().await;
}
