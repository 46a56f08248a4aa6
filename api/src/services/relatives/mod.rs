//! 亲情代办: someone a worker trusts acts for them.
//!
//! A worker invites up to eight relatives (pending invitations included)
//! with a one-time code (`one_time_codes`: its keyed hash is kept, it expires
//! after 72 hours, it works once, and wrong tries are bounded). A relative,
//! signed in with their own WeChat, accepts it (`accept`) and then switches
//! to the worker request by request (`X-Acting-For`, see `acting`), within
//! the rights granted: the guard checks the grant live on every request, so
//! a revocation refuses the relative's very next request. Every act is
//! audited as the relative's on the worker's behalf, and every case change
//! names the grant in the case's history (`labels`).

pub mod accept;
pub mod acting;
pub mod labels;

use chrono::{DateTime, TimeDelta, Utc};
use entity::{relative_grant, worker};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;

use crate::{
    auth::{Principal, Right},
    context::RequestContext,
    domain::{PhoneNumber, TextType, masked_name},
    error::{AppError, AppResult, ErrorCode},
    infra::crypto::{Field, Purpose},
    services::{
        audit::{self, Event},
        one_time_codes,
    },
    state::AppState,
};

/// How long an invitation's code works.
pub const INVITATION_LIFETIME: TimeDelta = TimeDelta::hours(72);
/// Relatives a worker may have at once, pending invitations included.
pub const MAX_RELATIVES: u64 = 8;

/// Where a grant stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantStatus {
    /// Invited; the code works until `expires_at`.
    Pending,
    /// Accepted: the relative acts for the worker.
    Active,
}

impl GrantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantStatus::Pending => "pending",
            GrantStatus::Active => "active",
        }
    }
}

/// A relative (or an invitation) as the worker sees it.
#[derive(Debug, Clone)]
pub struct Relative {
    pub id: String,
    pub relation: String,
    pub rights: Vec<Right>,
    pub may_see_personal_data: bool,
    pub status: GrantStatus,
    /// The relative's name, masked (张*); none while pending.
    pub name_masked: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
}

/// What the worker grants with an invitation.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    /// What the worker calls the relative: 妻子, 儿子…
    pub relation: String,
    pub rights: Vec<Right>,
    pub may_see_personal_data: bool,
}

/// A new invitation with its code, shown this once.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub relative: Relative,
    pub code: String,
}

/// A worker a relative may act for, as the relative sees them: the name
/// and phone in clear only when the worker allowed it.
#[derive(Debug, Clone)]
pub struct ActingFor {
    pub grant_id: String,
    pub relation: String,
    pub rights: Vec<Right>,
    pub may_see_personal_data: bool,
    pub worker_name: Option<String>,
    pub worker_phone: Option<String>,
    pub accepted_at: Option<DateTime<Utc>>,
}

/// The rights as stored: names joined by commas, in a fixed order.
fn rights_text(rights: &[Right]) -> String {
    Right::ALL
        .iter()
        .filter(|right| rights.contains(right))
        .map(|right| right.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn parse_rights(text: &str) -> Vec<Right> {
    text.split(',').filter_map(Right::parse).collect()
}

fn relative_of(row: relative_grant::Model, name: Option<&str>) -> Relative {
    let status = if row.relative_id.is_some() {
        GrantStatus::Active
    } else {
        GrantStatus::Pending
    };
    Relative {
        rights: parse_rights(&row.rights),
        name_masked: name.map(masked_name),
        expires_at: (status == GrantStatus::Pending).then_some(row.expires_at),
        id: row.id,
        relation: row.relation,
        may_see_personal_data: row.may_see_personal_data,
        status,
        created_at: row.created_at,
        accepted_at: row.accepted_at,
    }
}

/// The grants that count against the worker's eight: active ones and
/// invitations still open.
fn counted(worker_id: &str, now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(relative_grant::Column::WorkerId.eq(worker_id))
        .add(relative_grant::Column::RevokedAt.is_null())
        .add(
            Condition::any()
                .add(relative_grant::Column::RelativeId.is_not_null())
                .add(relative_grant::Column::ExpiresAt.gt(now)),
        )
}

/// A worker invites a relative: a grant waiting for its code. At most
/// `MAX_RELATIVES` active relatives and open invitations at once (the
/// worker's row is locked while they are counted, so two invitations at
/// once cannot both take the eighth place).
pub async fn invite(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    new: NewInvitation,
) -> AppResult<Invitation> {
    let code = one_time_codes::new_code();
    let now = Utc::now();
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    worker::Entity::find_by_id(worker.subject.clone())
        .lock_exclusive()
        .one(&transaction)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::SessionEnded))?;
    let taken = sea_orm::PaginatorTrait::count(
        relative_grant::Entity::find().filter(counted(&worker.subject, now)),
        &transaction,
    )
    .await?;
    if taken >= MAX_RELATIVES {
        return Err(AppError::new(ErrorCode::RelativesLimitReached).with_details(json!({ "max": MAX_RELATIVES })));
    }
    let row = relative_grant::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        worker_id: Set(worker.subject.clone()),
        relative_id: Set(None),
        relation: Set(new.relation),
        rights: Set(rights_text(&new.rights)),
        may_see_personal_data: Set(new.may_see_personal_data),
        code_hash: Set(one_time_codes::hash(
            &state.protector,
            Purpose::RelativeInvitation,
            &code,
        )),
        expires_at: Set(now + INVITATION_LIFETIME),
        created_at: Set(now),
        accepted_at: Set(None),
        revoked_at: Set(None),
        revoked_by: Set(None),
    }
    .insert(&transaction)
    .await?;
    let details = json!({ "rights": row.rights, "may_see_personal_data": row.may_see_personal_data });
    let event = Event::success(
        worker,
        "relative.invite",
        ("relative_grant", &row.id),
        None,
        Some(details),
    );
    audit::record(&transaction, Some(request), event).await?;
    transaction.commit().await?;
    Ok(Invitation {
        relative: relative_of(row, None),
        code,
    })
}

