//! Transfers as the agencies work them: the person a case is about, read
//! in clear by the agencies of its regions only and audited; openings that
//! a retry never duplicates; one case in progress per person, insurance
//! type and route, whoever opened it.

use migration::{MigratorTrait, SchemaManager};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{
    applications::guangxi_worker,
    integrators::integrator,
    support::{TestApp, app::Session, assert_problem},
    transfers::id_number,
};

const PENSION: &str = r#"{"insurance_type": "pension", "from_region_code": "450102", "to_region_code": "320115"}"#;
/// The ID number of the worker who moves in the tests below (南宁市兴宁区).
const MOVER_ID: &str = "450102198801011235";
/// The phone WeChat verifies for the mover, and the fake WeChat's code for it.
const MOVER_PHONE: &str = "13800000005";
const READ: &[&str] = &["si_transfer:read"];
const BOTH: &[&str] = &["si_transfer:read", "si_transfer:write"];

fn body(insurance: &str, id_number: &str) -> Value {
    json!({"id_number": id_number, "insurance_type": insurance, "from_region_code": "450102", "to_region_code": "320115"})
}

async fn open_as_worker(app: &TestApp, worker: &Session, request: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/si-transfers"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .header("content-type", "application/json")
        .body(request.to_owned())
        .send()
        .await
        .unwrap()
}

async fn open_as_agency(app: &TestApp, token: &str, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/integrations/si-transfers"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn number(case: &Value) -> String {
    case["transfer_no"].as_str().unwrap().to_owned()
}

async fn read(app: &TestApp, token: &str, transfer_no: &str) -> reqwest::Response {
    app.get_with(&format!("/api/v1/integrations/si-transfers/{transfer_no}"), token)
        .await
}

async fn reveals(app: &TestApp, admin: &Session) -> Value {
    app.get_json_with(
        "/api/v1/admin/audit-logs?action=personal_data.reveal",
        &admin.access_token,
    )
    .await
}

async fn client_id(app: &TestApp, token: &str) -> Value {
    app.get_json_with("/api/v1/integrations/whoami", token).await["client_id"].clone()
}

