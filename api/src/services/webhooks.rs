//! Signed webhooks to integrators. Events are queued in `webhook_delivery` in
//! the transaction of the change, then POSTed with
//! `X-Shiminhua-Timestamp` and `X-Shiminhua-Signature: sha256=<hex HMAC-SHA256
//! of "{timestamp}.{body}">`, retried with backoff, and logged. In production
//! an endpoint must be https and must not resolve to a loopback, link-local or
//! private address (checked when set and again before every delivery).

use std::{
    net::{IpAddr, Ipv4Addr},
    time::Duration,
};

use chrono::{DateTime, Utc};
use entity::{integrator_client, webhook_delivery};
use hmac::{Hmac, Mac};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::Value;
use sha2::Sha256;

use crate::{
    auth::{Principal, Scope},
    error::{AppError, AppResult, ErrorCode, Localized},
    infra::crypto::Field,
    state::AppState,
};

const CLAIM_FOR: chrono::Duration = chrono::Duration::seconds(60);
const MAX_ATTEMPTS: i32 = 10;
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
const POLL_INTERVAL: Duration = Duration::from_secs(1);
const BATCH: u64 = 50;

/// `sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}` under `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn forbidden_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            v6.to_ipv4_mapped().is_some_and(forbidden_v4)
                || v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || (a == 100 && (64..128).contains(&b))
}

/// Refuses endpoints that could reach inside the deployment (production only).
pub async fn check_endpoint(production: bool, url: &str) -> AppResult<()> {
    let refuse = |zh: &'static str, en: &'static str| Err(AppError::invalid_field("url", Localized::fixed(zh, en)));
    let parsed = match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "https" | "http") && parsed.host_str().is_some() => parsed,
        _ => return refuse("回调地址不是有效的网址。", "url is not a valid http(s) URL."),
    };
    if !production {
        return Ok(());
    }
    if parsed.scheme() != "https" {
        return refuse("回调地址必须使用 https。", "Webhook URLs must use https.");
    }
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .to_owned();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => match tokio::net::lookup_host((host.as_str(), port)).await {
            Ok(found) => found.map(|a| a.ip()).collect(),
            Err(_) => return refuse("回调地址的域名无法解析。", "The URL's host does not resolve."),
        },
    };
    if addresses.is_empty() || addresses.into_iter().any(forbidden_address) {
        return refuse(
            "回调地址不能指向本机、内网或链路本地地址。",
            "Webhook URLs must not resolve to loopback, link-local or private addresses.",
        );
    }
    Ok(())
}

/// Sets the calling client's endpoint and returns a fresh signing secret (shown once).
pub async fn register(state: &AppState, client: &Principal, url: &str) -> AppResult<String> {
    check_endpoint(state.config.is_production(), url).await?;
    let secret = format!("whsec_{}", uuid::Uuid::new_v4().simple());
    let updated = integrator_client::Entity::update_many()
        .set(integrator_client::ActiveModel {
            webhook_url: Set(Some(url.to_owned())),
            webhook_secret: Set(Some(state.protector.encrypt(
                Field::IntegratorWebhookSecret,
                &client.subject,
                &secret,
            ))),
            ..Default::default()
        })
        .filter(integrator_client::Column::ClientId.eq(&client.subject))
        .exec(&state.db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::new(ErrorCode::SessionEnded));
    }
    Ok(secret)
}

/// Queues `payload` for every client with a webhook and `scope`, inside the caller's transaction.
pub async fn enqueue(db: &impl ConnectionTrait, scope: Scope, event: &str, payload: &Value) -> AppResult<()> {
    let clients = integrator_client::Entity::find()
        .filter(integrator_client::Column::WebhookUrl.is_not_null())
        .filter(integrator_client::Column::RevokedAt.is_null())
        .all(db)
        .await?;
    let now = Utc::now();
    for client in clients
        .into_iter()
        .filter(|c| c.scopes.split(' ').any(|s| s == scope.as_str()))
    {
        webhook_delivery::ActiveModel {
            client_id: Set(client.client_id),
            event: Set(event.to_owned()),
            payload: Set(payload.to_string()),
            created_at: Set(now),
            attempts: Set(0),
            next_attempt_at: Set(now),
            claimed_until: Set(None),
            delivered_at: Set(None),
            last_status: Set(None),
            last_error: Set(None),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

async fn attempt(state: &AppState, http: &reqwest::Client, row: &webhook_delivery::Model) -> Result<u16, String> {
    let client = integrator_client::Entity::find()
        .filter(integrator_client::Column::ClientId.eq(&row.client_id))
        .one(&state.db)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the client is gone")?;
    let (Some(url), Some(sealed)) = (client.webhook_url, client.webhook_secret) else {
        return Err("the client has no webhook now".to_owned());
    };
    check_endpoint(state.config.is_production(), &url)
        .await
        .map_err(|e| e.to_string())?;
    let secret = state
        .protector
        .decrypt(Field::IntegratorWebhookSecret, &client.client_id, &sealed)
        .map_err(|e| e.to_string())?;
    let timestamp = Utc::now().timestamp();
    let response = http
        .post(&url)
        .header("Content-Type", "application/json")
        .header("X-Shiminhua-Event", &row.event)
        .header("X-Shiminhua-Delivery", row.id.to_string())
        .header("X-Shiminhua-Timestamp", timestamp.to_string())
        .header("X-Shiminhua-Signature", signature(&secret, timestamp, &row.payload))
        .body(row.payload.clone())
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timed out".to_owned()
            } else {
                "unreachable".to_owned()
            }
        })?;
    Ok(response.status().as_u16())
}

