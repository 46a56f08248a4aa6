//! The one rule of a transfer's life: an agency reports that a step of the
//! legal process happened. Every guard of it is here, over the case's steps
//! as loaded, without the database.

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
    }
}

crate::text_enum! {
    /// Where a step of a transfer is.
    StepStatus {
        Pending => "pending",
        Done => "done",
    }
}

/// Who opens a case for a person and reports its steps: an agency's
/// system, with the write scope.
pub const AGENCY: Taker = Taker::Agency(Scope::SiTransferWrite);

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

/// What a report does to the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The same report again: nothing changes.
    Unchanged,
    Advance(Advance),
}

/// A step done now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advance {
    /// The step's position in the process.
    pub position: usize,
    pub from: TransferStatus,
    /// `Completed` when the step is the last one.
    pub to: TransferStatus,
}

/// An agency reports that `step` of a case in `status` happened at
/// `occurred_at`. The same report twice changes nothing the second time;
/// a step the process lacks, a different report of a done step, and a step
/// before (or earlier than) its predecessor are refused.
pub fn report_step(
    process: &[StepSpec],
    status: TransferStatus,
    steps: &[Progress],
    step: &str,
    occurred_at: DateTime<Utc>,
) -> AppResult<Decision> {
    let Some(position) = process.iter().position(|s| s.key == step) else {
        return Err(AppError::new(ErrorCode::StepNotInProcess).with_details(json!({
            "step": step,
            "steps": process.iter().map(|s| s.key).collect::<Vec<_>>(),
        })));
    };
    let current = steps
        .get(position)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("a transfer lacks its step {step}")))?;
    if current.status == StepStatus::Done {
        if current.occurred_at == Some(occurred_at) {
            return Ok(Decision::Unchanged);
        }
        return Err(AppError::new(ErrorCode::StepAlreadyDone).with_details(json!({ "step": step })));
    }
    if let Some(previous) = position.checked_sub(1) {
        let before = steps[previous];
        let in_order = before.status == StepStatus::Done && before.occurred_at.is_none_or(|at| at <= occurred_at);
        if !in_order {
            return Err(AppError::new(ErrorCode::StepOutOfOrder).with_details(json!({
                "step": step,
                "waiting_for": process[previous].key,
            })));
        }
    }
    let finishing = position + 1 == process.len();
    Ok(Decision::Advance(Advance {
        position,
        from: status,
        to: if finishing { TransferStatus::Completed } else { status },
    }))
}

/// The last day for the step at `position`, its predecessor done at
/// `previous_done`: the process's limit in working days, China time. None
/// for a step without a limit.
pub fn due_on(
    process: &[StepSpec],
    position: usize,
    previous_done: DateTime<Utc>,
    calendar: &Calendar,
) -> Option<NaiveDate> {
    let days = process.get(position)?.limit_days?;
    Some(calendar.add_working_days(china_time::date_of(previous_done), days))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::services::transfers::process::{self, InsuranceType};

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, hour, 0, 0).unwrap()
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
                    .map(|key| outcome(report_step(process, status, &progress, key, at(12))))
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
                    let again = report_step(process, status, &progress, step.key, at(position as u32 + 1));
                    assert_eq!(outcome(again), 'U', "{insurance:?} {}", step.key);
                }
            }
        }
    }

    #[test]
    fn a_step_cannot_happen_before_its_predecessor() {
        let process = process::current(InsuranceType::Medical);
        let (status, progress) = case(process.len(), 1);
        let earlier = report_step(process, status, &progress, process[1].key, at(0));
        assert_eq!(outcome(earlier), 'O');
        let same_moment = report_step(process, status, &progress, process[1].key, at(1));
        assert_eq!(outcome(same_moment), 'D');
    }

    #[test]
    fn the_finishing_step_completes_the_case() {
        let process = process::current(InsuranceType::Pension);
        let (status, progress) = case(process.len(), process.len() - 1);
        let last = process.last().unwrap().key;
        assert_eq!(
            report_step(process, status, &progress, last, at(12)).unwrap(),
            Decision::Advance(Advance {
                position: process.len() - 1,
                from: TransferStatus::InProgress,
                to: TransferStatus::Completed,
            })
        );
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
            None,
            "the first step has no limit"
        );
        assert_eq!(due_on(process, 3, accepted, &calendar), None, "past the last step");
    }
}