/// The worker's relatives and open invitations, oldest first.
pub async fn list(state: &AppState, worker: &Principal) -> AppResult<Vec<Relative>> {
    let rows = relative_grant::Entity::find()
        .filter(counted(&worker.subject, Utc::now()))
        .order_by_asc(relative_grant::Column::CreatedAt)
        .order_by_asc(relative_grant::Column::Id)
        .all(&state.db)
        .await?;
    let relative_ids: Vec<String> = rows.iter().filter_map(|row| row.relative_id.clone()).collect();
    let names = labels::names(&state.db, relative_ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let name = row.relative_id.as_ref().and_then(|id| names.get(id)).cloned();
            relative_of(row, name.as_deref())
        })
        .collect())
}

/// Ends a grant (or withdraws an invitation) at once: the relative's next
/// request under it is refused. `by` is who ends it: the worker, or the
/// relative giving it up. Ending an ended grant again is no error; a
/// stranger's grant is not found.
async fn end(state: &AppState, request: &RequestContext, who: &Principal, grant_id: &str, by: Ender) -> AppResult<()> {
    let owner = match by {
        Ender::Worker => relative_grant::Column::WorkerId,
        Ender::Relative => relative_grant::Column::RelativeId,
    };
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let grant = relative_grant::Entity::find_by_id(grant_id.to_owned())
        .filter(owner.eq(&who.subject))
        .one(&transaction)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    if grant.revoked_at.is_some() {
        return Ok(());
    }
    let mut active: relative_grant::ActiveModel = grant.clone().into();
    active.revoked_at = Set(Some(Utc::now()));
    active.revoked_by = Set(Some(by.as_str().to_owned()));
    active.update(&transaction).await?;
    let details = json!({ "worker_id": grant.worker_id, "relative_id": grant.relative_id, "by": by.as_str() });
    let event = Event::success(
        who,
        "relative.revoke",
        ("relative_grant", grant_id),
        None,
        Some(details),
    );
    audit::record(&transaction, Some(request), event).await?;
    transaction.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Ender {
    Worker,
    Relative,
}

impl Ender {
    fn as_str(self) -> &'static str {
        match self {
            Ender::Worker => "worker",
            Ender::Relative => "relative",
        }
    }
}

/// The worker revokes a relative, or withdraws an invitation.
pub async fn revoke(state: &AppState, request: &RequestContext, worker: &Principal, grant_id: &str) -> AppResult<()> {
    end(state, request, worker, grant_id, Ender::Worker).await
}

/// The relative gives up acting for a worker.
pub async fn give_up(
    state: &AppState,
    request: &RequestContext,
    relative: &Principal,
    grant_id: &str,
) -> AppResult<()> {
    end(state, request, relative, grant_id, Ender::Relative).await
}

/// Whom the relative may act for, oldest grant first.
pub async fn acting_for(state: &AppState, relative: &Principal) -> AppResult<Vec<ActingFor>> {
    let grants = relative_grant::Entity::find()
        .filter(relative_grant::Column::RelativeId.eq(&relative.subject))
        .filter(relative_grant::Column::RevokedAt.is_null())
        .order_by_asc(relative_grant::Column::AcceptedAt)
        .all(&state.db)
        .await?;
    let mut found = Vec::with_capacity(grants.len());
    for grant in grants {
        let person = worker::Entity::find_by_id(grant.worker_id.clone())
            .one(&state.db)
            .await?;
        found.push(seen_by_relative(state, grant, person.as_ref()));
    }
    Ok(found)
}

fn seen_by_relative(state: &AppState, grant: relative_grant::Model, person: Option<&worker::Model>) -> ActingFor {
    let clear = grant.may_see_personal_data;
    let name = person.and_then(|p| p.real_name.as_deref());
    let phone = person.and_then(|p| {
        let sealed = p.phone_cipher.as_deref()?;
        let plain = state.protector.decrypt(Field::WorkerPhone, &p.id, sealed).ok()?;
        let phone = PhoneNumber::parse(&plain).ok()?;
        Some(if clear { plain } else { phone.masked() })
    });
    ActingFor {
        rights: parse_rights(&grant.rights),
        worker_name: name.map(|name| if clear { name.to_owned() } else { masked_name(name) }),
        worker_phone: phone,
        grant_id: grant.id,
        relation: grant.relation,
        may_see_personal_data: clear,
        accepted_at: grant.accepted_at,
    }
}

/// Ends every grant a closing account gives or holds, at once.
pub async fn end_all_of(db: &impl ConnectionTrait, account_id: &str) -> AppResult<u64> {
    let ended = relative_grant::Entity::update_many()
        .set(relative_grant::ActiveModel {
            revoked_at: Set(Some(Utc::now())),
            revoked_by: Set(Some("closure".to_owned())),
            ..Default::default()
        })
        .filter(relative_grant::Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(relative_grant::Column::WorkerId.eq(account_id))
                .add(relative_grant::Column::RelativeId.eq(account_id)),
        )
        .exec(db)
        .await?;
    Ok(ended.rows_affected)
}
