use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    applications::{apply, complete_application, guangxi_worker},
    support::{
        TestApp,
        app::{Vars, assert_problem},
    },
    wage_reports,
};

/// Every application event goes with one template; approval with its own,
/// which also shows the amount.
const TEMPLATES: &str = r#"{
    "application": {"template_id": "tmpl-application", "fields": {
        "thing1": "case_kind", "character_string2": "case_no", "phrase3": "status",
        "thing4": "next_step", "time5": "changed_at"}},
    "application.approve": {"template_id": "tmpl-approved", "fields": {
        "character_string1": "case_no", "phrase2": "status", "amount3": "amount",
        "thing4": "next_step", "date5": "changed_at"}},
    "wage_report": {"template_id": "tmpl-wage", "fields": {
        "character_string1": "case_no", "phrase2": "status", "thing3": "next_step"}}
}"#;

/// Polls the worker's inbox until `found` holds, for at most ten seconds.
pub async fn inbox_until(app: &TestApp, token: &str, found: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let inbox = app.get_json_with("/api/v1/me/notifications", token).await;
        if found(&inbox) {
            return inbox;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the inbox never showed the expected notification");
}

fn with_template(vars: &mut Vars) {
    vars.insert("SHIMINHUA_WECHAT_TEMPLATES", TEMPLATES.to_owned());
    vars.insert("SHIMINHUA_OUTBOX_INTERVAL_MS", "100".to_owned());
}

/// Polls the fake WeChat until `count` messages reached `openid`.
async fn sent_until(app: &TestApp, openid: &str, count: usize) -> Vec<Value> {
    for _ in 0..100 {
        let sent = app.wechat.messages_sent_to(openid);
        if sent.len() >= count {
            return sent;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("WeChat never received {count} messages for {openid}");
}

#[tokio::test]
async fn a_status_change_reaches_the_inbox_and_wechat() {
    let app = TestApp::spawn_with(with_template).await;
    let worker = guangxi_worker(&app, "subscriber", "450102198801011235").await;
    let body = complete_application(&app, &worker).await;
    assert_eq!(apply(&app, &worker, "n-1", &body).await.status(), StatusCode::CREATED);
    let inbox = inbox_until(&app, &worker.access_token, |inbox| {
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["wechat_status"] == "sent")
    })
    .await;
    assert_eq!(inbox["total"], 1);
    assert_eq!(inbox["items"][0]["title"], "补贴申请进度");
    let body = inbox["items"][0]["body"].as_str().unwrap();
    assert!(body.contains("：已提交。等待工作人员审核。"), "{body}");
    let sent = app.wechat.messages_sent_to("o_subscriber");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["template_id"], "tmpl-application");
    let data = &sent[0]["data"];
    assert_eq!(data["thing1"]["value"], "补贴申请");
    assert!(
        data["character_string2"]["value"]
            .as_str()
            .unwrap()
            .starts_with("SB-450102-")
    );
    assert_eq!(data["phrase3"]["value"], "已提交");
    assert_eq!(data["thing4"]["value"], "等待工作人员审核");
    assert!(
        sent[0]["page"]
            .as_str()
            .unwrap()
            .starts_with("pages/applications/detail?id=")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_refused_subscription_is_recorded_and_not_retried() {
    let app = TestApp::spawn_with(with_template).await;
    let worker = guangxi_worker(&app, "refuser", "450102198801011235").await;
    let body = complete_application(&app, &worker).await;
    assert_eq!(apply(&app, &worker, "n-2", &body).await.status(), StatusCode::CREATED);
    inbox_until(&app, &worker.access_token, |inbox| {
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["wechat_status"] == "refused")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.wechat.messages_to("o_refuser"), 1, "43101 is final");
    app.stop().await;
}

#[tokio::test]
async fn a_server_stopped_before_delivery_loses_no_notification() {
    let mut first = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_OUTBOX_INTERVAL_MS", "3600000".to_owned());
    })
    .await;
    let worker = guangxi_worker(&first, "patient", "450102198801011235").await;
    let body = complete_application(&first, &worker).await;
    assert_eq!(apply(&first, &worker, "n-3", &body).await.status(), StatusCode::CREATED);
    let undelivered = first
        .get_json_with("/api/v1/me/notifications", &worker.access_token)
        .await;
    assert_eq!(undelivered["total"], 0, "this instance delivers only once an hour");

    let second = TestApp::spawn_beside(&first).await;
    first.halt().await;
    let again = second.login_worker("patient").await;
    let inbox = inbox_until(&second, &again.access_token, |inbox| inbox["total"] == 1).await;
    assert!(inbox["items"][0]["body"].as_str().unwrap().contains("已提交"));
    second.stop().await;
    first.stop().await;
}

/// More messages than one delivery batch (50) wait when an instance starts:
/// its first round delivers them all, not one batch and the rest a tick
/// (here an hour) later.
#[tokio::test]
async fn a_backlog_larger_than_a_batch_is_delivered_in_one_round() {
    const WAITING: usize = 60;
    let hourly = |vars: &mut Vars| {
        vars.insert("SHIMINHUA_OUTBOX_INTERVAL_MS", "3600000".to_owned());
        vars.insert("SHIMINHUA_WAGE_REPORTS_PER_DAY", "100".to_owned());
    };
    let mut first = TestApp::spawn_with(hourly).await;
    let worker = first.login_worker("backlogged").await;
    for n in 0..WAITING {
        let filed = wage_reports::file(&first, &worker, &format!("backlog-{n}"), &wage_reports::report(100_000)).await;
        assert_eq!(filed.status(), StatusCode::CREATED);
    }
    let undelivered = first
        .get_json_with("/api/v1/me/notifications", &worker.access_token)
        .await;
    assert_eq!(undelivered["total"], 0, "the first instance delivers only once an hour");

    let second = TestApp::spawn_beside_with(&first, hourly).await;
    first.halt().await;
    let again = second.login_worker("backlogged").await;
    inbox_until(&second, &again.access_token, |inbox| inbox["total"] == WAITING).await;
    second.stop().await;
    first.stop().await;
}

/// A reviewer takes up and approves the worker's one application; returns
/// its number.
async fn take_up_and_approve(app: &TestApp, id: &str) {
    let admin = app.admin("450000").await;
    let reviewer = app.staff(&admin, "xingning.reviewer", &["reviewer"], "450102").await;
    let path = format!("/api/v1/staff/applications/{id}");
    let case = app.get_json_with(&path, &reviewer.access_token).await;
    let started = app
        .post_json(
            &format!("{path}/start-review"),
            &json!({"expected_version": case["version"]}),
            Some(&reviewer.access_token),
        )
        .await;
    let started: Value = started.json().await.unwrap();
    let approve = json!({"decision": "approve", "expected_version": started["version"], "comment": "材料齐全"});
    let approved = app
        .post_json(&format!("{path}/review"), &approve, Some(&reviewer.access_token))
        .await;
    assert_eq!(approved.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_approval_reaches_the_phone_naming_the_case_and_that_it_passed() {
    let app = TestApp::spawn_with(with_template).await;
    let worker = guangxi_worker(&app, "approved", "450102198801011235").await;
    let body = complete_application(&app, &worker).await;
    let created: Value = apply(&app, &worker, "n-approve", &body).await.json().await.unwrap();
    let number = created["application_no"].as_str().unwrap();
    take_up_and_approve(&app, created["id"].as_str().unwrap()).await;

    let sent = sent_until(&app, "o_approved", 3).await;
    let approval = &sent[2];
    assert_eq!(approval["template_id"], "tmpl-approved");
    let data = &approval["data"];
    assert_eq!(data["character_string1"]["value"], number);
    assert_eq!(data["phrase2"]["value"], "审核通过");
    assert_eq!(data["amount3"]["value"], "5000.00元");
    assert_eq!(data["thing4"]["value"], "等待财务发放补贴");
    assert!(data["date5"]["value"].as_str().unwrap().ends_with('日'));

    let statuses: Vec<&Value> = sent.iter().map(|m| &m["data"]).collect();
    assert_eq!(
        [&statuses[0]["phrase3"]["value"], &statuses[1]["phrase3"]["value"]],
        ["已提交", "审核中"],
        "each change says what happened"
    );
    let inbox = inbox_until(&app, &worker.access_token, |inbox| inbox["total"] == 3).await;
    let bodies: Vec<&str> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert!(
        bodies[0].contains("审核通过（5000.00元）。等待财务发放补贴。"),
        "{bodies:?}"
    );
    assert_eq!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["wechat_status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["sent", "sent", "sent"],
        "WeChat accepted every field of every message"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_event_without_a_template_reaches_the_inbox_only() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert(
            "SHIMINHUA_WECHAT_TEMPLATES",
            r#"{"application.approve": {"template_id": "tmpl-approved", "fields": {"phrase1": "status"}}}"#.to_owned(),
        );
        vars.insert("SHIMINHUA_OUTBOX_INTERVAL_MS", "100".to_owned());
    })
    .await;
    let worker = app.login_worker("quiet").await;
    let filed = wage_reports::file(&app, &worker, "quiet-1", &wage_reports::report(100_000)).await;
    assert_eq!(filed.status(), StatusCode::CREATED);
    let inbox = inbox_until(&app, &worker.access_token, |inbox| inbox["total"] == 1).await;
    assert_eq!(inbox["items"][0]["wechat_status"], "skipped");
    assert_eq!(app.wechat.messages_to("o_quiet"), 0);
    app.stop().await;
}

#[tokio::test]
async fn a_worker_marks_messages_read_one_or_all_and_sees_how_many_are_unread() {
    let app = TestApp::spawn_with(with_template).await;
    let worker = app.login_worker("reader").await;
    let other = app.login_worker("snooper").await;
    for n in 0..3 {
        let filed = wage_reports::file(&app, &worker, &format!("read-{n}"), &wage_reports::report(100_000)).await;
        assert_eq!(filed.status(), StatusCode::CREATED);
    }
    let inbox = inbox_until(&app, &worker.access_token, |inbox| inbox["total"] == 3).await;
    let unread = |token: String| {
        let app = &app;
        async move { app.get_json_with("/api/v1/me/notifications/unread-count", &token).await["unread"].clone() }
    };
    assert_eq!(unread(worker.access_token.clone()).await, 3);
    assert!(inbox["items"][0].get("read_at").is_none());

    let id = inbox["items"][0]["id"].as_str().unwrap();
    let mark = |token: String| {
        let app = &app;
        let path = format!("/api/v1/me/notifications/{id}/read");
        async move { app.post_json(&path, &json!({}), Some(&token)).await }
    };
    assert_eq!(mark(other.access_token.clone()).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        unread(worker.access_token.clone()).await,
        3,
        "another worker marks nothing"
    );
    let first: Value = mark(worker.access_token.clone()).await.json().await.unwrap();
    let read_at = first["read_at"].as_str().unwrap().to_owned();
    let again: Value = mark(worker.access_token.clone()).await.json().await.unwrap();
    assert_eq!(again["read_at"], read_at.as_str(), "read again keeps the first time");
    assert_eq!(unread(worker.access_token.clone()).await, 2);

    let all = app
        .post_json(
            "/api/v1/me/notifications/read-all",
            &json!({}),
            Some(&other.access_token),
        )
        .await;
    assert_eq!(all.json::<Value>().await.unwrap()["marked"], 0);
    assert_eq!(
        unread(worker.access_token.clone()).await,
        2,
        "nor marks all of someone else's"
    );
    let all = app
        .post_json(
            "/api/v1/me/notifications/read-all",
            &json!({}),
            Some(&worker.access_token),
        )
        .await;
    assert_eq!(all.json::<Value>().await.unwrap()["marked"], 2);
    assert_eq!(unread(worker.access_token.clone()).await, 0);
    let missing = app
        .post_json(
            "/api/v1/me/notifications/no-such-message/read",
            &json!({}),
            Some(&worker.access_token),
        )
        .await;
    assert_problem(missing, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    app.stop().await;
}
