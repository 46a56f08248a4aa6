use chrono::{DateTime, Utc};
use poem_openapi::{Object, OpenApi, payload::Json};
use serde::Deserialize;

use super::ApiTags;
use crate::{
    auth::{Scope, schemes::IntegratorAuth},
    domain::RegionCode,
    http::problem::{ApiResult, status},
    services::webhooks::{Delivery, DeliveryOutcome},
};

pub struct IntegrationsApi;

/// The calling client, as its token presents it.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ClientIdentity {
    pub client_id: String,
    /// The scopes this token carries.
    pub scopes: Vec<Scope>,
    /// The region the client serves (`000000`: national): it reads, changes
    /// and hears of the transfers with either end there.
    pub region_code: Option<RegionCode>,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Integrations")]
impl IntegrationsApi {
    /// Who am I (check integrator credentials)
    ///
    /// Answers with the client id, scopes and region of the token: a first
    /// call for an integrator to check its set-up.
    #[oai(path = "/integrations/whoami", method = "get", operation_id = "integratorWhoami")]
    async fn whoami(&self, auth: IntegratorAuth) -> ApiResult<Json<ClientIdentity>, { status::SIGNED_IN }> {
        Ok(Json(ClientIdentity {
            client_id: auth.0.subject,
            scopes: auth.0.scopes,
            region_code: auth.0.region,
        }))
    }
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct WebhookEndpoint {
    /// Where events are POSTed: http(s), https in production, reaching only
    /// public internet addresses (not loopback, private, link-local or any
    /// other special-use range, NAT64 and IPv4-in-IPv6 forms included).
    #[oai(validator(min_length = 1, max_length = 500))]
    pub url: String,
}

#[derive(Debug, Object)]
pub struct WebhookRegistered {
    pub url: String,
    /// The HMAC key of `X-Shiminhua-Signature`, shown this once; setting the
    /// endpoint again issues a new one.
    pub secret: String,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct DeliveryView {
    pub id: i64,
    pub event: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The HTTP status your endpoint answered the last attempt with
    /// (`delivered` and `http_error` only).
    pub last_status: Option<i32>,
    /// What became of the last attempt; absent before the first.
    pub last_outcome: Option<DeliveryOutcome>,
    /// When the next attempt is due, after a failed one: the wait doubles
    /// at every attempt (10 s, 20 s, 40 s … by default); absent once
    /// delivered, or after the tenth attempt, the last.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl From<Delivery> for DeliveryView {
    fn from(delivery: Delivery) -> Self {
        DeliveryView {
            id: delivery.id,
            event: delivery.event,
            created_at: delivery.created_at,
            attempts: delivery.attempts,
            delivered_at: delivery.delivered_at,
            last_status: delivery.last_status,
            last_outcome: delivery.last_outcome,
            next_attempt_at: delivery.next_attempt_at,
        }
    }
}
