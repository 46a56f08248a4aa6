//! Signed webhooks to integrators. Events are queued in `webhook_delivery` in
//! the transaction of the change, then POSTed with
//! `X-Shiminhua-Timestamp` and `X-Shiminhua-Signature: sha256=<hex HMAC-SHA256
//! of "{timestamp}.{body}">`, retried with backoff, and logged. An endpoint
//! must be http(s) (https in production) and reach only public addresses:
//! checked when set, and at every delivery by the HTTP client's own resolver
//! (`infra::outbound`), so the address checked is the address connected to.
//! The delivery log tells the integrator an outcome in a few public words;
//! why an attempt failed goes to the server log only.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{integrator_client, webhook_delivery};
use hmac::{Hmac, Mac};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, sea_query::InsertStatement,
};
use serde_json::Value;
use sha2::Sha256;

use crate::{
    auth::{Principal, Scope},
    error::{AppError, AppResult, ErrorCode, Localized},
    infra::{
        crypto::Field,
        outbound::{self, GuardError, PinnedResolver},
    },
    state::AppState,
};

const CLAIM_FOR: chrono::Duration = chrono::Duration::seconds(60);
const MAX_ATTEMPTS: i32 = 10;
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
const POLL_INTERVAL: Duration = Duration::from_secs(1);
const BATCH: u64 = 50;

crate::text_enum! {
    /// What became of a delivery's last attempt, as its integrator sees it.
    DeliveryOutcome {
        /// The endpoint answered 2xx.
        Delivered => "delivered",
        /// The endpoint answered another status (`last_status`); a redirect
        /// is one, as redirects are not followed.
        HttpError => "http_error",
        /// No answer within five seconds.
        Timeout => "timeout",
        /// The endpoint is not allowed: its host is, or resolves only to,
        /// loopback, private, link-local or other special-use addresses (or
        /// it is not https in production).
        RefusedAddress => "refused_address",
        /// The host did not resolve, or no connection or no HTTP answer came.
        ConnectFailed => "connect_failed",
        /// The client has no endpoint any more.
        NoEndpoint => "no_endpoint",
        /// Shiminhua failed before sending; the delivery is tried again.
        InternalError => "internal_error",
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}` under `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
enum FormError {
    #[error("the endpoint is not an http(s) URL with a host")]
    NotHttpUrl,
    #[error("the endpoint is not https, which production requires")]
    NotHttps,
}

/// The endpoint's URL when its form is allowed: http(s) with a host, https in
/// production. Where it may point is the address guard's to say.
fn endpoint(production: bool, url: &str) -> Result<reqwest::Url, FormError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| FormError::NotHttpUrl)?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(FormError::NotHttpUrl);
    }
    if production && parsed.scheme() != "https" {
        return Err(FormError::NotHttps);
    }
    Ok(parsed)
}

/// Refuses, with a reason the integrator can act on, an endpoint of the wrong
/// form or whose host is, or resolves only to, special-use addresses.
async fn check_endpoint(state: &AppState, url: &str) -> AppResult<()> {
    let refuse = |zh: &'static str, en: &'static str| Err(AppError::invalid_field("url", Localized::fixed(zh, en)));
    let parsed = match endpoint(state.config.is_production(), url) {
        Ok(parsed) => parsed,
        Err(FormError::NotHttpUrl) => return refuse("回调地址不是有效的网址。", "url is not a valid http(s) URL."),
        Err(FormError::NotHttps) => return refuse("回调地址必须使用 https。", "Webhook URLs must use https."),
    };
    let resolver = PinnedResolver::new(state.config.webhook_addresses);
    match resolver.check_host(parsed.host_str().unwrap_or_default()).await {
        Ok(_) => Ok(()),
        Err(GuardError::NoAddress(_)) => refuse(
            "回调地址的域名无法解析，请检查地址是否写对。",
            "The URL's host does not resolve; check the address.",
        ),
        Err(GuardError::Refused { .. }) => refuse(
            "回调地址不能指向本机、内网或其他保留地址，请填写互联网上能访问到的地址。",
            "Webhook URLs must reach a public internet address, not a loopback, private, link-local or other special-use one.",
        ),
    }
}

