//! Integrator clients: created by an administrator with scopes and a region,
//! their secret shown once; tokens through the client-credentials grant
//! (RFC 6749 §4.4). An administrator manages only the clients of its own
//! region and below, and a client's token carries its region.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use entity::integrator_client;
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{
    access,
    auth::{Audience, Principal, Role, Scope, sessions::Issued},
    context::RequestContext,
    domain::{RegionCode, TextType},
    error::{AppError, AppResult, ErrorCode},
    services::audit::{self, Actor, Event, Outcome},
    state::AppState,
};

pub struct NewClient {
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The region it serves; by default the administrator's own.
    pub region_code: Option<RegionCode>,
}

pub struct CreatedClient {
    pub id: String,
    pub client_id: String,
    /// Shown once; only its hash is kept.
    pub client_secret: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub region_code: RegionCode,
}

/// A stored client, without its secrets.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub client_id: String,
    pub name: String,
    /// The scopes as stored, words unknown to this version included.
    pub scopes: Vec<String>,
    pub region_code: RegionCode,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub webhook_url: Option<String>,
}

impl Client {
    fn from_row(row: integrator_client::Model) -> AppResult<Self> {
        Ok(Client {
            region_code: region_of(&row)?,
            scopes: row
                .scopes
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            id: row.id,
            client_id: row.client_id,
            name: row.name,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
            webhook_url: row.webhook_url,
        })
    }
}

/// Why a token request is refused, in RFC 6749 §5.2 terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    InvalidRequest,
    InvalidClient,
    InvalidScope,
    UnsupportedGrantType,
}

impl TokenRefusal {
    pub fn error(self) -> &'static str {
        match self {
            TokenRefusal::InvalidRequest => "invalid_request",
            TokenRefusal::InvalidClient => "invalid_client",
            TokenRefusal::InvalidScope => "invalid_scope",
            TokenRefusal::UnsupportedGrantType => "unsupported_grant_type",
        }
    }
}

/// A client-credentials request as it arrived (every field optional, so that
/// a missing one is an RFC 6749 `invalid_request`, not a generic 400).
pub struct TokenRequest<'a> {
    pub grant_type: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a str>,
    pub scope: Option<&'a str>,
}

fn random(prefix: &str, bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(buffer))
}

fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares in time independent of where the strings differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn scopes_text(scopes: &[Scope]) -> String {
    let mut names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(" ")
}

pub async fn create(
    state: &AppState,
    request: &RequestContext,
    admin: &Principal,
    new: NewClient,
) -> AppResult<CreatedClient> {
    let region = access::new_client_region(&state.regions, admin, new.region_code)?;
    if !region.is_national() {
        state.regions.require(region)?;
    }
    let client_id = random("cli_", 12);
    let client_secret = random("cs_", 32);
    let scopes = scopes_text(&new.scopes);
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let row = integrator_client::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        client_id: Set(client_id.clone()),
        name: Set(new.name.trim().to_owned()),
        secret_hash: Set(secret_hash(&client_secret)),
        scopes: Set(scopes.clone()),
        created_by: Set(admin.subject.clone()),
        created_at: Set(Utc::now()),
        revoked_at: Set(None),
        webhook_url: Set(None),
        webhook_secret: Set(None),
        region_code: Set(region.as_str().to_owned()),
    }
    .insert(&transaction)
    .await?;
    audit::record(
        &transaction,
        Some(request),
        Event {
            actor: Actor::Principal(admin),
            action: "client.create",
            target: Some(("client", &row.client_id)),
            region: Some(region),
            outcome: Outcome::Success,
            details: Some(json!({ "scopes": scopes, "region_code": region })),
        },
    )
    .await?;
    transaction.commit().await?;
    Ok(CreatedClient {
        id: row.id,
        client_id,
        client_secret,
        name: row.name,
        scopes: scopes.split(' ').filter_map(Scope::parse).collect(),
        region_code: region,
    })
}

/// The region a stored client serves.
fn region_of(client: &integrator_client::Model) -> AppResult<RegionCode> {
    RegionCode::parse(&client.region_code)
        .map_err(|_| AppError::internal(anyhow::anyhow!("client {} has a malformed region", client.id)))
}

