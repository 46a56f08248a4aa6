//! Keyset paging of the staff queues (issue 20): a queue walked by
//! `next_cursor` shows every case once, in order, whatever arrives
//! meanwhile; a cursor serves only its own queue, filters and caller.

use std::collections::HashSet;

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::applications::{apply, complete_application, guangxi_worker};
use crate::support::{TestApp, app::Session, assert_problem};

/// Copies of the case `id`, the worker left out (as a filing waiting for
/// its worker), in `region`, submitted and created at the same instants as
/// it: so that only the id orders them.
async fn copies(app: &TestApp, id: &str, region: &str, names: &[String]) {
    let db = app.db().await;
    for name in names {
        let sql = format!(
            "INSERT INTO application (id, application_no, program_id, worker_id, period, region_code, status, \
             answers, requested_amount_fen, version, submitted_at, created_at, updated_at) \
             SELECT '{name}', 'SB-KEYSET-{name}', program_id, NULL, period, '{region}', status, answers, \
             requested_amount_fen, version, submitted_at, created_at, updated_at FROM application WHERE id = '{id}'"
        );
        db.execute_unprepared(&sql).await.unwrap();
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every page of `path` (which has its `?`), from page 1 by cursor; each
/// page's body as it came.
async fn walk(app: &TestApp, staff: &Session, path: &str, mut between: impl AsyncFnMut(usize)) -> Vec<Value> {
    let mut pages = vec![app.get_json_with(path, &staff.access_token).await];
    while let Some(cursor) = pages.last().unwrap()["next_cursor"].as_str().map(str::to_owned) {
        between(pages.len()).await;
        let next = app
            .get_json_with(&format!("{path}&cursor={cursor}&page=7"), &staff.access_token)
            .await;
        pages.push(next);
        assert!(pages.len() < 50, "the walk ends");
    }
    pages
}

#[tokio::test]
async fn a_queue_walked_by_cursor_shows_each_case_once_in_order_even_as_cases_arrive() {
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "keyset-first", "450102198801011235").await;
    let body = complete_application(&app, &worker).await;
    let first: Value = apply(&app, &worker, "keyset-first", &body).await.json().await.unwrap();
    let first = first["id"].as_str().unwrap().to_owned();
    let mine: Vec<String> = (0..10).map(|n| format!("k{n:02}")).collect();
    copies(&app, &first, "450102", &mine).await;
    let theirs: Vec<String> = (0..5).map(|n| format!("j{n:02}")).collect();
    copies(&app, &first, "450103", &theirs).await;
    let admin = app.admin("450000").await;
    let reviewer = app.staff(&admin, "keyset.reviewer", &["reviewer"], "450102").await;

    let mut expected: Vec<String> = mine.iter().cloned().chain([first.clone()]).collect();
    expected.sort();
    let path = "/api/v1/staff/applications?status=submitted&page_size=3";
    let by_number: Vec<String> = {
        let mut seen = Vec::new();
        for page in 1..=4 {
            let body = app
                .get_json_with(&format!("{path}&page={page}"), &reviewer.access_token)
                .await;
            seen.extend(ids(&body));
        }
        seen
    };
    assert_eq!(by_number, expected, "pages by number: the id breaks ties");

    // A case submitted during the walk comes last, and is seen once.
    let mut arrived = None;
    let pages = walk(&app, &reviewer, path, async |done| {
        if done == 2 {
            let late = guangxi_worker(&app, "keyset-late", "450102199001010132").await;
            let body = complete_application(&app, &late).await;
            let created: Value = apply(&app, &late, "keyset-late", &body).await.json().await.unwrap();
            arrived = Some(created["id"].as_str().unwrap().to_owned());
        }
    })
    .await;
    let arrived = arrived.expect("a case arrived during the walk");
    let seen: Vec<String> = pages.iter().flat_map(ids).collect();
    let mut all = expected.clone();
    all.push(arrived);
    assert_eq!(seen, all, "every case once, in queue order, none of 450103");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
    assert!(!seen.iter().any(|id| theirs.contains(id)));
    let numbers: Vec<u64> = pages.iter().map(|p| p["page"].as_u64().unwrap()).collect();
    assert_eq!(
        numbers,
        [1, 2, 3, 4],
        "a page after a cursor is numbered by the rows before it"
    );
    assert_eq!(pages[0]["total"], 11);
    assert_eq!(
        pages.last().unwrap()["total"],
        12,
        "the total is given with a cursor too"
    );
    assert!(pages.last().unwrap()["next_cursor"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn a_cursor_serves_only_its_queue_filters_and_caller() {
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "keyset-scope", "450102198801011235").await;
    let body = complete_application(&app, &worker).await;
    let first: Value = apply(&app, &worker, "keyset-scope", &body).await.json().await.unwrap();
    let first = first["id"].as_str().unwrap().to_owned();
    copies(
        &app,
        &first,
        "450103",
        &["j00".to_owned(), "j01".to_owned(), "j02".to_owned()],
    )
    .await;
    let admin = app.admin("450000").await;
    let city = app.staff(&admin, "keyset.city", &["reviewer"], "450100").await;
    let county = app.staff(&admin, "keyset.county", &["reviewer"], "450102").await;
    let queue = "/api/v1/staff/applications?page_size=1";
    let page = app.get_json_with(queue, &city.access_token).await;
    assert_eq!(page["total"], 4);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let refused = async |path: String, staff: &Session| {
        let response = app.get_with(&path, &staff.access_token).await;
        assert_problem(response, StatusCode::BAD_REQUEST, "CURSOR_INVALID").await
    };

    // The city's cursor is not the county reviewer's: it would start them
    // among cases of a region they do not reach.
    let problem = refused(format!("{queue}&cursor={cursor}"), &county).await;
    assert_eq!(problem["details"]["reason"], "other_list");
    // Nor is it good under other filters, or on another queue.
    refused(format!("{queue}&status=approved&cursor={cursor}"), &city).await;
    refused(format!("/api/v1/staff/follow-ups?page_size=1&cursor={cursor}"), &city).await;
    // Edited or made up, it is refused; never a 500.
    let mut edited = cursor.clone().into_bytes();
    edited[5] = if edited[5] == b'A' { b'B' } else { b'A' };
    let edited = String::from_utf8(edited).unwrap();
    for bad in [edited.as_str(), "garbage", "e30.0000", "...", "%E5%AD%97"] {
        let problem = refused(format!("{queue}&cursor={bad}"), &city).await;
        assert_eq!(problem["details"]["reason"], "malformed", "{bad}");
    }
    // Its own caller, queue and filters go on.
    let next = app
        .get_json_with(&format!("{queue}&cursor={cursor}"), &city.access_token)
        .await;
    assert_eq!(next["page"], 2);
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_audit_log_walked_by_cursor_matches_it_read_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin("450000").await;
    for n in 0..4 {
        app.staff(&admin, &format!("keyset.audit.{n}"), &["reviewer"], "450102")
            .await;
    }
    let at_once = app
        .get_json_with("/api/v1/admin/audit-logs?page_size=100", &admin.access_token)
        .await;
    let everything: Vec<i64> = at_once["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(everything.len() >= 5 && at_once["next_cursor"].is_null());
    let pages = walk(&app, &admin, "/api/v1/admin/audit-logs?page_size=2", async |_| {}).await;
    let walked: Vec<i64> = pages
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()))
        .filter(|id| everything.contains(id))
        .collect();
    assert_eq!(walked, everything, "newest first, each once");
    app.stop().await;
}
