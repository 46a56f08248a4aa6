//! How every case change is recorded, whatever its kind: written to the
//! case's history, to the worker's message outbox and to the audit log, all
//! in the transaction that changed the case row (through `versioned`, which
//! refuses a change made on a stale view). A change is recorded whole or not
//! at all.

use chrono::Utc;
use entity::{application_event, si_transfer_change, wage_report_event};
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait, QueryTrait, sea_query::InsertStatement};
use serde_json::Value;

use crate::{
    auth::Principal,
    context::RequestContext,
    domain::RegionCode,
    error::AppResult,
    infra::db::Writes,
    services::{
        audit::{self, Event},
        counters, notifications,
    },
};

/// The feed agencies read: one sequence over every transfer.
const TRANSFER_FEED: &str = "si_transfer_feed";

/// Which lifecycle a case belongs to, and so where its history is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind {
    Application,
    WageReport,
    Transfer,
    /// A follow-up (回访) of a low rating.
    FollowUp,
    /// A complaint or suggestion (投诉建议).
    Complaint,
}

impl CaseKind {
    fn audit_target(self) -> &'static str {
        match self {
            CaseKind::Application => "application",
            CaseKind::WageReport => "wage_report",
            CaseKind::Transfer => "si_transfer",
            CaseKind::FollowUp => "follow_up",
            CaseKind::Complaint => "complaint",
        }
    }
}

/// The case a change is recorded against.
#[derive(Debug, Clone, Copy)]
pub struct CaseRef<'a> {
    pub kind: CaseKind,
    pub id: &'a str,
    /// The readable number (SB-…, QX-…, ZJ-…, HF-…, TS-…).
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
    pub fn principal(self) -> &'a Principal {
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
    /// The event, `lifecycle.action`: which subscribe template it goes with.
    pub topic: String,
    pub message: notifications::Message,
}

/// One change of a case.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// The lifecycle's own word for it: `submit`, `accept`, `refused`…
    pub action: &'a str,
    /// The transfer step it concerns, if any.
    pub step: Option<&'a str>,
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
/// change, inside `transaction`, in one statement on PostgreSQL.
pub async fn record(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    case: CaseRef<'_>,
    by: By<'_>,
    change: Change<'_>,
) -> AppResult<()> {
    Ok(writes(transaction, request, case, by, change)
        .await?
        .send(transaction)
        .await?)
}

/// The writes of `record`, for a caller that sends them with its own (the
/// case's row, the idempotency key's answer): the transfer feed's sequence is
/// drawn in `transaction` now, the rows are written when sent.
pub async fn writes(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    case: CaseRef<'_>,
    by: By<'_>,
    change: Change<'_>,
) -> AppResult<Writes> {
    let mut writes = Writes::default();
    if let Some(history) = history(transaction, case, by, &change).await? {
        writes.push(history);
    }
    if let (Some(worker_id), Some(notice)) = (case.worker_id, &change.notice) {
        writes.push(notifications::outbox_insert(worker_id, &notice.topic, &notice.message));
    }
    let target = (case.kind.audit_target(), case.id);
    let event = Event::success(
        by.principal(),
        change.audit_action,
        target,
        case.region,
        Some(change.audit_details),
    );
    writes.push(audit::insert(Some(request), event));
    Ok(writes)
}

/// The insert of the case's history entry, if its kind keeps a history.
async fn history(
    transaction: &DatabaseTransaction,
    case: CaseRef<'_>,
    by: By<'_>,
    change: &Change<'_>,
) -> AppResult<Option<InsertStatement>> {
    let at = Utc::now();
    let actor_type = Set(by.history_name().to_owned());
    let actor_id = Set(Some(by.principal().subject.clone()));
    let action = Set(change.action.to_owned());
    let from_status = Set(change.from.map(str::to_owned));
    let to_status = Set(change.to.to_owned());
    let comment = Set(change.comment.map(str::to_owned));
    // A relative acting for the worker (亲情代办) is named through the grant.
    let relative_grant_id = Set(by.principal().acting.as_ref().map(|acting| acting.grant_id.clone()));
    let insert = match case.kind {
        CaseKind::Application => application_event::Entity::insert(application_event::ActiveModel {
            application_id: Set(case.id.to_owned()),
            at: Set(at),
            actor_type,
            actor_id,
            action,
            from_status,
            to_status,
            comment,
            relative_grant_id,
            ..Default::default()
        })
        .into_query(),
        CaseKind::WageReport => wage_report_event::Entity::insert(wage_report_event::ActiveModel {
            report_id: Set(case.id.to_owned()),
            at: Set(at),
            actor_type,
            actor_id,
            action,
            from_status,
            to_status,
            comment,
            relative_grant_id,
            ..Default::default()
        })
        .into_query(),
        // A follow-up and a complaint have two statuses and one move, and
        // their row keeps who made it, when, and what they wrote (the
        // opening, `closed_by`/`closed_at`/`what_was_done`, or
        // `replied_by`/`replied_at`/`reply`): a history table would repeat
        // the row. The audit row and the worker's message are written as
        // for every case.
        CaseKind::FollowUp | CaseKind::Complaint => return Ok(None),
        CaseKind::Transfer => {
            // The sequence comes from a counter whose row stays locked until
            // the transaction commits, so entries become visible in sequence
            // order: a reader never sees 11 before 10.
            let seq = counters::next(transaction, TRANSFER_FEED).await?;
            si_transfer_change::Entity::insert(si_transfer_change::ActiveModel {
                seq: Set(seq),
                transfer_id: Set(case.id.to_owned()),
                transfer_no: Set(case.number.to_owned()),
                kind: action,
                step: Set(change.step.map(str::to_owned)),
                at: Set(at),
                actor_type: Set(Some(by.history_name().to_owned())),
                note: comment,
                relative_grant_id,
            })
            .into_query()
        }
    };
    Ok(Some(insert))
}
