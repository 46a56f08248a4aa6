use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{
    applications::guangxi_worker,
    support::{TestApp, app::Session, assert_problem},
};

/// An integrator token with `scopes`, through the admin API and the token route.
pub async fn agency(app: &TestApp, admin_token: &str, scopes: &[&str]) -> String {
    crate::integrators::integrator(app, admin_token, scopes, None).await
}

async fn report(app: &TestApp, token: &str, transfer_no: &str, step: &str, at: &str) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/api/v1/integrations/si-transfers/{transfer_no}/steps/{step}")))
        .bearer_auth(token)
        .json(&json!({"status": "done", "occurred_at": at, "note": "已办理"}))
        .send()
        .await
        .unwrap()
}

fn step<'a>(transfer: &'a Value, name: &str) -> &'a Value {
    transfer["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap()
}

#[tokio::test]
async fn a_worker_opens_a_pension_transfer_and_agencies_move_it_step_by_step() {
    let app = TestApp::spawn().await;
    let no_id = app.login_worker("no-id").await;
    let request = json!({"insurance_type": "pension", "from_region_code": "450102", "to_region_code": "320115"});
    let refused = app
        .client
        .post(app.url("/api/v1/si-transfers"))
        .bearer_auth(&no_id.access_token)
        .header("Idempotency-Key", "t-0")
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_problem(refused, StatusCode::BAD_REQUEST, "PROFILE_INCOMPLETE").await;

    let worker = guangxi_worker(&app, "mover", "450102198801011235").await;
    let open = || {
        app.client
            .post(app.url("/api/v1/si-transfers"))
            .bearer_auth(&worker.access_token)
            .header("Idempotency-Key", "t-1")
            .json(&request)
            .send()
    };
    let created: Value = open().await.unwrap().json().await.unwrap();
    let replayed: Value = open().await.unwrap().json().await.unwrap();
    assert_eq!(created, replayed);
    let transfer_no = created["transfer_no"].as_str().unwrap();
    assert!(transfer_no.starts_with("ZJ-320115-"), "{transfer_no}");
    let detail = app
        .get_json_with(
            &format!("/api/v1/si-transfers/{}", created["id"].as_str().unwrap()),
            &worker.access_token,
        )
        .await;
    assert_eq!(detail["steps"].as_array().unwrap().len(), 4);
    assert_eq!(
        (
            detail["responsible_office"].as_str(),
            detail["responsible_region_code"].as_str()
        ),
        (Some("to"), Some("320115"))
    );

    let admin = app.admin("000000").await;
    let writer = agency(&app, &admin.access_token, &["si_transfer:read", "si_transfer:write"]).await;
    let reader = agency(&app, &admin.access_token, &["si_transfer:read"]).await;
    assert_problem(
        report(
            &app,
            &reader,
            transfer_no,
            "application_accepted",
            "2026-09-30T09:00:00+08:00",
        )
        .await,
        StatusCode::FORBIDDEN,
        "INSUFFICIENT_SCOPE",
    )
    .await;
    assert_problem(
        report(
            &app,
            &writer,
            "ZJ-000000-00000000-000000",
            "application_accepted",
            "2026-09-30T09:00:00+08:00",
        )
        .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_problem(
        report(
            &app,
            &writer,
            transfer_no,
            "funds_transferred",
            "2026-09-30T09:00:00+08:00",
        )
        .await,
        StatusCode::CONFLICT,
        "STEP_OUT_OF_ORDER",
    )
    .await;
    assert_problem(
        report(&app, &writer, transfer_no, "teleported", "2026-09-30T09:00:00+08:00").await,
        StatusCode::CONFLICT,
        "STEP_NOT_IN_PROCESS",
    )
    .await;

    let admin_calendar = |day: &str, kind: &str| {
        let (app, token, day, kind) = (&app, admin.access_token.clone(), day.to_owned(), kind.to_owned());
        async move {
            app.client
                .put(app.url(&format!("/api/v1/admin/calendar/{day}")))
                .bearer_auth(token)
                .json(&json!({"kind": kind, "name": "国庆"}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for day in 1..=7 {
        assert_eq!(
            admin_calendar(&format!("2026-10-0{day}"), "holiday").await,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(admin_calendar("2026-10-10", "workday").await, StatusCode::NO_CONTENT);
    let audited = app
        .get_json_with("/api/v1/admin/audit-logs?action=calendar.set", &admin.access_token)
        .await;
    assert_eq!(
        audited["total"], 8,
        "every calendar change moves deadlines and is audited"
    );

    for _ in 0..3 {
        let accepted = report(
            &app,
            &writer,
            transfer_no,
            "application_accepted",
            "2026-09-30T09:00:00+08:00",
        )
        .await;
        assert_eq!(accepted.status(), StatusCode::OK);
    }
    let transfer = app
        .get_json_with(&format!("/api/v1/integrations/si-transfers/{transfer_no}"), &reader)
        .await;
    assert_eq!(step(&transfer, "application_accepted")["status"], "done");
    let letter = step(&transfer, "contact_letter_issued");
    assert_eq!(
        letter["due_on"], "2026-10-27",
        "15 working days, the National Day holidays skipped"
    );
    assert_eq!(letter["overdue"], true);
    assert_eq!(transfer["overdue"], true);
    let different = report(
        &app,
        &writer,
        transfer_no,
        "application_accepted",
        "2026-09-29T09:00:00+08:00",
    )
    .await;
    assert_problem(different, StatusCode::CONFLICT, "STEP_ALREADY_DONE").await;

    let feed = app
        .get_json_with("/api/v1/integrations/si-transfers?cursor=0", &reader)
        .await;
    let kinds: Vec<(String, String)> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["step"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("created".to_owned(), String::new()),
            ("step".to_owned(), "application_accepted".to_owned())
        ],
        "three reports, one change"
    );
    let later = app
        .get_json_with(
            &format!("/api/v1/integrations/si-transfers?cursor={}", feed["next_cursor"]),
            &reader,
        )
        .await;
    assert_eq!(later["items"], json!([]));

    let reviewer = app.staff(&admin, "jiangning.si", &["reviewer"], "320115").await;
    let overdue = app
        .get_json_with("/api/v1/staff/si-transfers?overdue=true", &reviewer.access_token)
        .await;
    assert_eq!(overdue["total"], 1);
    assert_eq!(overdue["items"][0]["transfer_no"], transfer_no);
    let narrowed = app
        .get_json_with("/api/v1/staff/si-transfers?region_code=450102", &admin.access_token)
        .await;
    assert_eq!(narrowed["total"], 1, "the old place is 450102");
    let outside = app
        .get_with("/api/v1/staff/si-transfers?region_code=450102", &reviewer.access_token)
        .await;
    assert_problem(outside, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;
    let elsewhere = app.staff(&admin, "liuhe.si", &["reviewer"], "320116").await;
    assert_eq!(
        app.get_json_with("/api/v1/staff/si-transfers", &elsewhere.access_token)
            .await,
        json!({"items": [], "total": 0, "page": 1, "page_size": 20})
    );
    app.stop().await;
}

#[tokio::test]
async fn an_agency_case_appears_once_its_worker_registers() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let writer = agency(&app, &admin.access_token, &["si_transfer:write"]).await;
    let opened = app
        .post_json(
            "/api/v1/integrations/si-transfers",
            &json!({"id_number": "450103199002022342", "insurance_type": "medical", "from_region_code": "450103", "to_region_code": "320115"}),
            Some(&writer),
        )
        .await;
    assert_eq!(opened.status(), StatusCode::CREATED);
    let opened: Value = opened.json().await.unwrap();
    assert_eq!(opened["source"], "agency");
    assert_eq!(step(&opened, "transfer_out_completed")["limit_days"], 10);

    let newcomer = guangxi_worker(&app, "newcomer", "450103199002022342").await;
    let mine = app.get_json_with("/api/v1/si-transfers", &newcomer.access_token).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["transfer_no"], opened["transfer_no"]);
    let stranger = guangxi_worker(&app, "someone-else", "450102198801011235").await;
    assert_eq!(
        app.get_json_with("/api/v1/si-transfers", &stranger.access_token).await,
        json!([])
    );
    app.stop().await;
}

/// A valid ID number for a person born in 南宁市兴宁区 with sequence `n`.
fn id_number(n: u32) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let body = format!("45010219900101{n:03}");
    let sum: u32 = body.bytes().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    format!("{body}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

#[tokio::test]
async fn the_feed_has_no_gaps_or_repeats_under_concurrent_writes() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let reader = agency(&app, &admin.access_token, &["si_transfer:read"]).await;
    let mut workers = Vec::new();
    for n in 0..8 {
        workers.push(guangxi_worker(&app, &format!("feed-{n}"), &id_number(n)).await);
    }
    let opens = workers.iter().map(|worker| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/si-transfers"))
                .bearer_auth(&worker.access_token)
                .header("Idempotency-Key", "feed")
                .json(&json!({"insurance_type": "pension", "from_region_code": "450102", "to_region_code": "320115"}))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures_util::future::join_all(opens).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        let page = app
            .get_json_with(
                &format!("/api/v1/integrations/si-transfers?cursor={cursor}&limit=3"),
                &reader,
            )
            .await;
        let items = page["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        seen.extend(items.iter().map(|c| c["seq"].as_i64().unwrap()));
        cursor = page["next_cursor"].as_i64().unwrap();
    }
    assert_eq!(seen, (1..=8).collect::<Vec<i64>>());
    app.stop().await;
}

async fn open_transfer(app: &TestApp, worker: &Session, key: &str, request: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/si-transfers"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", key)
        .json(request)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_worker_opens_a_few_transfers_a_day_and_one_case_per_route() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_TRANSFERS_PER_DAY", "2".to_owned());
    })
    .await;
    let worker = guangxi_worker(&app, "eager", "450102198801011235").await;
    let pension = json!({"insurance_type": "pension", "from_region_code": "450102", "to_region_code": "320115"});
    let first = open_transfer(&app, &worker, "k-1", &pension).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    for _ in 0..3 {
        let replayed = open_transfer(&app, &worker, "k-1", &pension).await;
        assert_eq!(replayed.status(), StatusCode::CREATED, "a replay is not a new transfer");
        assert_eq!(replayed.json::<Value>().await.unwrap(), first);
    }
    let again = assert_problem(
        open_transfer(&app, &worker, "k-2", &pension).await,
        StatusCode::CONFLICT,
        "TRANSFER_ALREADY_OPEN",
    )
    .await;
    assert!(again["message"].as_str().unwrap().contains("办理中"), "{again}");

    let medical = json!({"insurance_type": "medical", "from_region_code": "450102", "to_region_code": "320115"});
    assert_eq!(
        open_transfer(&app, &worker, "k-3", &medical).await.status(),
        StatusCode::CREATED,
        "neither the replays nor the refused duplicate used the day's allowance"
    );
    let unemployment =
        json!({"insurance_type": "unemployment", "from_region_code": "450102", "to_region_code": "320115"});
    let refused = open_transfer(&app, &worker, "k-4", &unemployment).await;
    assert!(refused.headers().contains_key("retry-after"));
    let problem = assert_problem(refused, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    assert!(problem["message"].as_str().unwrap().contains("每天最多"), "{problem}");

    let listed = app.get_json_with("/api/v1/si-transfers", &worker.access_token).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let others = guangxi_worker(&app, "neighbour", &id_number(7)).await;
    assert_eq!(
        open_transfer(&app, &others, "k-1", &unemployment).await.status(),
        StatusCode::CREATED,
        "the allowance is each worker's own"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_staff_list_pages_and_filters_overdue_cases_in_the_query() {
    let app = TestApp::spawn().await;
    let mut numbers = Vec::new();
    for n in 0..3 {
        let worker = guangxi_worker(&app, &format!("list-{n}"), &id_number(n)).await;
        let opened = open_transfer(
            &app,
            &worker,
            "list",
            &json!({"insurance_type": "pension", "from_region_code": "450102", "to_region_code": "320115"}),
        )
        .await;
        assert_eq!(opened.status(), StatusCode::CREATED);
        let opened: Value = opened.json().await.unwrap();
        numbers.push(opened["transfer_no"].as_str().unwrap().to_owned());
    }
    // The first and the last case have a pending step long past its due
    // day; the middle one's past-due step is done, so it is on time.
    let db = app.db().await;
    let backend = db.get_database_backend();
    for (number, status) in [
        (&numbers[0], "pending"),
        (&numbers[1], "done"),
        (&numbers[2], "pending"),
    ] {
        let sql = format!(
            "UPDATE si_transfer_step SET due_on = '2026-01-09', status = '{status}' \
             WHERE step = 'contact_letter_issued' \
             AND transfer_id = (SELECT id FROM si_transfer WHERE transfer_no = '{number}')"
        );
        db.execute_raw(Statement::from_string(backend, sql)).await.unwrap();
    }

    let admin = app.admin("000000").await;
    let reviewer = app.staff(&admin, "list.si", &["reviewer"], "320115").await;
    let list = |query: &str| {
        let (app, token, path) = (
            &app,
            reviewer.access_token.clone(),
            format!("/api/v1/staff/si-transfers?{query}"),
        );
        async move { app.get_json_with(&path, &token).await }
    };
    let all = list("page_size=2").await;
    assert_eq!(
        (all["total"].as_u64(), all["page"].as_u64(), all["page_size"].as_u64()),
        (Some(3), Some(1), Some(2))
    );
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    assert_eq!(all["items"][0]["transfer_no"], numbers[0].as_str(), "oldest first");
    assert_eq!(all["items"][0]["steps"].as_array().unwrap().len(), 4, "with the steps");

    let overdue = list("overdue=true&page_size=1&page=2").await;
    assert_eq!(
        overdue["total"], 2,
        "the overdue filter is counted, not cut from a page"
    );
    let items = overdue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["transfer_no"], numbers[2].as_str());
    assert_eq!(items[0]["overdue"], true);
    let first = list("overdue=true&page_size=1").await;
    assert_eq!(first["items"][0]["transfer_no"], numbers[0].as_str());
    assert_eq!(list("overdue=true&status=completed").await["total"], 0);
    assert_eq!(list("overdue=true&page=3&page_size=1").await["items"], json!([]));
    app.stop().await;
}
