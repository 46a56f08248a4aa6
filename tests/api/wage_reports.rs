use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::support::{TestApp, app::Session, assert_problem};

const CREDIT_CODE: &str = "91320115MA1MXXXX01";

pub fn report(amount: i64) -> Value {
    json!({
        "employer_name": "南京某某建筑劳务有限公司",
        "employer_credit_code": CREDIT_CODE,
        "project_name": "江宁区某小区二期",
        "work_region_code": "320115",
        "sector": "construction",
        "amount_owed_fen": amount,
        "owed_from": "2026-06-01",
        "owed_to": "2026-09-30",
        "workers_affected": 4,
        "description": "四个月工资没有发放，包工头联系不上。"
    })
}

pub async fn file(app: &TestApp, worker: &Session, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/wage-reports"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn act(app: &TestApp, inspector: &Session, id: &str, body: Value) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/staff/wage-reports/{id}/actions"),
        &body,
        Some(&inspector.access_token),
    )
    .await
}

#[tokio::test]
async fn bad_reports_are_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("reporter").await;
    let cases = [
        ("employer_credit_code", json!("91320115MA1MXXXX02")),
        ("amount_owed_fen", json!(0)),
        ("owed_to", json!("2099-01-01")),
        ("work_region_code", json!("320100")),
    ];
    for (field, value) in cases {
        let mut body = report(100_000);
        body[field] = value;
        let refused = file(&app, &worker, field, &body).await;
        let problem = assert_problem(refused, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
        assert_eq!(problem["details"]["fields"][0]["field"], field);
    }
    let mut rude = report(100_000);
    rude["description"] = json!("这里有违禁内容");
    let problem = assert_problem(
        file(&app, &worker, "rude", &rude).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(problem["details"]["fields"][0]["field"], "description");
    app.stop().await;
}

#[tokio::test]
async fn a_report_reaches_its_county_and_the_regions_above_only() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("site-worker").await;
    let filed = file(&app, &worker, "r-1", &report(1_200_000)).await;
    assert_eq!(filed.status(), StatusCode::CREATED);
    let filed: Value = filed.json().await.unwrap();
    assert!(filed["report_no"].as_str().unwrap().starts_with("QX-320115-"));
    assert!(filed["accept_deadline"].is_string());
    let id = filed["id"].as_str().unwrap();

    let admin = app.admin("320000").await;
    let county = app.staff(&admin, "jiangning.inspector", &["inspector"], "320115").await;
    let city = app.staff(&admin, "nanjing.inspector", &["inspector"], "320100").await;
    let neighbour = app.staff(&admin, "liuhe.inspector", &["inspector"], "320116").await;
    assert_eq!(
        app.get_json_with("/api/v1/staff/wage-reports", &county.access_token)
            .await["total"],
        1
    );
    assert_eq!(
        app.get_json_with("/api/v1/staff/wage-reports", &city.access_token)
            .await["total"],
        1
    );
    assert_eq!(
        app.get_json_with("/api/v1/staff/wage-reports", &neighbour.access_token)
            .await["total"],
        0
    );
    let hidden = app
        .get_with(&format!("/api/v1/staff/wage-reports/{id}"), &neighbour.access_token)
        .await;
    assert_problem(hidden, StatusCode::NOT_FOUND, "NOT_FOUND").await;

    let refuse_silently = act(&app, &county, id, json!({"action": "refuse", "expected_version": 1})).await;
    assert_problem(refuse_silently, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    let accepted: Value = act(&app, &county, id, json!({"action": "accept", "expected_version": 1}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accepted["status"], "accepted");
    assert!(accepted["close_deadline"].is_string());
    let stale = act(&app, &city, id, json!({"action": "start", "expected_version": 1})).await;
    assert_problem(stale, StatusCode::CONFLICT, "VERSION_CONFLICT").await;
    let resolve = json!({"action": "resolve", "expected_version": 2, "amount_recovered_fen": 1_200_000, "workers_paid": 4, "comment": "已督促支付"});
    let resolved: Value = act(&app, &county, id, resolve).await.json().await.unwrap();
    assert_eq!(
        (resolved["status"].as_str(), resolved["amount_recovered_fen"].as_i64()),
        (Some("resolved"), Some(1_200_000))
    );

    let mine = app
        .get_json_with(&format!("/api/v1/wage-reports/{id}"), &worker.access_token)
        .await;
    assert_eq!(mine["status"], "resolved");
    let timeline = mine["timeline"].to_string();
    assert!(
        timeline.contains("劳动保障监察员") && !timeline.contains("jiangning"),
        "{timeline}"
    );
    app.stop().await;
}

#[tokio::test]
async fn three_reports_against_one_employer_raise_one_alert() {
    let app = TestApp::spawn().await;
    for (n, code) in ["alert-a", "alert-b", "alert-c"].iter().enumerate() {
        let worker = app.login_worker(code).await;
        assert_eq!(
            file(&app, &worker, &format!("a-{n}"), &report(100_000)).await.status(),
            StatusCode::CREATED
        );
    }
    let other = app.login_worker("unrelated").await;
    let mut unrelated = report(100_000);
    unrelated["employer_credit_code"] = json!("91320115MA1N2B3C4P");
    assert_eq!(file(&app, &other, "u", &unrelated).await.status(), StatusCode::CREATED);

    let admin = app.admin("320000").await;
    let inspector = app.staff(&admin, "alert.inspector", &["inspector"], "320100").await;
    let alerts = app
        .get_json_with("/api/v1/staff/wage-alerts", &inspector.access_token)
        .await;
    assert_eq!(alerts["total"], 1, "{alerts}");
    let alert = &alerts["items"][0];
    assert_eq!(alert["employer_key"], format!("code:{CREDIT_CODE}"));
    assert_eq!(alert["reports"].as_array().unwrap().len(), 3);
    assert!(
        alert["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("repeated_reports"))
    );
    let elsewhere = app.staff(&admin, "gulou.inspector", &["inspector"], "320106").await;
    let none = app
        .get_json_with("/api/v1/staff/wage-alerts", &elsewhere.access_token)
        .await;
    assert_eq!((none["total"].as_u64(), none["items"].clone()), (Some(0), json!([])));
    app.stop().await;
}

#[tokio::test]
async fn alerts_come_a_page_at_a_time_by_employer_with_their_total() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_ALERT_WORKERS", "10".to_owned());
    })
    .await;
    let worker = app.login_worker("many-employers").await;
    // Three employers owing 12 workers each in open reports, one owing 4.
    let names = ["甲建筑公司", "乙建筑公司", "丙建筑公司", "丁建筑公司"];
    for (n, name) in names.iter().enumerate() {
        let mut body = report(100_000);
        body["employer_name"] = json!(name);
        body.as_object_mut().unwrap().remove("employer_credit_code");
        body["workers_affected"] = json!(if n == 3 { 4 } else { 12 });
        assert_eq!(
            file(&app, &worker, &format!("e-{n}"), &body).await.status(),
            StatusCode::CREATED
        );
    }
    let admin = app.admin("320000").await;
    let inspector = app.staff(&admin, "paging.inspector", &["inspector"], "320115").await;
    let page = async |n: u32| {
        app.get_json_with(
            &format!("/api/v1/staff/wage-alerts?page={n}&page_size=2"),
            &inspector.access_token,
        )
        .await
    };
    let (first, second, third) = (page(1).await, page(2).await, page(3).await);
    for (body, n) in [(&first, 1), (&second, 2), (&third, 3)] {
        assert_eq!(
            (
                body["total"].as_u64(),
                body["page"].as_u64(),
                body["page_size"].as_u64()
            ),
            (Some(3), Some(n), Some(2))
        );
    }
    let keys: Vec<Value> = [&first, &second]
        .iter()
        .flat_map(|body| {
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["employer_key"].clone())
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by_key(|k| k.as_str().unwrap().to_owned());
    assert_eq!(keys.len(), 3, "{first} {second}");
    assert_eq!(keys, sorted, "by employer key");
    assert!(!keys.contains(&json!("name:丁建筑公司")));
    assert_eq!(third["items"], json!([]));
    for alert in first["items"].as_array().unwrap() {
        assert_eq!(alert["reasons"], json!(["many_workers"]));
        assert_eq!(alert["reports"].as_array().unwrap().len(), 1);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_report_not_accepted_in_five_working_days_is_overdue() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("waiting").await;
    let filed: Value = file(&app, &worker, "late", &report(300_000))
        .await
        .json()
        .await
        .unwrap();
    let id = filed["id"].as_str().unwrap();
    let admin = app.admin("320000").await;
    let inspector = app.staff(&admin, "late.inspector", &["inspector"], "320115").await;
    assert_eq!(
        app.get_json_with("/api/v1/staff/wage-reports?overdue=true", &inspector.access_token)
            .await["total"],
        0
    );

    // As if filed weeks ago: the accept deadline is long past.
    let db = app.db().await;
    let backend = db.get_database_backend();
    let sql = format!("UPDATE wage_report SET accept_deadline = '2026-01-09' WHERE id = '{id}'");
    db.execute_raw(Statement::from_string(backend, sql)).await.unwrap();

    let overdue = app
        .get_json_with("/api/v1/staff/wage-reports?overdue=true", &inspector.access_token)
        .await;
    assert_eq!(overdue["total"], 1);
    assert_eq!(overdue["items"][0]["overdue"], true);
    assert_eq!(
        app.get_json_with(&format!("/api/v1/wage-reports/{id}"), &worker.access_token)
            .await["overdue"],
        true
    );
    app.stop().await;
}

#[tokio::test]
async fn a_worker_files_a_few_reports_a_day_at_most() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_WAGE_REPORTS_PER_DAY", "2".to_owned());
    })
    .await;
    let worker = app.login_worker("prolific").await;
    let mut rude = report(100_000);
    rude["description"] = json!("这里有违禁内容");
    for key in ["r-1", "r-2", "r-3"] {
        assert_problem(
            file(&app, &worker, key, &rude).await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
        )
        .await;
    }
    for key in ["d-1", "d-2"] {
        assert_eq!(
            file(&app, &worker, key, &report(100_000)).await.status(),
            StatusCode::CREATED,
            "refused descriptions took none of the day's allowance"
        );
    }
    assert_eq!(
        file(&app, &worker, "d-1", &report(100_000)).await.status(),
        StatusCode::CREATED,
        "a replay is not a new report"
    );
    let third = file(&app, &worker, "d-3", &report(100_000)).await;
    assert!(third.headers().contains_key("retry-after"));
    assert_problem(third, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    let mine = app.get_json_with("/api/v1/wage-reports", &worker.access_token).await;
    assert_eq!(mine["total"], 2);
    let first = app
        .get_json_with("/api/v1/wage-reports?page=1&page_size=1", &worker.access_token)
        .await;
    let second = app
        .get_json_with("/api/v1/wage-reports?page=2&page_size=1", &worker.access_token)
        .await;
    assert_eq!((first["total"].as_u64(), second["total"].as_u64()), (Some(2), Some(2)));
    assert_eq!(first["items"][0], mine["items"][0], "newest first");
    assert_eq!(second["items"][0], mine["items"][1]);
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    app.stop().await;
}
