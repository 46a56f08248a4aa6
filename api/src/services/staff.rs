//! Staff accounts: password sign-in with lockout, and creation by an
//! administrator (or by `shiminhua create-admin` for the first one).

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use entity::staff_account;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ExprTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, SqlErr, sea_query::Expr,
};
use serde_json::json;

use crate::{
    auth::{Audience, Principal, Role, password, sessions::Issued},
    domain::{RegionCode, TextType, Username},
    error::{AppError, AppResult, ErrorCode},
    http::gateway::RequestContext,
    services::audit::{self, Actor, Event, Outcome},
    state::AppState,
};

/// Consecutive failures that lock an account.
pub const LOCK_AFTER_FAILURES: i32 = 5;
pub const LOCK_DURATION: ChronoDuration = ChronoDuration::minutes(30);

#[derive(Debug, Clone)]
pub struct StaffMember {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub region_code: RegionCode,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

pub struct NewStaff {
    pub username: Username,
    pub display_name: String,
    pub password: String,
    pub roles: Vec<Role>,
    pub region_code: RegionCode,
}

pub fn roles_of(stored: &str) -> Vec<Role> {
    stored.split(',').filter_map(Role::parse).collect()
}

fn member(row: &staff_account::Model) -> AppResult<StaffMember> {
    Ok(StaffMember {
        id: row.id.clone(),
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        roles: roles_of(&row.roles),
        region_code: RegionCode::parse(&row.region_code)
            .map_err(|_| AppError::internal(anyhow::anyhow!("staff {} has a malformed region", row.id)))?,
        disabled: row.disabled,
        created_at: row.created_at,
    })
}

/// The principal a staff member signs in as: roles and region come from the account.
pub fn principal_of(member: &StaffMember) -> Principal {
    Principal {
        audience: Audience::Staff,
        subject: member.id.clone(),
        session_id: String::new(),
        roles: member.roles.clone(),
        region: Some(member.region_code),
        scopes: Vec::new(),
    }
}

async fn verify_password(password: String, hash: String) -> AppResult<bool> {
    // argon2 is deliberately slow: keep it off the async workers.
    tokio::task::spawn_blocking(move || password::verify(&password, &hash))
        .await
        .map_err(AppError::internal)
}

async fn audit_login(
    state: &AppState,
    request: &RequestContext,
    username: &str,
    outcome: Outcome,
    reason: &str,
) -> AppResult<()> {
    audit::record(
        &state.db,
        Some(request),
        Event {
            actor: Actor::Anonymous {
                claimed: Some(username),
            },
            action: "staff.login",
            target: None,
            region: None,
            outcome,
            details: Some(json!({ "reason": reason })),
        },
    )
    .await
}

/// Signs a staff member in. Five wrong passwords in a row lock the account
/// for 30 minutes; while locked, even the right password is refused.
pub async fn login(
    state: &AppState,
    request: &RequestContext,
    username: &str,
    password: &str,
) -> AppResult<(Issued, StaffMember)> {
    let username = username.trim().to_lowercase();
    let Some(row) = staff_account::Entity::find()
        .filter(staff_account::Column::Username.eq(&username))
        .one(&state.db)
        .await?
    else {
        verify_password(password.to_owned(), password::decoy_hash().to_owned()).await?;
        audit_login(state, request, &username, Outcome::Failure, "unknown_username").await?;
        return Err(AppError::new(ErrorCode::InvalidCredentials));
    };
    let now = Utc::now();
    if let Some(until) = row.locked_until.filter(|until| *until > now) {
        audit_login(state, request, &username, Outcome::Denied, "locked").await?;
        return Err(locked(until));
    }
    if !verify_password(password.to_owned(), row.password_hash.clone()).await? {
        return Err(record_failure(state, request, &row).await?);
    }
    if row.disabled {
        audit_login(state, request, &username, Outcome::Denied, "disabled").await?;
        return Err(AppError::new(ErrorCode::AccountDisabled));
    }
    if row.failed_attempts != 0 || row.locked_until.is_some() {
        let mut active = row.clone().into_active_model();
        active.failed_attempts = Set(0);
        active.locked_until = Set(None);
        active.update(&state.db).await?;
    }
    let member = member(&row)?;
    let (principal, issued) = state.sessions.open(principal_of(&member)).await?;
    audit::record(
        &state.db,
        Some(request),
        Event {
            actor: Actor::Principal(&principal),
            action: "staff.login",
            target: Some(("staff", &member.id)),
            region: principal.region,
            outcome: Outcome::Success,
            details: None,
        },
    )
    .await?;
    Ok((issued, member))
}

fn locked(until: DateTime<Utc>) -> AppError {
    let seconds = Ord::max((until - Utc::now()).num_seconds(), 1) as u64;
    AppError::new(ErrorCode::AccountLocked)
        .with_details(json!({ "locked_until": until.to_rfc3339() }))
        .with_retry_after(std::time::Duration::from_secs(seconds))
}

/// Counts a wrong password atomically (concurrent attempts all count) and
/// locks the account at the fifth; returns what the client is told.
async fn record_failure(state: &AppState, request: &RequestContext, row: &staff_account::Model) -> AppResult<AppError> {
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    staff_account::Entity::update_many()
        .col_expr(
            staff_account::Column::FailedAttempts,
            Expr::col(staff_account::Column::FailedAttempts).add(1),
        )
        .filter(staff_account::Column::Id.eq(&row.id))
        .exec(&transaction)
        .await?;
    let current = staff_account::Entity::find_by_id(row.id.clone())
        .one(&transaction)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::InvalidCredentials))?;
    let error = if current.failed_attempts >= LOCK_AFTER_FAILURES {
        let until = Utc::now() + LOCK_DURATION;
        let mut active = current.into_active_model();
        active.failed_attempts = Set(0);
        active.locked_until = Set(Some(until));
        active.update(&transaction).await?;
        locked(until)
    } else {
        AppError::new(ErrorCode::InvalidCredentials)
    };
    let reason = if error.code == ErrorCode::AccountLocked {
        "locked_now"
    } else {
        "wrong_password"
    };
    transaction.commit().await?;
    audit_login(state, request, &row.username, Outcome::Failure, reason).await?;
    Ok(error)
}

