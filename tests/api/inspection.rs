//! The labour inspector's side of a wage report, over HTTP: what the
//! inspection view shows (documents, the reporter masked), the audited
//! reveal, and every action with the deadlines it sets, in working days
//! counted by the calendar the server holds.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{
    applications::{JPEG, guangxi_worker},
    support::{TestApp, app::Session, assert_problem},
    wage_reports::{file, report},
};

/// The contact phone given with a report (a canary: it must never be logged).
const CONTACT_PHONE: &str = "13700001234";
/// The phone the worker binds through WeChat (`phone-1…` in the fake).
const BOUND_PHONE: &str = "13900000003";
const ID_NUMBER: &str = "450102198801011235";

/// Today in China, the day the server counts deadlines from.
pub(crate) fn china_today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

/// The working days the server counts by: weekdays, but for the holidays
/// and adjusted working days its national calendar holds (no province
/// records days of its own here).
pub(crate) struct WorkingDays(HashMap<NaiveDate, String>);

impl WorkingDays {
    pub(crate) async fn of(app: &TestApp) -> Self {
        let db = app.db().await;
        let sql = "SELECT day, kind FROM calendar_day WHERE region_code = '000000'";
        let rows = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap();
        WorkingDays(
            rows.iter()
                .map(|row| (row.try_get("", "day").unwrap(), row.try_get("", "kind").unwrap()))
                .collect(),
        )
    }

