//! The audit trail: who did what to what, when, from where, with what outcome.
//! Only ever inserted; the database refuses updates.

use entity::{audit_log, staff_account};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, QueryTrait, sea_query::InsertStatement};
use serde_json::Value;

use crate::{
    access,
    auth::Principal,
    context::RequestContext,
    domain::{RegionCode, TextType},
    error::AppResult,
    services::keyset::{Cut, Keyset, Window},
    state::AppState,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

/// Who acted: a principal, someone not signed in (perhaps naming who they
/// claimed to be), or the system itself.
#[derive(Debug, Clone)]
pub enum Actor<'a> {
    Principal(&'a Principal),
    Anonymous { claimed: Option<&'a str> },
    System,
}

#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub actor: Actor<'a>,
    pub action: &'static str,
    pub target: Option<(&'static str, &'a str)>,
    /// The region the event concerns: administrators whose region covers it
    /// see the row; with none (sign-ins of workers, integrators, the
    /// calendar), only national administrators do.
    pub region: Option<RegionCode>,
    pub outcome: Outcome,
    /// Facts of the event; never personal data in clear.
    pub details: Option<Value>,
}

impl<'a> Event<'a> {
    /// A principal's successful act on one thing: most rows are this.
    pub fn success(
        principal: &'a Principal,
        action: &'static str,
        target: (&'static str, &'a str),
        region: Option<RegionCode>,
        details: Option<Value>,
    ) -> Self {
        Event {
            actor: Actor::Principal(principal),
            action,
            target: Some(target),
            region,
            outcome: Outcome::Success,
            details,
        }
    }

    /// A staff member saw a person's data in clear: `details` names whose
    /// and which fields (never their values), and the reason they gave is
    /// kept beside them, for whoever later asks why.
    pub fn reveal(
        staff: &'a Principal,
        target: (&'static str, &'a str),
        region: RegionCode,
        mut details: Value,
        reason: &str,
    ) -> Self {
        if let Value::Object(fields) = &mut details {
            fields.insert("reason".to_owned(), Value::String(reason.to_owned()));
        }
        Event::success(staff, "personal_data.reveal", target, Some(region), Some(details))
    }
}

/// A relative acting for a worker (亲情代办) is the actor, as `relative`;
/// the details name the worker acted for and the grant, whatever the event.
fn acted_for(principal: &Principal, details: Option<Value>) -> Option<Value> {
    let Some(acting) = &principal.acting else {
        return details;
    };
    let mut fields = match details {
        Some(Value::Object(fields)) => fields,
        Some(other) => serde_json::Map::from_iter([("event".to_owned(), other)]),
        None => serde_json::Map::new(),
    };
    fields.insert("on_behalf_of".to_owned(), Value::String(principal.subject.clone()));
    fields.insert("grant_id".to_owned(), Value::String(acting.grant_id.clone()));
    Some(Value::Object(fields))
}

pub async fn record(db: &impl ConnectionTrait, request: Option<&RequestContext>, event: Event<'_>) -> AppResult<()> {
    db.execute(&insert(request, event)).await?;
    Ok(())
}

/// The insert of `event`'s row, for a caller that sends it with other writes.
pub fn insert(request: Option<&RequestContext>, event: Event<'_>) -> InsertStatement {
    let (actor_type, actor_id) = match event.actor {
        Actor::Principal(p) => match &p.acting {
            Some(acting) => ("relative", Some(acting.relative_id.clone())),
            None => (p.audience.as_str(), Some(p.subject.clone())),
        },
        Actor::Anonymous { claimed } => ("anonymous", claimed.map(|c| c.chars().take(64).collect())),
        Actor::System => ("system", None),
    };
    let details = match event.actor {
        Actor::Principal(p) => acted_for(p, event.details),
        _ => event.details,
    };
    let row = audit_log::ActiveModel {
        at: Set(chrono::Utc::now()),
        actor_type: Set(actor_type.to_owned()),
        actor_id: Set(actor_id),
        action: Set(event.action.to_owned()),
        target_type: Set(event.target.map(|(kind, _)| kind.to_owned())),
        target_id: Set(event.target.map(|(_, id)| id.to_owned())),
        region_code: Set(event.region.map(|r| r.as_str().to_owned())),
        outcome: Set(event.outcome.as_str().to_owned()),
        ip: Set(request.and_then(|r| r.client_ip).map(|ip| ip.to_string())),
        request_id: Set(request.map(|r| r.request_id.clone())),
        details: Set(details.map(|d| d.to_string())),
        ..Default::default()
    };
    audit_log::Entity::insert(row).into_query()
}

/// What a maintenance run of the system itself did (`retention`, `rekey`):
/// no request, no target, no region, and `details` the run's summary.
pub async fn record_system_run(db: &impl ConnectionTrait, action: &'static str, details: Value) -> AppResult<()> {
    record(
        db,
        None,
        Event {
            actor: Actor::System,
            action,
            target: None,
            region: None,
            outcome: Outcome::Success,
            details: Some(details),
        },
    )
    .await
}

/// Filters of the audit-log query.
#[derive(Debug, Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// One row of the audit log, as administrators read it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor_type: String,
    pub actor_id: Option<String>,
    /// A staff actor's display name and username, as the account reads now.
    pub actor_name: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub region_code: Option<RegionCode>,
    pub outcome: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub details: Option<Value>,
}