/// Creates an account. `actor` is the administrator doing it, or `None` for
/// the command line; an administrator may only create staff inside their region.
pub async fn create(
    db: &DatabaseConnection,
    regions: &crate::services::regions::RegionDirectory,
    request: Option<&RequestContext>,
    actor: Option<&Principal>,
    new: NewStaff,
) -> AppResult<StaffMember> {
    if let Some(actor) = actor {
        require_role(actor, Role::Admin)?;
        if !actor.covers(regions, new.region_code) {
            return Err(AppError::new(ErrorCode::OutOfRegionScope));
        }
    }
    if !new.region_code.is_national() {
        regions.require(new.region_code)?;
    }
    if new.roles.is_empty() {
        return Err(AppError::invalid_field(
            "roles",
            crate::error::Localized::fixed("请至少选择一个角色。", "Give at least one role."),
        ));
    }
    if let Some(weakness) = password::weakness(&new.password, new.username.as_str()) {
        return Err(AppError::invalid_field("password", weakness));
    }
    let display_name = new.display_name.trim().to_owned();
    let password = new.password;
    let hash = tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(AppError::internal)?;
    let mut roles: Vec<&str> = new.roles.iter().map(|r| r.as_str()).collect();
    roles.sort_unstable();
    roles.dedup();
    let now = Utc::now();
    let transaction = crate::infra::db::begin_write(db).await?;
    let row = staff_account::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        username: Set(new.username.as_str().to_owned()),
        display_name: Set(display_name),
        password_hash: Set(hash),
        roles: Set(roles.join(",")),
        region_code: Set(new.region_code.as_str().to_owned()),
        disabled: Set(false),
        failed_attempts: Set(0),
        locked_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&transaction)
    .await
    .map_err(|err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::new(ErrorCode::UsernameTaken),
        _ => err.into(),
    })?;
    audit::record(
        &transaction,
        request,
        Event {
            actor: actor.map_or(Actor::System, Actor::Principal),
            action: "staff.create",
            target: Some(("staff", &row.id)),
            region: RegionCode::parse(&row.region_code).ok(),
            outcome: Outcome::Success,
            details: Some(json!({ "roles": roles, "region_code": row.region_code })),
        },
    )
    .await?;
    transaction.commit().await?;
    member(&row)
}

pub fn require_role(principal: &Principal, role: Role) -> AppResult<()> {
    if principal.has_role(role) {
        Ok(())
    } else {
        Err(AppError::new(ErrorCode::RoleRequired).with_details(json!({ "role": role.as_str() })))
    }
}