async fn scalar_rows(app: &TestApp, sql: &str) -> Vec<String> {
    let db = app.db().await;
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get_by_index::<Option<String>>(0).unwrap().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn an_agency_of_the_case_reads_the_person_and_every_read_is_audited() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let mover = guangxi_worker(&app, "mover", MOVER_ID).await;
    let phone = json!({"code": format!("phone-{MOVER_PHONE}")});
    let bound = app
        .post_json("/api/v1/me/phone", &phone, Some(&mover.access_token))
        .await;
    assert_eq!(bound.status(), StatusCode::OK);
    let jiangning = integrator(&app, &admin.access_token, READ, Some("320115")).await;
    // Nothing listens there: the event is stored, which is all this test reads.
    let hook = json!({"url": "http://127.0.0.1:9/hook"});
    assert_eq!(
        app.put_json("/api/v1/integrations/webhook", &hook, &jiangning)
            .await
            .status(),
        StatusCode::OK
    );
    let case = created(open_as_worker(&app, &mover, PENSION).await).await;
    let transfer_no = number(&case);

    let first: Value = read(&app, &jiangning, &transfer_no).await.json().await.unwrap();
    assert_eq!(first["transfer_no"], transfer_no.as_str());
    assert_eq!(
        first["person"],
        json!({
            "name": {"value": "韦小宝", "verification": "self_declared"},
            "id_number": {"value": MOVER_ID, "verification": "self_declared"},
            "phone": {"value": MOVER_PHONE, "verification": "wechat"},
        })
    );
    let audited = reveals(&app, &admin).await;
    assert_eq!(audited["total"], 1);
    let row = &audited["items"][0];
    assert_eq!(
        (&row["actor_type"], &row["actor_id"]),
        (&json!("integrator"), &client_id(&app, &jiangning).await)
    );
    assert_eq!(
        (&row["target_type"], &row["target_id"]),
        (&json!("si_transfer"), &case["id"])
    );
    assert_eq!(row["details"]["transfer_no"], transfer_no.as_str());
    assert_eq!(row["region_code"], "320115", "the client's administrators see it");
    assert!(
        !row.to_string().contains(MOVER_ID),
        "the audit names fields, not values"
    );

    let checked = app
        .post_json(
            "/api/v1/me/identity-check",
            &json!({"result_token": "sandbox-pass"}),
            Some(&mover.access_token),
        )
        .await;
    assert_eq!(checked.status(), StatusCode::OK);
    let second: Value = read(&app, &jiangning, &transfer_no).await.json().await.unwrap();
    assert_eq!(second["person"]["id_number"]["verification"], "proven");
    assert_eq!(reveals(&app, &admin).await["total"], 2, "one row a read");

    let zhejiang = integrator(&app, &admin.access_token, BOTH, Some("330000")).await;
    assert_problem(
        read(&app, &zhejiang, &transfer_no).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    let writer_only = integrator(&app, &admin.access_token, &["si_transfer:write"], Some("320115")).await;
    assert_problem(
        read(&app, &writer_only, &transfer_no).await,
        StatusCode::FORBIDDEN,
        "INSUFFICIENT_SCOPE",
    )
    .await;
    let national = integrator(&app, &admin.access_token, READ, Some("000000")).await;
    let unbound: Value = read(&app, &national, &transfer_no).await.json().await.unwrap();
    assert_eq!(unbound["transfer_no"], transfer_no.as_str());
    assert!(
        unbound.get("person").is_none(),
        "a national client is bound to no office: {unbound}"
    );
    assert_eq!(
        reveals(&app, &admin).await["total"],
        2,
        "nothing revealed, nothing audited"
    );

    let feed = app
        .get_json_with("/api/v1/integrations/si-transfers?cursor=0", &jiangning)
        .await;
    assert!(!feed.to_string().contains("韦小宝") && !feed.to_string().contains(MOVER_ID));
    let pushed = scalar_rows(&app, "SELECT payload FROM webhook_delivery").await;
    assert!(!pushed.is_empty(), "the case was announced");
    for payload in pushed {
        assert!(
            !payload.contains(MOVER_ID) && !payload.contains(MOVER_PHONE),
            "{payload}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn an_agency_case_shows_the_recorded_phone_until_its_person_links_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let agency = integrator(&app, &admin.access_token, BOTH, Some("320115")).await;
    let mut request = body("medical", MOVER_ID);
    request["phone"] = json!("13800000009");
    let opened = created(open_as_agency(&app, &agency, "opening", &request).await).await;
    let transfer_no = number(&opened);
    let waiting: Value = read(&app, &agency, &transfer_no).await.json().await.unwrap();
    assert_eq!(
        waiting["person"],
        json!({"phone": {"value": "13800000009", "verification": "agency"}}),
        "the ID number is kept only as a keyed hash"
    );

    let owner = guangxi_worker(&app, "owner", MOVER_ID).await;
    let claimed = app
        .post_json(
            "/api/v1/si-transfers/claim",
            &json!({"code": opened["claim_code"]}),
            Some(&owner.access_token),
        )
        .await;
    assert_eq!(claimed.status(), StatusCode::OK);
    let linked: Value = read(&app, &agency, &transfer_no).await.json().await.unwrap();
    assert_eq!(
        linked["person"],
        json!({
            "name": {"value": "韦小宝", "verification": "self_declared"},
            "id_number": {"value": MOVER_ID, "verification": "proven"},
            "phone": {"value": "13800000009", "verification": "agency"},
        }),
        "the claim proved the number; no WeChat phone, so the agency's"
    );
    assert_eq!(reveals(&app, &admin).await["total"], 2);
    app.stop().await;
}

#[tokio::test]
async fn a_retried_agency_opening_answers_the_first_case_with_a_code_that_works() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let agency = integrator(&app, &admin.access_token, BOTH, Some("320115")).await;
    let request = body("medical", MOVER_ID);
    let first = created(open_as_agency(&app, &agency, "retry-1", &request).await).await;
    let replay = created(open_as_agency(&app, &agency, "retry-1", &request).await).await;
    assert_eq!(
        (&replay["id"], &replay["transfer_no"]),
        (&first["id"], &first["transfer_no"])
    );
    assert_eq!(replay["claim_expires_at"], first["claim_expires_at"]);
    let (lost, fresh) = (
        first["claim_code"].as_str().unwrap(),
        replay["claim_code"].as_str().unwrap(),
    );
    assert_ne!(
        lost, fresh,
        "the first code is never stored in clear, so a new one replaces it"
    );
    for stored in scalar_rows(&app, "SELECT response_body FROM idempotency_record").await {
        assert!(!stored.contains(lost) && !stored.contains(fresh), "{stored}");
    }
    assert_eq!(
        scalar_rows(&app, "SELECT transfer_no FROM si_transfer").await,
        [number(&first)],
        "one case"
    );

    let mut other = request.clone();
    other["phone"] = json!("13800000009");
    assert_problem(
        open_as_agency(&app, &agency, "retry-1", &other).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
    let unkeyed = app
        .post_json("/api/v1/integrations/si-transfers", &request, Some(&agency))
        .await;
    assert_eq!(unkeyed.status(), StatusCode::BAD_REQUEST);

    let owner = guangxi_worker(&app, "owner", MOVER_ID).await;
    let claim = |code: &str| {
        let (app, token, code) = (&app, owner.access_token.clone(), code.to_owned());
        async move {
            app.post_json("/api/v1/si-transfers/claim", &json!({"code": code}), Some(&token))
                .await
        }
    };
    assert_problem(claim(lost).await, StatusCode::NOT_FOUND, "CLAIM_CODE_INVALID").await;
    assert_eq!(claim(fresh).await.status(), StatusCode::OK);
    let after_claim = created(open_as_agency(&app, &agency, "retry-1", &request).await).await;
    assert_eq!(after_claim["id"], first["id"]);
    assert!(after_claim.get("claim_code").is_none(), "the case has its person now");
    let reissued = app
        .get_json_with(
            "/api/v1/admin/audit-logs?action=si_transfer.claim_code.reissue",
            &admin.access_token,
        )
        .await;
    assert_eq!(reissued["total"], 1);
    app.stop().await;
}

async fn report_done(app: &TestApp, token: &str, transfer_no: &str, step: &str, at: &str) {
    let reported = app
        .client
        .put(app.url(&format!("/api/v1/integrations/si-transfers/{transfer_no}/steps/{step}")))
        .bearer_auth(token)
        .json(&json!({"status": "done", "occurred_at": at}))
        .send()
        .await
        .unwrap();
    assert_eq!(reported.status(), StatusCode::OK, "{step}");
}

#[tokio::test]
async fn one_case_in_progress_per_person_insurance_and_route_from_either_side() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let agency = integrator(&app, &admin.access_token, BOTH, Some("320115")).await;
    let mover = guangxi_worker(&app, "mover", MOVER_ID).await;

    let worker_first = created(open_as_worker(&app, &mover, PENSION).await).await;
    let refused = assert_problem(
        open_as_agency(&app, &agency, "a-1", &body("pension", MOVER_ID)).await,
        StatusCode::CONFLICT,
        "TRANSFER_ALREADY_OPEN",
    )
    .await;
    assert_eq!(refused["details"]["transfer_no"], number(&worker_first).as_str());

    let agency_first = created(open_as_agency(&app, &agency, "a-2", &body("unemployment", MOVER_ID)).await).await;
    let unemployment =
        r#"{"insurance_type": "unemployment", "from_region_code": "450102", "to_region_code": "320115"}"#;
    let told = assert_problem(
        open_as_worker(&app, &mover, unemployment).await,
        StatusCode::CONFLICT,
        "TRANSFER_ALREADY_OPEN",
    )
    .await;
    assert!(told.get("details").is_none(), "nothing of a case not theirs: {told}");
    assert!(told["message"].as_str().unwrap().contains("认领码"), "{told}");
    assert!(!told.to_string().contains(&number(&agency_first)));

    let someone = id_number(31);
    let twice = created(open_as_agency(&app, &agency, "a-3", &body("medical", &someone)).await).await;
    let again = assert_problem(
        open_as_agency(&app, &agency, "a-4", &body("medical", &someone)).await,
        StatusCode::CONFLICT,
        "TRANSFER_ALREADY_OPEN",
    )
    .await;
    assert_eq!(again["details"]["transfer_no"], number(&twice).as_str());
    let elsewhere = json!({"id_number": someone, "insurance_type": "medical", "from_region_code": "450103", "to_region_code": "320115"});
    created(open_as_agency(&app, &agency, "a-5", &elsewhere).await).await;

    let pension_no = number(&worker_first);
    for (step, at) in [
        ("application_accepted", "2026-11-02T09:00:00+08:00"),
        ("contact_letter_issued", "2026-11-03T09:00:00+08:00"),
        ("funds_transferred", "2026-11-04T09:00:00+08:00"),
        ("continuation_completed", "2026-11-05T09:00:00+08:00"),
    ] {
        report_done(&app, &agency, &pension_no, step, at).await;
    }
    let completed: Value = read(&app, &agency, &pension_no).await.json().await.unwrap();
    assert_eq!(completed["status"], "completed");
    let reopened = created(open_as_agency(&app, &agency, "a-6", &body("pension", MOVER_ID)).await).await;
    assert_ne!(
        number(&reopened),
        pension_no,
        "a completed case opens the way for a new one"
    );
    app.stop().await;
}

/// The migration that brings the rule, run on a database where agencies
/// had already opened a case twice and the worker once more.
#[tokio::test]
async fn cases_already_open_twice_stay_workable_when_the_rule_comes() {
    let app = TestApp::spawn().await;
    let db = app.db().await;
    let manager = SchemaManager::new(&db);
    let rule = migration::Migrator::migrations()
        .into_iter()
        .find(|m| m.name() == "m20261130_000036_one_open_transfer")
        .expect("the migration of the rule");
    rule.down(&manager).await.unwrap();

    let admin = app.admin("000000").await;
    let agency = integrator(&app, &admin.access_token, BOTH, Some("320115")).await;
    let mut numbers = Vec::new();
    for key in ["before-1", "before-2"] {
        numbers.push(number(
            &created(open_as_agency(&app, &agency, key, &body("pension", MOVER_ID)).await).await,
        ));
    }
    let mover = guangxi_worker(&app, "mover", MOVER_ID).await;
    numbers.push(number(&created(open_as_worker(&app, &mover, PENSION).await).await));

    rule.up(&manager).await.unwrap();
    let marks = scalar_rows(
        &app,
        "SELECT CASE WHEN duplicate_of IS NULL THEN transfer_no ELSE \
         (SELECT d.transfer_no FROM si_transfer d WHERE d.id = si_transfer.duplicate_of) END \
         FROM si_transfer ORDER BY created_at, id",
    )
    .await;
    assert_eq!(marks, vec![numbers[0].clone(); 3], "the later two name the earliest");
    let refused = assert_problem(
        open_as_agency(&app, &agency, "after", &body("pension", MOVER_ID)).await,
        StatusCode::CONFLICT,
        "TRANSFER_ALREADY_OPEN",
    )
    .await;
    assert_eq!(refused["details"]["transfer_no"], numbers[0].as_str());
    report_done(
        &app,
        &agency,
        &numbers[1],
        "application_accepted",
        "2026-11-02T09:00:00+08:00",
    )
    .await;
    app.stop().await;
}