/// Sets the calling client's endpoint and returns a fresh signing secret (shown once).
pub async fn register(state: &AppState, client: &Principal, url: &str) -> AppResult<String> {
    check_endpoint(state, url).await?;
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

/// Queues `payload`, inside the caller's transaction, for every client with
/// a webhook and `scope` whose region covers one of `concerns` (for a
/// transfer, either end): a client hears only of its own region's cases.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    regions: &crate::regions::RegionDirectory,
    scope: Scope,
    event: &str,
    concerns: &[crate::domain::RegionCode],
    payload: &Value,
) -> AppResult<()> {
    if let Some(insert) = deliveries(db, regions, scope, event, concerns, payload).await? {
        db.execute(&insert).await?;
    }
    Ok(())
}

/// The insert of `enqueue`'s deliveries, one statement for all the clients,
/// for a caller that sends it with other writes; none when no client hears.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    regions: &crate::regions::RegionDirectory,
    scope: Scope,
    event: &str,
    concerns: &[crate::domain::RegionCode],
    payload: &Value,
) -> AppResult<Option<InsertStatement>> {
    let clients = integrator_client::Entity::find()
        .filter(integrator_client::Column::WebhookUrl.is_not_null())
        .filter(integrator_client::Column::RevokedAt.is_null())
        .filter(integrator_client::Column::RegionCode.is_in(regions.covering(concerns)))
        .all(db)
        .await?;
    let now = Utc::now();
    let rows: Vec<_> = clients
        .into_iter()
        .filter(|c| c.scopes.split(' ').any(|s| s == scope.as_str()))
        .map(|client| webhook_delivery::ActiveModel {
            client_id: Set(client.client_id),
            event: Set(event.to_owned()),
            payload: Set(payload.to_string()),
            created_at: Set(now),
            attempts: Set(0),
            next_attempt_at: Set(now),
            claimed_until: Set(None),
            delivered_at: Set(None),
            last_status: Set(None),
            last_outcome: Set(None),
            ..Default::default()
        })
        .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(webhook_delivery::Entity::insert_many(rows).into_query()))
}

/// One attempt at `row`: its outcome, with the endpoint's status when it
/// answered. Why an attempt failed goes to the server log, never to the
/// integrator, and names no person (the payload is not logged).
async fn attempt(
    state: &AppState,
    http: &reqwest::Client,
    row: &webhook_delivery::Model,
) -> (DeliveryOutcome, Option<u16>) {
    match send(state, http, row).await {
        Ok(status) if (200..300).contains(&status) => (DeliveryOutcome::Delivered, Some(status)),
        Ok(status) => (DeliveryOutcome::HttpError, Some(status)),
        Err((outcome, detail)) => {
            tracing::warn!(
                delivery = row.id,
                client_id = %row.client_id,
                outcome = outcome.as_str(),
                %detail,
                "webhook attempt failed"
            );
            (outcome, None)
        }
    }
}

/// The endpoint's status, or the public outcome and the detail for the log.
async fn send(
    state: &AppState,
    http: &reqwest::Client,
    row: &webhook_delivery::Model,
) -> Result<u16, (DeliveryOutcome, String)> {
    let internal = |error: &dyn std::fmt::Display| (DeliveryOutcome::InternalError, error.to_string());
    let client = integrator_client::Entity::find()
        .filter(integrator_client::Column::ClientId.eq(&row.client_id))
        .one(&state.db)
        .await
        .map_err(|e| internal(&e))?
        .ok_or((DeliveryOutcome::NoEndpoint, "the client is gone".to_owned()))?;
    let (Some(url), Some(sealed)) = (client.webhook_url, client.webhook_secret) else {
        return Err((DeliveryOutcome::NoEndpoint, "the client has no webhook now".to_owned()));
    };
    let refused = |error: &dyn std::fmt::Display| (DeliveryOutcome::RefusedAddress, error.to_string());
    let url = endpoint(state.config.is_production(), &url).map_err(|e| refused(&e))?;
    // An IP literal never reaches the client's resolver: check it here.
    state
        .config
        .webhook_addresses
        .check_literal(url.host_str().unwrap_or_default())
        .map_err(|e| refused(&e))?;
    let secret = state
        .protector
        .decrypt(Field::IntegratorWebhookSecret, &client.client_id, &sealed)
        .map_err(|e| internal(&e))?;
    let timestamp = Utc::now().timestamp();
    let response = http
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Shiminhua-Event", &row.event)
        .header("X-Shiminhua-Delivery", row.id.to_string())
        .header("X-Shiminhua-Timestamp", timestamp.to_string())
        .header("X-Shiminhua-Signature", signature(&secret, timestamp, &row.payload))
        .body(row.payload.clone())
        .send()
        .await
        .map_err(unanswered)?;
    Ok(response.status().as_u16())
}

