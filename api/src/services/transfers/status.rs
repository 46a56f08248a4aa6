//! The rule of a transfer's life: an office (an agency's system, or its
//! staff) reports the outcome of a step of the legal process, and the person
//! answers a request for materials. Every guard of it is here, over the
//! case's steps as loaded, without the database.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde_json::json;

use super::process::StepSpec;
use crate::{
    access::Taker,
    auth::Scope,
    domain::china_time,
    error::{AppError, AppResult, ErrorCode, Localized},
    services::calendar::Calendar,
};

crate::text_enum! {
    /// Where a transfer is.
    TransferStatus {
        InProgress => "in_progress",
        /// Its last step is done.
        Completed => "completed",
        /// An office refused a step: the transfer ends there.
        Refused => "refused",
        /// An office cancelled the case (the person withdrew, or it was opened in error).
        Cancelled => "cancelled",
    }
}

impl TransferStatus {
    /// Still being worked: its steps have deadlines and it counts as the
    /// person's open case on its route.
    pub fn is_open(self) -> bool {
        self == TransferStatus::InProgress
    }

    /// Finished (completed, refused or cancelled): its person may rate it (好差评).
    pub fn is_closed(self) -> bool {
        !self.is_open()
    }

    /// What the worker's phone and the staff read.
    pub fn label(self) -> &'static str {
        match self {
            TransferStatus::InProgress => "办理中",
            TransferStatus::Completed => "已办结",
            TransferStatus::Refused => "不予办理",
            TransferStatus::Cancelled => "已取消",
        }
    }
}

crate::text_enum! {
    /// Where a step of a transfer is.
    StepStatus {
        Pending => "pending",
        Done => "done",
        /// The office waits for materials from the person (clock stopped).
        MaterialsNeeded => "materials_needed",
        Refused => "refused",
        Cancelled => "cancelled",
    }
}

crate::text_enum! {
    /// What an office reports of the step it acts on.
    StepOutcome {
        /// The step happened.
        Done => "done",
        /// The office will not do it, with the reason; the case ends.
        Refused => "refused",
        /// The office needs materials from the person, named in the reason;
        /// the step's clock stops until the person answers.
        MaterialsNeeded => "materials_needed",
        /// The case is withdrawn, with the reason; it ends.
        Cancelled => "cancelled",
    }
}

impl StepOutcome {
    pub fn step_status(self) -> StepStatus {
        match self {
            StepOutcome::Done => StepStatus::Done,
            StepOutcome::Refused => StepStatus::Refused,
            StepOutcome::MaterialsNeeded => StepStatus::MaterialsNeeded,
            StepOutcome::Cancelled => StepStatus::Cancelled,
        }
    }
}

impl StepStatus {
    /// The statuses of a step the office still has to act on.
    pub const OPEN: &'static [StepStatus] = &[StepStatus::Pending, StepStatus::MaterialsNeeded];
}

/// Who opens a case for a person and reports its steps: an agency's
/// system, with the write scope.
pub const AGENCY: Taker = Taker::Agency(Scope::SiTransferWrite);
/// Who answers a request for materials: the person whose case it is.
pub const PERSON: Taker = Taker::Worker;

/// How far ahead of our clock a report may be: agencies' clocks drift.
const CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);

/// Steps are reported when they happen, never ahead.
pub fn check_occurred_at(occurred_at: DateTime<Utc>, now: DateTime<Utc>) -> AppResult<()> {
    if occurred_at > now + CLOCK_SKEW {
        return Err(AppError::invalid_field(
            "occurred_at",
            Localized::fixed("办理时间不能晚于现在。", "occurred_at is in the future."),
        ));
    }
    Ok(())
}

/// What the rule needs of a stored step, in process order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub status: StepStatus,
    pub occurred_at: Option<DateTime<Utc>>,
}

/// An office's report of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report<'a> {
    pub outcome: StepOutcome,
    pub occurred_at: DateTime<Utc>,
    /// For `done`, an optional note; otherwise why it was refused or
    /// cancelled, or which materials are needed.
    pub note: Option<&'a str>,
}

/// What a report does to the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The same report again: nothing changes.
    Unchanged,
    Advance(Advance),
}

/// A step's outcome recorded now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advance {
    /// The step's position in the process.
    pub position: usize,
    pub outcome: StepOutcome,
    pub from: TransferStatus,
    /// `Completed` when the last step is done, `Refused` or `Cancelled`
    /// when the case ends, else unchanged.
    pub to: TransferStatus,
}