/// The client-credentials grant: an access token with the requested scopes
/// (all granted scopes when none are asked for).
pub async fn issue_token(
    state: &AppState,
    request: &RequestContext,
    form: TokenRequest<'_>,
) -> AppResult<Result<(Issued, Vec<Scope>), TokenRefusal>> {
    match form.grant_type {
        Some("client_credentials") => {}
        Some(_) => return Ok(Err(TokenRefusal::UnsupportedGrantType)),
        None => return Ok(Err(TokenRefusal::InvalidRequest)),
    }
    // RFC 6749 §5.2: no client authentication at all is `invalid_client` too.
    let (Some(client_id), Some(secret)) = (form.client_id, form.client_secret) else {
        return Ok(Err(TokenRefusal::InvalidClient));
    };
    let client = integrator_client::Entity::find()
        .filter(integrator_client::Column::ClientId.eq(client_id))
        .one(&state.db)
        .await?
        .filter(|c| c.revoked_at.is_none() && same(&c.secret_hash, &secret_hash(secret)));
    let refuse = |refusal: TokenRefusal, reason: &'static str| async move {
        audit::record(
            &state.db,
            Some(request),
            Event {
                actor: Actor::Anonymous {
                    claimed: Some(client_id),
                },
                action: "client.token",
                target: None,
                region: None,
                outcome: Outcome::Failure,
                details: Some(json!({ "reason": reason })),
            },
        )
        .await
        .map(|()| Err(refusal))
    };
    let Some(client) = client else {
        return refuse(TokenRefusal::InvalidClient, "invalid_client").await;
    };
    let region = region_of(&client)?;
    let granted: Vec<Scope> = client.scopes.split(' ').filter_map(Scope::parse).collect();
    let scopes = match form.scope.map(str::trim).filter(|s| !s.is_empty()) {
        None => granted,
        Some(asked) => {
            let asked: Option<Vec<Scope>> = asked.split_whitespace().map(Scope::parse).collect();
            match asked {
                Some(asked) if asked.iter().all(|s| granted.contains(s)) => asked,
                _ => return refuse(TokenRefusal::InvalidScope, "invalid_scope").await,
            }
        }
    };
    let (principal, issued) = state
        .sessions
        .open(Principal {
            audience: Audience::Integrator,
            subject: client.client_id.clone(),
            session_id: String::new(),
            roles: Vec::new(),
            region: Some(region),
            scopes: scopes.clone(),
            acting: None,
        })
        .await?;
    let details = json!({ "scopes": scopes_text(&scopes) });
    let token = Event::success(
        &principal,
        "client.token",
        ("client", &client.client_id),
        Some(region),
        Some(details),
    );
    audit::record(&state.db, Some(request), token).await?;
    Ok(Ok((issued, scopes)))
}

/// The integrator clients of the administrator's region and below.
pub async fn list(state: &AppState, admin: &Principal, page: u32, page_size: u32) -> AppResult<(Vec<Client>, u64)> {
    access::require_role(admin, Role::Admin)?;
    let mut query = integrator_client::Entity::find()
        .order_by_asc(integrator_client::Column::CreatedAt)
        .order_by_asc(integrator_client::Column::Id);
    if let Some(codes) = access::staff_scope(&state.regions, admin, None)? {
        query = query.filter(integrator_client::Column::RegionCode.is_in(codes));
    }
    let paginator = query.paginate(&state.db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    let clients = rows.into_iter().map(Client::from_row).collect::<AppResult<Vec<_>>>()?;
    Ok((clients, total))
}

/// A client the administrator manages; one of another region is not found,
/// like one that does not exist.
async fn find_managed(state: &AppState, admin: &Principal, id: &str) -> AppResult<integrator_client::Model> {
    access::require_role(admin, Role::Admin)?;
    integrator_client::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .filter(|client| region_of(client).is_ok_and(|region| access::covers(&state.regions, admin, region)))
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))
}

/// A new secret for a client (shown once); the old one and its tokens stop
/// working. Returns the client id and the secret.
pub async fn rotate(
    state: &AppState,
    request: &RequestContext,
    admin: &Principal,
    id: &str,
) -> AppResult<(String, String)> {
    let client = find_managed(state, admin, id).await?;
    if client.revoked_at.is_some() {
        return Err(AppError::new(ErrorCode::InvalidState));
    }
    let secret = random("cs_", 32);
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    integrator_client::Entity::update_many()
        .set(integrator_client::ActiveModel {
            secret_hash: Set(secret_hash(&secret)),
            ..Default::default()
        })
        .filter(integrator_client::Column::Id.eq(id))
        .exec(&transaction)
        .await?;
    audit_admin(&transaction, request, admin, "client.rotate", &client).await?;
    transaction.commit().await?;
    state
        .sessions
        .revoke_all(Audience::Integrator, &client.client_id)
        .await?;
    Ok((client.client_id, secret))
}

/// Revokes a client: its credentials and every token it holds stop working at once.
pub async fn revoke(state: &AppState, request: &RequestContext, admin: &Principal, id: &str) -> AppResult<()> {
    let client = find_managed(state, admin, id).await?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    integrator_client::Entity::update_many()
        .set(integrator_client::ActiveModel {
            revoked_at: Set(Some(Utc::now())),
            ..Default::default()
        })
        .filter(integrator_client::Column::Id.eq(id))
        .filter(integrator_client::Column::RevokedAt.is_null())
        .exec(&transaction)
        .await?;
    audit_admin(&transaction, request, admin, "client.revoke", &client).await?;
    transaction.commit().await?;
    state
        .sessions
        .revoke_all(Audience::Integrator, &client.client_id)
        .await?;
    Ok(())
}

async fn audit_admin(
    db: &impl sea_orm::ConnectionTrait,
    request: &RequestContext,
    admin: &Principal,
    action: &'static str,
    client: &integrator_client::Model,
) -> AppResult<()> {
    audit::record(
        db,
        Some(request),
        Event {
            actor: Actor::Principal(admin),
            action,
            target: Some(("client", &client.client_id)),
            region: Some(region_of(client)?),
            outcome: Outcome::Success,
            details: None,
        },
    )
    .await
}
