//! The agencies move a case step by step: each report is checked by the
//! rule (`status`), written only if nobody moved the case since it was
//! loaded, and recorded (`case_log`).

use chrono::{DateTime, Utc};
use entity::{si_transfer, si_transfer_step};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use serde_json::json;

use super::status::{Advance, Decision, StepStatus};
use super::{Step, Transfer, case_ref, notice, reached, read, read::Case, status, vanished};
use crate::{
    access,
    auth::Principal,
    context::RequestContext,
    error::AppResult,
    services::{
        calendar,
        case_log::{self, By},
        versioned,
    },
    state::AppState,
};

/// An agency's report that a step happened.
pub struct StepReport {
    pub occurred_at: DateTime<Utc>,
    pub note: Option<String>,
}

/// Records a step. The same report twice changes nothing the second time;
/// a step before its predecessor, or a different report of a done step, is
/// 409, and so is the second of two reports made at once.
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
    let progress: Vec<_> = case.transfer.steps.iter().map(Step::progress).collect();
    let decision = status::report_step(case.process, case.transfer.status, &progress, step, report.occurred_at)?;
    let Decision::Advance(advance) = decision else {
        return Ok(case.transfer);
    };
    advance_case(&transaction, &case, advance, client, &report).await?;
    let spec = &case.process[advance.position];
    let change = case_log::Change {
        action: spec.key,
        from: Some(advance.from.as_str()),
        to: advance.to.as_str(),
        comment: report.note.as_deref(),
        notice: Some(notice::step_done(
            &case.transfer.id,
            &case.transfer.transfer_no,
            advance.to,
            case.process.get(advance.position + 1),
        )),
        audit_action: "si_transfer.step",
        audit_details: json!({ "step": spec.key, "occurred_at": report.occurred_at.to_rfc3339() }),
    };
    case_log::record(&transaction, request, case_ref(&case), By::Agency(client), change).await?;
    let view = read::by_id(&transaction, &case.transfer.id)
        .await?
        .ok_or_else(vanished)?;
    transaction.commit().await?;
    Ok(view.transfer)
}

/// Writes a step done: the case first, only if nobody moved it since it was
/// loaded (so of two agencies reporting at once the second gets 409), then
/// the step and the next step's due day from the case's process.
async fn advance_case(
    transaction: &DatabaseTransaction,
    case: &Case,
    advance: Advance,
    client: &Principal,
    report: &StepReport,
) -> AppResult<()> {
    let now = Utc::now();
    let id = &case.transfer.id;
    let changes = si_transfer::ActiveModel {
        status: Set(advance.to.as_str().to_owned()),
        updated_at: Set(now),
        ..Default::default()
    };
    versioned::update::<si_transfer::Entity>(transaction, id, case.version, changes).await?;
    let done = si_transfer_step::Entity::update_many()
        .set(si_transfer_step::ActiveModel {
            status: Set(StepStatus::Done.as_str().to_owned()),
            occurred_at: Set(Some(report.occurred_at)),
            note: Set(report.note.clone()),
            recorded_by: Set(Some(client.subject.clone())),
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(si_transfer_step::Column::TransferId.eq(id))
        .filter(si_transfer_step::Column::Position.eq(advance.position as i32))
        .filter(si_transfer_step::Column::Status.eq(StepStatus::Pending.as_str()))
        .exec(transaction)
        .await?;
    if done.rows_affected == 0 {
        return Err(versioned::stale(case.version));
    }
    let next = advance.position + 1;
    if next < case.transfer.steps.len() {
        // Counted in the days of the province whose office acts on the step.
        let calendars = calendar::load(transaction).await?;
        let calendar = calendars.of(case.transfer.steps[next].office_region);
        si_transfer_step::Entity::update_many()
            .set(si_transfer_step::ActiveModel {
                due_on: Set(status::due_on(case.process, next, report.occurred_at, calendar)),
                updated_at: Set(now),
                ..Default::default()
            })
            .filter(si_transfer_step::Column::TransferId.eq(id))
            .filter(si_transfer_step::Column::Position.eq(next as i32))
            .exec(transaction)
            .await?;
    }
    Ok(())
}