/// The position of `step` in the process, or 409 naming the steps it has.
fn position_of(process: &[StepSpec], step: &str) -> AppResult<usize> {
    process.iter().position(|s| s.key == step).ok_or_else(|| {
        AppError::new(ErrorCode::StepNotInProcess).with_details(json!({
            "step": step,
            "steps": process.iter().map(|s| s.key).collect::<Vec<_>>(),
        }))
    })
}

/// A refusal, a request for materials and a cancellation say why (in the note).
fn check_reason(report: &Report) -> AppResult<()> {
    if report.outcome != StepOutcome::Done && report.note.is_none() {
        return Err(AppError::invalid_field(
            "note",
            Localized::fixed(
                "不予办理、需要补充材料和取消时，请写明原因或需要的材料。",
                "reason is required unless the step is done.",
            ),
        ));
    }
    Ok(())
}

/// An office reports the outcome of `step` of a case in `status`. The same
/// outcome at the same time again changes nothing. Refused: a step the
/// process lacks; a step before (or earlier than) its predecessor; another
/// report of a step done; anything on a case that has ended; an outcome
/// other than `done` without its note. A step waiting for materials may
/// be done, refused, cancelled, or asked for other materials.
pub fn report_step(
    process: &[StepSpec],
    status: TransferStatus,
    steps: &[Progress],
    step: &str,
    report: &Report,
) -> AppResult<Decision> {
    check_reason(report)?;
    let position = position_of(process, step)?;
    let current = steps
        .get(position)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("a transfer lacks its step {step}")))?;
    if current.status == report.outcome.step_status() && current.occurred_at == Some(report.occurred_at) {
        return Ok(Decision::Unchanged);
    }
    if current.status == StepStatus::Done {
        return Err(AppError::new(ErrorCode::StepAlreadyDone).with_details(json!({ "step": step })));
    }
    if !status.is_open() {
        return Err(AppError::new(ErrorCode::TransferClosed).with_details(json!({ "status": status })));
    }
    if let Some(previous) = position.checked_sub(1) {
        let before = steps[previous];
        let in_order =
            before.status == StepStatus::Done && before.occurred_at.is_none_or(|at| at <= report.occurred_at);
        if !in_order {
            return Err(AppError::new(ErrorCode::StepOutOfOrder).with_details(json!({
                "step": step,
                "waiting_for": process[previous].key,
            })));
        }
    }
    let to = match report.outcome {
        StepOutcome::Done if position + 1 == process.len() => TransferStatus::Completed,
        StepOutcome::Done | StepOutcome::MaterialsNeeded => status,
        StepOutcome::Refused => TransferStatus::Refused,
        StepOutcome::Cancelled => TransferStatus::Cancelled,
    };
    Ok(Decision::Advance(Advance {
        position,
        outcome: report.outcome,
        from: status,
        to,
    }))
}

/// The person answers an office's request for materials on `step`: only
/// while the case is open and the step waits for them (else 409).
pub fn answer_materials(
    process: &[StepSpec],
    status: TransferStatus,
    steps: &[Progress],
    step: &str,
) -> AppResult<usize> {
    let position = position_of(process, step)?;
    let waiting = steps
        .get(position)
        .is_some_and(|s| s.status == StepStatus::MaterialsNeeded);
    if !status.is_open() || !waiting {
        return Err(AppError::new(ErrorCode::NoMaterialsRequested).with_details(json!({ "step": step })));
    }
    Ok(position)
}

