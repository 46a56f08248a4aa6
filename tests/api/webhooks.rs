use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use hmac::{Hmac, Mac};
use poem::{
    Endpoint, EndpointExt, Response, Route, Server, handler,
    listener::{Acceptor, Listener, TcpListener},
    post,
    web::Data,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{
    applications::guangxi_worker,
    integrators::integrator,
    support::{TestApp, assert_problem},
    transfers::agency,
};

type Received = Arc<Mutex<Vec<(String, String, String)>>>;

#[handler]
fn receive(received: Data<&Received>, request: &poem::Request, body: String) -> StatusCode {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    received
        .lock()
        .unwrap()
        .push((header("x-shiminhua-timestamp"), header("x-shiminhua-signature"), body));
    StatusCode::NO_CONTENT
}

/// Serves `app` on loopback; returns its address.
async fn serve(app: impl Endpoint + 'static) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let task = tokio::spawn(async move {
        let _stopped = Server::new_with_acceptor(acceptor).run(app).await;
    });
    (addr, task)
}

/// An integrator's endpoint on loopback, recording what it is sent.
async fn receiver() -> (String, Received, tokio::task::JoinHandle<()>) {
    let received: Received = Arc::default();
    let (addr, task) = serve(Route::new().at("/hook", post(receive)).data(received.clone())).await;
    (format!("http://{addr}/hook"), received, task)
}

#[handler]
fn redirect() -> Response {
    Response::builder()
        .status(StatusCode::TEMPORARY_REDIRECT)
        .header("Location", "/landed")
        .finish()
}

/// An endpoint that answers every event with a redirect to `/landed`, which
/// records what reaches it.
async fn redirecting_receiver() -> (String, Received, tokio::task::JoinHandle<()>) {
    let received: Received = Arc::default();
    let app = Route::new()
        .at("/hook", post(redirect))
        .at("/landed", post(receive))
        .data(received.clone());
    let (addr, task) = serve(app).await;
    (format!("http://{addr}/hook"), received, task)
}

async fn set_webhook(app: &TestApp, token: &str, url: &str) -> reqwest::Response {
    app.client
        .put(app.url("/api/v1/integrations/webhook"))
        .bearer_auth(token)
        .json(&json!({ "url": url }))
        .send()
        .await
        .unwrap()
}

