//! The WeChat server API: login (code2session), the shared access token
//! (stable_token) and phone numbers (getuserphonenumber).
//!
//! Every call has a timeout and a cap on the answer's size; anything but a
//! well-formed answer is [`WechatError::Unavailable`]. In sandbox mode
//! (development only) no request leaves the process.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{
    config::{WechatConfig, WechatMode},
    domain::{PhoneNumber, TextType},
    infra::store::KeyValueStore,
};

/// WeChat's answers are a few hundred bytes; a larger one is not WeChat's.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
const TOKEN_KEY: &str = "wechat:access_token";
const TOKEN_LOCK_KEY: &str = "wechat:access_token:lock";
const TOKEN_LOCK_TTL: Duration = Duration::from_secs(10);
/// Refresh this long before WeChat's expiry, so no instance uses a dying token.
const TOKEN_EARLY_REFRESH: Duration = Duration::from_secs(300);
/// How long an instance reuses the token it last read from the store without
/// asking again: well inside `TOKEN_EARLY_REFRESH`, so the token is still
/// valid at WeChat when this copy is dropped, and a store round trip a
/// minute instead of one per call.
const TOKEN_REUSE: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WechatError {
    #[error("the login code is invalid or used")]
    InvalidCode,
    #[error("WeChat rate-limited the call")]
    RateLimited,
    #[error("WeChat flagged the user as risky")]
    RiskyUser,
    #[error("the phone number belongs to another app")]
    ForeignApp,
    #[error("WeChat unavailable: {0}")]
    Unavailable(String),
}

pub struct WechatSession {
    pub openid: String,
    pub unionid: Option<String>,
    /// Kept server-side only: it decrypts the user's WeChat data.
    pub session_key: SecretString,
}

impl std::fmt::Debug for WechatSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatSession")
            .field("openid", &self.openid)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Code2Session {
    #[serde(default)]
    errcode: i64,
    openid: Option<String>,
    unionid: Option<String>,
    session_key: Option<String>,
}

