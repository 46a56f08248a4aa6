use std::process::Command;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, Statement,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use serde_json::{Value, json};

use crate::{
    applications::{apply, complete_application, guangxi_worker},
    support::{TestApp, app::Session},
    wage_reports::{file, report},
};

fn purge(app: &TestApp, mode: &str) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_shiminhua"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.database_url)
        .envs(app.files.vars())
        .env("SHIMINHUA_LOG_FORMAT", "json")
        .args(["purge", mode])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "purge {mode} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("purge prints a JSON summary")
}

async fn backdate(db: &DatabaseConnection, table: &str, id: &str, days: i64) {
    let update = Query::update()
        .table(Alias::new(table))
        .value(Alias::new("updated_at"), Utc::now() - Duration::days(days))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    db.execute(&update).await.unwrap();
}

async fn old_audit_row(db: &DatabaseConnection, action: &str, days: i64) {
    let insert = Query::insert()
        .into_table(Alias::new("audit_log"))
        .columns(["at", "actor_type", "action", "outcome"].map(Alias::new))
        .values_panic([
            (Utc::now() - Duration::days(days)).into(),
            "system".into(),
            action.into(),
            "success".into(),
        ])
        .to_owned();
    db.execute(&insert).await.unwrap();
}

async fn text(db: &DatabaseConnection, sql: &str) -> Vec<Option<String>> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<Option<String>>(0).unwrap())
        .collect()
}

async fn refused_report(app: &TestApp, worker: &Session, inspector: &Session, key: &str) -> String {
    let body = json!({
        "employer_name": "南京某劳务公司",
        "work_region_code": "320115",
        "sector": "construction",
        "amount_owed_fen": 800_000,
        "owed_from": "2026-06-01",
        "owed_to": "2026-09-30",
        "workers_affected": 1,
        "description": "老板拖欠我三个月工资，我叫王大力。",
        "contact_phone": "13812345678"
    });
    let filed: Value = file(app, worker, key, &body).await.json().await.unwrap();
    let id = filed["id"].as_str().unwrap().to_owned();
    let refused = app
        .post_json(
            &format!("/api/v1/staff/wage-reports/{id}/actions"),
            &json!({"action": "refuse", "expected_version": 1, "comment": "王大力本人已撤回"}),
            Some(&inspector.access_token),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::OK);
    id
}

#[tokio::test]
async fn purge_removes_personal_data_of_closed_cases_past_retention_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let db = app.db().await;

    let applicant = guangxi_worker(&app, "old-applicant", "450102198801011235").await;
    let body = complete_application(&app, &applicant).await;
    let old: Value = apply(&app, &applicant, "old", &body).await.json().await.unwrap();
    let old_id = old["id"].as_str().unwrap().to_owned();
    let withdrawn = app
        .post_json(
            &format!("/api/v1/applications/{old_id}/withdraw"),
            &json!({}),
            Some(&applicant.access_token),
        )
        .await;
    assert_eq!(withdrawn.status(), StatusCode::OK);
    let open_applicant = guangxi_worker(&app, "open-applicant", "450103199002022342").await;
    let body = complete_application(&app, &open_applicant).await;
    let open: Value = apply(&app, &open_applicant, "open", &body).await.json().await.unwrap();
    let open_id = open["id"].as_str().unwrap().to_owned();

    let reporter = app.login_worker("old-reporter").await;
    let inspector = app.staff(&admin, "purge.inspector", &["inspector"], "320115").await;
    let old_report = refused_report(&app, &reporter, &inspector, "old-report").await;
    let recent_report = refused_report(&app, &reporter, &inspector, "recent-report").await;

    let four_years = 4 * 365;
    backdate(&db, "application", &old_id, four_years).await;
    backdate(&db, "application", &open_id, four_years).await;
    backdate(&db, "wage_report", &old_report, four_years).await;
    old_audit_row(&db, "test.ancient", four_years).await;
    old_audit_row(&db, "test.recent", 200).await;
    let old_files = text(
        &db,
        &format!("SELECT storage_key FROM upload WHERE application_id = '{old_id}'"),
    )
    .await;
    assert_eq!(old_files.len(), 2);

    let counted = purge(&app, "--dry-run");
    let expected = |applied: bool| json!({"applied": applied, "applications": 1, "wage_reports": 1, "si_transfers": 0, "uploads": 2, "audit_rows": 1, "idempotency_keys": 0});
    let figures = |summary: &Value| {
        let mut summary = summary.clone();
        summary.as_object_mut().unwrap().remove("cutoff");
        summary
    };
    assert_eq!(figures(&counted), expected(false));
    let answers = text(&db, &format!("SELECT answers FROM application WHERE id = '{old_id}'")).await;
    assert!(
        answers[0].as_deref().unwrap().contains("兴宁米粉店"),
        "a dry run changes nothing"
    );

    let applied = purge(&app, "--apply");
    assert_eq!(figures(&applied), expected(true));

    let answers = text(&db, &format!("SELECT answers FROM application WHERE id = '{old_id}'")).await;
    assert_eq!(answers, [Some("{}".to_owned())]);
    for key in old_files.iter().flatten() {
        assert_eq!(app.files.read(key).await, None, "{key} is deleted");
    }
    let report = text(
        &db,
        &format!("SELECT description FROM wage_report WHERE id = '{old_report}'"),
    )
    .await;
    assert_eq!(report, [Some("（已按保存期限删除）".to_owned())]);
    let phone = text(
        &db,
        &format!("SELECT contact_phone_cipher FROM wage_report WHERE id = '{old_report}'"),
    )
    .await;
    assert_eq!(phone, [None]);
    let comments = text(
        &db,
        &format!("SELECT comment FROM wage_report_event WHERE report_id = '{old_report}'"),
    )
    .await;
    assert!(comments.iter().all(Option::is_none));

    let kept = text(&db, &format!("SELECT answers FROM application WHERE id = '{open_id}'")).await;
    assert!(
        kept[0].as_deref().unwrap().contains("兴宁米粉店"),
        "an open case keeps its data"
    );
    let recent = text(
        &db,
        &format!("SELECT description FROM wage_report WHERE id = '{recent_report}'"),
    )
    .await;
    assert!(
        recent[0].as_deref().unwrap().contains("王大力"),
        "a recent case keeps its data"
    );
    let actions = text(
        &db,
        "SELECT action FROM audit_log WHERE action LIKE 'test.%' OR action = 'retention.purge' ORDER BY action",
    )
    .await;
    assert_eq!(
        actions,
        [Some("retention.purge".to_owned()), Some("test.recent".to_owned())]
    );

    let case = app
        .get_json_with(&format!("/api/v1/applications/{old_id}"), &applicant.access_token)
        .await;
    assert_eq!(
        case["status"], "withdrawn",
        "the case itself stays for its owner and the statistics"
    );
    let again = purge(&app, "--apply");
    assert_eq!(
        figures(&again),
        json!({"applied": true, "applications": 0, "wage_reports": 0, "si_transfers": 0, "uploads": 0, "audit_rows": 0, "idempotency_keys": 0})
    );
    app.stop().await;
}

