//! What the worker's phone says when their application changes: the case,
//! its new status in a subscribe message's five characters, and what comes
//! next. One event per action, so that each can have its own template.

use chrono::Utc;

use super::status::{Action, ApplicationStatus};
use crate::services::{
    case_log::Notice,
    notifications::{CaseNews, Event, Message},
};

const CASE_KIND: &str = "补贴申请";

/// The events an application raises, for checking the configured templates.
pub fn events() -> Vec<Event> {
    Action::ALL
        .iter()
        .map(|&action| Event {
            name: event(action),
            carries_amount: carries_amount(action),
        })
        .collect()
}

fn event(action: Action) -> String {
    format!("application.{}", action.as_str())
}

/// Approval names the amount granted, payment the amount paid.
fn carries_amount(action: Action) -> bool {
    matches!(action, Action::Approve | Action::Disburse)
}

/// What the worker does or waits for after `action`, in a `thing` field's
/// twenty characters.
fn next_step(action: Action) -> &'static str {
    match action {
        Action::Submit => "等待工作人员审核",
        Action::Withdraw => "如需申请可重新填写提交",
        Action::StartReview => "审核结果出来后会通知您",
        Action::Approve => "等待财务发放补贴",
        Action::Reject => "请在小程序查看原因",
        Action::Return => "请按审核意见修改后重新提交",
        Action::Disburse => "请留意收款账户到账",
        Action::ReturnPayment => "请在小程序更换收款账户",
    }
}

/// The new status, in five characters; a returned payment leaves the case
/// approved, which would not tell the worker anything went wrong.
fn status_phrase(action: Action, to: ApplicationStatus) -> &'static str {
    match action {
        Action::ReturnPayment => "发放退回",
        _ => to.label(),
    }
}

/// The notice of `action` taking application `application_no` to `to`.
pub fn notice(
    id: &str,
    application_no: &str,
    action: Action,
    to: ApplicationStatus,
    amount_fen: Option<i64>,
) -> Notice {
    let news = CaseNews {
        case_kind: CASE_KIND.to_owned(),
        case_no: application_no.to_owned(),
        status: status_phrase(action, to).to_owned(),
        next_step: next_step(action).to_owned(),
        amount_fen: amount_fen.filter(|_| carries_amount(action)),
        changed_at: Utc::now(),
    };
    Notice {
        topic: event(action),
        message: Message::about(news, format!("pages/applications/detail?id={id}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_fits_a_phrase_and_every_next_step_a_thing() {
        for status in ApplicationStatus::ALL {
            assert!(status.label().chars().count() <= 5, "{}", status.label());
        }
        for &action in Action::ALL {
            assert!(next_step(action).chars().count() <= 20, "{}", next_step(action));
        }
    }

    #[test]
    fn each_action_is_its_own_event_and_says_something_different() {
        let events = events();
        assert_eq!(events.len(), Action::ALL.len());
        let approval = notice(
            "a1",
            "SB-1",
            Action::Approve,
            ApplicationStatus::Approved,
            Some(150_000),
        );
        let payment = notice(
            "a1",
            "SB-1",
            Action::Disburse,
            ApplicationStatus::Disbursed,
            Some(150_000),
        );
        let review = notice(
            "a1",
            "SB-1",
            Action::StartReview,
            ApplicationStatus::UnderReview,
            Some(150_000),
        );
        assert_eq!(approval.topic, "application.approve");
        assert_ne!(approval.message.body, payment.message.body);
        assert_eq!(
            review.message.news.unwrap().amount_fen,
            None,
            "only approval and payment name an amount"
        );
    }
}