    fn is_working(&self, day: NaiveDate) -> bool {
        match self.0.get(&day).map(String::as_str) {
            Some("holiday") => false,
            Some("workday") => true,
            _ => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The last day of `days` working days counted from the day after `start`.
    pub(crate) fn after(&self, start: NaiveDate, days: u32) -> String {
        let mut day = start;
        for _ in 0..days {
            day = day.succ_opt().unwrap();
            while !self.is_working(day) {
                day = day.succ_opt().unwrap();
            }
        }
        day.to_string()
    }
}

struct Inspectors {
    county: Session,
    neighbour: Session,
    city: Session,
    reviewer: Session,
    admin: Session,
}

async fn inspectors(app: &TestApp) -> Inspectors {
    let admin = app.admin("000000").await;
    Inspectors {
        county: app.staff(&admin, "jiangning.insp", &["inspector"], "320115").await,
        neighbour: app.staff(&admin, "liuhe.insp", &["inspector"], "320116").await,
        city: app.staff(&admin, "nanjing.insp", &["inspector"], "320100").await,
        reviewer: app.staff(&admin, "jiangning.rev", &["reviewer"], "320115").await,
        admin,
    }
}

/// Files `body` as `worker`; the report as the worker got it back.
async fn filed(app: &TestApp, worker: &Session, key: &str, body: &Value) -> Value {
    let response = file(app, worker, key, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn act(app: &TestApp, inspector: &Session, id: &str, body: Value) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/staff/wage-reports/{id}/actions"),
        &body,
        Some(&inspector.access_token),
    )
    .await
}

/// Acts and expects the report back; `fields` join the action and version.
async fn acted(app: &TestApp, inspector: &Session, report: &Value, action: &str, fields: Value) -> Value {
    let mut body = json!({"action": action, "expected_version": report["version"]});
    body.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    let response = act(app, inspector, report["id"].as_str().unwrap(), body).await;
    assert_eq!(response.status(), StatusCode::OK, "{action}");
    response.json().await.unwrap()
}

async fn inspected(app: &TestApp, inspector: &Session, id: &str) -> Value {
    app.get_json_with(&format!("/api/v1/staff/wage-reports/{id}"), &inspector.access_token)
        .await
}

async fn reveal(app: &TestApp, staff: &Session, id: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/staff/wage-reports/{id}/reveal"),
        &json!({"reason": "联系举报人核实欠薪情况"}),
        Some(&staff.access_token),
    )
    .await
}

/// Uploads a photo of `purpose` as `worker`; its id.
async fn upload(app: &TestApp, worker: &Session, purpose: &str) -> String {
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(JPEG.to_vec()).file_name("photo.jpg"),
        )
        .text("purpose", purpose.to_owned());
    let uploaded = app
        .client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&worker.access_token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    uploaded.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A worker with a name, an ID number and a phone bound through WeChat.
async fn known_worker(app: &TestApp, code: &str) -> Session {
    let worker = guangxi_worker(app, code, ID_NUMBER).await;
    let bound = app
        .post_json(
            "/api/v1/me/phone",
            &json!({"code": format!("phone-{BOUND_PHONE}")}),
            Some(&worker.access_token),
        )
        .await;
    assert_eq!(bound.status(), StatusCode::OK);
    worker
}

#[tokio::test]
async fn the_inspector_reads_the_documents_and_the_reporter_masked_and_reveals_them_audited() {
    let app = TestApp::spawn().await;
    let people = inspectors(&app).await;
    let worker = known_worker(&app, "evidence").await;
    let pay_slip = upload(&app, &worker, "pay_slip").await;
    let mut body = report(800_000);
    body["attachment_ids"] = json!([pay_slip]);
    body["contact_phone"] = json!(CONTACT_PHONE);
    let id = filed(&app, &worker, "with-contact", &body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let view = inspected(&app, &people.county, &id).await;
    assert_eq!(view["reporter"], json!({"name": "韦**", "phone": "137****1234"}));
    let documents = view["documents"].as_array().unwrap();
    assert_eq!(documents.len(), 1, "{view}");
    assert_eq!(documents[0]["id"], pay_slip.as_str());
    assert_eq!(documents[0]["purpose"], "pay_slip");
    assert_eq!(documents[0]["content_type"], "image/jpeg");
    assert_eq!(documents[0]["size"], JPEG.len());
    assert!(documents[0]["uploaded_at"].is_string());
    let shown = view.to_string();
    for secret in [CONTACT_PHONE, BOUND_PHONE, ID_NUMBER, "韦小宝"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }

    // Seeing someone in clear takes a stated reason; without one nothing is shown or logged.
    let path = format!("/api/v1/staff/wage-reports/{id}/reveal");
    for unreasoned in [json!({}), json!({"reason": " "})] {
        let refused = app
            .post_json(&path, &unreasoned, Some(&people.county.access_token))
            .await;
        let problem = assert_problem(refused, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
        assert!(!problem.to_string().contains(CONTACT_PHONE), "{problem}");
    }

    let revealed = reveal(&app, &people.county, &id).await;
    assert_eq!(revealed.status(), StatusCode::OK);
    assert_eq!(
        revealed.json::<Value>().await.unwrap(),
        json!({"name": "韦小宝", "phone": CONTACT_PHONE, "id_number": ID_NUMBER})
    );
    assert_eq!(reveal(&app, &people.city, &id).await.status(), StatusCode::OK);
    let download = format!("/api/v1/uploads/{pay_slip}");
    let fetched = app.get_with(&download, &people.county.access_token).await;
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), JPEG);

    for (who, staff, status) in [
        ("another county's inspector", &people.neighbour, StatusCode::NOT_FOUND),
        ("a reviewer of the county", &people.reviewer, StatusCode::FORBIDDEN),
        ("an administrator", &people.admin, StatusCode::FORBIDDEN),
    ] {
        assert_eq!(reveal(&app, staff, &id).await.status(), status, "{who} revealed");
        let fetched = app.get_with(&download, &staff.access_token).await.status();
        assert_eq!(fetched, status, "{who} downloaded");
    }

    let audit = async |action: &str| {
        app.get_json_with(
            &format!("/api/v1/admin/audit-logs?action={action}"),
            &people.admin.access_token,
        )
        .await
    };
    let reveals = audit("personal_data.reveal").await;
    assert_eq!(reveals["total"], 2, "{reveals}");
    assert_eq!(reveals["items"][0]["target_type"], "wage_report");
    assert_eq!(reveals["items"][0]["target_id"], id.as_str());
    assert_eq!(reveals["items"][0]["region_code"], "320115");
    assert_eq!(reveals["items"][0]["details"]["reason"], "联系举报人核实欠薪情况");
    assert!(!reveals.to_string().contains(CONTACT_PHONE));
    let downloads = audit("document.download").await;
    assert_eq!(downloads["total"], 1, "{downloads}");
    assert_eq!(downloads["items"][0]["details"]["wage_report_id"], id.as_str());
    app.stop().await;
}

#[tokio::test]
async fn without_a_contact_phone_the_reporter_is_reached_on_the_bound_phone() {
    let app = TestApp::spawn().await;
    let people = inspectors(&app).await;
    let worker = known_worker(&app, "bound-only").await;
    let id = filed(&app, &worker, "no-contact", &report(300_000)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let view = inspected(&app, &people.county, &id).await;
    assert_eq!(view["reporter"]["phone"], "139****0003");
    assert_eq!(view["documents"], json!([]));
    let revealed: Value = reveal(&app, &people.county, &id).await.json().await.unwrap();
    assert_eq!(revealed["phone"], BOUND_PHONE);
    assert_eq!(revealed["id_number"], ID_NUMBER);
    app.stop().await;
}

#[tokio::test]
async fn acceptance_is_due_in_five_working_days_and_closing_sixty_after_it() {
    let app = TestApp::spawn().await;
    let people = inspectors(&app).await;
    let worker = app.login_worker("deadlines").await;
    let days = WorkingDays::of(&app).await;
    let today = china_today();
    let created = filed(&app, &worker, "due", &report(500_000)).await;
    assert_eq!(created["status"], "submitted");
    assert_eq!(created["accept_deadline"], days.after(today, 5));

    let id = created["id"].as_str().unwrap();
    let report = inspected(&app, &people.county, id).await;
    assert!(report["close_deadline"].is_null() && report["accepted_at"].is_null());
    assert_eq!(report["overdue"], false);
    let accepted = acted(&app, &people.county, &report, "accept", json!({})).await;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["close_deadline"], days.after(today, 60));
    assert_eq!(accepted["accept_deadline"], days.after(today, 5));
    assert!(accepted["accepted_at"].is_string());
    assert_eq!(accepted["overdue"], false);
    let again = act(
        &app,
        &people.county,
        id,
        json!({"action": "accept", "expected_version": accepted["version"]}),
    )
    .await;
    assert_problem(again, StatusCode::CONFLICT, "INVALID_STATE").await;
    app.stop().await;
}

#[tokio::test]
async fn a_report_not_accepted_is_refused_with_its_reason_and_moves_no_further() {
    let app = TestApp::spawn().await;
    let people = inspectors(&app).await;
    let worker = app.login_worker("refused").await;
    let created = filed(&app, &worker, "refuse", &report(200_000)).await;
    let id = created["id"].as_str().unwrap();
    let report = inspected(&app, &people.county, id).await;
    let silent = act(
        &app,
        &people.county,
        id,
        json!({"action": "refuse", "expected_version": 1}),
    )
    .await;
    let problem = assert_problem(silent, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(problem["details"]["fields"][0]["field"], "comment");

    let reason = "不属于劳动保障监察管辖，请向法院起诉";
    let refused = acted(&app, &people.county, &report, "refuse", json!({"comment": reason})).await;
    assert_eq!(
        (refused["status"].as_str(), refused["outcome"].as_str()),
        (Some("refused"), Some("refused"))
    );
    assert!(refused["closed_at"].is_string());
    assert_eq!(refused["overdue"], false);
    let mine = app
        .get_json_with(&format!("/api/v1/wage-reports/{id}"), &worker.access_token)
        .await;
    assert_eq!(mine["status"], "refused");
    let last = mine["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["comment"].as_str()),
        (Some("refuse"), Some(reason))
    );
    for action in ["accept", "request_info", "transfer", "extend"] {
        let body = json!({"action": action, "comment": "再看看", "to_region_code": "320116", "expected_version": refused["version"]});
        assert_problem(
            act(&app, &people.county, id, body).await,
            StatusCode::CONFLICT,
            "INVALID_STATE",
        )
        .await;
    }
    app.stop().await;
}

async fn supplement(app: &TestApp, worker: &Session, id: &str, text: &str, attachments: &[&str]) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/wage-reports/{id}/supplement"),
        &json!({"text": text, "attachment_ids": attachments}),
        Some(&worker.access_token),
    )
    .await
}