impl From<audit_log::Model> for AuditEntry {
    fn from(row: audit_log::Model) -> Self {
        AuditEntry {
            id: row.id,
            at: row.at,
            actor_type: row.actor_type,
            actor_id: row.actor_id,
            actor_name: None,
            action: row.action,
            target_type: row.target_type,
            target_id: row.target_id,
            region_code: row.region_code.and_then(|code| RegionCode::parse(&code).ok()),
            outcome: row.outcome,
            ip: row.ip,
            request_id: row.request_id,
            details: row.details.and_then(|d| serde_json::from_str(&d).ok()),
        }
    }
}

/// The audit log, newest first (by id), for administrators.
pub async fn query(state: &AppState, admin: &Principal, filter: Filter, window: Window) -> AppResult<Cut<AuditEntry>> {
    use sea_orm::{ColumnTrait, QueryFilter};
    access::require_role(admin, crate::auth::Role::Admin)?;
    let scope = access::staff_scope(&state.regions, admin, None)?;
    let order = (vec![audit_log::Column::Id], true);
    let keyset = Keyset::open(&state.protector, "audit_log", &(&filter, &scope), order, window)?;
    let mut select = audit_log::Entity::find();
    if let Some(codes) = scope {
        select = select.filter(audit_log::Column::RegionCode.is_in(codes));
    }
    if let Some(actor) = filter.actor {
        select = select.filter(audit_log::Column::ActorId.eq(actor));
    }
    if let Some(action) = filter.action {
        select = select.filter(audit_log::Column::Action.eq(action));
    }
    if let Some(from) = filter.from {
        select = select.filter(audit_log::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(audit_log::Column::At.lt(to));
    }
    let (rows, cut) = keyset
        .read(&state.db, select, |row| vec![row.id.into()])
        .await?
        .take_items();
    let mut entries: Vec<AuditEntry> = rows.into_iter().map(AuditEntry::from).collect();
    name_staff_actors(state, &mut entries).await?;
    Ok(cut.with_items(entries))
}

/// Names the staff who acted, so that a reader need not look each id up;
/// workers stay ids (their names are personal data, revealed only on purpose).
async fn name_staff_actors(state: &AppState, entries: &mut [AuditEntry]) -> AppResult<()> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let staff_ids: std::collections::BTreeSet<&str> = entries
        .iter()
        .filter(|entry| entry.actor_type == "staff")
        .filter_map(|entry| entry.actor_id.as_deref())
        .collect();
    if staff_ids.is_empty() {
        return Ok(());
    }
    let names: std::collections::HashMap<String, String> = staff_account::Entity::find()
        .filter(staff_account::Column::Id.is_in(staff_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|member| (member.id, format!("{}（{}）", member.display_name, member.username)))
        .collect();
    for entry in entries.iter_mut().filter(|entry| entry.actor_type == "staff") {
        entry.actor_name = entry.actor_id.as_ref().and_then(|id| names.get(id).cloned());
    }
    Ok(())
}