/// Delivers everything that is due, a batch at a time, so a backlog is
/// worked off at once rather than one batch a tick; returns how many
/// attempts were made.
pub async fn deliver_due(state: &AppState, http: &reqwest::Client) -> AppResult<usize> {
    let mut attempts = 0;
    loop {
        let batch = deliver_batch(state, http).await?;
        attempts += batch;
        if batch < BATCH as usize {
            return Ok(attempts);
        }
    }
}

/// Deliveries no deliverer holds at `now`.
fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(webhook_delivery::Column::ClaimedUntil.is_null())
        .add(webhook_delivery::Column::ClaimedUntil.lt(now))
}

/// Claims and attempts up to `BATCH` due deliveries; returns how many it claimed.
async fn deliver_batch(state: &AppState, http: &reqwest::Client) -> AppResult<usize> {
    let now = Utc::now();
    // Deliveries another instance holds are passed over, so that it and this
    // one work off a backlog side by side.
    let due = webhook_delivery::Entity::find()
        .filter(claimable(now))
        .filter(webhook_delivery::Column::DeliveredAt.is_null())
        .filter(webhook_delivery::Column::Attempts.lt(MAX_ATTEMPTS))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(webhook_delivery::Column::Id)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    let mut attempts = 0;
    for row in due {
        let claimed = webhook_delivery::Entity::update_many()
            .set(webhook_delivery::ActiveModel {
                claimed_until: Set(Some(now + CLAIM_FOR)),
                ..Default::default()
            })
            .filter(webhook_delivery::Column::Id.eq(row.id))
            .filter(claimable(now))
            .exec(&state.db)
            .await?;
        if claimed.rows_affected == 0 {
            continue;
        }
        attempts += 1;
        let tries = row.attempts + 1;
        let outcome = attempt(state, http, &row).await;
        let delivered = matches!(outcome, Ok(200..=299));
        let backoff = chrono::Duration::seconds(5 * (1i64 << tries.min(10)));
        webhook_delivery::Entity::update_many()
            .set(webhook_delivery::ActiveModel {
                attempts: Set(tries),
                delivered_at: Set(delivered.then(Utc::now)),
                next_attempt_at: Set(Utc::now() + backoff),
                claimed_until: Set(None),
                last_status: Set(outcome.as_ref().ok().map(|s| i32::from(*s))),
                last_error: Set(outcome.err().map(|e| e.chars().take(255).collect())),
                ..Default::default()
            })
            .filter(webhook_delivery::Column::Id.eq(row.id))
            .exec(&state.db)
            .await?;
    }
    Ok(attempts)
}

pub fn spawn_deliverer(state: AppState) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    // No redirects: a 3xx must not carry a signed event somewhere unchecked.
    let http = reqwest::Client::builder()
        .timeout(DELIVERY_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    Ok(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(POLL_INTERVAL);
        loop {
            ticker.tick().await;
            if let Err(err) = deliver_due(&state, &http).await {
                tracing::warn!(error = %err, "webhook delivery failed; retrying");
            }
        }
    }))
}

/// The calling client's deliveries, newest first.
pub async fn log(state: &AppState, client: &Principal, limit: u64) -> AppResult<Vec<webhook_delivery::Model>> {
    Ok(webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::ClientId.eq(&client.subject))
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(limit)
        .all(&state.db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
        ] {
            assert!(forbidden_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["1.2.3.4", "2001:4860:4860::8888"] {
            assert!(!forbidden_address(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn production_endpoints_are_https_and_public() {
        assert!(check_endpoint(true, "https://127.0.0.1/hook").await.is_err());
        assert!(check_endpoint(true, "http://1.2.3.4/hook").await.is_err());
        assert!(check_endpoint(true, "https://[::1]/hook").await.is_err());
        assert!(check_endpoint(true, "https://1.2.3.4/hook").await.is_ok());
        assert!(check_endpoint(false, "http://127.0.0.1:9/hook").await.is_ok());
        assert!(check_endpoint(false, "ftp://x").await.is_err());
    }

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        let one = signature("whsec_test", 1_700_000_000, "{}");
        assert!(one.starts_with("sha256=") && one.len() == 7 + 64);
        assert_ne!(one, signature("whsec_test", 1_700_000_001, "{}"));
        assert_ne!(one, signature("whsec_test", 1_700_000_000, "{ }"));
    }
}
