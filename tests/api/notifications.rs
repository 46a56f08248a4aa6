use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    applications::{apply, complete_application, guangxi_worker},
    support::{TestApp, app::Vars},
    wage_reports,
};

/// Polls the worker's inbox until `found` holds, for at most ten seconds.
async fn inbox_until(app: &TestApp, token: &str, found: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let inbox = app.get_json_with("/api/v1/me/notifications", token).await;
        if found(&inbox) {
            return inbox;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the inbox never showed the expected notification");
}

fn with_template(vars: &mut crate::support::app::Vars) {
    vars.insert("SHIMINHUA_WECHAT_TEMPLATE_ID", "tmpl-status".to_owned());
    vars.insert("SHIMINHUA_OUTBOX_INTERVAL_MS", "100".to_owned());
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
    assert!(inbox["items"][0]["body"].as_str().unwrap().contains("已提交申请"));
    assert_eq!(app.wechat.messages_to("o_subscriber"), 1);
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
    assert!(inbox["items"][0]["body"].as_str().unwrap().contains("已提交申请"));
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
