//! 好差评, 回访 and 投诉建议 over HTTP: a worker rates their closed case once
//! (changeable for 7 days), a rating of 1 or 2 opens a follow-up for the
//! case's office due in 3 working days (counted by the calendar the server
//! holds), the office closes it with what was done; complaints and
//! suggestions are answered by their deadline; and the figures by region.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{
    applications::{apply, complete_application, guangxi_worker},
    inspection::{WorkingDays, china_today},
    notifications::inbox_until,
    support::{TestApp, app::Session, assert_problem},
    wage_reports::{file, report},
};

struct People {
    worker: Session,
    other: Session,
    /// Inspectors of 江宁区 (320115), 六合区 (320116) and 南京市 (320100).
    county: Session,
    neighbour: Session,
    city: Session,
    /// A reviewer of 江宁区: works applications, not wage reports.
    reviewer: Session,
    finance: Session,
    /// Administrators of 江宁区 and 六合区, and the national one.
    county_admin: Session,
    neighbour_admin: Session,
    admin: Session,
}

async fn people(app: &TestApp) -> People {
    let admin = app.admin("000000").await;
    People {
        worker: app.login_worker("rater").await,
        other: app.login_worker("someone-else").await,
        county: app.staff(&admin, "jiangning.insp", &["inspector"], "320115").await,
        neighbour: app.staff(&admin, "liuhe.insp", &["inspector"], "320116").await,
        city: app.staff(&admin, "nanjing.insp", &["inspector"], "320100").await,
        reviewer: app.staff(&admin, "jiangning.rev", &["reviewer"], "320115").await,
        finance: app.staff(&admin, "jiangning.fin", &["finance"], "320115").await,
        county_admin: app.admin("320115").await,
        neighbour_admin: app.admin("320116").await,
        admin,
    }
}

