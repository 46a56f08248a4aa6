//! 政策找人 and 免申即享 (issue 19): a consenting worker is matched against
//! the programs of their regions and told of a new one (at most once a
//! week); a 免申即享 program's offers are confirmed by reviewers of the
//! region and accepted by the worker in one request.

use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{
    notifications::inbox_until,
    support::{TestApp, app::Session, assert_problem},
};

const CONSENT: &str = "recommend-2026-12";

async fn spawn() -> TestApp {
    TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_OUTBOX_INTERVAL_MS", "100".to_owned());
    })
    .await
}

/// A valid ID number (GB 11643 check digit) for a person born on 1990-01-01.
fn id_number(region: &str, sequence: u32) -> String {
    let body = format!("{region}19900101{sequence:03}");
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(weights)
        .map(|(digit, weight)| digit.to_digit(10).unwrap() * weight)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// A worker of 34 with a complete profile living and working in `region`.
async fn worker_in(app: &TestApp, code: &str, sequence: u32, region: &str) -> Session {
    let worker = app.login_worker(code).await;
    let profile = json!({
        "real_name": "周小川", "id_number": id_number(region, sequence), "consent_version": "2026-11",
        "hukou_region_code": region, "hukou_type": "agricultural",
        "residence_region_code": region, "work_region_code": region
    });
    let saved = app.put_json("/api/v1/me/profile", &profile, &worker.access_token).await;
    assert_eq!(saved.status(), StatusCode::OK, "{}", saved.text().await.unwrap());
    worker
}

async fn consent(app: &TestApp, worker: &Session) {
    let body = json!({ "consent_version": CONSENT });
    let given = app
        .put_json("/api/v1/me/recommendation-consent", &body, &worker.access_token)
        .await;
    assert_eq!(given.status(), StatusCode::OK);
    assert_eq!(given.json::<Value>().await.unwrap()["given"], true);
}

fn program(name: &str, region: &str, auto_offer: bool) -> Value {
    json!({
        "name": name, "kind": "employment_subsidy", "region_code": region,
        "description": "稳定就业的农民工一次性补贴。", "period": "2026",
        "amount_rule": {"type": "fixed", "amount_fen": 80000},
        "criteria": [{"type": "lives_or_works_in_region"}, {"type": "age_between", "min": 18, "max": 60}],
        "required_documents": [],
        "form_fields": [{"key": "real_name", "label": "姓名", "kind": "text", "required": true}],
        "auto_offer": auto_offer
    })
}

/// Creates and opens a program; returns its id.
async fn open_program(app: &TestApp, admin: &Session, body: &Value) -> String {
    let token = Some(admin.access_token.as_str());
    let created = app.post_json("/api/v1/staff/programs", body, token).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/staff/programs/{id}/open");
    let opened = app.post_json(&path, &json!({"expected_version": 1}), token).await;
    assert_eq!(opened.status(), StatusCode::OK);
    id
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let db = app.db().await;
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Waits until the background matcher has run every job recorded.
async fn matching_done(app: &TestApp) {
    for _ in 0..200 {
        if count(app, "SELECT count(*) FROM matching_job WHERE finished_at IS NULL").await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the matching jobs never finished");
}

async fn recommendations(app: &TestApp, worker: &Session) -> Vec<Value> {
    let found = app
        .get_json_with("/api/v1/me/recommendations", &worker.access_token)
        .await;
    found["items"].as_array().unwrap().clone()
}

fn named<'a>(items: &'a [Value], name: &str) -> Option<&'a Value> {
    items.iter().find(|item| item["program"]["name"] == name)
}

async fn inbox_total(app: &TestApp, worker: &Session) -> i64 {
    app.get_json_with("/api/v1/me/notifications", &worker.access_token)
        .await["total"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn consent_is_given_and_revoked_and_recommendations_say_what_is_met_unknown_and_next() {
    let app = spawn().await;
    let worker = worker_in(&app, "rec-consent", 11, "320115").await;
    let refused = app.get_with("/api/v1/me/recommendations", &worker.access_token).await;
    let body = assert_problem(refused, StatusCode::CONFLICT, "RECOMMENDATION_CONSENT_REQUIRED").await;
    assert!(body["message"].as_str().unwrap().contains("政策找人"), "{body}");
    assert_eq!(body["details"]["current_version"], CONSENT);
    let stale = json!({ "consent_version": "recommend-2020-01" });
    let stale = app
        .put_json("/api/v1/me/recommendation-consent", &stale, &worker.access_token)
        .await;
    assert_problem(stale, StatusCode::BAD_REQUEST, "CONSENT_REQUIRED").await;

    consent(&app, &worker).await;
    let items = recommendations(&app, &worker).await;
    // The seeded Jiangsu training subsidy: age and place met, the
    // certificate asked in the form.
    let training = named(&items, "江苏省职业技能培训补贴").expect("the Jiangsu training subsidy");
    let met: Vec<&str> = training["met"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["criterion"].as_str().unwrap())
        .collect();
    assert!(met.contains(&"lives_or_works_in_region"), "{training}");
    let unknown = training["unknown"].as_array().unwrap();
    assert!(
        unknown
            .iter()
            .any(|c| c["criterion"] == "certificate_at_least_level" && c["pending"] == true)
    );
    assert!(training["next_step"].as_str().unwrap().contains("申请"), "{training}");
    // Guangxi's programs are not where this worker lives or works.
    assert!(
        items
            .iter()
            .all(|item| item["program"]["region_code"].as_str().unwrap().starts_with("32"))
    );

    let revoked = app
        .client
        .delete(app.url("/api/v1/me/recommendation-consent"))
        .bearer_auth(&worker.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let revoked: Value = revoked.json().await.unwrap();
    assert_eq!(revoked["given"], false);
    assert!(revoked["revoked_at"].is_string());
    let refused = app.get_with("/api/v1/me/recommendations", &worker.access_token).await;
    assert_problem(refused, StatusCode::CONFLICT, "RECOMMENDATION_CONSENT_REQUIRED").await;
    let given = count(
        &app,
        "SELECT count(*) FROM audit_log WHERE action LIKE 'worker.recommendation_consent.%'",
    )
    .await;
    assert_eq!(given, 2, "the consent given and revoked are audited");
    app.stop().await;
}

#[tokio::test]
async fn opening_a_program_tells_consenting_workers_of_its_region_at_most_once_a_week() {
    let app = spawn().await;
    let admin = app.admin("320000").await;
    let told = worker_in(&app, "rec-told", 21, "320115").await;
    let silent = worker_in(&app, "rec-silent", 22, "320115").await;
    let elsewhere = worker_in(&app, "rec-elsewhere", 23, "450102").await;
    consent(&app, &told).await;
    consent(&app, &elsewhere).await;
    assert_eq!(
        inbox_total(&app, &told).await,
        0,
        "agreeing tells nothing: the worker is looking"
    );

    open_program(&app, &admin, &program("江宁区稳岗补贴", "320115", false)).await;
    let inbox = inbox_until(&app, &told.access_token, |inbox| inbox["total"] == 1).await;
    let body = inbox["items"][0]["body"].as_str().unwrap();
    assert!(body.contains("江宁区稳岗补贴"), "{body}");
    assert!(inbox["items"][0]["title"].as_str().unwrap().contains("政策找人"));
    matching_done(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(inbox_total(&app, &silent).await, 0, "no consent, no notice");
    assert_eq!(
        inbox_total(&app, &elsewhere).await,
        0,
        "another region's program is not theirs"
    );
    let refused = app.get_with("/api/v1/me/recommendations", &silent.access_token).await;
    assert_problem(refused, StatusCode::CONFLICT, "RECOMMENDATION_CONSENT_REQUIRED").await;
    assert!(named(&recommendations(&app, &elsewhere).await, "江宁区稳岗补贴").is_none());

    // A second program the same week: listed, but no second notice.
    open_program(&app, &admin, &program("江宁区技能提升补贴", "320115", false)).await;
    matching_done(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let items = recommendations(&app, &told).await;
    assert!(named(&items, "江宁区稳岗补贴").is_some() && named(&items, "江宁区技能提升补贴").is_some());
    assert_eq!(inbox_total(&app, &told).await, 1, "at most one notice a week");
    app.stop().await;
}

#[tokio::test]
async fn a_profile_change_matches_the_worker_again_and_tells_them() {
    let app = spawn().await;
    let admin = app.admin("320000").await;
    open_program(&app, &admin, &program("江宁区稳岗补贴", "320115", false)).await;
    matching_done(&app).await;
    let mover = worker_in(&app, "rec-mover", 31, "450102").await;
    consent(&app, &mover).await;
    assert!(named(&recommendations(&app, &mover).await, "江宁区稳岗补贴").is_none());

    let moved = json!({ "residence_region_code": "320115", "work_region_code": "320115" });
    let saved = app.put_json("/api/v1/me/profile", &moved, &mover.access_token).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let inbox = inbox_until(&app, &mover.access_token, |inbox| inbox["total"] == 1).await;
    assert!(inbox["items"][0]["body"].as_str().unwrap().contains("江宁区稳岗补贴"));
    let found = recommendations(&app, &mover).await;
    let item = named(&found, "江宁区稳岗补贴").expect("matched after moving");
    assert!(item["unknown"].as_array().unwrap().is_empty(), "{item}");
    assert!(item["next_step"].as_str().unwrap().contains("直接申请"), "{item}");
    app.stop().await;
}

/// The offer of `worker` in their recommendations, by program name.
async fn offer_of(app: &TestApp, worker: &Session, name: &str) -> Value {
    let items = recommendations(app, worker).await;
    named(&items, name).expect("recommended")["offer"].clone()
}

#[tokio::test]
async fn auto_offers_are_confirmed_by_reviewers_of_the_region_and_accepted_in_one_request() {
    let app = spawn().await;
    let admin = app.admin("320000").await;
    let mut incoherent = program("南京市免申即享补贴", "320100", true);
    incoherent["amount_rule"] = json!({"type": "up_to", "max_fen": 100000});
    incoherent["form_fields"] =
        json!([{"key": "requested_amount_yuan", "label": "申请金额", "kind": "yuan", "required": true, "max": 1000}]);
    let refused = app
        .post_json("/api/v1/staff/programs", &incoherent, Some(&admin.access_token))
        .await;
    let body = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "PROGRAM_RULES_CONFLICT").await;
    assert!(body["details"]["fields"].to_string().contains("免申即享"), "{body}");

    let first = worker_in(&app, "rec-first", 41, "320115").await;
    let second = worker_in(&app, "rec-second", 42, "320115").await;
    consent(&app, &first).await;
    consent(&app, &second).await;
    let id = open_program(&app, &admin, &program("南京市免申即享补贴", "320100", true)).await;
    matching_done(&app).await;
    let offers_url = format!("/api/v1/staff/programs/{id}/offers");
    let city = app.staff(&admin, "rec.city", &["reviewer"], "320100").await;
    let county = app.staff(&admin, "rec.county", &["reviewer"], "320115").await;
    let guangxi_admin = app.admin("450000").await;
    let guangxi = app.staff(&guangxi_admin, "rec.gx", &["reviewer"], "450000").await;
    let listed = app
        .get_json_with(&format!("{offers_url}?status=proposed"), &city.access_token)
        .await;
    assert_eq!(listed["total"], 2, "{listed}");
    assert_eq!(listed["items"][0]["applicant"]["name"], "周**");
    assert!(
        listed["items"][0]["applicant"]["id_number"]
            .as_str()
            .unwrap()
            .contains('*')
    );

    let other_region = app.get_with(&offers_url, &guangxi.access_token).await;
    let body = assert_problem(other_region, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;
    assert!(body["message"].as_str().unwrap().contains("辖区"));
    let first_offer = offer_of(&app, &first, "南京市免申即享补贴").await;
    let first_id = first_offer["id"].as_str().unwrap().to_owned();
    let batch = json!({ "offer_ids": [first_id, "no-such-offer"] });
    let other_region = app.post_json(&offers_url, &batch, Some(&guangxi.access_token)).await;
    assert_problem(other_region, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;
    let no_role = app.post_json(&offers_url, &batch, Some(&admin.access_token)).await;
    assert_problem(no_role, StatusCode::FORBIDDEN, "ROLE_REQUIRED").await;
    let as_worker = app.post_json(&offers_url, &batch, Some(&first.access_token)).await;
    assert_eq!(as_worker.status(), StatusCode::UNAUTHORIZED);

    let accept_url = format!("/api/v1/me/offers/{first_id}/accept");
    let early = app.post_json(&accept_url, &json!({}), Some(&first.access_token)).await;
    assert_problem(early, StatusCode::CONFLICT, "OFFER_NOT_CONFIRMED").await;

    // The county reviewer confirms the offers of their county.
    let confirmed = app.post_json(&offers_url, &batch, Some(&county.access_token)).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let confirmed: Value = confirmed.json().await.unwrap();
    assert_eq!(confirmed["confirmed"], 1, "{confirmed}");
    assert_eq!(confirmed["skipped"][0]["reason_code"], "not_found");
    let again = app.post_json(&offers_url, &batch, Some(&county.access_token)).await;
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["confirmed"], 0);
    assert_eq!(again["skipped"][0]["reason_code"], "confirmed");
    let audited = count(
        &app,
        "SELECT count(*) FROM audit_log WHERE action = 'program_offer.confirm'",
    )
    .await;
    assert_eq!(audited, 1, "the confirmation, an act for the worker, is audited");
    inbox_until(&app, &first.access_token, |inbox| {
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["title"].as_str().unwrap().contains("免申即享"))
    })
    .await;

    let stolen = app.post_json(&accept_url, &json!({}), Some(&second.access_token)).await;
    let body = assert_problem(stolen, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert!(body["message"].as_str().unwrap().contains("免申即享"));
    let accepted = app.post_json(&accept_url, &json!({}), Some(&first.access_token)).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["offer"]["status"], "accepted");
    assert_eq!(accepted["application"]["status"], "submitted");
    assert_eq!(accepted["application"]["answers"]["real_name"], "周小川");
    let retried: Value = app
        .post_json(&accept_url, &json!({}), Some(&first.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        retried["application"]["id"], accepted["application"]["id"],
        "a retry files nothing twice"
    );
    let mine = app.get_json_with("/api/v1/applications", &first.access_token).await;
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["program_name"], "南京市免申即享补贴");

    // The second worker's offer: confirmed by the city, declined, then closed.
    let second_id = offer_of(&app, &second, "南京市免申即享补贴").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let confirmed = app
        .post_json(
            &offers_url,
            &json!({ "offer_ids": [second_id] }),
            Some(&city.access_token),
        )
        .await;
    assert_eq!(confirmed.json::<Value>().await.unwrap()["confirmed"], 1);
    let declined = app
        .post_json(
            &format!("/api/v1/me/offers/{second_id}/decline"),
            &json!({}),
            Some(&second.access_token),
        )
        .await;
    assert_eq!(declined.json::<Value>().await.unwrap()["status"], "declined");
    let late = app
        .post_json(
            &format!("/api/v1/me/offers/{second_id}/accept"),
            &json!({}),
            Some(&second.access_token),
        )
        .await;
    assert_problem(late, StatusCode::CONFLICT, "OFFER_CLOSED").await;
    app.stop().await;
}
