//! The one lifecycle of a follow-up (回访), pure: a rating of 1 or 2 opens
//! it for the office of the case rated, due in 3 working days; the staff who
//! work that kind of case there close it with what was done. Nothing here
//! reads or writes anything.

use chrono::NaiveDate;
use serde_json::json;

use crate::{
    access::{self, Taker},
    domain::CaseType,
    error::{AppError, AppResult, ErrorCode, Localized},
    services::calendar::Calendar,
};

/// Working days the office has to follow a low rating up.
pub const DUE_WITHIN: u32 = 3;

crate::text_enum! {
    /// Where a follow-up is.
    FollowUpStatus {
        Open => "open",
        Closed => "closed",
    }
}

impl FollowUpStatus {
    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            FollowUpStatus::Open => "待回访",
            FollowUpStatus::Closed => "已回访",
        }
    }
}

crate::text_enum! {
    /// What happens to a follow-up.
    Action {
        /// The worker's rating of 1 or 2 opens it.
        Open => "open",
        /// The office closes it with what was done.
        Close => "close",
    }
}

impl Action {
    /// Who takes the action: the worker by rating; the staff who work the
    /// case's kind (`access::follow_up_role`) by closing.
    pub fn taker(self, kind: CaseType) -> Taker {
        match self {
            Action::Open => Taker::Worker,
            Action::Close => Taker::Staff(access::follow_up_role(kind)),
        }
    }
}

/// The status `action` leads to from `status` (`None`: not opened yet), or
/// 409 `INVALID_STATE` naming both.
pub fn decide(status: Option<FollowUpStatus>, action: Action) -> AppResult<FollowUpStatus> {
    match (status, action) {
        (None, Action::Open) => Ok(FollowUpStatus::Open),
        (Some(FollowUpStatus::Open), Action::Close) => Ok(FollowUpStatus::Closed),
        _ => Err(AppError::new(ErrorCode::InvalidState)
            .with_message(Localized::fixed(
                "这条回访已经办结了。",
                "This follow-up is closed already.",
            ))
            .with_details(json!({ "status": status.map(FollowUpStatus::as_str), "action": action.as_str() }))),
    }
}

/// 400 unless the office says what it did (not blank).
pub fn require_what_was_done(text: &str) -> AppResult<()> {
    if text.trim().is_empty() {
        return Err(AppError::invalid_field(
            "what_was_done",
            Localized::fixed(
                "请写明回访做了什么、怎么处理的。",
                "what_was_done must say what was done.",
            ),
        ));
    }
    Ok(())
}

/// The last day of the follow-up of a rating given on `day`, in the days of
/// the office's province.
pub fn deadline(calendar: &Calendar, day: NaiveDate) -> NaiveDate {
    calendar.add_working_days(day, DUE_WITHIN)
}

/// Late, or overdue while open: a working day has begun after the deadline.
pub fn past_deadline(calendar: &Calendar, deadline: NaiveDate, today: NaiveDate) -> bool {
    calendar.is_overdue(deadline, today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_follow_up_opens_once_and_closes_once() {
        use FollowUpStatus::*;
        for status in [None, Some(Open), Some(Closed)] {
            for action in Action::ALL {
                let expected = match (status, action) {
                    (None, Action::Open) => Some(Open),
                    (Some(Open), Action::Close) => Some(Closed),
                    _ => None,
                };
                let decided = decide(status, *action);
                assert_eq!(decided.as_ref().ok().copied(), expected, "{status:?} {action:?}");
                if let Err(refused) = decided {
                    assert_eq!(refused.code, ErrorCode::InvalidState);
                }
            }
        }
    }

    #[test]
    fn the_worker_opens_and_the_staff_of_the_case_close() {
        assert_eq!(Action::Open.taker(CaseType::WageReport), Taker::Worker);
        assert_eq!(Action::Close.taker(CaseType::Application), Taker::Staff(Role::Reviewer));
        assert_eq!(Action::Close.taker(CaseType::WageReport), Taker::Staff(Role::Inspector));
        assert_eq!(Action::Close.taker(CaseType::Transfer), Taker::Staff(Role::Admin));
    }

    #[test]
    fn the_deadline_is_three_working_days_and_late_after_it() {
        let calendar = Calendar::default();
        // A rating on a Thursday is followed up by the Tuesday after.
        let deadline = deadline(&calendar, day("2026-11-19"));
        assert_eq!(deadline, day("2026-11-24"));
        assert!(!past_deadline(&calendar, deadline, day("2026-11-24")));
        assert!(past_deadline(&calendar, deadline, day("2026-11-25")));
    }

    #[test]
    fn closing_says_what_was_done() {
        assert!(require_what_was_done("已电话回访，补发了材料清单").is_ok());
        assert_eq!(
            require_what_was_done("  ").unwrap_err().code,
            ErrorCode::ValidationFailed
        );
    }
}
