//! A relative accepts a worker's invitation with its one-time code.
//!
//! Each try is counted before the code is looked at (ten a day per
//! account; a success gives its try back). Unlike a claim code, an
//! invitation's code names no case and no ID number, so the answers tell
//! the relative plainly what went wrong: a wrong code, one that expired,
//! was used, or was withdrawn, or their own.

use std::time::Duration;

use chrono::Utc;
use entity::relative_grant;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::{ActingFor, seen_by_relative};
use crate::{
    auth::Principal,
    context::RequestContext,
    error::{AppError, AppResult, ErrorCode},
    infra::crypto::Purpose,
    services::{
        audit::{self, Actor, Event, Outcome},
        one_time_codes::{self, Tries},
    },
    state::AppState,
};

/// Invitation codes a relative may try in a day.
pub const INVITATION_TRIES: Tries = Tries {
    name: "invitation_tries",
    max: 10,
    window: Duration::from_secs(24 * 3600),
};

/// Why a found invitation cannot be accepted by this relative, if it cannot.
fn refusal(grant: &relative_grant::Model, relative: &Principal) -> Option<ErrorCode> {
    if grant.worker_id == relative.subject {
        Some(ErrorCode::SelfInvitation)
    } else if grant.revoked_at.is_some() {
        Some(ErrorCode::InvitationWithdrawn)
    } else if grant.relative_id.is_some() {
        Some(ErrorCode::InvitationUsed)
    } else if grant.expires_at <= Utc::now() {
        Some(ErrorCode::InvitationExpired)
    } else {
        None
    }
}

async fn refuse(
    state: &AppState,
    request: &RequestContext,
    relative: &Principal,
    grant: Option<&relative_grant::Model>,
    code: ErrorCode,
) -> AppResult<ActingFor> {
    let event = Event {
        actor: Actor::Principal(relative),
        action: "relative.accept",
        target: grant.map(|grant| ("relative_grant", grant.id.as_str())),
        region: None,
        outcome: Outcome::Denied,
        details: Some(json!({ "reason": code.as_str() })),
    };
    audit::record(&state.db, Some(request), event).await?;
    Err(AppError::new(code))
}

/// The relative accepts the invitation `code`: from now on they may act for
/// the worker who sent it, within its rights.
pub async fn accept(
    state: &AppState,
    request: &RequestContext,
    relative: &Principal,
    code: &str,
) -> AppResult<ActingFor> {
    if !INVITATION_TRIES.spend(state, &relative.subject).await? {
        return Err(AppError::new(ErrorCode::InvitationTriesExhausted).with_retry_after(INVITATION_TRIES.window));
    }
    let grant = match one_time_codes::hashes(&state.protector, Purpose::RelativeInvitation, code) {
        Some(hashes) => {
            relative_grant::Entity::find()
                .filter(relative_grant::Column::CodeHash.is_in(hashes))
                .one(&state.db)
                .await?
        }
        None => None,
    };
    let Some(grant) = grant else {
        return refuse(state, request, relative, None, ErrorCode::InvitationCodeInvalid).await;
    };
    if let Some(reason) = refusal(&grant, relative) {
        return refuse(state, request, relative, Some(&grant), reason).await;
    }
    let already = relative_grant::Entity::find()
        .filter(relative_grant::Column::WorkerId.eq(&grant.worker_id))
        .filter(relative_grant::Column::RelativeId.eq(&relative.subject))
        .filter(relative_grant::Column::RevokedAt.is_null())
        .one(&state.db)
        .await?;
    if already.is_some() {
        return refuse(state, request, relative, Some(&grant), ErrorCode::AlreadyRelative).await;
    }
    let accepted = take(state, request, relative, &grant).await?;
    INVITATION_TRIES.give_back(state, &relative.subject).await?;
    let person = entity::worker::Entity::find_by_id(accepted.worker_id.clone())
        .one(&state.db)
        .await?;
    Ok(seen_by_relative(state, accepted, person.as_ref()))
}

/// Binds the grant to the relative, unless someone was faster (the code
/// works once), and audits it.
async fn take(
    state: &AppState,
    request: &RequestContext,
    relative: &Principal,
    grant: &relative_grant::Model,
) -> AppResult<relative_grant::Model> {
    let now = Utc::now();
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let taken = relative_grant::Entity::update_many()
        .set(relative_grant::ActiveModel {
            relative_id: Set(Some(relative.subject.clone())),
            accepted_at: Set(Some(now)),
            ..Default::default()
        })
        .filter(relative_grant::Column::Id.eq(&grant.id))
        .filter(relative_grant::Column::RelativeId.is_null())
        .filter(relative_grant::Column::RevokedAt.is_null())
        .filter(relative_grant::Column::ExpiresAt.gt(now))
        .exec(&transaction)
        .await?;
    if taken.rows_affected == 0 {
        return Err(AppError::new(ErrorCode::InvitationUsed));
    }
    let details = json!({ "worker_id": grant.worker_id, "rights": grant.rights });
    let event = Event::success(
        relative,
        "relative.accept",
        ("relative_grant", &grant.id),
        None,
        Some(details),
    );
    audit::record(&transaction, Some(request), event).await?;
    let accepted = relative_grant::Entity::find_by_id(grant.id.clone())
        .one(&transaction)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("an accepted grant vanished")))?;
    transaction.commit().await?;
    Ok(accepted)
}