/// A report of `worker`'s worked in `county`, still open; its id.
async fn open_report(app: &TestApp, worker: &Session, key: &str, county: &str) -> String {
    let mut body = report(500_000);
    body["work_region_code"] = json!(county);
    let filed = file(app, worker, key, &body).await;
    assert_eq!(filed.status(), StatusCode::CREATED);
    filed.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// A report of `worker`'s refused by `inspector`: closed; its id.
async fn closed_report(app: &TestApp, worker: &Session, inspector: &Session, key: &str, county: &str) -> String {
    let id = open_report(app, worker, key, county).await;
    let refused = app
        .post_json(
            &format!("/api/v1/staff/wage-reports/{id}/actions"),
            &json!({"action": "refuse", "comment": "属于劳动争议，请申请仲裁。", "expected_version": 1}),
            Some(&inspector.access_token),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::OK);
    id
}

async fn rate(app: &TestApp, worker: &Session, case_id: &str, body: Value) -> reqwest::Response {
    app.put_json(
        &format!("/api/v1/me/ratings/wage_report/{case_id}"),
        &body,
        &worker.access_token,
    )
    .await
}

/// Rates and expects `status` and the rating back.
async fn rated(app: &TestApp, worker: &Session, case_id: &str, body: Value, status: StatusCode) -> Value {
    let response = rate(app, worker, case_id, body).await;
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

async fn audit(app: &TestApp, admin: &Session, action: &str) -> Value {
    app.get_json_with(
        &format!("/api/v1/admin/audit-logs?action={action}"),
        &admin.access_token,
    )
    .await
}

/// A bad rating's refusal: 400 naming `field`, its Chinese reason holding `says`.
async fn refused_field(response: reqwest::Response, field: &str, says: &str) {
    let problem = assert_problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(problem["details"]["fields"][0]["field"], field, "{problem}");
    let reason = problem["details"]["fields"][0]["zh"].as_str().unwrap();
    assert!(reason.contains(says), "{reason}");
    assert!(problem["message"].as_str().unwrap().contains(says), "{problem}");
}

#[tokio::test]
async fn a_two_star_rating_opens_a_follow_up_due_in_three_working_days() {
    let app = TestApp::spawn().await;
    let people = people(&app).await;
    let id = closed_report(&app, &people.worker, &people.county, "two-stars", "320115").await;
    let body = json!({"score": 2, "tags": ["slow_reply", "many_trips"], "comment": "跑了三趟才办完"});
    let rating = rated(&app, &people.worker, &id, body, StatusCode::CREATED).await;
    assert_eq!(rating["score"], 2);
    assert_eq!(rating["tags"], json!(["slow_reply", "many_trips"]));
    assert_eq!(rating["comment"], "跑了三趟才办完");
    let due = WorkingDays::of(&app).await.after(china_today(), 3);
    let follow_up = &rating["follow_up"];
    assert_eq!(follow_up["status"], "open", "{rating}");
    assert_eq!(follow_up["deadline"], due.as_str(), "3 working days after the rating");

    let queue = app
        .get_json_with("/api/v1/staff/follow-ups", &people.county.access_token)
        .await;
    assert_eq!(queue["total"], 1, "{queue}");
    let item = &queue["items"][0];
    assert_eq!(item["id"], follow_up["id"]);
    assert!(item["follow_up_no"].as_str().unwrap().starts_with("HF-320115-"));
    assert_eq!(item["case_kind"], "wage_report");
    assert_eq!(item["case_id"], id.as_str());
    assert!(item["case_no"].as_str().unwrap().starts_with("QX-320115-"));
    assert_eq!(item["region_code"], "320115");
    assert_eq!(item["score"], 2);
    assert_eq!(item["tags"], json!(["slow_reply", "many_trips"]));
    assert_eq!(item["deadline"], due.as_str());
    assert_eq!(item["overdue"], false);

    let created = audit(&app, &people.admin, "rating.create").await;
    assert_eq!(created["total"], 1, "{created}");
    assert_eq!(created["items"][0]["target_type"], "case_rating");
    assert_eq!(created["items"][0]["region_code"], "320115");
    assert_eq!(created["items"][0]["details"]["score"], 2);
    let opened = audit(&app, &people.admin, "follow_up.open").await;
    assert_eq!(opened["total"], 1, "{opened}");
    assert_eq!(opened["items"][0]["target_id"], follow_up["id"]);
    app.stop().await;
}

#[tokio::test]
async fn an_open_case_another_workers_case_and_bad_ratings_are_refused() {
    let app = TestApp::spawn().await;
    let people = people(&app).await;
    let open = open_report(&app, &people.worker, "still-open", "320115").await;
    let good = json!({"score": 4, "tags": ["fast"]});
    let refused = rate(&app, &people.worker, &open, good.clone()).await;
    let problem = assert_problem(refused, StatusCode::CONFLICT, "INVALID_STATE").await;
    assert!(
        problem["message"].as_str().unwrap().contains("办结后才能评价"),
        "{problem}"
    );
    assert_eq!(problem["details"]["reason"], "case_open");
    let state = app
        .get_json_with(
            &format!("/api/v1/me/ratings/wage_report/{open}"),
            &people.worker.access_token,
        )
        .await;
    assert_eq!(state["case_closed"], false, "{state}");
    assert!(state.get("rating").is_none());

    let closed = closed_report(&app, &people.worker, &people.county, "closed", "320115").await;
    let theirs = rate(&app, &people.other, &closed, good.clone()).await;
    assert_problem(theirs, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let path = format!("/api/v1/me/ratings/wage_report/{closed}");
    let read = app.get_with(&path, &people.other.access_token).await;
    assert_problem(read, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let as_application = app
        .put_json(
            &format!("/api/v1/me/ratings/application/{closed}"),
            &good,
            &people.worker.access_token,
        )
        .await;
    assert_problem(as_application, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let unknown_kind = app
        .put_json(
            &format!("/api/v1/me/ratings/visa/{closed}"),
            &good,
            &people.worker.access_token,
        )
        .await;
    assert_problem(unknown_kind, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;

    for score in [0, 6] {
        let response = rate(&app, &people.worker, &closed, json!({"score": score})).await;
        refused_field(response, "score", "1到5星").await;
    }
    let response = rate(
        &app,
        &people.worker,
        &closed,
        json!({"score": 3, "tags": ["fast", "办事快"]}),
    )
    .await;
    refused_field(response, "tags", "办事快、态度好、材料少、回复慢、跑了多次、说明不清").await;
    let long = "慢".repeat(501);
    let response = rate(&app, &people.worker, &closed, json!({"score": 3, "comment": long})).await;
    refused_field(response, "comment", "太长").await;
    let state = app.get_json_with(&path, &people.worker.access_token).await;
    assert_eq!(state["case_closed"], true, "{state}");
    assert!(state.get("rating").is_none(), "nothing refused was kept: {state}");
    app.stop().await;
}

#[tokio::test]
async fn a_rating_changes_for_seven_days_and_a_follow_up_once_opened_stays() {
    let app = TestApp::spawn().await;
    let people = people(&app).await;
    let id = closed_report(&app, &people.worker, &people.county, "changing", "320115").await;
    let first = rated(
        &app,
        &people.worker,
        &id,
        json!({"score": 4, "tags": ["fast"]}),
        StatusCode::CREATED,
    )
    .await;
    assert!(
        first.get("follow_up").is_none(),
        "four stars open no follow-up: {first}"
    );
    let again = rated(
        &app,
        &people.worker,
        &id,
        json!({"score": 4, "tags": ["fast"]}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        again["version"], first["version"],
        "the same rating again changes nothing"
    );

    let lowered = rated(
        &app,
        &people.worker,
        &id,
        json!({"score": 1, "comment": "其实没有解决"}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(lowered["score"], 1);
    assert_eq!(lowered["follow_up"]["status"], "open", "{lowered}");
    let raised = rated(&app, &people.worker, &id, json!({"score": 5}), StatusCode::OK).await;
    assert_eq!(raised["score"], 5);
    assert_eq!(
        raised["follow_up"]["id"], lowered["follow_up"]["id"],
        "the follow-up stays"
    );
    assert_eq!(raised["follow_up"]["status"], "open");
    let relowered = rated(&app, &people.worker, &id, json!({"score": 2}), StatusCode::OK).await;
    assert_eq!(
        relowered["follow_up"]["id"], lowered["follow_up"]["id"],
        "one follow-up per rating"
    );
    let queue = app
        .get_json_with("/api/v1/staff/follow-ups", &people.county.access_token)
        .await;
    assert_eq!(queue["total"], 1, "{queue}");
    assert_eq!(
        queue["items"][0]["score"], 1,
        "the rating as it was when the follow-up opened"
    );

    // Eight days after the first rating.
    let db = app.db().await;
    let eight_days_ago = (Utc::now() - Duration::days(8)).format("%Y-%m-%dT%H:%M:%S+00:00");
    let sql = format!("UPDATE case_rating SET created_at = '{eight_days_ago}' WHERE case_id = '{id}'");
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    let late = rate(&app, &people.worker, &id, json!({"score": 3})).await;
    let problem = assert_problem(late, StatusCode::CONFLICT, "INVALID_STATE").await;
    assert!(
        problem["message"].as_str().unwrap().contains("满7天后不能再修改"),
        "{problem}"
    );
    assert_eq!(problem["details"]["reason"], "rating_locked");
    let same = rated(&app, &people.worker, &id, json!({"score": 2}), StatusCode::OK).await;
    assert_eq!(same["score"], 2, "the same rating again is still answered");
    let changes = audit(&app, &people.admin, "rating.change").await;
    assert_eq!(changes["total"], 3, "{changes}");
    app.stop().await;
}

#[tokio::test]
async fn the_follow_up_queue_is_the_offices_and_only_it_closes_a_follow_up() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_OUTBOX_INTERVAL_MS", "100".to_owned());
    })
    .await;
    let people = people(&app).await;
    let id = closed_report(&app, &people.worker, &people.county, "followed", "320115").await;
    let rating = rated(
        &app,
        &people.worker,
        &id,
        json!({"score": 1, "tags": ["unclear"]}),
        StatusCode::CREATED,
    )
    .await;
    let follow_up = rating["follow_up"]["id"].as_str().unwrap().to_owned();
    let queue = async |staff: &Session| app.get_json_with("/api/v1/staff/follow-ups", &staff.access_token).await;
    assert_eq!(
        queue(&people.neighbour).await["total"],
        0,
        "another county's inspectors"
    );
    assert_eq!(
        queue(&people.reviewer).await["total"],
        0,
        "a reviewer follows applications up"
    );
    assert_eq!(queue(&people.city).await["total"], 1, "the city's inspectors");
    let finance = app
        .get_with("/api/v1/staff/follow-ups", &people.finance.access_token)
        .await;
    assert_problem(finance, StatusCode::FORBIDDEN, "ROLE_REQUIRED").await;
    let wider = app
        .get_with(
            "/api/v1/staff/follow-ups?region_code=320100",
            &people.county.access_token,
        )
        .await;
    assert_problem(wider, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;

    let close = async |staff: &Session, what: &str| {
        app.post_json(
            &format!("/api/v1/staff/follow-ups/{follow_up}/close"),
            &json!({ "what_was_done": what }),
            Some(&staff.access_token),
        )
        .await
    };
    let elsewhere = close(&people.neighbour, "已回访").await;
    assert_problem(elsewhere, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let not_theirs = close(&people.county_admin, "已回访").await;
    assert_problem(not_theirs, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let blank = close(&people.county, "   ").await;
    let problem = assert_problem(blank, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(problem["details"]["fields"][0]["field"], "what_was_done");

    let what = "已电话回访，向本人解释了不予受理的原因并告知仲裁途径。";
    let closed = close(&people.county, what).await;
    assert_eq!(closed.status(), StatusCode::OK);
    let closed: Value = closed.json().await.unwrap();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["what_was_done"], what);
    assert_eq!(closed["closed_late"], false);
    let twice = close(&people.county, what).await;
    assert_problem(twice, StatusCode::CONFLICT, "INVALID_STATE").await;
    let open = app
        .get_json_with("/api/v1/staff/follow-ups?status=open", &people.county.access_token)
        .await;
    assert_eq!(open["total"], 0);

    let seen = app
        .get_json_with(
            &format!("/api/v1/me/ratings/wage_report/{id}"),
            &people.worker.access_token,
        )
        .await;
    assert_eq!(seen["rating"]["follow_up"]["status"], "closed", "{seen}");
    assert_eq!(seen["rating"]["follow_up"]["what_was_done"], what);
    inbox_until(&app, &people.worker.access_token, |inbox| {
        inbox.to_string().contains("服务回访")
    })
    .await;
    let audited = audit(&app, &people.admin, "follow_up.close").await;
    assert_eq!(audited["total"], 1, "{audited}");
    assert_eq!(audited["items"][0]["region_code"], "320115");
    app.stop().await;
}

#[tokio::test]
async fn a_withdrawn_application_is_rated_and_followed_up_by_its_reviewers() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let reviewer = app.staff(&admin, "xingning.rev", &["reviewer"], "450102").await;
    let inspector = app.staff(&admin, "xingning.insp", &["inspector"], "450102").await;
    let worker = guangxi_worker(&app, "applicant", "450102198801011235").await;
    let body = complete_application(&app, &worker).await;
    let applied: Value = apply(&app, &worker, "to-withdraw", &body).await.json().await.unwrap();
    let id = applied["id"].as_str().unwrap();
    let path = format!("/api/v1/me/ratings/application/{id}");
    let low = json!({"score": 1, "tags": ["unclear"]});
    let submitted = app.put_json(&path, &low, &worker.access_token).await;
    assert_problem(submitted, StatusCode::CONFLICT, "INVALID_STATE").await;
    let withdrawn = app
        .client
        .post(app.url(&format!("/api/v1/applications/{id}/withdraw")))
        .bearer_auth(&worker.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(withdrawn.status(), StatusCode::OK);
    let rated = app.put_json(&path, &low, &worker.access_token).await;
    assert_eq!(rated.status(), StatusCode::CREATED);
    let rated: Value = rated.json().await.unwrap();
    let due = WorkingDays::of(&app).await.after(china_today(), 3);
    assert_eq!(rated["follow_up"]["deadline"], due.as_str(), "{rated}");
    let queue = async |staff: &Session| app.get_json_with("/api/v1/staff/follow-ups", &staff.access_token).await;
    assert_eq!(queue(&inspector).await["total"], 0, "inspectors follow wage reports up");
    let theirs = queue(&reviewer).await;
    assert_eq!(theirs["total"], 1, "{theirs}");
    assert_eq!(theirs["items"][0]["case_kind"], "application");
    assert_eq!(theirs["items"][0]["region_code"], "450102");
    let closed = app
        .post_json(
            &format!(
                "/api/v1/staff/follow-ups/{}/close",
                theirs["items"][0]["id"].as_str().unwrap()
            ),
            &json!({"what_was_done": "已回访，解释了撤回后可以重新申请。"}),
            Some(&reviewer.access_token),
        )
        .await;
    assert_eq!(closed.status(), StatusCode::OK);
    app.stop().await;
}

async fn file_complaint(app: &TestApp, worker: &Session, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/me/complaints"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_complaint_is_filed_answered_by_its_office_and_read_by_its_worker() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_OUTBOX_INTERVAL_MS", "100".to_owned());
    })
    .await;
    let people = people(&app).await;
    let report = open_report(&app, &people.worker, "complained-of", "320115").await;
    let days = WorkingDays::of(&app).await;
    let complaint = json!({
        "kind": "complaint", "region_code": "320115",
        "case": {"kind": "wage_report", "id": report},
        "text": "监察大队电话一直打不通。"
    });
    let filed = file_complaint(&app, &people.worker, "complaint-1", &complaint).await;
    assert_eq!(filed.status(), StatusCode::CREATED);
    let filed: Value = filed.json().await.unwrap();
    assert_eq!(filed["status"], "open");
    assert_eq!(filed["deadline"], days.after(china_today(), 15).as_str());
    assert!(filed["complaint_no"].as_str().unwrap().starts_with("TS-320115-"));
    assert!(filed["case"]["case_no"].as_str().unwrap().starts_with("QX-320115-"));
    let replayed: Value = file_complaint(&app, &people.worker, "complaint-1", &complaint)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(replayed["id"], filed["id"], "a retry returns the first one");
    let suggestion = json!({"kind": "suggestion", "region_code": "320116", "text": "希望周六也能办理。"});
    let suggested: Value = file_complaint(&app, &people.worker, "suggestion-1", &suggestion)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(suggested["deadline"], days.after(china_today(), 20).as_str());
    assert!(suggested.get("case").is_none());

    let about_theirs = file_complaint(&app, &people.other, "not-mine", &complaint).await;
    assert_problem(about_theirs, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let nowhere = json!({"kind": "complaint", "region_code": "320199", "text": "没有这个地方"});
    let refused = file_complaint(&app, &people.worker, "nowhere", &nowhere).await;
    let problem = assert_problem(refused, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(problem["details"]["fields"][0]["field"], "region_code");
    let blank = json!({"kind": "complaint", "region_code": "320115", "text": "   "});
    let refused = file_complaint(&app, &people.worker, "blank", &blank).await;
    assert_problem(refused, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;

    let reviewer = app
        .get_with("/api/v1/staff/complaints", &people.reviewer.access_token)
        .await;
    assert_problem(reviewer, StatusCode::FORBIDDEN, "ROLE_REQUIRED").await;
    let queue = app
        .get_json_with("/api/v1/staff/complaints", &people.neighbour_admin.access_token)
        .await;
    assert_eq!(queue["total"], 1, "六合区 has the suggestion only: {queue}");
    assert_eq!(queue["items"][0]["kind"], "suggestion");
    let id = filed["id"].as_str().unwrap();
    let reply = async |staff: &Session, text: &str| {
        app.post_json(
            &format!("/api/v1/staff/complaints/{id}/reply"),
            &json!({ "reply": text }),
            Some(&staff.access_token),
        )
        .await
    };
    let elsewhere = reply(&people.neighbour_admin, "已处理").await;
    assert_problem(elsewhere, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let answer = "已核实，大队值班电话已恢复，并增设了一条投诉专线。";
    let answered = reply(&people.county_admin, answer).await;
    assert_eq!(answered.status(), StatusCode::OK);
    let answered: Value = answered.json().await.unwrap();
    assert_eq!(answered["status"], "answered");
    assert_eq!(answered["replied_late"], false);
    let twice = reply(&people.county_admin, answer).await;
    assert_problem(twice, StatusCode::CONFLICT, "INVALID_STATE").await;

    let mine = app
        .get_json_with(&format!("/api/v1/me/complaints/{id}"), &people.worker.access_token)
        .await;
    assert_eq!(mine["reply"], answer, "{mine}");
    assert_eq!(mine["status"], "answered");
    let listed = app
        .get_json_with("/api/v1/me/complaints", &people.worker.access_token)
        .await;
    assert_eq!(listed["total"], 2, "{listed}");
    let theirs = app
        .get_with(&format!("/api/v1/me/complaints/{id}"), &people.other.access_token)
        .await;
    assert_problem(theirs, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    inbox_until(&app, &people.worker.access_token, |inbox| {
        inbox.to_string().contains("已答复")
    })
    .await;
    let audited = audit(&app, &people.admin, "complaint.reply").await;
    assert_eq!(audited["total"], 1, "{audited}");
    assert_eq!(audited["items"][0]["region_code"], "320115");
    app.stop().await;
}

#[tokio::test]
async fn the_figures_count_ratings_follow_ups_and_complaints_by_region() {
    let app = TestApp::spawn().await;
    let people = people(&app).await;
    let worker = &people.worker;
    let low = closed_report(&app, worker, &people.county, "figures-low", "320115").await;
    let high = closed_report(&app, worker, &people.county, "figures-high", "320115").await;
    let lowest = closed_report(&app, worker, &people.county, "figures-lowest", "320115").await;
    let next_door = closed_report(&app, &people.other, &people.neighbour, "figures-liuhe", "320116").await;
    let low = rated(&app, worker, &low, json!({"score": 2}), StatusCode::CREATED).await;
    rated(&app, worker, &high, json!({"score": 5}), StatusCode::CREATED).await;
    let lowest = rated(&app, worker, &lowest, json!({"score": 1}), StatusCode::CREATED).await;
    rated(
        &app,
        &people.other,
        &next_door,
        json!({"score": 4}),
        StatusCode::CREATED,
    )
    .await;
    let closed = app
        .post_json(
            &format!(
                "/api/v1/staff/follow-ups/{}/close",
                low["follow_up"]["id"].as_str().unwrap()
            ),
            &json!({"what_was_done": "已回访"}),
            Some(&people.county.access_token),
        )
        .await;
    assert_eq!(closed.status(), StatusCode::OK);
    // The other follow-up was due long ago.
    let db = app.db().await;
    let sql = format!(
        "UPDATE follow_up SET deadline = '2026-01-05' WHERE id = '{}'",
        lowest["follow_up"]["id"].as_str().unwrap()
    );
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    let overdue = app
        .get_json_with("/api/v1/staff/follow-ups?overdue=true", &people.county.access_token)
        .await;
    assert_eq!(overdue["total"], 1, "{overdue}");
    assert_eq!(overdue["items"][0]["overdue"], true);
    let complaint = json!({"kind": "complaint", "region_code": "320115", "text": "窗口排队太久。"});
    let filed: Value = file_complaint(&app, worker, "figures-complaint", &complaint)
        .await
        .json()
        .await
        .unwrap();
    let answered = app
        .post_json(
            &format!("/api/v1/staff/complaints/{}/reply", filed["id"].as_str().unwrap()),
            &json!({"reply": "已增开窗口。"}),
            Some(&people.county_admin.access_token),
        )
        .await;
    assert_eq!(answered.status(), StatusCode::OK);
    let suggestion = json!({"kind": "suggestion", "region_code": "320116", "text": "希望能网上预约。"});
    let suggested = file_complaint(&app, worker, "figures-suggestion", &suggestion).await;
    assert_eq!(suggested.status(), StatusCode::CREATED);

    let today = china_today();
    let period = format!("from={}&to={}", today - Duration::days(1), today + Duration::days(1));
    let figures = app
        .get_json_with(
            &format!("/api/v1/staff/stats/satisfaction?region_code=320100&{period}"),
            &people.admin.access_token,
        )
        .await;
    let total = &figures["total"];
    assert_eq!(total["region_code"], "320100", "{figures}");
    assert_eq!(total["ratings"]["count"], 4);
    assert_eq!(total["ratings"]["average"], 3.0);
    let by_score: Vec<i64> = total["ratings"]["by_score"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["count"].as_i64().unwrap())
        .collect();
    assert_eq!(by_score, [1, 1, 0, 1, 1]);
    let row = |code: &str| {
        figures["subdivisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["region_code"] == code)
            .unwrap_or_else(|| panic!("no row for {code}: {figures}"))
            .clone()
    };
    let jiangning = row("320115");
    assert_eq!(jiangning["ratings"]["count"], 3);
    assert_eq!(jiangning["ratings"]["average"], 2.67);
    assert_eq!(
        jiangning["follow_ups"],
        json!({"opened": 2, "closed_on_time": 1, "closed_late": 0, "overdue": 1})
    );
    assert_eq!(
        jiangning["complaints"],
        json!({"complaints": 1, "suggestions": 0, "answered_on_time": 1, "answered_late": 0, "overdue": 0})
    );
    let liuhe = row("320116");
    assert_eq!(liuhe["ratings"]["count"], 1);
    assert_eq!(liuhe["ratings"]["average"], 4.0);
    assert_eq!(liuhe["follow_ups"]["opened"], 0);
    assert_eq!(liuhe["complaints"]["suggestions"], 1);
    let quiet = row("320111");
    assert_eq!(quiet["ratings"]["count"], 0, "a county with nothing shows zero");
    assert!(quiet["ratings"].get("average").is_none());

    let county = app
        .get_json_with(
            &format!("/api/v1/staff/stats/satisfaction?{period}"),
            &people.county_admin.access_token,
        )
        .await;
    assert_eq!(
        county["total"]["ratings"]["count"], 3,
        "a county's own figures: {county}"
    );
    let wider = app
        .get_with(
            &format!("/api/v1/staff/stats/satisfaction?region_code=320100&{period}"),
            &people.county_admin.access_token,
        )
        .await;
    assert_problem(wider, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;
    app.stop().await;
}