/// Passes when the principal holds at least one of `roles`.
pub fn require_any_role(principal: &Principal, roles: &[Role]) -> AppResult<()> {
    if roles.iter().any(|role| principal.has_role(*role)) {
        Ok(())
    } else {
        let names: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
        Err(AppError::new(ErrorCode::RoleRequired).with_details(json!({ "role": names.join(" | ") })))
    }
}

/// The account behind a refreshed staff session, refused if it was disabled meanwhile.
pub async fn active_member(db: &impl ConnectionTrait, staff_id: &str) -> AppResult<StaffMember> {
    let row = staff_account::Entity::find_by_id(staff_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::SessionEnded))?;
    if row.disabled {
        return Err(AppError::new(ErrorCode::AccountDisabled));
    }
    member(&row)
}

/// Staff of the administrator's region and below, by username.
pub async fn list(
    state: &AppState,
    admin: &Principal,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<StaffMember>, u64)> {
    require_role(admin, Role::Admin)?;
    let mut query = staff_account::Entity::find().order_by_asc(staff_account::Column::Username);
    if let Some(codes) = state.regions.staff_scope(admin, None)? {
        query = query.filter(staff_account::Column::RegionCode.is_in(codes));
    }
    let paginator = query.paginate(&state.db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    Ok((rows.iter().map(member).collect::<AppResult<Vec<_>>>()?, total))
}

/// What an administrator may change about an account; fields left out stay.
#[derive(Debug, Default)]
pub struct StaffChange {
    pub display_name: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub region_code: Option<RegionCode>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

/// Changes an account inside the administrator's region. Disabling it, or
/// changing its roles, region or password, ends every session it has at once.
pub async fn change(
    state: &AppState,
    request: &RequestContext,
    admin: &Principal,
    staff_id: &str,
    change: StaffChange,
) -> AppResult<StaffMember> {
    require_role(admin, Role::Admin)?;
    let row = staff_account::Entity::find_by_id(staff_id.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    let current = member(&row)?;
    if !admin.covers(&state.regions, current.region_code) {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    if let Some(region) = change.region_code {
        if !admin.covers(&state.regions, region) {
            return Err(AppError::new(ErrorCode::OutOfRegionScope));
        }
        if !region.is_national() {
            state.regions.require(region)?;
        }
    }
    if change.roles.as_ref().is_some_and(Vec::is_empty) {
        return Err(AppError::invalid_field(
            "roles",
            crate::error::Localized::fixed("请至少选择一个角色。", "Give at least one role."),
        ));
    }
    let hash = match change.password {
        Some(password) => {
            if let Some(weakness) = password::weakness(&password, &row.username) {
                return Err(AppError::invalid_field("password", weakness));
            }
            Some(
                tokio::task::spawn_blocking(move || password::hash(&password))
                    .await
                    .map_err(AppError::internal)?,
            )
        }
        None => None,
    };
    let ends_sessions =
        change.disabled == Some(true) || change.roles.is_some() || change.region_code.is_some() || hash.is_some();
    let mut active = row.clone().into_active_model();
    let mut changed: Vec<&str> = Vec::new();
    if let Some(name) = change.display_name {
        active.display_name = Set(name.trim().to_owned());
        changed.push("display_name");
    }
    if let Some(roles) = &change.roles {
        let mut names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        active.roles = Set(names.join(","));
        changed.push("roles");
    }
    if let Some(region) = change.region_code {
        active.region_code = Set(region.as_str().to_owned());
        changed.push("region_code");
    }
    if let Some(disabled) = change.disabled {
        active.disabled = Set(disabled);
        changed.push("disabled");
    }
    if let Some(hash) = hash {
        active.password_hash = Set(hash);
        active.failed_attempts = Set(0);
        active.locked_until = Set(None);
        changed.push("password");
    }
    active.updated_at = Set(Utc::now());
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let row = active.update(&transaction).await?;
    audit::record(
        &transaction,
        Some(request),
        Event {
            actor: Actor::Principal(admin),
            action: "staff.change",
            target: Some(("staff", &row.id)),
            region: RegionCode::parse(&row.region_code).ok(),
            outcome: Outcome::Success,
            details: Some(json!({ "fields": changed })),
        },
    )
    .await?;
    transaction.commit().await?;
    if ends_sessions {
        state.sessions.revoke_all(Audience::Staff, &row.id).await?;
    }
    member(&row)
}
