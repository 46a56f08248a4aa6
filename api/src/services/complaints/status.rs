//! The one lifecycle of a complaint or suggestion (投诉建议), pure: a worker
//! files it with the office of a region; the office's administrators answer
//! it by its deadline, 15 working days for a complaint and 20 for a
//! suggestion, counted in the days of the office's province. Nothing here
//! reads or writes anything.

use chrono::NaiveDate;
use serde_json::json;

use crate::{
    access::Taker,
    auth::Role,
    error::{AppError, AppResult, ErrorCode, Localized},
    services::calendar::Calendar,
};

crate::text_enum! {
    /// What the worker brings.
    ComplaintKind {
        /// 投诉: something went wrong (a case, a member of staff, an office).
        Complaint => "complaint",
        /// 建议: something could be better.
        Suggestion => "suggestion",
    }
}

impl ComplaintKind {
    /// Working days the office has to answer.
    pub fn answer_within(self) -> u32 {
        match self {
            ComplaintKind::Complaint => 15,
            ComplaintKind::Suggestion => 20,
        }
    }

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            ComplaintKind::Complaint => "投诉",
            ComplaintKind::Suggestion => "建议",
        }
    }
}

crate::text_enum! {
    /// Where a complaint is.
    ComplaintStatus {
        /// Waiting for the office's answer.
        Open => "open",
        Answered => "answered",
    }
}

impl ComplaintStatus {
    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            ComplaintStatus::Open => "待答复",
            ComplaintStatus::Answered => "已答复",
        }
    }
}

crate::text_enum! {
    /// What happens to a complaint.
    Action {
        /// The worker files it.
        File => "file",
        /// The office answers it, once.
        Reply => "reply",
    }
}

impl Action {
    /// Who takes the action: the worker files, the office's administrators
    /// answer (`access::require_complaint_handler`).
    pub fn taker(self) -> Taker {
        match self {
            Action::File => Taker::Worker,
            Action::Reply => Taker::Staff(Role::Admin),
        }
    }
}

/// The status `action` leads to from `status` (`None`: not filed yet), or
/// 409 `INVALID_STATE` naming both.
pub fn decide(status: Option<ComplaintStatus>, action: Action) -> AppResult<ComplaintStatus> {
    match (status, action) {
        (None, Action::File) => Ok(ComplaintStatus::Open),
        (Some(ComplaintStatus::Open), Action::Reply) => Ok(ComplaintStatus::Answered),
        _ => Err(AppError::new(ErrorCode::InvalidState)
            .with_message(Localized::fixed(
                "这件投诉建议已经答复过了。",
                "This has been answered already.",
            ))
            .with_details(json!({ "status": status.map(ComplaintStatus::as_str), "action": action.as_str() }))),
    }
}

/// 400 unless the text (of a complaint or of a reply) is not blank.
pub fn require_text(field: &str, text: &str) -> AppResult<()> {
    if text.trim().is_empty() {
        return Err(AppError::invalid_field(
            field,
            Localized::fixed("请填写内容。", "The text must not be blank."),
        ));
    }
    Ok(())
}

/// The last day to answer a `kind` filed on `day`, in the office's days.
pub fn deadline(calendar: &Calendar, kind: ComplaintKind, day: NaiveDate) -> NaiveDate {
    calendar.add_working_days(day, kind.answer_within())
}

/// Late, or overdue while open: a working day has begun after the deadline.
pub fn past_deadline(calendar: &Calendar, deadline: NaiveDate, today: NaiveDate) -> bool {
    calendar.is_overdue(deadline, today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_complaint_is_filed_once_and_answered_once() {
        use ComplaintStatus::*;
        for status in [None, Some(Open), Some(Answered)] {
            for action in Action::ALL {
                let expected = match (status, action) {
                    (None, Action::File) => Some(Open),
                    (Some(Open), Action::Reply) => Some(Answered),
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
    fn the_worker_files_and_administrators_answer() {
        assert_eq!(Action::File.taker(), Taker::Worker);
        assert_eq!(Action::Reply.taker(), Taker::Staff(Role::Admin));
    }

    #[test]
    fn a_complaint_is_answered_in_fifteen_working_days_a_suggestion_in_twenty() {
        let calendar = Calendar::default();
        // Friday 2026-11-20: three weeks of weekdays, then four.
        assert_eq!(
            deadline(&calendar, ComplaintKind::Complaint, day("2026-11-20")),
            day("2026-12-11")
        );
        assert_eq!(
            deadline(&calendar, ComplaintKind::Suggestion, day("2026-11-20")),
            day("2026-12-18")
        );
        assert!(!past_deadline(&calendar, day("2026-12-11"), day("2026-12-13")));
        assert!(past_deadline(&calendar, day("2026-12-11"), day("2026-12-14")));
    }

    #[test]
    fn blank_text_is_refused() {
        assert!(require_text("text", "窗口工作人员态度不好").is_ok());
        assert_eq!(require_text("text", " ").unwrap_err().code, ErrorCode::ValidationFailed);
    }
}
