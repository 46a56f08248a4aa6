//! Outage drills: a dependency taken away under load and given back. The
//! service answers 503 (never 500, never a hang past its timeouts), /readyz
//! follows, nothing it accepted is lost, and it recovers without a restart.
//! Redis and WeChat have theirs in health.rs and workers.rs.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::support::{TestApp, app::Session, assert_problem, proxy::TcpProxy};

fn report(n: usize) -> Value {
    json!({
        "employer_name": format!("南宁某劳务公司{n}"),
        "work_region_code": "450102",
        "sector": "construction",
        "amount_owed_fen": 300_000,
        "owed_from": "2026-06-01",
        "owed_to": "2026-09-30",
        "workers_affected": 1,
        "description": "工资没有发。"
    })
}

async fn file(app: &TestApp, worker: &Session, n: usize) -> StatusCode {
    app.client
        .post(app.url("/api/v1/wage-reports"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", format!("drill-{n}"))
        .timeout(Duration::from_secs(10))
        .json(&report(n))
        .send()
        .await
        .expect("an answer within the database's timeouts, never a hang")
        .status()
}

async fn readiness(app: &TestApp, wanted: StatusCode) -> Value {
    for _ in 0..120 {
        let response = app.get("/readyz").await;
        if response.status() == wanted {
            return response.json().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("/readyz never answered {wanted}");
}

/// Retries as a client should: after a 409 `IDEMPOTENCY_IN_FLIGHT` (the
/// claim of a request the cut interrupted is still being released), again
/// after its `Retry-After`, for at most half a minute.
async fn retry(app: &TestApp, worker: &Session, n: usize) -> StatusCode {
    for _ in 0..30 {
        let status = file(app, worker, n).await;
        if status != StatusCode::CONFLICT {
            return status;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    panic!("report {n} stayed in flight");
}

/// Files reports numbered from `first` until `stop`, as fast as answers come.
async fn writer(app: &TestApp, worker: &Session, first: usize, stop: &AtomicBool) -> Vec<(usize, StatusCode)> {
    let mut answers = Vec::new();
    let mut n = first;
    while !stop.load(Ordering::SeqCst) {
        answers.push((n, file(app, worker, n).await));
        n += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    answers
}

#[tokio::test]
async fn postgres_cut_under_writes_gives_503s_and_loses_nothing_it_accepted() {
    let proxy = TcpProxy::start(crate::support::app::postgres_address()).await;
    let through = proxy.addr;
    let app = TestApp::spawn_on_postgres(
        |_| through,
        |vars| {
            vars.insert("SHIMINHUA_WAGE_REPORTS_PER_DAY", "100000".to_owned());
            vars.insert("SHIMINHUA_RATE_WORKER", "100000".to_owned());
        },
    )
    .await;
    let worker = app.login_worker("drill-worker").await;
    let stop = AtomicBool::new(false);

    let drill = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        proxy.cut();
        let down = readiness(&app, StatusCode::SERVICE_UNAVAILABLE).await;
        assert_ne!(down["details"]["checks"]["database"], "up");
        let list = app
            .client
            .get(app.url("/api/v1/wage-reports"))
            .bearer_auth(&worker.access_token)
            .send()
            .await
            .unwrap();
        assert_problem(list, StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE").await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        proxy.restore();
        readiness(&app, StatusCode::OK).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, Ordering::SeqCst);
    };
    let (_, a, b, c, d) = tokio::join!(
        drill,
        writer(&app, &worker, 0, &stop),
        writer(&app, &worker, 100_000, &stop),
        writer(&app, &worker, 200_000, &stop),
        writer(&app, &worker, 300_000, &stop),
    );
    let answers: Vec<(usize, StatusCode)> = [a, b, c, d].into_iter().flatten().collect();
    let unexpected: Vec<_> = answers
        .iter()
        .filter(|(_, status)| ![StatusCode::CREATED, StatusCode::SERVICE_UNAVAILABLE].contains(status))
        .collect();
    assert!(unexpected.is_empty(), "answers other than 201 and 503: {unexpected:?}");
    let refused: Vec<usize> = answers
        .iter()
        .filter(|(_, status)| *status == StatusCode::SERVICE_UNAVAILABLE)
        .map(|(n, _)| *n)
        .collect();
    assert!(!refused.is_empty(), "the cut was felt");
    assert!(
        answers
            .iter()
            .any(|(n, status)| *status == StatusCode::CREATED && *n > 0),
        "writes went through before and after the cut"
    );

    for &n in &refused {
        assert_eq!(retry(&app, &worker, n).await, StatusCode::CREATED, "report {n} retried");
    }
    let db = app.db().await;
    let counted = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*), COUNT(DISTINCT employer_name) FROM wage_report",
        ))
        .await
        .unwrap()
        .unwrap();
    let (reports, distinct): (i64, i64) = (
        counted.try_get_by_index(0).unwrap(),
        counted.try_get_by_index(1).unwrap(),
    );
    assert_eq!(
        (reports, distinct),
        (answers.len() as i64, answers.len() as i64),
        "every accepted report is there once, and every retried one"
    );
    app.stop().await;
}

/// A report the database fails to record after WeChat's content check passed
/// is not a report filed: the worker keeps the day's allowance for it.
#[tokio::test]
async fn a_report_lost_to_a_database_cut_keeps_the_days_allowance() {
    let proxy = TcpProxy::start(crate::support::app::postgres_address()).await;
    let through = proxy.addr;
    let app = TestApp::spawn_on_postgres(
        |_| through,
        |vars| {
            vars.insert("SHIMINHUA_WAGE_REPORTS_PER_DAY", "1".to_owned());
        },
    )
    .await;
    let worker = app.login_worker("unlucky-reporter").await;

    let gate = app.wechat.hold_next_content_check();
    let cut_during_the_check = async {
        // The key is claimed and the day's count taken when WeChat is asked.
        gate.arrived().await;
        proxy.cut();
        gate.release();
    };
    let (lost, ()) = tokio::join!(file(&app, &worker, 1), cut_during_the_check);
    assert_eq!(lost, StatusCode::SERVICE_UNAVAILABLE);
    proxy.restore();
    readiness(&app, StatusCode::OK).await;

    assert_eq!(
        retry(&app, &worker, 2).await,
        StatusCode::CREATED,
        "the lost report did not use up the day's one report"
    );
    assert_eq!(retry(&app, &worker, 3).await, StatusCode::TOO_MANY_REQUESTS);
    app.stop().await;
}
