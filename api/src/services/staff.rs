//! Staff accounts: password sign-in with lockout, and creation by an
//! administrator (or by `shiminhua create-admin` for the first one).
use chrono::{DateTime, Utc};
use entity::staff_account;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, SqlErr,
};
use serde_json::json;

use crate::{
    access,
    auth::{
        Audience, Principal, Role,
        password::{self, PasswordPool},
        sessions::Issued,
    },
    context::RequestContext,
    domain::{RegionCode, TextType, Username},
    error::{AppError, AppResult, ErrorCode},
    infra::crypto::Purpose,
    services::audit::{self, Actor, Event, Outcome},
    state::AppState,
};

/// Sign-in attempts one client network may spend on one username in a window.
pub const LOCK_AFTER_FAILURES: i64 = 5;
/// Sign-in attempts every network together may spend on one username in a
/// window: bounds a guesser who spreads over many networks.
pub const ACCOUNT_CEILING: i64 = 50;
/// The window the first attempt opens; a budget spent stays locked until it closes.
pub const LOCK_DURATION: std::time::Duration = std::time::Duration::from_secs(30 * 60);

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
        acting: None,
    }
}

async fn audit_login(
    state: &AppState,
    request: &RequestContext,
    account: Option<&staff_account::Model>,
    outcome: Outcome,
    details: serde_json::Value,
) -> AppResult<()> {
    // What was typed as the username is never stored: people type their
    // password there. The account, when there is one, is named by its id.
    audit::record(
        &state.db,
        Some(request),
        Event {
            actor: Actor::Anonymous { claimed: None },
            action: "staff.login",
            target: account.map(|row| ("staff", row.id.as_str())),
            region: account.and_then(|row| RegionCode::parse(&row.region_code).ok()),
            outcome,
            details: Some(details),
        },
    )
    .await
}

