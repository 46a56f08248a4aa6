//! A case change's rows go to the database together (one statement on
//! PostgreSQL, one transaction everywhere): when the last of them fails,
//! none is kept, and a retry records the change once.

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::Value;

use crate::{
    support::{TestApp, app::Session},
    transfer_steps::{ACCEPTED, OUT, opened, outcome},
    transfers::agency,
    wage_reports::{file, report},
};

async fn run(db: &DatabaseConnection, sql: &str) {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

/// The audit row of `action` fails to insert until `heal` drops the
/// trigger: the last of a change's writes.
async fn break_audit(db: &DatabaseConnection, action: &str) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            run(
                db,
                "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$",
            )
            .await;
            let trigger = format!(
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW \
                 WHEN (NEW.action = '{action}') EXECUTE FUNCTION refuse_audit()"
            );
            run(db, &trigger).await;
        }
        _ => {
            let trigger = format!(
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log WHEN NEW.action = '{action}' \
                 BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END"
            );
            run(db, &trigger).await;
        }
    }
}

async fn heal(db: &DatabaseConnection) {
    match db.get_database_backend() {
        DbBackend::Postgres => run(db, "DROP TRIGGER refuse_audit ON audit_log").await,
        _ => run(db, "DROP TRIGGER refuse_audit").await,
    }
}

/// Rows of the report's case: the report, its history, its message, its
/// audit row and the key's record.
async fn report_rows(db: &DatabaseConnection) -> [i64; 5] {
    [
        count(db, "SELECT COUNT(*) FROM wage_report").await,
        count(db, "SELECT COUNT(*) FROM wage_report_event").await,
        count(db, "SELECT COUNT(*) FROM outbox WHERE topic LIKE 'wage_report.%'").await,
        count(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'wage_report.submit'").await,
        count(db, "SELECT COUNT(*) FROM idempotency_record").await,
    ]
}

#[tokio::test]
async fn a_report_whose_last_write_fails_leaves_nothing_and_its_retry_files_it_once() {
    let app = TestApp::spawn().await;
    let worker: Session = app.login_worker("half-written").await;
    let db = app.db().await;
    break_audit(&db, "wage_report.submit").await;
    let failed = file(&app, &worker, "once", &report(300_000)).await;
    assert!(failed.status().is_server_error(), "{}", failed.status());
    assert_eq!(
        report_rows(&db).await,
        [0; 5],
        "nothing of the report is kept, the key is free"
    );

    heal(&db).await;
    let filed = file(&app, &worker, "once", &report(300_000)).await;
    assert_eq!(filed.status(), StatusCode::CREATED);
    let filed: Value = filed.json().await.unwrap();
    let replayed: Value = file(&app, &worker, "once", &report(300_000))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(replayed["id"], filed["id"]);
    assert_eq!(
        report_rows(&db).await,
        [1; 5],
        "one report, one history entry, message, audit row and key"
    );
    let number = filed["report_no"].as_str().unwrap();
    assert!(
        number.ends_with("-000001"),
        "the failed attempt's number went back: {number}"
    );
    let detail = app
        .get_json_with(
            &format!("/api/v1/wage-reports/{}", filed["id"].as_str().unwrap()),
            &worker.access_token,
        )
        .await;
    assert_eq!(detail["timeline"].as_array().unwrap().len(), 1, "{detail}");
    app.stop().await;
}

#[tokio::test]
async fn a_step_whose_last_write_fails_leaves_the_case_as_it_was_and_its_retry_records_it_once() {
    let app = TestApp::spawn().await;
    let (_worker, case) = opened(&app, "half-stepped", 1).await;
    let admin = app.admin("000000").await;
    let writer = agency(&app, &admin.access_token, &["si_transfer:read", "si_transfer:write"]).await;
    let db = app.db().await;
    let changes = "SELECT COUNT(*) FROM si_transfer_change";
    let before = count(&db, changes).await;
    break_audit(&db, "si_transfer.step").await;
    let failed = outcome(&app, &writer, &case, ACCEPTED, "done", None).await;
    assert!(failed.status().is_server_error(), "{}", failed.status());
    assert_eq!(count(&db, changes).await, before, "no feed entry");
    let steps = "SELECT COUNT(*) FROM si_transfer_step WHERE status = 'pending' AND due_on IS NOT NULL";
    assert_eq!(
        count(&db, steps).await,
        1,
        "the first step still waits, the next has no clock"
    );

    heal(&db).await;
    let done = outcome(&app, &writer, &case, ACCEPTED, "done", None).await;
    assert_eq!(done.status(), StatusCode::OK);
    let done: Value = done.json().await.unwrap();
    let next = done["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == OUT)
        .unwrap();
    assert!(next["due_on"].is_string(), "{next}");
    assert_eq!(count(&db, changes).await, before + 1, "one feed entry");
    let audited = "SELECT COUNT(*) FROM audit_log WHERE action = 'si_transfer.step'";
    assert_eq!(count(&db, audited).await, 1);
    app.stop().await;
}
