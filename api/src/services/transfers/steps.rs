//! The offices move a case step by step: an agency's system, or the
//! office's staff, reports each step's outcome; the person answers a
//! request for materials. Each change is checked by the rule (`status`),
//! written only if nobody moved the case since it was loaded, recorded
//! (`case_log`) and announced to the agencies' webhooks.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{si_transfer, si_transfer_step};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryTrait,
    sea_query::UpdateStatement,
};
use serde_json::json;

use super::status::{Advance, Decision, Report, StepOutcome, StepStatus, TransferStatus};
use super::{Step, Transfer, case_ref, notice, reached, read, read::Case, status, vanished};
use crate::{
    access,
    auth::{Principal, Scope},
    context::RequestContext,
    error::{AppError, AppResult, ErrorCode},
    infra::db::Writes,
    services::{
        calendar::CalendarCache,
        case_log::{self, By},
        versioned, webhooks,
    },
    state::AppState,
};

/// An office's report of a step.
pub struct StepReport {
    pub outcome: StepOutcome,
    pub occurred_at: DateTime<Utc>,
    /// Optional for `done`; otherwise the reason, or the materials needed.
    pub note: Option<String>,
}

impl StepReport {
    fn as_rule_sees_it(&self) -> Report<'_> {
        Report {
            outcome: self.outcome,
            occurred_at: self.occurred_at,
            note: self.note.as_deref(),
        }
    }
}

/// An agency records a step's outcome on a case it reaches. The same report
/// twice changes nothing the second time; a step before its predecessor,
/// another report of a done step, anything on an ended case, and the second
/// of two reports made at once are 409.
pub async fn record_step(
    state: &AppState,
    request: &RequestContext,
    client: &Principal,
    transfer_no: &str,
    step: &str,
    report: StepReport,
) -> AppResult<Transfer> {
    access::require_taker(client, status::AGENCY)?;
    status::check_occurred_at(report.occurred_at, Utc::now())?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let case = reached(state, client, read::by_number(&transaction, transfer_no).await?)?;
    apply_report(&transaction, state, request, &case, By::Agency(client), step, &report).await?;
    finish(transaction, &case).await
}

/// The office's staff record a step's outcome, for an office whose system
/// does not report itself: administrators of the step's office region,
/// on a case they reach (another region's case is 404; a step of the other
/// office is 403).
pub async fn record_step_as_staff(
    state: &AppState,
    request: &RequestContext,
    staff: &Principal,
    id: &str,
    step: &str,
    report: StepReport,
) -> AppResult<Transfer> {
    access::require_transfer_clerk(staff)?;
    status::check_occurred_at(report.occurred_at, Utc::now())?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let case = super::reached_by_staff(state, staff, read::by_id(&transaction, id).await?)?;
    if let Some(office) = case.transfer.steps.iter().find(|s| s.step == step) {
        access::require_region(&state.regions, staff, office.office_region)?;
    }
    apply_report(&transaction, state, request, &case, By::Staff(staff), step, &report).await?;
    finish(transaction, &case).await
}

/// The case as it is now, once the change is committed.
async fn finish(transaction: DatabaseTransaction, case: &Case) -> AppResult<Transfer> {
    let view = read::by_id(&transaction, &case.transfer.id)
        .await?
        .ok_or_else(vanished)?;
    transaction.commit().await?;
    Ok(view.transfer)
}

