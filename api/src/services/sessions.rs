//! Session operations shared by workers and staff: refresh and sign-out.

use entity::worker;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::{
    auth::{
        Audience, Principal,
        sessions::{Issued, RefreshRefusal},
        tokens::ACCESS_TOKEN_LIFETIME,
    },
    context::RequestContext,
    error::{AppError, AppResult, ErrorCode},
    services::{
        audit::{self, Actor, Event, Outcome},
        staff,
    },
    state::AppState,
};

/// Rotates a refresh token and mints a new access token. A staff member's
/// roles and region are read again, and a disabled account is refused; a
/// rotated token presented again revokes its whole session.
pub async fn refresh(state: &AppState, request: &RequestContext, presented: &str) -> AppResult<Issued> {
    let (mut principal, refresh_token) = match state.sessions.refresh(presented).await? {
        Ok(rotated) => rotated,
        Err(refusal) => {
            if refusal == RefreshRefusal::Reused {
                audit::record(
                    &state.db,
                    Some(request),
                    Event {
                        actor: Actor::Anonymous { claimed: None },
                        action: "session.refresh_token_reused",
                        target: None,
                        region: None,
                        outcome: Outcome::Denied,
                        details: Some(json!({ "effect": "session revoked" })),
                    },
                )
                .await?;
            }
            return Err(AppError::new(ErrorCode::RefreshTokenInvalid));
        }
    };
    let still_valid = match principal.audience {
        Audience::Staff => staff::active_member(&state.db, &principal.subject).await.map(|member| {
            let fresh = staff::principal_of(&member);
            principal.roles = fresh.roles;
            principal.region = fresh.region;
        }),
        Audience::Worker => worker::Entity::find_by_id(principal.subject.clone())
            .one(&state.db)
            .await?
            .map(|_| ())
            .ok_or_else(|| AppError::new(ErrorCode::SessionEnded)),
        Audience::Integrator => Err(AppError::new(ErrorCode::RefreshTokenInvalid)),
    };
    if let Err(error) = still_valid {
        state.sessions.close(&principal.session_id).await?;
        return Err(error);
    }
    Ok(Issued {
        access_token: state.sessions.access_token(&principal),
        refresh_token: Some(refresh_token),
        expires_in: ACCESS_TOKEN_LIFETIME.as_secs(),
    })
}

pub async fn logout(state: &AppState, request: &RequestContext, principal: &Principal) -> AppResult<()> {
    state.sessions.close(&principal.session_id).await?;
    audit::record(
        &state.db,
        Some(request),
        Event {
            actor: Actor::Principal(principal),
            action: "session.logout",
            target: None,
            region: principal.region,
            outcome: Outcome::Success,
            details: None,
        },
    )
    .await
}
