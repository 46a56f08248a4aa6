//! A transfer's steps beyond `done`: the acceptance deadline, a request for
//! materials the worker answers, refusal and cancellation, the staff's
//! detail and steps, and a webhook for every change, retried until it lands.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use hmac::{Hmac, Mac};
use poem::{
    EndpointExt, Route, Server, handler,
    listener::{Acceptor, Listener, TcpListener},
    post,
    web::Data,
};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{
    applications::guangxi_worker,
    integrators::integrator,
    notifications::inbox_until,
    support::{TestApp, app::Session, assert_problem},
    transfers::{agency, id_number},
};

const MEDICAL: &str = r#"{"insurance_type": "medical", "from_region_code": "450102", "to_region_code": "320115"}"#;
pub const ACCEPTED: &str = "application_accepted";
pub const OUT: &str = "transfer_out_completed";

/// A worker of 兴宁区 with their own ID number opens a medical transfer to
/// 江宁区; the case as the worker reads it.
pub async fn opened(app: &TestApp, code: &str, n: u32) -> (Session, Value) {
    let worker = guangxi_worker(app, code, &id_number(n)).await;
    let request: Value = serde_json::from_str(MEDICAL).unwrap();
    let created = app
        .client
        .post(app.url("/api/v1/si-transfers"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", code)
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let case = app
        .get_json_with(&format!("/api/v1/si-transfers/{id}"), &worker.access_token)
        .await;
    (worker, case)
}

pub async fn outcome(
    app: &TestApp,
    token: &str,
    case: &Value,
    step: &str,
    status: &str,
    note: Option<&str>,
) -> reqwest::Response {
    let mut body = json!({"status": status, "occurred_at": "2026-11-02T09:00:00+08:00"});
    if let Some(note) = note {
        body["note"] = json!(note);
    }
    let transfer_no = case["transfer_no"].as_str().unwrap();
    app.put_json(
        &format!("/api/v1/integrations/si-transfers/{transfer_no}/steps/{step}"),
        &body,
        token,
    )
    .await
}

async fn answer(app: &TestApp, worker: &Session, case: &Value, step: &str, text: &str) -> reqwest::Response {
    let id = case["id"].as_str().unwrap();
    app.post_json(
        &format!("/api/v1/si-transfers/{id}/steps/{step}/answer"),
        &json!({ "answer": text }),
        Some(&worker.access_token),
    )
    .await
}

fn step<'a>(transfer: &'a Value, name: &str) -> &'a Value {
    transfer["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap()
}

/// Waits until the worker's inbox holds a message containing `text`.
async fn told(app: &TestApp, worker: &Session, text: &str) {
    let holds = |inbox: &Value| {
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["body"].as_str().unwrap().contains(text))
    };
    inbox_until(app, &worker.access_token, holds).await;
}