/// Signs a staff member in.
///
/// Every attempt is first taken from two budgets, before any password is
/// looked at: five per username and client network, fifty per username from
/// all networks, each for the 30 minutes the first attempt opens. A burst
/// therefore evaluates at most five passwords, and a correct password is
/// refused once a budget is spent, even when the burst spent it while this
/// password was being checked. Unknown usernames are counted the same way
/// and a disabled account answers as a wrong password does, so no answer
/// tells whether an account exists. A lock holds only the network that
/// caused it: someone else cannot lock a staff member out by failing on
/// purpose, short of the ceiling across all networks.
pub async fn login(
    state: &AppState,
    request: &RequestContext,
    username: &str,
    password: &str,
) -> AppResult<(Issued, StaffMember)> {
    let username = username.trim().to_lowercase();
    let row = staff_account::Entity::find()
        .filter(staff_account::Column::Username.eq(&username))
        .one(&state.db)
        .await?;
    let budget = SignInBudget::of(state, request, &username);
    let attempt = match budget.take(state).await? {
        Ok(attempt) => attempt,
        Err(until) => {
            audit_login(
                state,
                request,
                row.as_ref(),
                Outcome::Denied,
                json!({ "reason": "locked" }),
            )
            .await?;
            return Err(locked(until));
        }
    };
    let verified = match &row {
        Some(row) => {
            state
                .passwords
                .verify(password.to_owned(), row.password_hash.clone())
                .await?
        }
        None => state.passwords.verify_decoy(password.to_owned()).await?,
    };
    let row = match row {
        Some(row) if verified && !row.disabled => row,
        refused => {
            let reason = match &refused {
                None => "unknown_username",
                Some(row) if row.disabled => "disabled",
                Some(_) => "wrong_password",
            };
            let details = json!({ "reason": reason, "locked_now": attempt.locks.is_some() });
            audit_login(state, request, refused.as_ref(), Outcome::Failure, details).await?;
            return Err(match attempt.locks {
                Some(until) => locked(until),
                None => AppError::new(ErrorCode::InvalidCredentials),
            });
        }
    };
    if let Some(until) = budget.spent(state, &attempt).await? {
        audit_login(
            state,
            request,
            Some(&row),
            Outcome::Denied,
            json!({ "reason": "locked" }),
        )
        .await?;
        return Err(locked(until));
    }
    budget.succeeded(state).await?;
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

/// The sign-in budgets of one username, real or not (both are counted under
/// a keyed hash of the name), as seen from one client network.
struct SignInBudget {
    network_key: String,
    account_key: String,
}

/// An attempt taken from both budgets: when each window closes, and whether
/// this attempt was the last of a budget (a failure now locks until `locks`).
struct Attempt {
    network_until: DateTime<Utc>,
    account_until: DateTime<Utc>,
    locks: Option<DateTime<Utc>>,
}

fn count(value: Option<String>) -> i64 {
    value.and_then(|v| v.parse().ok()).unwrap_or_default()
}

impl SignInBudget {
    fn of(state: &AppState, request: &RequestContext, username: &str) -> Self {
        let name = state.protector.lookup_hash(Purpose::SignInName, username);
        Self {
            network_key: format!("signin:{name}:{}", crate::domain::client_network(request.client_ip)),
            account_key: format!("signin:{name}"),
        }
    }

    /// Takes one attempt, atomically, from the network's budget and then the
    /// account's; `Err` with the instant the spent budget's window closes.
    async fn take(&self, state: &AppState) -> AppResult<Result<Attempt, DateTime<Utc>>> {
        let (network, network_left) = state.store.count_in_window(&self.network_key, LOCK_DURATION).await?;
        let network_until = Utc::now() + network_left;
        if network > LOCK_AFTER_FAILURES {
            return Ok(Err(network_until));
        }
        // A spent network budget takes nothing from the account's, so that
        // one client's failures cannot lock the account for everyone.
        let (account, account_left) = state.store.count_in_window(&self.account_key, LOCK_DURATION).await?;
        let account_until = Utc::now() + account_left;
        if account > ACCOUNT_CEILING {
            return Ok(Err(account_until));
        }
        let locks = if network == LOCK_AFTER_FAILURES {
            Some(network_until)
        } else {
            (account == ACCOUNT_CEILING).then_some(account_until)
        };
        Ok(Ok(Attempt {
            network_until,
            account_until,
            locks,
        }))
    }

    /// Whether a budget was spent while the password was being checked: a
    /// burst around a correct password; `Some` with when its window closes.
    async fn spent(&self, state: &AppState, attempt: &Attempt) -> AppResult<Option<DateTime<Utc>>> {
        if count(state.store.get(&self.network_key).await?) > LOCK_AFTER_FAILURES {
            return Ok(Some(attempt.network_until));
        }
        Ok((count(state.store.get(&self.account_key).await?) > ACCOUNT_CEILING).then_some(attempt.account_until))
    }

    /// A correct password: the network starts over, and the attempt is given
    /// back to the account's budget.
    async fn succeeded(&self, state: &AppState) -> AppResult<()> {
        state.store.delete(&self.network_key).await?;
        state.store.decrement(&self.account_key).await?;
        Ok(())
    }
}

/// Creates an account. `actor` is the administrator doing it, or `None` for
/// the command line; an administrator may only create staff inside their region.
pub async fn create(
    db: &DatabaseConnection,
    regions: &crate::regions::RegionDirectory,
    passwords: &PasswordPool,
    request: Option<&RequestContext>,
    actor: Option<&Principal>,
    new: NewStaff,
) -> AppResult<StaffMember> {
    if let Some(actor) = actor {
        access::require_role(actor, Role::Admin)?;
        if !access::covers(regions, actor, new.region_code) {
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
    let hash = passwords.hash(new.password).await?;
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
    access::require_role(admin, Role::Admin)?;
    let mut query = staff_account::Entity::find().order_by_asc(staff_account::Column::Username);
    if let Some(codes) = access::staff_scope(&state.regions, admin, None)? {
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

/// The new region is the administrator's to give and exists; roles, when
/// given, are at least one.
fn check_change(state: &AppState, admin: &Principal, change: &StaffChange) -> AppResult<()> {
    if let Some(region) = change.region_code {
        if !access::covers(&state.regions, admin, region) {
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
    Ok(())
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
    access::require_role(admin, Role::Admin)?;
    let row = staff_account::Entity::find_by_id(staff_id.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    let current = member(&row)?;
    if !access::covers(&state.regions, admin, current.region_code) {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    check_change(state, admin, &change)?;
    let hash = match change.password {
        Some(password) => {
            if let Some(weakness) = password::weakness(&password, &row.username) {
                return Err(AppError::invalid_field("password", weakness));
            }
            Some(state.passwords.hash(password).await?)
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