/// The last day for the step at `position`, its clock started at
/// `started` (the request for the first step, the previous step done, or the
/// person's answer to a request for materials): the process's limit in
/// working days, China time. None for a step without a limit.
pub fn due_on(process: &[StepSpec], position: usize, started: DateTime<Utc>, calendar: &Calendar) -> Option<NaiveDate> {
    let days = process.get(position)?.limit_days?;
    Some(calendar.add_working_days(china_time::date_of(started), days))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::services::transfers::process::{self, InsuranceType};

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, hour, 0, 0).unwrap()
    }

    fn done_at(occurred_at: DateTime<Utc>) -> Report<'static> {
        Report {
            outcome: StepOutcome::Done,
            occurred_at,
            note: None,
        }
    }

    fn said(outcome: StepOutcome, occurred_at: DateTime<Utc>) -> Report<'static> {
        Report {
            outcome,
            occurred_at,
            note: Some("原因"),
        }
    }

    /// A case whose first `done` steps happened, one an hour from 01:00.
    fn case(length: usize, done: usize) -> (TransferStatus, Vec<Progress>) {
        let steps = (0..length)
            .map(|i| Progress {
                status: if i < done {
                    StepStatus::Done
                } else {
                    StepStatus::Pending
                },
                occurred_at: (i < done).then(|| at(i as u32 + 1)),
            })
            .collect();
        let status = if done == length {
            TransferStatus::Completed
        } else {
            TransferStatus::InProgress
        };
        (status, steps)
    }

    /// `D` done, `C` done and the case completed, `A` already done (another
    /// report), `O` out of order, `N` not in the process.
    fn outcome(result: AppResult<Decision>) -> char {
        match result {
            Ok(Decision::Advance(Advance {
                to: TransferStatus::Completed,
                ..
            })) => 'C',
            Ok(Decision::Advance(_)) => 'D',
            Ok(Decision::Unchanged) => 'U',
            Err(error) => match error.code {
                ErrorCode::StepAlreadyDone => 'A',
                ErrorCode::StepOutOfOrder => 'O',
                ErrorCode::StepNotInProcess => 'N',
                other => panic!("unexpected {other:?}"),
            },
        }
    }

    /// For each insurance, a row per number of steps done (0 to all), a
    /// column per step of the process and a last one for a step it lacks.
    const EXPECTED: &[(InsuranceType, &[&str])] = &[
        (InsuranceType::Pension, &["DOOON", "ADOON", "AADON", "AAACN", "AAAAN"]),
        (InsuranceType::Medical, &["DOON", "ADON", "AACN", "AAAN"]),
        (InsuranceType::Unemployment, &["DOON", "ADON", "AACN", "AAAN"]),
    ];

    #[test]
    fn every_step_report_in_every_state_of_every_process() {
        assert_eq!(EXPECTED.len(), InsuranceType::ALL.len());
        for (insurance, rows) in EXPECTED {
            let process = process::current(*insurance);
            let keys: Vec<&str> = process.iter().map(|s| s.key).chain(["teleported"]).collect();
            assert_eq!(rows.len(), process.len() + 1, "{insurance:?}");
            for (done, expected) in rows.iter().enumerate() {
                let (status, progress) = case(process.len(), done);
                let got: String = keys
                    .iter()
                    .map(|key| outcome(report_step(process, status, &progress, key, &done_at(at(12)))))
                    .collect();
                assert_eq!(&got, expected, "{insurance:?} {status:?} with {done} steps done");
            }
        }
    }

    #[test]
    fn the_same_report_again_changes_nothing() {
        for insurance in InsuranceType::ALL {
            let process = process::current(*insurance);
            for done in 1..=process.len() {
                let (status, progress) = case(process.len(), done);
                for (position, step) in process[..done].iter().enumerate() {
                    let again = report_step(process, status, &progress, step.key, &done_at(at(position as u32 + 1)));
                    assert_eq!(outcome(again), 'U', "{insurance:?} {}", step.key);
                }
            }
        }
    }

    #[test]
    fn a_step_cannot_happen_before_its_predecessor() {
        let process = process::current(InsuranceType::Medical);
        let (status, progress) = case(process.len(), 1);
        let earlier = report_step(process, status, &progress, process[1].key, &done_at(at(0)));
        assert_eq!(outcome(earlier), 'O');
        let same_moment = report_step(process, status, &progress, process[1].key, &done_at(at(1)));
        assert_eq!(outcome(same_moment), 'D');
    }

    #[test]
    fn the_finishing_step_completes_the_case() {
        let process = process::current(InsuranceType::Pension);
        let (status, progress) = case(process.len(), process.len() - 1);
        let last = process.last().unwrap().key;
        assert_eq!(
            report_step(process, status, &progress, last, &done_at(at(12))).unwrap(),
            Decision::Advance(Advance {
                position: process.len() - 1,
                outcome: StepOutcome::Done,
                from: TransferStatus::InProgress,
                to: TransferStatus::Completed,
            })
        );
    }

    #[test]
    fn an_outcome_other_than_done_needs_its_note() {
        let process = process::current(InsuranceType::Medical);
        let (status, progress) = case(process.len(), 0);
        for outcome in [
            StepOutcome::Refused,
            StepOutcome::MaterialsNeeded,
            StepOutcome::Cancelled,
        ] {
            let unsaid = Report {
                note: None,
                ..said(outcome, at(2))
            };
            let error = report_step(process, status, &progress, process[0].key, &unsaid).unwrap_err();
            assert_eq!(error.code, ErrorCode::ValidationFailed, "{outcome:?}");
        }
    }

    #[test]
    fn refusal_and_cancellation_end_the_case_and_nothing_follows_but_the_same_report() {
        let process = process::current(InsuranceType::Medical);
        let (status, mut progress) = case(process.len(), 1);
        for (outcome, ended) in [
            (StepOutcome::Refused, TransferStatus::Refused),
            (StepOutcome::Cancelled, TransferStatus::Cancelled),
        ] {
            let decided = report_step(process, status, &progress, process[1].key, &said(outcome, at(5))).unwrap();
            assert_eq!(
                decided,
                Decision::Advance(Advance {
                    position: 1,
                    outcome,
                    from: TransferStatus::InProgress,
                    to: ended,
                })
            );
            progress[1] = Progress {
                status: outcome.step_status(),
                occurred_at: Some(at(5)),
            };
            let again = report_step(process, ended, &progress, process[1].key, &said(outcome, at(5)));
            assert_eq!(again.unwrap(), Decision::Unchanged);
            let later = report_step(process, ended, &progress, process[1].key, &done_at(at(6)));
            assert_eq!(later.unwrap_err().code, ErrorCode::TransferClosed);
        }
    }

    #[test]
    fn a_step_waiting_for_materials_is_answered_then_done() {
        let process = process::current(InsuranceType::Pension);
        let (status, mut progress) = case(process.len(), 1);
        let asked = said(StepOutcome::MaterialsNeeded, at(3));
        let decided = report_step(process, status, &progress, process[1].key, &asked).unwrap();
        assert!(matches!(
            decided,
            Decision::Advance(Advance {
                to: TransferStatus::InProgress,
                ..
            })
        ));
        assert_eq!(
            answer_materials(process, status, &progress, process[1].key)
                .unwrap_err()
                .code,
            ErrorCode::NoMaterialsRequested,
            "nothing was asked yet"
        );
        progress[1] = Progress {
            status: StepStatus::MaterialsNeeded,
            occurred_at: Some(at(3)),
        };
        assert_eq!(answer_materials(process, status, &progress, process[1].key).unwrap(), 1);
        assert_eq!(
            answer_materials(process, TransferStatus::Cancelled, &progress, process[1].key)
                .unwrap_err()
                .code,
            ErrorCode::NoMaterialsRequested,
            "an ended case takes no answer"
        );
        let received = report_step(process, status, &progress, process[1].key, &done_at(at(4))).unwrap();
        assert!(matches!(
            received,
            Decision::Advance(Advance {
                outcome: StepOutcome::Done,
                ..
            })
        ));
        let later_step = report_step(
            process,
            status,
            &progress,
            process[2].key,
            &said(StepOutcome::Refused, at(4)),
        );
        assert_eq!(later_step.unwrap_err().code, ErrorCode::StepOutOfOrder);
    }

    #[test]
    fn a_report_from_the_future_is_refused_within_the_clock_skew() {
        let now = at(12);
        assert!(check_occurred_at(now + TimeDelta::minutes(5), now).is_ok());
        assert!(check_occurred_at(now - TimeDelta::days(30), now).is_ok());
        let error = check_occurred_at(now + TimeDelta::minutes(6), now).unwrap_err();
        assert_eq!(error.code, ErrorCode::ValidationFailed);
    }

    #[test]
    fn only_agencies_with_the_write_scope_open_cases_and_report_steps() {
        assert_eq!(AGENCY, Taker::Agency(Scope::SiTransferWrite));
    }

    #[test]
    fn the_next_step_is_due_within_its_limit_in_working_days() {
        let calendar = Calendar::new([]);
        let process = process::current(InsuranceType::Medical);
        // Accepted on Monday 30 November (China time): ten working days
        // later is Monday 14 December, five after that Monday 21 December.
        let accepted = at(1);
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        assert_eq!(due_on(process, 1, accepted, &calendar), Some(day(14)));
        assert_eq!(due_on(process, 2, accepted, &calendar), Some(day(7)));
        assert_eq!(
            due_on(process, 0, accepted, &calendar),
            Some(day(7)),
            "acceptance within five working days"
        );
        assert_eq!(due_on(process, 3, accepted, &calendar), None, "past the last step");
    }
}
