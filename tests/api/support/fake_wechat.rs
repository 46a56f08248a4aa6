//! A fake WeChat server on loopback. The login code chooses the answer:
//! `bad` (40029), `busy` (45011), `risky` (40226), `system` (-1), `http500`,
//! `garbage` (malformed JSON), `huge` (a 10 MB body), `slow` (never answers in
//! time); any other code signs in as openid `o_{code}` (with a unionid when the
//! code starts with `u-`). Phone codes: `phone-ok` (`PHONE`), `phone-1…`
//! (the eleven digits after `phone-`), `phone-foreign` (another app's
//! watermark). Content checks refuse text with 违禁; a test can hold
//! the next check until it lets it answer.

use std::{
    collections::HashSet,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use poem::{
    EndpointExt, Response, Route, Server, get, handler,
    http::StatusCode,
    listener::{Acceptor, Listener, TcpListener},
    post,
    web::{Data, Json, Query},
};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Notify;

pub const APP_ID: &str = "wx-test-app";
pub const APP_SECRET: &str = "test-app-secret-0123456789abcdef";
pub const PHONE: &str = "13812345678";

#[derive(Default)]
pub struct FakeState {
    /// How many access tokens were handed out.
    pub tokens_issued: u32,
    /// Tokens WeChat now answers 40001 for.
    pub expired: HashSet<String>,
    /// Subscribe messages asked for, whole (refused ones too).
    pub messages: Vec<Value>,
    /// The next content check waits at this gate.
    pub held_check: Option<CheckGate>,
}

/// Holds one content check: it tells the test it arrived, then waits until
/// the test releases it.
#[derive(Clone, Default)]
pub struct CheckGate {
    arrived: Arc<Notify>,
    released: Arc<Notify>,
}

impl CheckGate {
    /// Completes once the held check has reached WeChat.
    pub async fn arrived(&self) {
        self.arrived.notified().await;
    }

    /// Lets the held check answer.
    pub fn release(&self) {
        self.released.notify_one();
    }
}

pub struct FakeWechat {
    pub base_url: String,
    pub state: Arc<Mutex<FakeState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeWechat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Deserialize)]
struct LoginQuery {
    appid: String,
    secret: String,
    js_code: String,
    grant_type: String,
}

#[handler]
async fn code2session(Query(query): Query<LoginQuery>) -> Response {
    if query.appid != APP_ID || query.secret != APP_SECRET || query.grant_type != "authorization_code" {
        return json_response(json!({"errcode": 40013, "errmsg": "invalid appid"}));
    }
    let code = query.js_code.as_str();
    match code {
        "bad" => json_response(json!({"errcode": 40029, "errmsg": "invalid code"})),
        "busy" => json_response(json!({"errcode": 45011, "errmsg": "api minute-quota reach limit"})),
        "risky" => json_response(json!({"errcode": 40226, "errmsg": "high risk user"})),
        "system" => json_response(json!({"errcode": -1, "errmsg": "system error"})),
        "http500" => Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .body("oops"),
        "garbage" => Response::builder()
            .content_type("application/json")
            .body("{\"openid\": "),
        "huge" => Response::builder()
            .content_type("application/json")
            .body(format!("{{\"openid\": \"{}\"}}", "x".repeat(10 * 1024 * 1024))),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            json_response(json!({"openid": "o_slow", "session_key": "sk_slow"}))
        }
        _ => {
            let mut answer = json!({"openid": format!("o_{code}"), "session_key": format!("sk_{code}")});
            if code.starts_with("u-") {
                answer["unionid"] = json!(format!("un_{code}"));
            }
            json_response(answer)
        }
    }
}

#[handler]
async fn stable_token(state: Data<&Arc<Mutex<FakeState>>>, Json(body): Json<Value>) -> Response {
    if body["appid"] != APP_ID || body["secret"] != APP_SECRET || body["grant_type"] != "client_credential" {
        return json_response(json!({"errcode": 40013, "errmsg": "invalid appid"}));
    }
    let mut state = state.lock().unwrap();
    state.tokens_issued += 1;
    json_response(json!({"access_token": format!("token-{}", state.tokens_issued), "expires_in": 7200}))
}

#[derive(Deserialize)]
struct TokenQuery {
    access_token: String,
}

#[handler]
async fn phone_number(
    state: Data<&Arc<Mutex<FakeState>>>,
    Query(query): Query<TokenQuery>,
    Json(body): Json<Value>,
) -> Response {
    if state.lock().unwrap().expired.contains(&query.access_token) {
        return json_response(json!({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}));
    }
    let (appid, phone) = match body["code"].as_str() {
        Some("phone-ok") => (APP_ID, PHONE),
        Some("phone-foreign") => ("wx-another-app", PHONE),
        Some(code) if code.strip_prefix("phone-1").is_some_and(|rest| rest.len() == 10) => (APP_ID, &code[6..]),
        _ => return json_response(json!({"errcode": 40029, "errmsg": "invalid code"})),
    };
    json_response(json!({
        "errcode": 0,
        "errmsg": "ok",
        "phone_info": {
            "phoneNumber": phone,
            "purePhoneNumber": phone,
            "countryCode": "86",
            "watermark": {"timestamp": 1_700_000_000, "appid": appid}
        }
    }))
}

