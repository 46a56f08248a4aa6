use std::{
    sync::{Arc, Mutex},
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
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{applications::guangxi_worker, integrators::integrator, support::TestApp, transfers::agency};

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

/// An integrator's endpoint on loopback, recording what it is sent.
async fn receiver() -> (String, Received, tokio::task::JoinHandle<()>) {
    let received: Received = Arc::default();
    let app = Route::new().at("/hook", post(receive)).data(received.clone());
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let task = tokio::spawn(async move {
        let _stopped = Server::new_with_acceptor(acceptor).run(app).await;
    });
    (format!("http://{addr}/hook"), received, task)
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
        if logged[0]["delivered_at"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(logged[0]["last_status"], 204);
    assert_eq!(logged[0]["attempts"], 1);
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
                .await
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(queued(&nanning).await, 1);
    assert_eq!(queued(&zhejiang).await, 0);
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
