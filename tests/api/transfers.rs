use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{
    ConnectionTrait, Statement,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
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

/// The owner's ID number in the tests below (南宁市青秀区).
const OWNER_ID: &str = "450103199002022342";
/// The phone the agency recorded for the owner, and the owner's WeChat code for it.
const OWNER_PHONE: &str = "13800000002";

/// An agency opens a medical-insurance case for `id_number`, perhaps with a phone.
async fn agency_case(app: &TestApp, writer: &str, id_number: &str, phone: Option<&str>) -> Value {
    agency_case_of(app, writer, "medical", id_number, phone).await
}

/// An agency opens a case of `insurance` from 450103 to 320115 for `id_number`.
async fn agency_case_of(app: &TestApp, writer: &str, insurance: &str, id_number: &str, phone: Option<&str>) -> Value {
    let mut body = json!({"id_number": id_number, "insurance_type": insurance, "from_region_code": "450103", "to_region_code": "320115"});
    if let Some(phone) = phone {
        body["phone"] = json!(phone);
    }
    let opened = app
        .client
        .post(app.url("/api/v1/integrations/si-transfers"))
        .bearer_auth(writer)
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::CREATED);
    opened.json().await.unwrap()
}

async fn set_id_number(app: &TestApp, worker: &Session, id_number: &str) -> reqwest::Response {
    app.client
        .put(app.url("/api/v1/me/profile"))
        .bearer_auth(&worker.access_token)
        .json(&json!({"id_number": id_number, "consent_version": "2026-11"}))
        .send()
        .await
        .unwrap()
}

async fn worker_post(app: &TestApp, worker: &Session, path: &str, body: &Value) -> reqwest::Response {
    app.post_json(path, body, Some(&worker.access_token)).await
}

async fn claim(app: &TestApp, worker: &Session, code: &str) -> reqwest::Response {
    worker_post(app, worker, "/api/v1/si-transfers/claim", &json!({"code": code})).await
}

async fn link(app: &TestApp, worker: &Session) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/si-transfers/link"))
        .bearer_auth(&worker.access_token)
        .send()
        .await
        .unwrap()
}