/// Checks the report against the case and, unless it repeats what is
/// recorded, writes, records and announces it.
async fn apply_report(
    transaction: &DatabaseTransaction,
    state: &AppState,
    request: &RequestContext,
    case: &Case,
    by: By<'_>,
    step: &str,
    report: &StepReport,
) -> AppResult<()> {
    let progress: Vec<_> = case.transfer.steps.iter().map(Step::progress).collect();
    let rule_report = report.as_rule_sees_it();
    let decision = status::report_step(case.process, case.transfer.status, &progress, step, &rule_report)?;
    let Decision::Advance(advance) = decision else {
        return Ok(());
    };
    let mut writes = advance_case(transaction, &state.calendars, case, advance, by, report).await?;
    let spec = &case.process[advance.position];
    let (kind, notice) = match advance.outcome {
        StepOutcome::Done => (
            "step",
            Some(notice::step_done(
                &case.transfer.id,
                &case.transfer.transfer_no,
                advance.to,
                case.process.get(advance.position + 1),
            )),
        ),
        outcome => (
            outcome.as_str(),
            notice::outcome(
                &case.transfer.id,
                &case.transfer.transfer_no,
                outcome,
                report.note.as_deref().unwrap_or_default(),
            ),
        ),
    };
    writes.append(announce(transaction, state, case, kind, spec.key, advance.to).await?);
    let change = case_log::Change {
        action: kind,
        step: Some(spec.key),
        from: Some(advance.from.as_str()),
        to: advance.to.as_str(),
        comment: report.note.as_deref(),
        notice,
        audit_action: "si_transfer.step",
        audit_details: json!({
            "step": spec.key,
            "outcome": advance.outcome,
            "occurred_at": report.occurred_at.to_rfc3339(),
        }),
    };
    writes.append(case_log::writes(transaction, request, case_ref(case), by, change).await?);
    Ok(writes.send(transaction).await?)
}

/// Queues the change for the webhooks of every agency reaching the case:
/// what happened to which step, never who the person is or any free text
/// (the agency reads those from the case, each read audited). Returns the
/// insert, to be sent with the case's other writes.
async fn announce(
    transaction: &DatabaseTransaction,
    state: &AppState,
    case: &Case,
    kind: &str,
    step: &str,
    status: TransferStatus,
) -> AppResult<Writes> {
    let transfer = &case.transfer;
    let event = format!("si_transfer.{kind}");
    let deliveries = webhooks::deliveries(
        transaction,
        &state.regions,
        Scope::SiTransferRead,
        &event,
        &[transfer.from_region_code, transfer.to_region_code],
        &json!({
            "event": event,
            "transfer_no": transfer.transfer_no,
            "step": step,
            "status": status,
            "at": Utc::now().to_rfc3339(),
        }),
    )
    .await?;
    let mut writes = Writes::default();
    if let Some(insert) = deliveries {
        writes.push(insert);
    }
    Ok(writes)
}

/// Moves the case, only if nobody moved it since it was loaded (so of two
/// reports at once the second gets 409).
async fn bump_case(
    transaction: &DatabaseTransaction,
    case: &Case,
    to: TransferStatus,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let changes = si_transfer::ActiveModel {
        status: Set(to.as_str().to_owned()),
        updated_at: Set(now),
        ..Default::default()
    };
    versioned::update::<si_transfer::Entity>(transaction, &case.transfer.id, case.version, changes).await?;
    Ok(())
}

/// Writes a step's outcome: the case first (see `bump_case`), then the
/// step. Done starts the next step's clock (the write handed back, to go
/// with the record of the change); a request for materials stops the step's
/// own until the person answers.
async fn advance_case(
    transaction: &DatabaseTransaction,
    calendars: &CalendarCache,
    case: &Case,
    advance: Advance,
    by: By<'_>,
    report: &StepReport,
) -> AppResult<Writes> {
    let now = Utc::now();
    let id = &case.transfer.id;
    bump_case(transaction, case, advance.to, now).await?;
    let mut step = si_transfer_step::ActiveModel {
        status: Set(advance.outcome.step_status().as_str().to_owned()),
        occurred_at: Set(Some(report.occurred_at)),
        note: Set(report.note.clone()),
        recorded_by: Set(Some(by.principal().subject.clone())),
        updated_at: Set(now),
        ..Default::default()
    };
    if advance.outcome == StepOutcome::MaterialsNeeded {
        step.due_on = Set(None);
        step.answer = Set(None);
        step.answered_at = Set(None);
    }
    let written = si_transfer_step::Entity::update_many()
        .set(step)
        .filter(si_transfer_step::Column::TransferId.eq(id))
        .filter(si_transfer_step::Column::Position.eq(advance.position as i32))
        .filter(si_transfer_step::Column::Status.is_in(StepStatus::OPEN.iter().map(|s| s.as_str())))
        .exec(transaction)
        .await?;
    if written.rows_affected == 0 {
        return Err(versioned::stale(case.version));
    }
    let next = advance.position + 1;
    let mut writes = Writes::default();
    if advance.outcome == StepOutcome::Done && next < case.transfer.steps.len() {
        writes.push(start_clock(transaction, calendars, case, next, report.occurred_at).await?);
    }
    Ok(writes)
}