/// Keys are remembered for 30 days (API.md promises 24 hours): a key
/// younger than that still replays its answer after a purge; an older one is
/// forgotten, and counted, not touched, by a dry run.
#[tokio::test]
async fn purge_forgets_idempotency_keys_older_than_thirty_days_only() {
    let app = TestApp::spawn().await;
    let db = app.db().await;
    let worker = app.login_worker("key-keeper").await;
    let body = report(120_000);
    for key in ["month-old", "twenty-nine-days", "today"] {
        assert_eq!(file(&app, &worker, key, &body).await.status(), StatusCode::CREATED);
    }
    let age = |key: &str, days: i64| {
        Query::update()
            .table(Alias::new("idempotency_record"))
            .value(Alias::new("created_at"), Utc::now() - Duration::days(days))
            .and_where(Expr::col(Alias::new("idempotency_key")).eq(key))
            .to_owned()
    };
    db.execute(&age("month-old", 31)).await.unwrap();
    db.execute(&age("twenty-nine-days", 29)).await.unwrap();
    let keys = || {
        text(
            &db,
            "SELECT idempotency_key FROM idempotency_record ORDER BY idempotency_key",
        )
    };

    assert_eq!(purge(&app, "--dry-run")["idempotency_keys"], 1);
    assert_eq!(keys().await.len(), 3, "a dry run forgets nothing");
    let first_answer: Value = file(&app, &worker, "today", &body).await.json().await.unwrap();

    assert_eq!(purge(&app, "--apply")["idempotency_keys"], 1);
    assert_eq!(
        keys().await,
        [Some("today".to_owned()), Some("twenty-nine-days".to_owned())]
    );
    let replayed = file(&app, &worker, "today", &body).await;
    assert_eq!(replayed.status(), StatusCode::CREATED);
    let replayed: Value = replayed.json().await.unwrap();
    assert_eq!(
        replayed["id"], first_answer["id"],
        "a kept key still replays its first answer"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_refused_or_cancelled_transfer_gives_up_its_personal_data_like_a_completed_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let writer = crate::transfers::agency(&app, &admin.access_token, &["si_transfer:read", "si_transfer:write"]).await;
    let db = app.db().await;
    let mut ended = Vec::new();
    for (n, outcome) in [(1, "refused"), (2, "cancelled")] {
        let worker = guangxi_worker(&app, outcome, &crate::transfers::id_number(n)).await;
        let request = json!({"insurance_type": "medical", "from_region_code": "450102", "to_region_code": "320115"});
        let opened = app
            .client
            .post(app.url("/api/v1/si-transfers"))
            .bearer_auth(&worker.access_token)
            .header("Idempotency-Key", outcome)
            .json(&request)
            .send()
            .await
            .unwrap();
        let opened: Value = opened.json().await.unwrap();
        let transfer_no = opened["transfer_no"].as_str().unwrap();
        let body = json!({"status": outcome, "occurred_at": "2026-11-02T09:00:00+08:00", "note": "本人撤回"});
        let path = format!("/api/v1/integrations/si-transfers/{transfer_no}/steps/application_accepted");
        assert_eq!(app.put_json(&path, &body, &writer).await.status(), StatusCode::OK);
        let id = opened["id"].as_str().unwrap().to_owned();
        backdate(&db, "si_transfer", &id, 4 * 365).await;
        ended.push(id);
    }
    let summary = purge(&app, "--apply");
    assert_eq!(summary["si_transfers"], 2, "{summary}");
    let anonymised = text(
        &db,
        "SELECT id FROM si_transfer WHERE anonymised_at IS NOT NULL ORDER BY id",
    )
    .await;
    ended.sort();
    assert_eq!(anonymised, ended.into_iter().map(Some).collect::<Vec<_>>());
    let free_text = text(
        &db,
        "SELECT note FROM si_transfer_step WHERE note IS NOT NULL OR answer IS NOT NULL \
         UNION ALL SELECT note FROM si_transfer_change WHERE note IS NOT NULL",
    )
    .await;
    assert!(free_text.is_empty(), "reasons and answers go too: {free_text:?}");
    app.stop().await;
}