/// Subscribe messages: openid `o_refuser` has not subscribed (43101).
#[handler]
async fn subscribe_send(
    state: Data<&Arc<Mutex<FakeState>>>,
    Query(query): Query<TokenQuery>,
    Json(body): Json<Value>,
) -> Response {
    let mut state = state.lock().unwrap();
    if state.expired.contains(&query.access_token) {
        return json_response(json!({"errcode": 40001, "errmsg": "invalid credential"}));
    }
    let touser = body["touser"].as_str().unwrap_or_default().to_owned();
    state.messages.push(body.clone());
    if touser == "o_refuser" {
        return json_response(json!({"errcode": 43101, "errmsg": "user refuse to accept the msg"}));
    }
    if let Some(field) = invalid_field(&body["data"]) {
        return json_response(
            json!({"errcode": 47003, "errmsg": format!("argument invalid! data.{field}.value invalid")}),
        );
    }
    json_response(json!({"errcode": 0, "errmsg": "ok"}))
}

/// The first field whose value WeChat would refuse for its type (the key's
/// prefix): `thing` 20 characters, `phrase` 5 Chinese characters,
/// `character_string` 32 letters, digits and symbols, `time` and `date` in
/// Chinese date form, `amount` a number with at most two decimals and 元.
fn invalid_field(data: &Value) -> Option<String> {
    let fields = data.as_object()?;
    fields.iter().find_map(|(key, field)| {
        let value = field["value"].as_str().unwrap_or_default();
        let chars = value.chars().count();
        let kind = key.trim_end_matches(|c: char| c.is_ascii_digit());
        let valid = match kind {
            "thing" => (1..=20).contains(&chars),
            "phrase" => (1..=5).contains(&chars) && value.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "character_string" => (1..=32).contains(&chars) && value.is_ascii(),
            "time" | "date" => value.contains('年') && value.contains('月') && value.contains('日'),
            "amount" => value.strip_suffix('元').is_some_and(|number| {
                number.parse::<f64>().is_ok_and(|yuan| yuan >= 0.0)
                    && number.split('.').nth(1).is_none_or(|cents| cents.len() <= 2)
            }),
            _ => false,
        };
        (!valid).then(|| key.clone())
    })
}

/// The content check: text containing 违禁 is risky.
#[handler]
async fn msg_sec_check(state: Data<&Arc<Mutex<FakeState>>>, Json(body): Json<Value>) -> Response {
    let held = state.lock().unwrap().held_check.take();
    if let Some(gate) = held {
        gate.arrived.notify_one();
        gate.released.notified().await;
    }
    let risky = body["content"].as_str().is_some_and(|c| c.contains("违禁"));
    let suggest = if risky { "risky" } else { "pass" };
    json_response(json!({"errcode": 0, "errmsg": "ok", "result": {"suggest": suggest, "label": 100}}))
}

fn json_response(value: Value) -> Response {
    Response::builder()
        .content_type("application/json")
        .body(value.to_string())
}

impl FakeWechat {
    pub async fn start() -> FakeWechat {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let app = Route::new()
            .at("/sns/jscode2session", get(code2session))
            .at("/cgi-bin/stable_token", post(stable_token))
            .at("/wxa/business/getuserphonenumber", post(phone_number))
            .at("/cgi-bin/message/subscribe/send", post(subscribe_send))
            .at("/wxa/msg_sec_check", post(msg_sec_check))
            .data(state.clone());
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("a free port");
        let addr: SocketAddr = *acceptor.local_addr()[0].as_socket_addr().expect("a socket address");
        let task = tokio::spawn(async move {
            let _stopped = Server::new_with_acceptor(acceptor).run(app).await;
        });
        FakeWechat {
            base_url: format!("http://{addr}"),
            state,
            task,
        }
    }

    pub fn tokens_issued(&self) -> u32 {
        self.state.lock().unwrap().tokens_issued
    }

    /// How many subscribe messages were asked for `openid`.
    pub fn messages_to(&self, openid: &str) -> usize {
        self.messages_sent_to(openid).len()
    }

    /// The subscribe messages asked for `openid`, as sent, oldest first.
    pub fn messages_sent_to(&self, openid: &str) -> Vec<Value> {
        self.state
            .lock()
            .unwrap()
            .messages
            .iter()
            .filter(|m| m["touser"] == openid)
            .cloned()
            .collect()
    }

    /// Holds the next content check at the gate returned.
    pub fn hold_next_content_check(&self) -> CheckGate {
        let gate = CheckGate::default();
        self.state.lock().unwrap().held_check = Some(gate.clone());
        gate
    }

    /// Makes WeChat refuse `token` from now on, as when it expires early.
    pub fn expire(&self, token: &str) {
        self.state.lock().unwrap().expired.insert(token.to_owned());
    }
}
