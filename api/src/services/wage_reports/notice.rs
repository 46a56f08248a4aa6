//! What the worker's phone says when their unpaid-wage report changes: the
//! report, its new status in a subscribe message's five characters, and what
//! comes next. One event per action, so that each can have its own template.

use chrono::Utc;

use super::status::{Action, InspectorAction, ReportStatus};
use crate::services::{
    case_log::Notice,
    notifications::{CaseNews, Event, Message},
};

const CASE_KIND: &str = "欠薪线索";

/// The events a report raises, for checking the configured templates.
pub fn events() -> Vec<Event> {
    Action::ALL
        .iter()
        .map(|&action| Event {
            name: event(action),
            carries_amount: false,
        })
        .collect()
}

fn event(action: Action) -> String {
    format!("wage_report.{}", action.as_str())
}

/// What the worker does or waits for after `action`, in a `thing` field's
/// twenty characters.
fn next_step(action: Action) -> &'static str {
    use InspectorAction as A;
    match action {
        Action::Submit => "5个工作日内决定是否受理",
        Action::Supplement => "等待监察机构继续处理",
        Action::Inspector(A::Accept) => "调查处理中，请保持电话畅通",
        Action::Inspector(A::Refuse) => "请在小程序查看不予受理原因",
        Action::Inspector(A::RequestInfo) => "请在小程序补充所需材料",
        Action::Inspector(A::Start) => "调查处理中，结果会通知您",
        Action::Inspector(A::Resolve) => "请在小程序查看处理结果",
        Action::Inspector(A::Transfer) => "已转交工作所在地监察机构办理",
        Action::Inspector(A::Close) => "请在小程序查看结案说明",
        Action::Inspector(A::Extend) => "办理期限已延长，请耐心等待",
    }
}

/// The notice of `action` taking report `report_no` to `to`.
pub fn notice(id: &str, report_no: &str, action: Action, to: ReportStatus) -> Notice {
    let news = CaseNews {
        case_kind: CASE_KIND.to_owned(),
        case_no: report_no.to_owned(),
        status: to.label().to_owned(),
        next_step: next_step(action).to_owned(),
        amount_fen: None,
        changed_at: Utc::now(),
    };
    Notice {
        topic: event(action),
        message: Message::about(news, format!("pages/wage-reports/detail?id={id}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_fits_a_phrase_and_every_next_step_a_thing() {
        for status in ReportStatus::ALL {
            assert!(status.label().chars().count() <= 5, "{}", status.label());
        }
        for action in Action::ALL {
            assert!(next_step(action).chars().count() <= 20, "{}", next_step(action));
        }
    }

    #[test]
    fn each_action_is_its_own_event() {
        let names: std::collections::HashSet<String> = events().into_iter().map(|event| event.name).collect();
        assert_eq!(names.len(), Action::ALL.len());
        let accepted = notice(
            "r1",
            "QX-1",
            Action::Inspector(InspectorAction::Accept),
            ReportStatus::Accepted,
        );
        assert_eq!(accepted.topic, "wage_report.accept");
        assert!(
            accepted.message.body.contains("QX-1：已受理。"),
            "{}",
            accepted.message.body
        );
    }
}