/// The step at `position` is due within its limit from `started`: the
/// update, to be sent with the case's other writes.
async fn start_clock(
    transaction: &DatabaseTransaction,
    calendars: &CalendarCache,
    case: &Case,
    position: usize,
    started: DateTime<Utc>,
) -> AppResult<UpdateStatement> {
    Ok(si_transfer_step::Entity::update_many()
        .set(si_transfer_step::ActiveModel {
            due_on: Set(due_on(transaction, calendars, case, position, started).await?),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .filter(si_transfer_step::Column::TransferId.eq(&case.transfer.id))
        .filter(si_transfer_step::Column::Position.eq(position as i32))
        .into_query())
}

/// When the step at `position`, started at `started`, is due: counted in the
/// days of the province whose office acts on it.
async fn due_on(
    transaction: &DatabaseTransaction,
    calendars: &CalendarCache,
    case: &Case,
    position: usize,
    started: DateTime<Utc>,
) -> AppResult<Option<NaiveDate>> {
    let calendars = calendars.current(transaction).await?;
    let calendar = calendars.of(case.transfer.steps[position].office_region);
    Ok(status::due_on(case.process, position, started, calendar))
}

/// The worker answers an office's request for materials on `step` of their
/// case: the step waits on the office again, due within its full limit
/// from the answer, and the agencies hear of it.
pub async fn answer_materials(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    id: &str,
    step: &str,
    answer: &str,
) -> AppResult<Transfer> {
    access::require_taker(worker, status::PERSON)?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let case = read::of_worker(&transaction, &worker.subject, id)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    let progress: Vec<_> = case.transfer.steps.iter().map(Step::progress).collect();
    let position = status::answer_materials(case.process, case.transfer.status, &progress, step)?;
    let now = Utc::now();
    bump_case(&transaction, &case, case.transfer.status, now).await?;
    // The answer and the new clock are one update of the step's row.
    let mut answered = si_transfer_step::ActiveModel {
        status: Set(StepStatus::Pending.as_str().to_owned()),
        answer: Set(Some(answer.to_owned())),
        answered_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    };
    answered.due_on = Set(due_on(&transaction, &state.calendars, &case, position, now).await?);
    let mut writes = Writes::default();
    writes.push(
        si_transfer_step::Entity::update_many()
            .set(answered)
            .filter(si_transfer_step::Column::TransferId.eq(id))
            .filter(si_transfer_step::Column::Position.eq(position as i32))
            .into_query(),
    );
    let key = case.process[position].key;
    let status_now = case.transfer.status;
    writes.append(announce(&transaction, state, &case, "materials_answered", key, status_now).await?);
    let change = case_log::Change {
        action: "materials_answered",
        step: Some(key),
        from: Some(status_now.as_str()),
        to: status_now.as_str(),
        comment: Some(answer),
        notice: None,
        audit_action: "si_transfer.materials_answered",
        audit_details: json!({ "step": key }),
    };
    writes.append(case_log::writes(&transaction, request, case_ref(&case), By::Worker(worker), change).await?);
    writes.send(&transaction).await?;
    finish(transaction, &case).await
}
