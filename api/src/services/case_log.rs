//! How every case changes, whatever its kind: the case row is updated only
//! if nobody changed it since it was read (409 otherwise), and the change is
//! written to the case's history, to the worker's message outbox and to the
//! audit log, all in the caller's transaction. A change is recorded whole or
//! not at all.

use chrono::Utc;
use entity::{application, application_event, si_transfer, si_transfer_change, wage_report, wage_report_event};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, sea_query::Expr,
};
use serde_json::{Value, json};

use crate::{
    auth::Principal,
    context::RequestContext,
    domain::RegionCode,
    error::{AppError, AppResult, ErrorCode},
    services::{
        audit::{self, Event},
        counters, notifications,
    },
};

/// The feed agencies read: one sequence over every transfer.
const TRANSFER_FEED: &str = "si_transfer_feed";

/// A table of cases: rows with an id and a version that every change raises.
pub trait CaseTable: EntityTrait {
    const ID: Self::Column;
    const VERSION: Self::Column;
}

impl CaseTable for application::Entity {
    const ID: Self::Column = application::Column::Id;
    const VERSION: Self::Column = application::Column::Version;
}

impl CaseTable for wage_report::Entity {
    const ID: Self::Column = wage_report::Column::Id;
    const VERSION: Self::Column = wage_report::Column::Version;
}

impl CaseTable for si_transfer::Entity {
    const ID: Self::Column = si_transfer::Column::Id;
    const VERSION: Self::Column = si_transfer::Column::Version;
}

/// Writes `changes` to the case `id` if its version is still `seen`, and
/// raises the version. Of two people acting on the same view, the second
/// gets 409 and the case's current version.
pub async fn update_versioned<E: CaseTable>(
    transaction: &DatabaseTransaction,
    id: &str,
    seen: i32,
    changes: E::ActiveModel,
) -> AppResult<()>
where
    E::ActiveModel: ActiveModelTrait<Entity = E>,
{
    let updated = E::update_many()
        .set(changes)
        .col_expr(E::VERSION, Expr::value(seen + 1))
        .filter(E::ID.eq(id))
        .filter(E::VERSION.eq(seen))
        .exec(transaction)
        .await?;
    if updated.rows_affected == 0 {
        return Err(stale(seen));
    }
    Ok(())
}

/// 409 for a change made on a view older than the case.
pub fn stale(current_version: i32) -> AppError {
    AppError::new(ErrorCode::VersionConflict).with_details(json!({ "current_version": current_version }))
}

/// Refuses a change prepared on a version other than the case's.
pub fn check_version(expected: Option<i32>, current: i32) -> AppResult<()> {
    match expected {
        Some(expected) if expected != current => Err(stale(current)),
        _ => Ok(()),
    }
}

/// Which lifecycle a case belongs to, and so where its history is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind {
    Application,
    WageReport,
    Transfer,
}

impl CaseKind {
    fn audit_target(self) -> &'static str {
        match self {
            CaseKind::Application => "application",
            CaseKind::WageReport => "wage_report",
            CaseKind::Transfer => "si_transfer",
        }
    }
}

/// The case a change is recorded against.
#[derive(Debug, Clone, Copy)]
pub struct CaseRef<'a> {
    pub kind: CaseKind,
    pub id: &'a str,
    /// The readable number (SB-…, QX-…, ZJ-…).
    pub number: &'a str,
    /// Whom to tell; an agency's case not yet linked has nobody.
    pub worker_id: Option<&'a str>,
    pub region: Option<RegionCode>,
}

/// Who made the change, as the case history names them.
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    Worker(&'a Principal),
    Staff(&'a Principal),
    Agency(&'a Principal),
}

impl<'a> By<'a> {
    fn principal(self) -> &'a Principal {
        match self {
            By::Worker(p) | By::Staff(p) | By::Agency(p) => p,
        }
    }

    fn history_name(self) -> &'static str {
        match self {
            By::Worker(_) => "worker",
            By::Staff(_) => "staff",
            By::Agency(_) => "agency",
        }
    }
}

/// What the worker is told about a change, through the outbox.
#[derive(Debug, Clone)]
pub struct Notice {
    pub topic: &'static str,
    pub message: notifications::Message,
}

/// One change of a case.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// The lifecycle's own word for it: `submit`, `accept`, a step's key…
    pub action: &'a str,
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub comment: Option<&'a str>,
    pub notice: Option<Notice>,
    /// The audit log's name for it, e.g. `application.transition`.
    pub audit_action: &'static str,
    /// Facts for the audit row; never personal data in clear.
    pub audit_details: Value,
}

/// Writes the history entry, the worker's message and the audit row of one
/// change, inside `transaction`.
pub async fn record(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    case: CaseRef<'_>,
    by: By<'_>,
    change: Change<'_>,
) -> AppResult<()> {
    write_history(transaction, case, by, &change).await?;
    if let (Some(worker_id), Some(notice)) = (case.worker_id, &change.notice) {
        notifications::enqueue(transaction, worker_id, notice.topic, &notice.message).await?;
    }
    let target = (case.kind.audit_target(), case.id);
    let event = Event::success(
        by.principal(),
        change.audit_action,
        target,
        case.region,
        Some(change.audit_details),
    );
    audit::record(transaction, Some(request), event).await
}

async fn write_history(
    transaction: &DatabaseTransaction,
    case: CaseRef<'_>,
    by: By<'_>,
    change: &Change<'_>,
) -> AppResult<()> {
    let at = Utc::now();
    let actor_type = Set(by.history_name().to_owned());
    let actor_id = Set(Some(by.principal().subject.clone()));
    let action = Set(change.action.to_owned());
    let from_status = Set(change.from.map(str::to_owned));
    let to_status = Set(change.to.to_owned());
    let comment = Set(change.comment.map(str::to_owned));
    match case.kind {
        CaseKind::Application => {
            application_event::ActiveModel {
                application_id: Set(case.id.to_owned()),
                at: Set(at),
                actor_type,
                actor_id,
                action,
                from_status,
                to_status,
                comment,
                ..Default::default()
            }
            .insert(transaction)
            .await?;
        }
        CaseKind::WageReport => {
            wage_report_event::ActiveModel {
                report_id: Set(case.id.to_owned()),
                at: Set(at),
                actor_type,
                actor_id,
                action,
                from_status,
                to_status,
                comment,
                ..Default::default()
            }
            .insert(transaction)
            .await?;
        }
        CaseKind::Transfer => {
            // The sequence comes from a counter whose row stays locked until
            // the transaction commits, so entries become visible in sequence
            // order: a reader never sees 11 before 10.
            let seq = counters::next(transaction, TRANSFER_FEED).await?;
            let (kind, step) = match change.from {
                None => ("created", None),
                Some(_) => ("step", Some(change.action.to_owned())),
            };
            si_transfer_change::ActiveModel {
                seq: Set(seq),
                transfer_id: Set(case.id.to_owned()),
                transfer_no: Set(case.number.to_owned()),
                kind: Set(kind.to_owned()),
                step: Set(step),
                at: Set(at),
            }
            .insert(transaction)
            .await?;
        }
    }
    Ok(())
}