#[derive(Deserialize)]
struct StableToken {
    #[serde(default)]
    errcode: i64,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct SecCheck {
    #[serde(default)]
    errcode: i64,
    result: Option<SecCheckResult>,
}

#[derive(Deserialize)]
struct SecCheckResult {
    suggest: String,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    errcode: i64,
}

#[derive(Deserialize)]
struct PhoneAnswer {
    #[serde(default)]
    errcode: i64,
    phone_info: Option<PhoneInfo>,
}

#[derive(Deserialize)]
struct PhoneInfo {
    #[serde(rename = "purePhoneNumber")]
    pure_phone_number: String,
    watermark: Watermark,
}

#[derive(Deserialize)]
struct Watermark {
    appid: String,
}

/// The access token expired or was invalidated (40001, 42001).
fn token_expired(errcode: i64) -> bool {
    matches!(errcode, 40001 | 42001)
}

pub struct WechatClient {
    mode: WechatMode,
    app_id: String,
    app_secret: SecretString,
    api_base: String,
    http: reqwest::Client,
    store: Arc<dyn KeyValueStore>,
    /// The shared token as last read or fetched, and until when to reuse it.
    recent_token: Mutex<Option<(String, Instant)>>,
}

impl WechatClient {
    pub fn new(config: &WechatConfig, store: Arc<dyn KeyValueStore>) -> anyhow::Result<Self> {
        super::outbound::install_tls_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2).min(config.timeout))
            .timeout(config.timeout)
            .build()?;
        Ok(Self {
            mode: config.mode,
            app_id: config.app_id.clone().unwrap_or_default(),
            app_secret: config
                .app_secret
                .clone()
                .unwrap_or_else(|| SecretString::from(String::new())),
            api_base: config.api_base.clone(),
            http,
            store,
            recent_token: Mutex::new(None),
        })
    }

    /// Exchanges a `wx.login` code for the user's openid (code2session).
    pub async fn code_to_session(&self, code: &str) -> Result<WechatSession, WechatError> {
        if self.mode == WechatMode::Sandbox {
            return Ok(WechatSession {
                openid: format!("sandbox-{}", &digest("openid", code)[..28]),
                unionid: None,
                session_key: SecretString::from(digest("session_key", code)),
            });
        }
        let url = format!("{}/sns/jscode2session", self.api_base);
        let request = self.http.get(url).query(&[
            ("appid", self.app_id.as_str()),
            ("secret", self.app_secret.expose_secret()),
            ("js_code", code),
            ("grant_type", "authorization_code"),
        ]);
        let answer: Code2Session = self.call(request).await?;
        match answer.errcode {
            0 => {}
            40029 | 40163 => return Err(WechatError::InvalidCode),
            45011 => return Err(WechatError::RateLimited),
            40226 => return Err(WechatError::RiskyUser),
            other => return Err(WechatError::Unavailable(format!("code2session errcode {other}"))),
        }
        match (answer.openid, answer.session_key) {
            (Some(openid), Some(session_key)) if !openid.is_empty() && openid.len() <= 64 => Ok(WechatSession {
                openid,
                unionid: answer.unionid.filter(|u| !u.is_empty() && u.len() <= 64),
                session_key: SecretString::from(session_key),
            }),
            _ => Err(WechatError::Unavailable(
                "code2session answered without an openid".to_owned(),
            )),
        }
    }

    /// The phone number a `getPhoneNumber` button code stands for.
    pub async fn phone_number(&self, code: &str) -> Result<PhoneNumber, WechatError> {
        if self.mode == WechatMode::Sandbox {
            let digits: String = digest("phone", code)
                .bytes()
                .filter(u8::is_ascii_digit)
                .take(8)
                .map(char::from)
                .collect();
            return PhoneNumber::parse(&format!("139{digits:0<8}"))
                .map_err(|_| WechatError::Unavailable("sandbox phone".to_owned()));
        }
        let mut retried = false;
        loop {
            let token = self.access_token().await?;
            let url = format!("{}/wxa/business/getuserphonenumber", self.api_base);
            let request = self
                .http
                .post(url)
                .query(&[("access_token", token.as_str())])
                .json(&json!({ "code": code }));
            let answer: PhoneAnswer = self.call(request).await?;
            match answer.errcode {
                0 => {}
                code if token_expired(code) && !retried => {
                    self.forget_token(&token).await;
                    retried = true;
                    continue;
                }
                40029 | 40163 => return Err(WechatError::InvalidCode),
                45011 => return Err(WechatError::RateLimited),
                other => return Err(WechatError::Unavailable(format!("getuserphonenumber errcode {other}"))),
            }
            let info = answer
                .phone_info
                .ok_or_else(|| WechatError::Unavailable("no phone_info".to_owned()))?;
            if info.watermark.appid != self.app_id {
                return Err(WechatError::ForeignApp);
            }
            return PhoneNumber::parse(&info.pure_phone_number)
                .map_err(|_| WechatError::Unavailable("the phone number is not a mainland mobile number".to_owned()));
        }
    }

    /// Sends a subscribe message (订阅消息). `Ok(false)` when the user has
    /// not subscribed or refused (43101): that is final, not to be retried.
    pub async fn send_subscribe_message(
        &self,
        openid: &str,
        template_id: &str,
        page: &str,
        data: serde_json::Value,
    ) -> Result<bool, WechatError> {
        let mut retried = false;
        loop {
            let token = self.access_token().await?;
            let url = format!("{}/cgi-bin/message/subscribe/send", self.api_base);
            let request = self
                .http
                .post(url)
                .query(&[("access_token", token.as_str())])
                .json(&json!({
                    "touser": openid,
                    "template_id": template_id,
                    "page": page,
                    "data": data,
                }));
            let answer: Answer = self.call(request).await?;
            match answer.errcode {
                0 => return Ok(true),
                43101 => return Ok(false),
                code if token_expired(code) && !retried => {
                    self.forget_token(&token).await;
                    retried = true;
                }
                45009 | 45011 => return Err(WechatError::RateLimited),
                other => return Err(WechatError::Unavailable(format!("subscribe/send errcode {other}"))),
            }
        }
    }

    /// WeChat's content check (msgSecCheck v2) of text a user wrote; always
    /// passes in sandbox mode. `Ok(false)`: WeChat judged it risky.
    pub async fn content_is_safe(&self, openid: &str, content: &str) -> Result<bool, WechatError> {
        if self.mode == WechatMode::Sandbox {
            return Ok(true);
        }
        let mut retried = false;
        loop {
            let token = self.access_token().await?;
            let url = format!("{}/wxa/msg_sec_check", self.api_base);
            let request = self
                .http
                .post(url)
                .query(&[("access_token", token.as_str())])
                .json(&json!({
                    "content": content,
                    "version": 2,
                    "scene": 1,
                    "openid": openid,
                }));
            let answer: SecCheck = self.call(request).await?;
            match answer.errcode {
                0 => return Ok(answer.result.is_none_or(|r| r.suggest != "risky")),
                code if token_expired(code) && !retried => {
                    self.forget_token(&token).await;
                    retried = true;
                }
                other => return Err(WechatError::Unavailable(format!("msg_sec_check errcode {other}"))),
            }
        }
    }

    pub fn is_live(&self) -> bool {
        self.mode == WechatMode::Live
    }

    /// The access token all instances share. One instance at a time fetches a
    /// new one (the others wait for it in the store); `stable_token` is used
    /// because, unlike `cgi-bin/token`, fetching it does not invalidate the
    /// token other instances hold.
    pub async fn access_token(&self) -> Result<String, WechatError> {
        for _ in 0..30 {
            if let Some(token) = self.cached_token().await? {
                return Ok(token);
            }
            let lock_holder = uuid::Uuid::new_v4().to_string();
            let locked = self
                .store
                .set_if_absent(TOKEN_LOCK_KEY, &lock_holder, TOKEN_LOCK_TTL)
                .await
                .map_err(|e| WechatError::Unavailable(e.to_string()))?;
            if locked {
                let fetched = self.fetch_token().await;
                let _released = self.store.delete_if_equals(TOKEN_LOCK_KEY, &lock_holder).await;
                return fetched;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(WechatError::Unavailable(
            "timed out waiting for another instance to fetch the access token".to_owned(),
        ))
    }

    async fn cached_token(&self) -> Result<Option<String>, WechatError> {
        if let Some(token) = self.reusable_token() {
            return Ok(Some(token));
        }
        let token = self
            .store
            .get(TOKEN_KEY)
            .await
            .map_err(|e| WechatError::Unavailable(e.to_string()))?;
        if let Some(token) = &token {
            self.remember_token(token);
        }
        Ok(token)
    }

    /// The token copy; nothing can panic while it is held, so a poisoned
    /// lock still holds a consistent value.
    fn recent(&self) -> std::sync::MutexGuard<'_, Option<(String, Instant)>> {
        self.recent_token
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn reusable_token(&self) -> Option<String> {
        let recent = self.recent();
        recent
            .as_ref()
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(token, _)| token.clone())
    }

    fn forget_recent_token(&self, token: &str) {
        let mut recent = self.recent();
        if recent.as_ref().is_some_and(|(held, _)| held == token) {
            *recent = None;
        }
    }

    fn remember_token(&self, token: &str) {
        let mut recent = self.recent();
        *recent = Some((token.to_owned(), Instant::now() + TOKEN_REUSE));
    }

    async fn fetch_token(&self) -> Result<String, WechatError> {
        if let Some(token) = self.cached_token().await? {
            return Ok(token);
        }
        let url = format!("{}/cgi-bin/stable_token", self.api_base);
        let request = self.http.post(url).json(&json!({
            "grant_type": "client_credential",
            "appid": self.app_id,
            "secret": self.app_secret.expose_secret(),
            "force_refresh": false,
        }));
        let answer: StableToken = self.call(request).await?;
        let (0, Some(token), Some(expires_in)) = (answer.errcode, answer.access_token, answer.expires_in) else {
            return Err(WechatError::Unavailable(format!(
                "stable_token errcode {}",
                answer.errcode
            )));
        };
        let ttl = Duration::from_secs(expires_in)
            .saturating_sub(TOKEN_EARLY_REFRESH)
            .max(Duration::from_secs(30));
        self.store
            .set(TOKEN_KEY, &token, ttl)
            .await
            .map_err(|e| WechatError::Unavailable(e.to_string()))?;
        self.remember_token(&token);
        Ok(token)
    }

    /// Drops the cached token, unless another instance already replaced it.
    async fn forget_token(&self, token: &str) {
        self.forget_recent_token(token);
        let _replaced_meanwhile = self.store.delete_if_equals(TOKEN_KEY, token).await;
    }

    async fn call<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T, WechatError> {
        let unavailable = |what: &str| WechatError::Unavailable(what.to_owned());
        let mut response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                unavailable("timed out")
            } else {
                unavailable("unreachable")
            }
        })?;
        if !response.status().is_success() {
            return Err(WechatError::Unavailable(format!("HTTP {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            if e.is_timeout() {
                unavailable("timed out")
            } else {
                unavailable("the answer broke off")
            }
        })? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(unavailable("the answer is too large"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|_| unavailable("the answer is not the expected JSON"))
    }
}

fn digest(purpose: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{purpose}:{code}").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::memory_store::MemoryStore;

    fn sandbox() -> WechatClient {
        let config = WechatConfig {
            mode: WechatMode::Sandbox,
            app_id: None,
            app_secret: None,
            api_base: "http://127.0.0.1:1".to_owned(),
            timeout: Duration::from_secs(1),
            templates: Default::default(),
        };
        WechatClient::new(&config, Arc::new(MemoryStore::default())).unwrap()
    }

    #[tokio::test]
    async fn sandbox_logins_are_stable_per_code() {
        let client = sandbox();
        let first = client.code_to_session("code-a").await.unwrap();
        let again = client.code_to_session("code-a").await.unwrap();
        let other = client.code_to_session("code-b").await.unwrap();
        assert_eq!(first.openid, again.openid);
        assert_ne!(first.openid, other.openid);
        assert!(client.phone_number("p").await.unwrap().as_str().starts_with("139"));
    }
}