#[tokio::test]
async fn the_worker_reads_what_was_asked_supplements_it_and_the_inspector_sees_the_supplement() {
    let app = TestApp::spawn().await;
    let people = inspectors(&app).await;
    let worker = app.login_worker("asked").await;
    let id = filed(&app, &worker, "ask", &report(400_000)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let nothing_asked = supplement(&app, &worker, &id, "主动补充", &[]).await;
    assert_problem(nothing_asked, StatusCode::CONFLICT, "INVALID_STATE").await;

    let question = "请补充工资条或考勤记录";
    let report = inspected(&app, &people.county, &id).await;
    let asked = acted(
        &app,
        &people.county,
        &report,
        "request_info",
        json!({"comment": question}),
    )
    .await;
    assert_eq!(asked["status"], "info_requested");
    let mine = app
        .get_json_with(&format!("/api/v1/wage-reports/{id}"), &worker.access_token)
        .await;
    assert_eq!(mine["status"], "info_requested");
    let last = mine["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["comment"].as_str()),
        (Some("request_info"), Some(question))
    );

    let attendance = upload(&app, &worker, "attendance").await;
    let answer = "附上三月到六月的考勤表";
    let answered = supplement(&app, &worker, &id, answer, &[&attendance]).await;
    assert_eq!(answered.status(), StatusCode::OK);
    assert_eq!(
        answered.json::<Value>().await.unwrap()["status"],
        "submitted",
        "back to acceptance"
    );
    let seen = inspected(&app, &people.county, &id).await;
    let last = seen["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["comment"].as_str(), last["by"].as_str()),
        (Some("supplement"), Some(answer), Some("本人"))
    );
    assert_eq!(seen["documents"][0]["id"], attendance.as_str());
    assert_eq!(seen["documents"][0]["purpose"], "attendance");
    let again = supplement(&app, &worker, &id, "再补充", &[]).await;
    assert_problem(again, StatusCode::CONFLICT, "INVALID_STATE").await;

    // Once accepted, a supplement goes back to the investigation.
    let accepted = acted(&app, &people.county, &seen, "accept", json!({})).await;
    let asked = acted(
        &app,
        &people.county,
        &accepted,
        "request_info",
        json!({"comment": "请补充劳动合同"}),
    )
    .await;
    assert_eq!(asked["close_deadline"], accepted["close_deadline"]);
    let answered = supplement(&app, &worker, &id, "没有签合同，附工友证言", &[]).await;
    assert_eq!(answered.json::<Value>().await.unwrap()["status"], "in_progress");
    app.stop().await;
}

#[tokio::test]
async fn a_transfer_hands_the_report_to_the_other_county_with_a_new_accept_deadline() {
    let app = TestApp::spawn().await;
    let people = inspectors(&app).await;
    let worker = app.login_worker("moved").await;
    let days = WorkingDays::of(&app).await;
    let id = filed(&app, &worker, "move", &report(600_000)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = inspected(&app, &people.county, &id).await;
    let accepted = acted(&app, &people.county, &report, "accept", json!({})).await;
    let version = accepted["version"].clone();
    for (target, comment) in [
        (json!("320115"), "转给自己"),
        (json!("320100"), "转给市里"),
        (Value::Null, "没写去哪"),
    ] {
        let body =
            json!({"action": "transfer", "comment": comment, "to_region_code": target, "expected_version": version});
        let problem = assert_problem(
            act(&app, &people.county, &id, body).await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
        )
        .await;
        assert_eq!(problem["details"]["fields"][0]["field"], "to_region_code", "{target}");
    }
    let transferred = acted(
        &app,
        &people.county,
        &accepted,
        "transfer",
        json!({"comment": "用工单位在六合区", "to_region_code": "320116"}),
    )
    .await;
    assert_eq!(transferred["status"], "submitted");
    assert_eq!(transferred["region_code"], "320116");
    assert_eq!(transferred["accept_deadline"], days.after(china_today(), 5));
    assert!(transferred["close_deadline"].is_null() && transferred["accepted_at"].is_null());

    let hidden = app
        .get_with(&format!("/api/v1/staff/wage-reports/{id}"), &people.county.access_token)
        .await;
    assert_problem(hidden, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let queue = async |session: &Session| {
        app.get_json_with("/api/v1/staff/wage-reports", &session.access_token)
            .await
    };
    assert_eq!(queue(&people.county).await["total"], 0);
    assert_eq!(queue(&people.neighbour).await["total"], 1);
    assert_eq!(queue(&people.city).await["total"], 1, "the city covers both counties");
    let late = act(
        &app,
        &people.county,
        &id,
        json!({"action": "accept", "expected_version": transferred["version"]}),
    )
    .await;
    assert_problem(late, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let theirs = acted(&app, &people.neighbour, &transferred, "accept", json!({})).await;
    assert_eq!(theirs["close_deadline"], days.after(china_today(), 60));
    let mine = app
        .get_json_with(&format!("/api/v1/wage-reports/{id}"), &worker.access_token)
        .await;
    assert_eq!(mine["region_code"], "320116");
    assert!(mine["timeline"].to_string().contains("用工单位在六合区"));
    app.stop().await;
}

#[tokio::test]
async fn the_close_deadline_is_extended_once_by_thirty_working_days() {
    let app = TestApp::spawn().await;
    let people = inspectors(&app).await;
    let worker = app.login_worker("extended").await;
    let days = WorkingDays::of(&app).await;
    let id = filed(&app, &worker, "extend", &report(700_000)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = inspected(&app, &people.county, &id).await;
    let early = act(
        &app,
        &people.county,
        &id,
        json!({"action": "extend", "comment": "案情复杂", "expected_version": 1}),
    )
    .await;
    assert_problem(early, StatusCode::CONFLICT, "INVALID_STATE").await;
    let accepted = acted(&app, &people.county, &report, "accept", json!({})).await;
    let started = acted(&app, &people.county, &accepted, "start", json!({})).await;
    assert_eq!(started["status"], "in_progress");
    let silent = act(
        &app,
        &people.county,
        &id,
        json!({"action": "extend", "expected_version": started["version"]}),
    )
    .await;
    assert_problem(silent, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;

    let extended = acted(
        &app,
        &people.county,
        &started,
        "extend",
        json!({"comment": "涉及人数多，需要延期"}),
    )
    .await;
    let close = NaiveDate::parse_from_str(accepted["close_deadline"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert_eq!(extended["close_deadline"], days.after(close, 30));
    assert_eq!(
        (extended["status"].as_str(), extended["extended"].as_bool()),
        (Some("in_progress"), Some(true))
    );
    let twice = act(
        &app,
        &people.county,
        &id,
        json!({"action": "extend", "comment": "还要延期", "expected_version": extended["version"]}),
    )
    .await;
    let problem = assert_problem(twice, StatusCode::CONFLICT, "INVALID_STATE").await;
    assert!(
        problem["message"].as_str().unwrap().contains("只能延长一次"),
        "{problem}"
    );
    assert_eq!(
        inspected(&app, &people.county, &id).await["close_deadline"],
        extended["close_deadline"]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_report_closes_with_each_reason_and_only_with_one() {
    let app = TestApp::spawn().await;
    let people = inspectors(&app).await;
    let worker = app.login_worker("closing").await;
    for (n, reason) in ["unfounded", "withdrawn", "sent_to_arbitration"]
        .into_iter()
        .enumerate()
    {
        let id = filed(&app, &worker, reason, &report(100_000 + n as i64)).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut report = inspected(&app, &people.county, &id).await;
        if n > 0 {
            report = acted(&app, &people.county, &report, "accept", json!({})).await;
        }
        let bare = act(
            &app,
            &people.county,
            &id,
            json!({"action": "close", "comment": "结案", "expected_version": report["version"]}),
        )
        .await;
        let problem = assert_problem(bare, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
        assert_eq!(problem["details"]["fields"][0]["field"], "close_reason");
        let closed = acted(&app, &people.county, &report, "close", json!({"close_reason": reason})).await;
        assert_eq!(
            (closed["status"].as_str(), closed["outcome"].as_str()),
            (Some("closed"), Some(reason))
        );
        assert!(closed["closed_at"].is_string());
        let mine = app
            .get_json_with(&format!("/api/v1/wage-reports/{id}"), &worker.access_token)
            .await;
        assert_eq!(
            (mine["status"].as_str(), mine["outcome"].as_str()),
            (Some("closed"), Some(reason))
        );
        let reopen = act(
            &app,
            &people.county,
            &id,
            json!({"action": "start", "expected_version": closed["version"]}),
        )
        .await;
        assert_problem(reopen, StatusCode::CONFLICT, "INVALID_STATE").await;
    }
    let unknown = act(
        &app,
        &people.county,
        "no-such-report",
        json!({"action": "close", "close_reason": "bribed", "expected_version": 1}),
    )
    .await;
    assert_eq!(
        unknown.status(),
        StatusCode::BAD_REQUEST,
        "an unknown reason is bad input"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_accepted_report_past_its_close_deadline_is_overdue_until_it_is_closed() {
    let app = TestApp::spawn().await;
    let people = inspectors(&app).await;
    let worker = app.login_worker("slow-case").await;
    let id = filed(&app, &worker, "slow", &report(900_000)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = inspected(&app, &people.county, &id).await;
    let accepted = acted(&app, &people.county, &report, "accept", json!({})).await;
    let overdue_queue = || app.get_json_with("/api/v1/staff/wage-reports?overdue=true", &people.county.access_token);
    assert_eq!(overdue_queue().await["total"], 0);

    // As if accepted long ago: the close deadline has passed, the accept
    // deadline no longer applies.
    let db = app.db().await;
    let sql = format!(
        "UPDATE wage_report SET close_deadline = '2026-01-09', accept_deadline = '2099-01-01' WHERE id = '{id}'"
    );
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    let overdue = overdue_queue().await;
    assert_eq!(overdue["total"], 1);
    assert_eq!(overdue["items"][0]["overdue"], true);
    assert_eq!(inspected(&app, &people.county, &id).await["overdue"], true);

    let closed = acted(
        &app,
        &people.county,
        &accepted,
        "close",
        json!({"close_reason": "withdrawn"}),
    )
    .await;
    assert_eq!(closed["overdue"], false, "a finished report is never overdue");
    assert_eq!(overdue_queue().await["total"], 0);
    app.stop().await;
}

#[tokio::test]
async fn the_county_a_report_is_transferred_to_may_extend_its_own_deadline_once() {
    let app = TestApp::spawn().await;
    let people = inspectors(&app).await;
    let worker = app.login_worker("moved-late").await;
    let days = WorkingDays::of(&app).await;
    let id = filed(&app, &worker, "moved-late", &report(650_000)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = inspected(&app, &people.county, &id).await;
    let accepted = acted(&app, &people.county, &report, "accept", json!({})).await;
    let extended = acted(
        &app,
        &people.county,
        &accepted,
        "extend",
        json!({"comment": "案情复杂"}),
    )
    .await;
    let moved = acted(
        &app,
        &people.county,
        &extended,
        "transfer",
        json!({"comment": "用工单位在六合区", "to_region_code": "320116"}),
    )
    .await;
    assert_eq!(moved["extended"], false, "the receiving county's case starts afresh");

    // The receiving county opens its own case: 60 working days from its
    // acceptance, and its own one extension of 30.
    let theirs = acted(&app, &people.neighbour, &moved, "accept", json!({})).await;
    let due = days.after(china_today(), 60);
    assert_eq!(theirs["close_deadline"], due);
    let longer = acted(
        &app,
        &people.neighbour,
        &theirs,
        "extend",
        json!({"comment": "需要延期"}),
    )
    .await;
    let due = NaiveDate::parse_from_str(&due, "%Y-%m-%d").unwrap();
    assert_eq!(longer["close_deadline"], days.after(due, 30));
    let twice = act(
        &app,
        &people.neighbour,
        &id,
        json!({"action": "extend", "comment": "还要延期", "expected_version": longer["version"]}),
    )
    .await;
    assert_problem(twice, StatusCode::CONFLICT, "INVALID_STATE").await;
    app.stop().await;
}