async fn my_transfers(app: &TestApp, worker: &Session) -> Vec<String> {
    app.get_json_with("/api/v1/si-transfers", &worker.access_token).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["transfer_no"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn typing_a_strangers_id_number_brings_none_of_their_cases() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let writer = agency(&app, &admin.access_token, &["si_transfer:write"]).await;
    let opened = agency_case(&app, &writer, OWNER_ID, Some(OWNER_PHONE)).await;
    assert_eq!(opened["source"], "agency");
    assert_eq!(step(&opened, "transfer_out_completed")["limit_days"], 10);

    let squatter = guangxi_worker(&app, "squatter", OWNER_ID).await;
    assert!(
        my_transfers(&app, &squatter).await.is_empty(),
        "a typed number links nothing"
    );
    assert_problem(link(&app, &squatter).await, StatusCode::CONFLICT, "IDENTITY_NOT_PROVEN").await;
    let bound = worker_post(
        &app,
        &squatter,
        "/api/v1/me/phone",
        &json!({"code": "phone-13900000001"}),
    )
    .await;
    assert_eq!(bound.status(), StatusCode::OK);
    let linked = link(&app, &squatter).await;
    assert_eq!(linked.status(), StatusCode::OK);
    assert_eq!(
        linked.json::<Value>().await.unwrap(),
        json!([]),
        "another phone than the agency's links nothing, and says nothing of the number's cases"
    );
    let back = set_id_number(&app, &squatter, "450102198801011235").await;
    assert_eq!(
        back.status(),
        StatusCode::OK,
        "a number without cases may still be corrected"
    );
    assert!(
        my_transfers(&app, &squatter).await.is_empty(),
        "switching back keeps nothing"
    );

    let owner = app.login_worker("owner").await;
    assert_eq!(set_id_number(&app, &owner, OWNER_ID).await.status(), StatusCode::OK);
    assert!(
        my_transfers(&app, &owner).await.is_empty(),
        "not before the owner proves it"
    );
    let bound = worker_post(
        &app,
        &owner,
        "/api/v1/me/phone",
        &json!({"code": format!("phone-{OWNER_PHONE}")}),
    )
    .await;
    assert_eq!(bound.status(), StatusCode::OK);
    let linked: Value = link(&app, &owner).await.json().await.unwrap();
    assert_eq!(linked[0]["transfer_no"], opened["transfer_no"]);
    assert_eq!(
        my_transfers(&app, &owner).await,
        [opened["transfer_no"].as_str().unwrap()]
    );

    let audited = app
        .get_json_with("/api/v1/admin/audit-logs?action=si_transfer.link", &admin.access_token)
        .await;
    assert_eq!(audited["total"], 1);
    assert_eq!(audited["items"][0]["actor_id"], owner_id(&app, &owner).await);
    app.stop().await;
}

async fn owner_id(app: &TestApp, worker: &Session) -> Value {
    app.get_json_with("/api/v1/me", &worker.access_token).await["id"].clone()
}

#[tokio::test]
async fn the_owner_claims_a_case_once_with_the_agencys_code() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let writer = agency(&app, &admin.access_token, &["si_transfer:write"]).await;
    let opened = agency_case(&app, &writer, OWNER_ID, None).await;
    let code = opened["claim_code"].as_str().unwrap();

    let stranger = guangxi_worker(&app, "code-finder", "450102198801011235").await;
    assert_problem(
        claim(&app, &stranger, code).await,
        StatusCode::NOT_FOUND,
        "CLAIM_CODE_INVALID",
    )
    .await;
    let owner = guangxi_worker(&app, "code-owner", OWNER_ID).await;
    assert_problem(
        claim(&app, &owner, "2345-6789-ABCD").await,
        StatusCode::NOT_FOUND,
        "CLAIM_CODE_INVALID",
    )
    .await;
    let claimed = claim(&app, &owner, &code.to_lowercase().replace('-', " ")).await;
    assert_eq!(claimed.status(), StatusCode::OK);
    assert_eq!(
        claimed.json::<Value>().await.unwrap()["transfer_no"],
        opened["transfer_no"]
    );
    assert_problem(
        claim(&app, &owner, code).await,
        StatusCode::NOT_FOUND,
        "CLAIM_CODE_INVALID",
    )
    .await;
    assert_eq!(my_transfers(&app, &owner).await.len(), 1);
    assert!(my_transfers(&app, &stranger).await.is_empty());

    assert_problem(
        set_id_number(&app, &owner, "450102198801011235").await,
        StatusCode::CONFLICT,
        "ID_NUMBER_LOCKED",
    )
    .await;
    let next = agency_case_of(&app, &writer, "pension", OWNER_ID, None).await;
    assert!(
        next.get("claim_code").is_none(),
        "a proven number's new cases join at once"
    );
    assert_eq!(my_transfers(&app, &owner).await.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn expired_codes_and_too_many_wrong_ones_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let writer = agency(&app, &admin.access_token, &["si_transfer:write"]).await;
    let expired = agency_case(&app, &writer, OWNER_ID, None).await;
    let db = app.db().await;
    let backdate = Query::update()
        .table(Alias::new("si_transfer"))
        .value(Alias::new("claim_expires_at"), Utc::now() - Duration::minutes(1))
        .and_where(Expr::col(Alias::new("transfer_no")).eq(expired["transfer_no"].as_str().unwrap()))
        .to_owned();
    db.execute(&backdate).await.unwrap();
    let owner = guangxi_worker(&app, "late-owner", OWNER_ID).await;
    assert_problem(
        claim(&app, &owner, expired["claim_code"].as_str().unwrap()).await,
        StatusCode::NOT_FOUND,
        "CLAIM_CODE_INVALID",
    )
    .await;

    let fresh = agency_case_of(&app, &writer, "pension", OWNER_ID, None).await;
    for wrong in ["2345-6789-ABCD", "not a code", "2345-6789-ABCE", "2345-6789-ABCF"] {
        assert_problem(
            claim(&app, &owner, wrong).await,
            StatusCode::NOT_FOUND,
            "CLAIM_CODE_INVALID",
        )
        .await;
    }
    let tries = claim(&app, &owner, fresh["claim_code"].as_str().unwrap()).await;
    assert_problem(tries, StatusCode::TOO_MANY_REQUESTS, "CLAIM_TRIES_EXHAUSTED").await;
    assert!(my_transfers(&app, &owner).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn an_identity_check_proves_the_number_and_links_its_cases() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let writer = agency(&app, &admin.access_token, &["si_transfer:write"]).await;
    let opened = agency_case(&app, &writer, OWNER_ID, None).await;
    let owner = guangxi_worker(&app, "face-checked", OWNER_ID).await;
    let check = async |token: &str| {
        let body = json!({"result_token": token});
        worker_post(&app, &owner, "/api/v1/me/identity-check", &body).await
    };
    assert_problem(
        check("sandbox-fail").await,
        StatusCode::BAD_REQUEST,
        "IDENTITY_CHECK_FAILED",
    )
    .await;
    assert!(my_transfers(&app, &owner).await.is_empty());
    let passed = check("sandbox-pass").await;
    assert_eq!(passed.status(), StatusCode::OK);
    assert_eq!(passed.json::<Value>().await.unwrap()["id_number_proven"], true);
    let linked: Value = link(&app, &owner).await.json().await.unwrap();
    assert_eq!(linked[0]["transfer_no"], opened["transfer_no"]);
    let audited = app
        .get_json_with(
            "/api/v1/admin/audit-logs?action=worker.identity.verify",
            &admin.access_token,
        )
        .await;
    assert_eq!(audited["total"], 2, "the failed check is audited too");
    app.stop().await;
}

#[tokio::test]
async fn staff_of_the_region_release_a_squatted_number_for_its_owner() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let squatter = guangxi_worker(&app, "holder", OWNER_ID).await;
    let opened = app
        .client
        .post(app.url("/api/v1/si-transfers"))
        .bearer_auth(&squatter.access_token)
        .header("Idempotency-Key", "squat")
        .json(&json!({"insurance_type": "pension", "from_region_code": "450103", "to_region_code": "320115"}))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::CREATED);
    assert_problem(
        set_id_number(&app, &squatter, "450102198801011235").await,
        StatusCode::CONFLICT,
        "ID_NUMBER_LOCKED",
    )
    .await;

    let owner = app.login_worker("rightful").await;
    let refused = assert_problem(
        set_id_number(&app, &owner, OWNER_ID).await,
        StatusCode::CONFLICT,
        "ID_NUMBER_IN_USE",
    )
    .await;
    assert!(refused["message"].as_str().unwrap().contains("窗口"), "{refused}");

    let release = json!({"id_number": OWNER_ID, "reason": "本人持身份证到窗口申请"});
    let jiangsu = app.staff(&admin, "js.admin", &["admin"], "320000").await;
    let elsewhere = app
        .post_json(
            "/api/v1/admin/id-number-releases",
            &release,
            Some(&jiangsu.access_token),
        )
        .await;
    assert_problem(elsewhere, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;
    let reviewer = app.staff(&admin, "gx.reviewer", &["reviewer"], "450000").await;
    let no_role = app
        .post_json(
            "/api/v1/admin/id-number-releases",
            &release,
            Some(&reviewer.access_token),
        )
        .await;
    assert_problem(no_role, StatusCode::FORBIDDEN, "ROLE_REQUIRED").await;
    let guangxi = app.staff(&admin, "gx.admin", &["admin"], "450000").await;
    let released = app
        .post_json(
            "/api/v1/admin/id-number-releases",
            &release,
            Some(&guangxi.access_token),
        )
        .await;
    assert_eq!(released.status(), StatusCode::NO_CONTENT);
    let audited = app
        .get_json_with(
            "/api/v1/admin/audit-logs?action=worker.id_number.release",
            &guangxi.access_token,
        )
        .await;
    assert_eq!(audited["total"], 1, "the province's administrators see the release");

    assert_eq!(set_id_number(&app, &owner, OWNER_ID).await.status(), StatusCode::OK);
    assert_eq!(
        my_transfers(&app, &squatter).await.len(),
        1,
        "the holder keeps their own case"
    );
    assert!(
        my_transfers(&app, &owner).await.is_empty(),
        "and it does not become the owner's"
    );

    let writer = agency(&app, &admin.access_token, &["si_transfer:write"]).await;
    let case = agency_case(&app, &writer, OWNER_ID, None).await;
    assert_eq!(
        claim(&app, &owner, case["claim_code"].as_str().unwrap()).await.status(),
        StatusCode::OK
    );
    let proven = app
        .post_json(
            "/api/v1/admin/id-number-releases",
            &release,
            Some(&guangxi.access_token),
        )
        .await;
    assert_problem(proven, StatusCode::CONFLICT, "ID_NUMBER_PROVEN").await;
    app.stop().await;
}

/// A valid ID number for a person born in 南宁市兴宁区 with sequence `n`.
pub fn id_number(n: u32) -> String {
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
    assert_eq!(listed["total"], 2);
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

#[tokio::test]
async fn two_agencies_reporting_one_step_at_once_move_the_case_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let scopes = ["si_transfer:read", "si_transfer:write"];
    let writers = [
        agency(&app, &admin.access_token, &scopes).await,
        agency(&app, &admin.access_token, &scopes).await,
    ];
    let opened = agency_case(&app, &writers[0], OWNER_ID, None).await;
    let transfer_no = opened["transfer_no"].as_str().unwrap();
    // Different reports of the same pending step, all at once: each reads the
    // step as pending before any of them has written.
    let reports = (0..16).map(|n| {
        let at = format!("2026-09-30T09:{n:02}:00+08:00");
        let writer = &writers[n % 2];
        let app = &app;
        async move { report(app, writer, transfer_no, "application_accepted", &at).await }
    });
    let answers = futures_util::future::join_all(reports).await;
    let statuses: Vec<StatusCode> = answers.iter().map(reqwest::Response::status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "exactly one report moves the case: {statuses:?}"
    );
    for answer in answers.into_iter().filter(|a| a.status() != StatusCode::OK) {
        assert_eq!(answer.status(), StatusCode::CONFLICT);
        let problem: Value = answer.json().await.unwrap();
        assert!(
            ["STEP_ALREADY_DONE", "VERSION_CONFLICT"].contains(&problem["code"].as_str().unwrap()),
            "{problem}"
        );
    }
    let feed = app
        .get_json_with("/api/v1/integrations/si-transfers?cursor=0&limit=500", &writers[1])
        .await;
    let steps: Vec<&Value> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["transfer_no"] == transfer_no && c["kind"] == "step")
        .collect();
    assert_eq!(steps.len(), 1, "{steps:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_worker_reads_their_transfers_a_page_at_a_time_newest_first() {
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "pages", &id_number(21)).await;
    let mut numbers = Vec::new();
    for kind in ["pension", "medical", "unemployment"] {
        let request = json!({"insurance_type": kind, "from_region_code": "450102", "to_region_code": "320115"});
        let opened = open_transfer(&app, &worker, kind, &request).await;
        assert_eq!(opened.status(), StatusCode::CREATED);
        let opened: Value = opened.json().await.unwrap();
        numbers.push(opened["transfer_no"].as_str().unwrap().to_owned());
    }
    let page = |query: &'static str| {
        let (app, token) = (&app, worker.access_token.clone());
        async move {
            app.get_json_with(&format!("/api/v1/si-transfers?{query}"), &token)
                .await
        }
    };
    let first = page("page_size=2").await;
    assert_eq!(
        (
            first["total"].as_u64(),
            first["page"].as_u64(),
            first["page_size"].as_u64()
        ),
        (Some(3), Some(1), Some(2))
    );
    let listed = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["transfer_no"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(listed(&first), [numbers[2].clone(), numbers[1].clone()], "newest first");
    let with_steps = |t: &Value| !t["steps"].as_array().unwrap().is_empty();
    assert!(
        first["items"].as_array().unwrap().iter().all(with_steps),
        "with the steps"
    );
    assert_eq!(listed(&page("page_size=2&page=2").await), [numbers[0].clone()]);
    assert_eq!(page("page_size=2&page=3").await["items"], json!([]));
    let too_deep = app
        .get_with("/api/v1/si-transfers?page=10001&page_size=1", &worker.access_token)
        .await;
    assert_problem(too_deep, StatusCode::BAD_REQUEST, "PAGE_TOO_DEEP").await;
    app.stop().await;
}
