//! A relative acting for a worker, request by request: the grant is read
//! live on every request (`act_for`), so a revocation refuses the very next
//! one, and every request made for someone else, answered or refused, is an
//! audit row `relative.act` naming the relative (the actor), the worker (the
//! target) and the grant; the worker reads them as their list of acts.

use chrono::{DateTime, Utc};
use entity::{audit_log, relative_grant};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use super::{labels, parse_rights};
use crate::{
    access,
    auth::{Acting, Audience, Principal},
    context::RequestContext,
    error::{AppError, AppResult, ErrorCode},
    services::audit::{self, Actor, Event, Outcome},
    state::AppState,
};

/// One request a relative makes for a worker, as the guard saw it.
#[derive(Debug, Clone)]
pub struct ActRequest {
    /// The grant named by `X-Acting-For`, as sent.
    pub grant_id: String,
    pub operation_id: Option<String>,
    pub method: String,
    pub path: String,
}

impl ActRequest {
    fn details(&self, status: u16, reason: Option<ErrorCode>) -> Value {
        let what = self
            .operation_id
            .as_deref()
            .and_then(access::delegable)
            .map(|delegable| delegable.what);
        json!({
            "operation": self.operation_id,
            "what": what,
            "method": self.method,
            "path": self.path,
            "status": status,
            "reason": reason.map(ErrorCode::as_str),
        })
    }
}

/// The principal of a request `caller` makes for another worker: the
/// worker's, with `acting` naming the relative and the grant. Refused (403)
/// when the grant is not the caller's or not live, or the operation is not
/// one the grant opens (`access::require_delegated`); each refusal is
/// audited.
pub async fn act_for(
    state: &AppState,
    request: &RequestContext,
    caller: &Principal,
    act: &ActRequest,
) -> AppResult<Principal> {
    let grant = match caller.audience {
        Audience::Worker if caller.acting.is_none() => grant_of(state, caller, &act.grant_id).await?,
        _ => None,
    };
    let Some(grant) = grant else {
        let code = match caller.audience {
            Audience::Worker => ErrorCode::ActingGrantUnknown,
            _ => ErrorCode::ActingNotDelegable,
        };
        record(state, request, caller, None, act, 403, Some(code)).await;
        return Err(AppError::new(code));
    };
    let mut principal = caller.clone();
    principal.subject = grant.worker_id.clone();
    principal.acting = Some(Acting {
        relative_id: caller.subject.clone(),
        grant_id: grant.id.clone(),
        rights: parse_rights(&grant.rights),
        may_see_personal_data: grant.may_see_personal_data,
    });
    let refused = if grant.revoked_at.is_some() {
        Err(AppError::new(ErrorCode::ActingRevoked))
    } else {
        let acting = principal.acting.as_ref().expect("just set");
        access::require_delegated(acting, act.operation_id.as_deref()).map(|_| ())
    };
    if let Err(error) = refused {
        record(
            state,
            request,
            &principal,
            Some(&grant.worker_id),
            act,
            403,
            Some(error.code),
        )
        .await;
        return Err(error);
    }
    Ok(principal)
}

/// The caller's grant `grant_id`, revoked or not; none when there is no
/// such grant or it is another relative's.
async fn grant_of(state: &AppState, caller: &Principal, grant_id: &str) -> AppResult<Option<relative_grant::Model>> {
    if grant_id.is_empty() || grant_id.len() > 36 {
        return Ok(None);
    }
    Ok(relative_grant::Entity::find_by_id(grant_id.to_owned())
        .filter(relative_grant::Column::RelativeId.eq(&caller.subject))
        .one(&state.db)
        .await?)
}

/// Records what became of a request a relative made for a worker. The
/// answer has gone out by then: a failure to record is logged, not raised.
pub async fn record_answered(
    state: &AppState,
    request: &RequestContext,
    acting: &Principal,
    act: &ActRequest,
    status: u16,
) {
    record(state, request, acting, Some(&acting.subject), act, status, None).await;
}

async fn record(
    state: &AppState,
    request: &RequestContext,
    actor: &Principal,
    worker_id: Option<&str>,
    act: &ActRequest,
    status: u16,
    reason: Option<ErrorCode>,
) {
    let outcome = match status {
        200..=399 => Outcome::Success,
        403 => Outcome::Denied,
        _ => Outcome::Failure,
    };
    let mut details = act.details(status, reason);
    if actor.acting.is_none() {
        details["grant_id"] = Value::String(act.grant_id.chars().take(64).collect());
    }
    let event = Event {
        actor: Actor::Principal(actor),
        action: "relative.act",
        target: worker_id.map(|id| ("worker", id)),
        region: None,
        outcome,
        details: Some(details),
    };
    if let Err(error) = audit::record(&state.db, Some(request), event).await {
        metrics::counter!("shiminhua_relative_act_unrecorded_total").increment(1);
        tracing::error!(error = %error, "a relative's act was not recorded");
    }
}

/// One act of a relative for the worker, as the worker reads it.
#[derive(Debug, Clone)]
pub struct Act {
    pub at: DateTime<Utc>,
    pub grant_id: Option<String>,
    /// Who acted: 妻子 王*, from the grant and the relative's profile.
    pub by: String,
    /// What it was, in plain Chinese (`提交欠薪线索`).
    pub what: Option<String>,
    pub operation: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    /// The answer's HTTP status.
    pub status: Option<i64>,
    /// `success`, `denied` (refused by the grant's rules) or `failure`.
    pub outcome: String,
    /// Why it was refused: the problem code.
    pub reason: Option<String>,
}

/// Every act of the worker's relatives, newest first; with `grant_id`,
/// those of that grant's relative only (404 unless the grant is the worker's).
pub async fn acts(
    state: &AppState,
    worker: &Principal,
    grant_id: Option<&str>,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Act>, u64)> {
    let mut select = audit_log::Entity::find()
        .filter(audit_log::Column::TargetId.eq(&worker.subject))
        .filter(audit_log::Column::Action.eq("relative.act"))
        .filter(audit_log::Column::TargetType.eq("worker"))
        .order_by_desc(audit_log::Column::Id);
    if let Some(grant_id) = grant_id {
        let grant = relative_grant::Entity::find_by_id(grant_id.to_owned())
            .filter(relative_grant::Column::WorkerId.eq(&worker.subject))
            .one(&state.db)
            .await?
            .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
        let Some(relative_id) = grant.relative_id else {
            return Ok((Vec::new(), 0));
        };
        select = select.filter(audit_log::Column::ActorId.eq(relative_id));
    }
    let paginator = select.paginate(&state.db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    let details: Vec<Value> = rows
        .iter()
        .map(|row| {
            row.details
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or(Value::Null)
        })
        .collect();
    let grant_ids = details.iter().filter_map(|d| d["grant_id"].as_str().map(str::to_owned));
    let names = labels::of_grants(&state.db, grant_ids.collect()).await?;
    let text = |value: &Value| value.as_str().map(str::to_owned);
    let acts = rows
        .into_iter()
        .zip(details)
        .map(|(row, details)| Act {
            at: row.at,
            by: text(&details["grant_id"])
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| labels::UNNAMED.to_owned()),
            grant_id: text(&details["grant_id"]),
            what: text(&details["what"]),
            operation: text(&details["operation"]),
            method: text(&details["method"]),
            path: text(&details["path"]),
            status: details["status"].as_i64(),
            outcome: row.outcome,
            reason: text(&details["reason"]),
        })
        .collect();
    Ok((acts, total))
}