/// A worker of Guangxi opens a transfer, which queues `si_transfer.created`
/// for every integrator with the read scope.
async fn open_transfer(app: &TestApp, code: &str) {
    let worker = guangxi_worker(app, code, "450102198801011235").await;
    let opened = app
        .client
        .post(app.url("/api/v1/si-transfers"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", code)
        .json(&json!({"insurance_type": "medical", "from_region_code": "450102", "to_region_code": "320115"}))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::CREATED);
}

/// The integrator's latest delivery, once it has been attempted.
async fn first_attempt(app: &TestApp, token: &str) -> Value {
    for _ in 0..100 {
        let logged = app
            .get_json_with("/api/v1/integrations/webhook/deliveries", token)
            .await;
        if logged["items"][0]["attempts"].as_i64().unwrap_or(0) >= 1 {
            return logged["items"][0].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no delivery was attempted");
}

/// The tests' harness allows loopback; these servers do not, as in production.
fn loopback_refused(vars: &mut crate::support::app::Vars) {
    vars.remove("SHIMINHUA_WEBHOOK_ALLOW_LOOPBACK");
}

#[tokio::test]
async fn agencies_get_signed_webhooks_for_worker_opened_cases() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let token = agency(&app, &admin.access_token, &["si_transfer:read"]).await;
    let (url, received, server) = receiver().await;
    let registered = app
        .client
        .put(app.url("/api/v1/integrations/webhook"))
        .bearer_auth(&token)
        .json(&json!({ "url": url }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::OK);
    let secret = registered.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();

    let worker = guangxi_worker(&app, "hooked", "450102198801011235").await;
    let opened: Value = app
        .client
        .post(app.url("/api/v1/si-transfers"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", "w-1")
        .json(&json!({"insurance_type": "medical", "from_region_code": "450102", "to_region_code": "320115"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let mut delivery = None;
    for _ in 0..100 {
        if let Some(first) = received.lock().unwrap().first().cloned() {
            delivery = Some(first);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (timestamp, signature, body) = delivery.expect("the webhook arrived");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    assert_eq!(
        signature,
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    );
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["event"], "si_transfer.created");
    assert_eq!(event["transfer_no"], opened["transfer_no"]);

    let mut logged = Value::Null;
    for _ in 0..50 {
        logged = app
            .get_json_with("/api/v1/integrations/webhook/deliveries", &token)
            .await;
        if logged["items"][0]["delivered_at"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(logged["items"][0]["last_status"], 204);
    assert_eq!(logged["items"][0]["last_outcome"], "delivered");
    assert_eq!(logged["items"][0]["attempts"], 1);
    server.abort();
    app.stop().await;
}

async fn hooked_client(app: &TestApp, admin_token: &str, region: &str, url: &str) -> String {
    let token = integrator(app, admin_token, &["si_transfer:read"], Some(region)).await;
    let registered = app
        .client
        .put(app.url("/api/v1/integrations/webhook"))
        .bearer_auth(&token)
        .json(&json!({ "url": url }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::OK);
    token
}

/// A case from 南宁 (450102) to 南京 (320115) is told to Nanning's client
/// (450100), and never queued for Zhejiang's (330000): the delivery is
/// decided in the transaction that opens the case.
#[tokio::test]
async fn an_integrator_hears_only_of_its_regions_cases() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let (nanning_url, nanning_received, nanning_server) = receiver().await;
    let (zhejiang_url, zhejiang_received, zhejiang_server) = receiver().await;
    let nanning = hooked_client(&app, &admin.access_token, "450100", &nanning_url).await;
    let zhejiang = hooked_client(&app, &admin.access_token, "330000", &zhejiang_url).await;

    let worker = guangxi_worker(&app, "heard", "450102198801011235").await;
    let opened = app
        .client
        .post(app.url("/api/v1/si-transfers"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", "w-1")
        .json(&json!({"insurance_type": "medical", "from_region_code": "450102", "to_region_code": "320115"}))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::CREATED);

    let queued = |token: &str| {
        let (app, token) = (&app, token.to_owned());
        async move {
            app.get_json_with("/api/v1/integrations/webhook/deliveries", &token)
                .await["total"]
                .as_u64()
                .unwrap()
        }
    };
    assert_eq!(queued(&nanning).await, 1);
    assert_eq!(queued(&zhejiang).await, 0);
    let past_the_end = app
        .get_json_with("/api/v1/integrations/webhook/deliveries?page=2&page_size=1", &nanning)
        .await;
    assert_eq!(
        past_the_end,
        json!({"items": [], "total": 1, "page": 2, "page_size": 1}),
        "deliveries are paged like every list"
    );
    for _ in 0..100 {
        if !nanning_received.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(nanning_received.lock().unwrap().len(), 1, "the webhook arrived");
    assert!(zhejiang_received.lock().unwrap().is_empty());
    nanning_server.abort();
    zhejiang_server.abort();
    app.stop().await;
}

#[tokio::test]
async fn endpoints_inside_the_deployment_are_refused() {
    let app = TestApp::spawn_with(loopback_refused).await;
    let admin = app.admin("000000").await;
    let token = agency(&app, &admin.access_token, &["si_transfer:read"]).await;
    let (url, _received, server) = receiver().await;
    for inside in [
        url.as_str(),
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[64:ff9b::7f00:1]/hook",
        "http://[::127.0.0.1]/hook",
        "http://2130706433/hook",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00::8]/hook",
        "http://0.0.0.0/hook",
    ] {
        let refused = set_webhook(&app, &token, inside).await;
        let body = assert_problem(refused, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
        assert_eq!(body["details"]["fields"][0]["field"], "url", "{inside}");
        assert!(body["message"].as_str().unwrap().contains("内网"), "{inside}: {body}");
    }
    server.abort();
    app.stop().await;
}

/// The address is checked again where the delivery connects: an endpoint
/// that was allowed when set (here: by a server that allowed loopback) is not
/// delivered to by a server that does not allow it.
#[tokio::test]
async fn deliveries_never_connect_to_a_refused_address() {
    let mut first = TestApp::spawn().await;
    let admin = first.admin("000000").await;
    let created: Value = first
        .post_json(
            "/api/v1/admin/clients",
            &json!({"name": "江宁区社保中心", "scopes": ["si_transfer:read"]}),
            Some(&admin.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let credentials = [
        ("grant_type", "client_credentials"),
        ("client_id", created["client_id"].as_str().unwrap()),
        ("client_secret", created["client_secret"].as_str().unwrap()),
    ];
    let token = |app: &TestApp| {
        let request = app.client.post(app.url("/api/v1/oauth/token")).form(&credentials);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap()["access_token"].clone() }
    };
    let (url, received, server) = receiver().await;
    let registered = set_webhook(&first, token(&first).await.as_str().unwrap(), &url).await;
    assert_eq!(registered.status(), StatusCode::OK);
    first.halt().await;

    let second = TestApp::spawn_beside_with(&first, loopback_refused).await;
    let token = token(&second).await.as_str().unwrap().to_owned();
    open_transfer(&second, "refused").await;
    let attempt = first_attempt(&second, &token).await;
    assert_eq!(attempt["last_outcome"], "refused_address", "{attempt}");
    assert!(attempt.get("last_status").is_none(), "{attempt}");
    assert!(attempt.get("delivered_at").is_none(), "{attempt}");
    assert!(received.lock().unwrap().is_empty(), "nothing reached loopback");
    server.abort();
    second.stop().await;
}

#[tokio::test]
async fn redirects_from_the_endpoint_are_not_followed() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let token = agency(&app, &admin.access_token, &["si_transfer:read"]).await;
    let (url, landed, server) = redirecting_receiver().await;
    assert_eq!(set_webhook(&app, &token, &url).await.status(), StatusCode::OK);
    open_transfer(&app, "redirected").await;
    let attempt = first_attempt(&app, &token).await;
    assert_eq!(attempt["last_outcome"], "http_error", "{attempt}");
    assert_eq!(attempt["last_status"], 307, "{attempt}");
    assert!(attempt.get("delivered_at").is_none(), "{attempt}");
    assert!(landed.lock().unwrap().is_empty(), "the redirect was followed");
    server.abort();
    app.stop().await;
}

/// The log says what happened in a few public words; why (the connection
/// error, internal errors) stays in the server log.
#[tokio::test]
async fn the_delivery_log_gives_outcomes_not_internal_errors() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let token = agency(&app, &admin.access_token, &["si_transfer:read"]).await;
    // A port nothing listens on any more.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    assert_eq!(set_webhook(&app, &token, &url).await.status(), StatusCode::OK);
    open_transfer(&app, "unreachable").await;
    let attempt = first_attempt(&app, &token).await;
    assert_eq!(attempt["last_outcome"], "connect_failed", "{attempt}");
    let mut fields: Vec<&str> = attempt.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "attempts",
            "created_at",
            "event",
            "id",
            "last_outcome",
            "next_attempt_at"
        ],
        "{attempt}"
    );
    app.stop().await;
}

#[test]
fn production_refuses_to_start_with_loopback_webhooks_allowed() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_shiminhua"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SHIMINHUA_ENV", "production")
        .env("SHIMINHUA_WEBHOOK_ALLOW_LOOPBACK", "1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("SHIMINHUA_WEBHOOK_ALLOW_LOOPBACK"),
        "not named in: {stderr}"
    );
}