/// Why a request got no answer: the guard's refusal, a timeout, or a failed
/// connection; with the chain of causes for the log (the URL left out).
fn unanswered(error: reqwest::Error) -> (DeliveryOutcome, String) {
    let error = error.without_url();
    let outcome = match GuardError::in_chain(&error) {
        Some(GuardError::Refused { .. }) => DeliveryOutcome::RefusedAddress,
        Some(GuardError::NoAddress(_)) => DeliveryOutcome::ConnectFailed,
        None if error.is_timeout() => DeliveryOutcome::Timeout,
        None => DeliveryOutcome::ConnectFailed,
    };
    let causes: Vec<String> = std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source())
        .map(ToString::to_string)
        .collect();
    (outcome, causes.join(": "))
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
        let (outcome, status) = attempt(state, http, &row).await;
        let delivered = outcome == DeliveryOutcome::Delivered;
        let retry_at = Utc::now() + retry_after(state.config.webhook_retry_base, tries);
        webhook_delivery::Entity::update_many()
            .set(webhook_delivery::ActiveModel {
                attempts: Set(tries),
                delivered_at: Set(delivered.then(Utc::now)),
                next_attempt_at: Set(retry_at),
                claimed_until: Set(None),
                last_status: Set(status.map(i32::from)),
                last_outcome: Set(Some(outcome.as_str().to_owned())),
                ..Default::default()
            })
            .filter(webhook_delivery::Column::Id.eq(row.id))
            .exec(&state.db)
            .await?;
    }
    Ok(attempts)
}

/// How long after its `attempts`-th failed attempt a delivery is tried
/// again: `base` doubled at every attempt (2×, 4×, … 1024× from the tenth,
/// where it stops: the tenth attempt is the last).
pub fn retry_after(base: Duration, attempts: i32) -> chrono::Duration {
    let factor = 1u32 << attempts.clamp(1, 10);
    chrono::Duration::from_std(base * factor).unwrap_or(chrono::Duration::MAX)
}

pub fn spawn_deliverer(state: AppState) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let http = outbound::client(PinnedResolver::new(state.config.webhook_addresses), DELIVERY_TIMEOUT)?;
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

/// One delivery of an event to a client, as the client reads it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub event: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_outcome: Option<DeliveryOutcome>,
    /// When it is tried again; none once delivered or given up.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The calling client's deliveries, newest first.
pub async fn log(state: &AppState, client: &Principal, page: u32, page_size: u32) -> AppResult<(Vec<Delivery>, u64)> {
    let paginator = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::ClientId.eq(&client.subject))
        .order_by_desc(webhook_delivery::Column::Id)
        .paginate(&state.db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    let deliveries = rows
        .into_iter()
        .map(|row| Delivery {
            last_outcome: row.last_outcome.as_deref().and_then(DeliveryOutcome::parse),
            next_attempt_at: (row.delivered_at.is_none() && row.attempts < MAX_ATTEMPTS).then_some(row.next_attempt_at),
            id: row.id,
            event: row.event,
            created_at: row.created_at,
            attempts: row.attempts,
            delivered_at: row.delivered_at,
            last_status: row.last_status,
        })
        .collect();
    Ok((deliveries, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_http_urls_and_https_in_production() {
        assert!(endpoint(true, "https://shebao.example/hook").is_ok());
        assert_eq!(
            endpoint(true, "http://shebao.example/hook").unwrap_err(),
            FormError::NotHttps
        );
        assert!(endpoint(false, "http://shebao.example/hook").is_ok());
        for bad in ["ftp://x", "x", "https://", "file:///etc/passwd", "data:text/plain,x"] {
            assert_eq!(endpoint(false, bad).unwrap_err(), FormError::NotHttpUrl, "{bad}");
        }
    }

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        let one = signature("whsec_test", 1_700_000_000, "{}");
        assert!(one.starts_with("sha256=") && one.len() == 7 + 64);
        assert_ne!(one, signature("whsec_test", 1_700_000_001, "{}"));
        assert_ne!(one, signature("whsec_test", 1_700_000_000, "{ }"));
    }

    #[test]
    fn retries_back_off_doubling_and_stop_after_the_tenth_attempt() {
        let base = Duration::from_secs(5);
        let waits: Vec<i64> = (1..=MAX_ATTEMPTS).map(|n| retry_after(base, n).num_seconds()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120]);
        assert_eq!(
            retry_after(base, 11),
            retry_after(base, 10),
            "no wait grows past the last"
        );
    }
}