#[tokio::test]
async fn an_office_asks_for_materials_and_the_worker_answers() {
    let app = TestApp::spawn().await;
    let (worker, case) = opened(&app, "asked", 1).await;
    let accepted = step(&case, ACCEPTED);
    assert_eq!(accepted["limit_days"], 5, "acceptance has a limit");
    assert!(accepted["due_on"].is_string(), "{accepted}");
    let admin = app.admin("000000").await;
    let writer = agency(&app, &admin.access_token, &["si_transfer:read", "si_transfer:write"]).await;

    let unsaid = outcome(&app, &writer, &case, ACCEPTED, "materials_needed", None).await;
    assert_problem(unsaid, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    let materials = "参保缴费凭证原件";
    let asked = outcome(&app, &writer, &case, ACCEPTED, "materials_needed", Some(materials)).await;
    assert_eq!(asked.status(), StatusCode::OK);
    let asked: Value = asked.json().await.unwrap();
    assert_eq!(asked["status"], "in_progress");
    assert_eq!(step(&asked, ACCEPTED)["status"], "materials_needed");
    assert_eq!(step(&asked, ACCEPTED)["note"], materials);
    assert!(step(&asked, ACCEPTED)["due_on"].is_null(), "the clock stops");
    let again = outcome(&app, &writer, &case, ACCEPTED, "materials_needed", Some(materials)).await;
    assert_eq!(again.status(), StatusCode::OK, "the same report again changes nothing");
    told(&app, &worker, "待补材料。请补充：参保缴费凭证原件").await;

    let (stranger, _) = opened(&app, "stranger", 2).await;
    assert_problem(
        answer(&app, &stranger, &case, ACCEPTED, "不是我的").await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_problem(
        answer(&app, &worker, &case, OUT, "交了").await,
        StatusCode::CONFLICT,
        "NO_MATERIALS_REQUESTED",
    )
    .await;
    let reply = "已交到江宁区社保大厅3号窗口";
    let answered = answer(&app, &worker, &case, ACCEPTED, reply).await;
    assert_eq!(answered.status(), StatusCode::OK);
    let answered: Value = answered.json().await.unwrap();
    let accepted = step(&answered, ACCEPTED);
    assert_eq!(
        (accepted["status"].as_str(), accepted["answer"].as_str()),
        (Some("pending"), Some(reply))
    );
    assert!(accepted["due_on"].is_string(), "the clock restarts from the answer");
    assert_problem(
        answer(&app, &worker, &case, ACCEPTED, reply).await,
        StatusCode::CONFLICT,
        "NO_MATERIALS_REQUESTED",
    )
    .await;

    let done = outcome(&app, &writer, &case, ACCEPTED, "done", None).await;
    assert_eq!(done.status(), StatusCode::OK);
    let done: Value = done.json().await.unwrap();
    assert!(step(&done, OUT)["due_on"].is_string());

    let jiangning = app.admin("320115").await;
    let id = case["id"].as_str().unwrap();
    let detail = app
        .get_json_with(&format!("/api/v1/staff/si-transfers/{id}"), &jiangning.access_token)
        .await;
    let timeline: Vec<(&str, &str, Option<&str>)> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["by"].as_str().unwrap(),
                e["note"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        timeline,
        [
            ("created", "本人", None),
            ("materials_needed", "经办机构", Some(materials)),
            ("materials_answered", "本人", Some(reply)),
            ("step", "经办机构", None),
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_refused_or_cancelled_case_ends_and_frees_the_route() {
    let app = TestApp::spawn().await;
    let (worker, case) = opened(&app, "refused", 3).await;
    let admin = app.admin("000000").await;
    let writer = agency(&app, &admin.access_token, &["si_transfer:read", "si_transfer:write"]).await;

    let unsaid = outcome(&app, &writer, &case, ACCEPTED, "refused", None).await;
    assert_problem(unsaid, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    let reason = "转出地无参保缴费记录";
    let refused = outcome(&app, &writer, &case, ACCEPTED, "refused", Some(reason)).await;
    assert_eq!(refused.status(), StatusCode::OK);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["status"], "refused");
    assert_eq!(refused["overdue"], false);
    assert!(refused["responsible_office"].is_null(), "an ended case waits on nobody");
    let same = outcome(&app, &writer, &case, ACCEPTED, "refused", Some(reason)).await;
    assert_eq!(same.status(), StatusCode::OK, "the same refusal again changes nothing");
    assert_problem(
        outcome(&app, &writer, &case, ACCEPTED, "done", None).await,
        StatusCode::CONFLICT,
        "TRANSFER_CLOSED",
    )
    .await;
    told(&app, &worker, "不予办理。原因：转出地无参保缴费记录").await;

    let request: Value = serde_json::from_str(MEDICAL).unwrap();
    let reopened = app
        .client
        .post(app.url("/api/v1/si-transfers"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", "refused-again")
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(reopened.status(), StatusCode::CREATED, "an ended case frees its route");
    let second: Value = reopened.json().await.unwrap();
    let second = app
        .get_json_with(
            &format!("/api/v1/si-transfers/{}", second["id"].as_str().unwrap()),
            &worker.access_token,
        )
        .await;
    outcome(&app, &writer, &second, ACCEPTED, "done", None).await;
    let cancelled = outcome(&app, &writer, &second, OUT, "cancelled", Some("本人申请撤回")).await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(cancelled.json::<Value>().await.unwrap()["status"], "cancelled");

    let jiangning = app.admin("320115").await;
    let listed = app
        .get_json_with("/api/v1/staff/si-transfers?status=cancelled", &jiangning.access_token)
        .await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["transfer_no"], second["transfer_no"]);
    app.stop().await;
}

#[tokio::test]
async fn an_unaccepted_request_becomes_overdue() {
    let app = TestApp::spawn().await;
    let (worker, case) = opened(&app, "waiting", 4).await;
    let id = case["id"].as_str().unwrap();
    assert_eq!(case["overdue"], false);
    let db = app.db().await;
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            sea_orm::DatabaseBackend::Postgres => {
                "UPDATE si_transfer_step SET due_on = '2026-01-05' WHERE transfer_id = $1 AND position = 0"
            }
            _ => "UPDATE si_transfer_step SET due_on = '2026-01-05' WHERE transfer_id = ? AND position = 0",
        },
        [id.into()],
    ))
    .await
    .unwrap();
    let late = app
        .get_json_with(&format!("/api/v1/si-transfers/{id}"), &worker.access_token)
        .await;
    assert_eq!(late["overdue"], true);
    assert_eq!(step(&late, ACCEPTED)["overdue"], true);
    let jiangning = app.admin("320115").await;
    let overdue = app
        .get_json_with("/api/v1/staff/si-transfers?overdue=true", &jiangning.access_token)
        .await;
    assert_eq!(overdue["total"], 1);
    assert_eq!(overdue["items"][0]["id"], id);
    app.stop().await;
}

async fn staff_step(app: &TestApp, staff: &Session, case: &Value, step: &str) -> reqwest::Response {
    let id = case["id"].as_str().unwrap();
    app.put_json(
        &format!("/api/v1/staff/si-transfers/{id}/steps/{step}"),
        &json!({"status": "done", "occurred_at": "2026-11-02T09:00:00+08:00", "note": "窗口办理"}),
        &staff.access_token,
    )
    .await
}

#[tokio::test]
async fn staff_read_their_regions_cases_and_record_their_offices_steps() {
    let app = TestApp::spawn().await;
    let (_, case) = opened(&app, "counter", 5).await;
    let id = case["id"].as_str().unwrap();
    let path = format!("/api/v1/staff/si-transfers/{id}");
    let jiangning = app.admin("320115").await;
    let xingning = app.admin("450102").await;
    let zhejiang = app.admin("330000").await;
    let reviewer = app.staff(&jiangning, "jn.reviewer", &["reviewer"], "320115").await;
    let finance = app.staff(&jiangning, "jn.finance", &["finance"], "320115").await;

    let read = app.get_json_with(&path, &reviewer.access_token).await;
    let number = id_number(5);
    let person = &read["person"];
    assert_eq!(
        person["name"],
        json!({"value": "韦**", "verification": "self_declared"})
    );
    assert_eq!(
        person["id_number"],
        json!({"value": format!("{}**********{}", &number[..4], &number[14..]), "verification": "self_declared"})
    );
    assert!(person["phone"].is_null(), "no phone is known: {person}");
    let elsewhere = app.get_with(&path, &zhejiang.access_token).await;
    assert_problem(elsewhere, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let finance_read = app.get_with(&path, &finance.access_token).await;
    assert_problem(finance_read, StatusCode::FORBIDDEN, "ROLE_REQUIRED").await;
    assert_problem(
        staff_step(&app, &reviewer, &case, ACCEPTED).await,
        StatusCode::FORBIDDEN,
        "ROLE_REQUIRED",
    )
    .await;
    assert_problem(
        staff_step(&app, &zhejiang, &case, ACCEPTED).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_problem(
        staff_step(&app, &xingning, &case, ACCEPTED).await,
        StatusCode::FORBIDDEN,
        "OUT_OF_REGION_SCOPE",
    )
    .await;

    let accepted = staff_step(&app, &jiangning, &case, ACCEPTED).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    assert_problem(
        staff_step(&app, &jiangning, &case, OUT).await,
        StatusCode::FORBIDDEN,
        "OUT_OF_REGION_SCOPE",
    )
    .await;
    let out = staff_step(&app, &xingning, &case, OUT).await;
    assert_eq!(out.status(), StatusCode::OK);
    let detail = app.get_json_with(&path, &jiangning.access_token).await;
    assert_eq!(step(&detail, OUT)["status"], "done");
    let by: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["by"].as_str().unwrap())
        .collect();
    assert_eq!(by, ["本人", "工作人员", "工作人员"]);
    app.stop().await;
}

type Calls = Arc<Mutex<Vec<(String, String, String, String)>>>;

/// An endpoint that answers 503 to its first `failures` calls, then 204,
/// keeping every call's delivery id, timestamp, signature and body.
#[handler]
fn flaky(
    calls: Data<&Calls>,
    failures: Data<&Arc<(usize, AtomicUsize)>>,
    request: &poem::Request,
    body: String,
) -> StatusCode {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    calls.lock().unwrap().push((
        header("x-shiminhua-delivery"),
        header("x-shiminhua-timestamp"),
        header("x-shiminhua-signature"),
        body,
    ));
    let (limit, seen) = &**failures.0;
    if seen.fetch_add(1, Ordering::SeqCst) < *limit {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::NO_CONTENT
    }
}

async fn flaky_receiver(failures: usize) -> (String, Calls, tokio::task::JoinHandle<()>) {
    let calls: Calls = Arc::default();
    let app = Route::new()
        .at("/hook", post(flaky))
        .data(calls.clone())
        .data(Arc::new((failures, AtomicUsize::new(0))));
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let task = tokio::spawn(async move {
        let _stopped = Server::new_with_acceptor(acceptor).run(app).await;
    });
    (format!("http://{addr}/hook"), calls, task)
}

/// A client of 江苏 with the read scope and its webhook at `url`; its token
/// and signing secret.
async fn hooked(app: &TestApp, admin: &Session, url: &str) -> (String, String) {
    let token = integrator(app, &admin.access_token, &["si_transfer:read"], Some("320000")).await;
    let registered = app
        .put_json("/api/v1/integrations/webhook", &json!({ "url": url }), &token)
        .await;
    assert_eq!(registered.status(), StatusCode::OK);
    let secret = registered.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    (token, secret)
}

async fn deliveries_when(app: &TestApp, token: &str, settled: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..300 {
        let logged = app
            .get_json_with("/api/v1/integrations/webhook/deliveries?page_size=50", token)
            .await;
        let items = logged["items"].as_array().unwrap().clone();
        if settled(&items) {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the deliveries did not settle");
}

#[tokio::test]
async fn every_change_raises_a_signed_webhook_retried_until_it_lands() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_WEBHOOK_RETRY_BASE_MS", "100".to_owned());
    })
    .await;
    let (url, calls, server) = flaky_receiver(2).await;
    let admin = app.admin("000000").await;
    let (token, secret) = hooked(&app, &admin, &url).await;
    let (worker, case) = opened(&app, "hooked", 6).await;
    let writer = agency(&app, &admin.access_token, &["si_transfer:read", "si_transfer:write"]).await;
    outcome(&app, &writer, &case, ACCEPTED, "materials_needed", Some("身份证复印件")).await;
    answer(&app, &worker, &case, ACCEPTED, "已邮寄").await;
    outcome(&app, &writer, &case, ACCEPTED, "done", None).await;
    outcome(&app, &writer, &case, OUT, "cancelled", Some("本人撤回")).await;

    let delivered = |items: &[Value]| items.len() == 5 && items.iter().all(|d| d["delivered_at"].is_string());
    let log = deliveries_when(&app, &token, delivered).await;
    let mut events: Vec<&str> = log.iter().rev().map(|d| d["event"].as_str().unwrap()).collect();
    events.sort_unstable();
    assert_eq!(
        events,
        [
            "si_transfer.cancelled",
            "si_transfer.created",
            "si_transfer.materials_answered",
            "si_transfer.materials_needed",
            "si_transfer.step",
        ]
    );
    let attempts: i64 = log.iter().map(|d| d["attempts"].as_i64().unwrap()).sum();
    assert_eq!(
        attempts, 7,
        "two failed attempts, each tried again, then five deliveries"
    );
    assert!(
        log.iter()
            .all(|d| d["next_attempt_at"].is_null() && d["last_outcome"] == "delivered")
    );

    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 7);
    for (delivery, timestamp, signature, body) in &calls {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.{body}").as_bytes());
        assert_eq!(
            signature,
            &format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        );
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["transfer_no"], case["transfer_no"]);
        assert!(
            !body.contains("身份证复印件") && !body.contains("已邮寄"),
            "no free text: {body}"
        );
        assert!(!delivery.is_empty());
    }
    let cancelled = calls
        .iter()
        .map(|(_, _, _, body)| serde_json::from_str::<Value>(body).unwrap())
        .find(|e| e["event"] == "si_transfer.cancelled")
        .unwrap();
    assert_eq!(
        (cancelled["step"].as_str(), cancelled["status"].as_str()),
        (Some(OUT), Some("cancelled"))
    );
    server.abort();
    app.stop().await;
}

#[tokio::test]
async fn a_failed_delivery_says_when_it_is_tried_again() {
    let app = TestApp::spawn().await;
    let (url, _calls, server) = flaky_receiver(usize::MAX).await;
    let admin = app.admin("000000").await;
    let (token, _) = hooked(&app, &admin, &url).await;
    opened(&app, "unlucky", 7).await;
    let failed = |items: &[Value]| items.first().is_some_and(|d| d["attempts"] == 1);
    let log = deliveries_when(&app, &token, failed).await;
    let delivery = &log[0];
    assert_eq!(
        (delivery["last_outcome"].as_str(), delivery["last_status"].as_i64()),
        (Some("http_error"), Some(503))
    );
    let created: chrono::DateTime<chrono::Utc> = delivery["created_at"].as_str().unwrap().parse().unwrap();
    let next: chrono::DateTime<chrono::Utc> = delivery["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert!(
        next >= created + chrono::Duration::seconds(10),
        "the first retry waits twice the 5 s base: {created} → {next}"
    );
    assert!(delivery["delivered_at"].is_null());
    server.abort();
    app.stop().await;
}
