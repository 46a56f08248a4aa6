//! What the worker's phone says when their transfer moves: the case, its
//! status in a subscribe message's five characters, and the step that comes
//! next. Opening and each step done are events of their own.

use chrono::Utc;

use super::{
    process::StepSpec,
    status::{StepOutcome, TransferStatus},
};
use crate::services::{
    case_log::Notice,
    notifications::{CaseNews, Event, Message},
};

const CASE_KIND: &str = "社保转移接续";
const OPENED: &str = "si_transfer.open";
const STEP_DONE: &str = "si_transfer.step";
const REFUSED: &str = "si_transfer.refused";
const MATERIALS_NEEDED: &str = "si_transfer.materials_needed";
const CANCELLED: &str = "si_transfer.cancelled";

/// The events a transfer raises, for checking the configured templates.
pub fn events() -> Vec<Event> {
    [OPENED, STEP_DONE, REFUSED, MATERIALS_NEEDED, CANCELLED]
        .into_iter()
        .map(|name| Event {
            name: name.to_owned(),
            carries_amount: false,
        })
        .collect()
}

fn news(transfer_no: &str, status: &str, next_step: String) -> CaseNews {
    CaseNews {
        case_kind: CASE_KIND.to_owned(),
        case_no: transfer_no.to_owned(),
        status: status.to_owned(),
        next_step,
        amount_fen: None,
        changed_at: Utc::now(),
    }
}

fn link(id: &str) -> String {
    format!("pages/transfers/detail?id={id}")
}

/// The worker opened the case: the first step waits on the receiving office.
pub fn opened(id: &str, transfer_no: &str, first: &StepSpec) -> Notice {
    let news = news(
        transfer_no,
        TransferStatus::InProgress.label(),
        format!("等待{}", first.label),
    );
    Notice {
        topic: OPENED.to_owned(),
        message: Message::about(news, link(id)),
    }
}

/// A step is done: the next one is named, or the transfer is complete.
pub fn step_done(id: &str, transfer_no: &str, to: TransferStatus, next: Option<&StepSpec>) -> Notice {
    let next_step = next.map_or_else(
        || "转移接续已全部完成".to_owned(),
        |step| format!("下一步：{}", step.label),
    );
    Notice {
        topic: STEP_DONE.to_owned(),
        message: Message::about(news(transfer_no, to.label(), next_step), link(id)),
    }
}

/// An office refused, asked for materials or cancelled: the worker reads
/// what and why, and, for materials, that they answer in the mini-program.
pub fn outcome(id: &str, transfer_no: &str, outcome: StepOutcome, note: &str) -> Option<Notice> {
    let (topic, status, next_step) = match outcome {
        StepOutcome::Done => return None,
        StepOutcome::Refused => (REFUSED, TransferStatus::Refused.label(), format!("原因：{note}")),
        StepOutcome::MaterialsNeeded => (MATERIALS_NEEDED, "待补材料", format!("请补充：{note}")),
        StepOutcome::Cancelled => (CANCELLED, TransferStatus::Cancelled.label(), format!("原因：{note}")),
    };
    Some(Notice {
        topic: topic.to_owned(),
        message: Message::about(news(transfer_no, status, next_step), link(id)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::transfers::process::{InsuranceType, current};

    #[test]
    fn every_status_fits_a_phrase_and_every_step_a_thing() {
        for &status in TransferStatus::ALL {
            assert!(status.label().chars().count() <= 5);
        }
        for &insurance in InsuranceType::ALL {
            for step in current(insurance) {
                assert!(
                    format!("下一步：{}", step.label).chars().count() <= 20,
                    "{}",
                    step.label
                );
            }
        }
    }

    #[test]
    fn a_step_names_the_next_one_and_the_last_says_it_is_complete() {
        let pension = current(InsuranceType::Pension);
        let middle = step_done("t1", "ZJ-1", TransferStatus::InProgress, pension.get(1));
        assert!(
            middle.message.body.contains("办理中。下一步：新参保地出具联系函。"),
            "{}",
            middle.message.body
        );
        let last = step_done("t1", "ZJ-1", TransferStatus::Completed, None);
        assert!(
            last.message.body.contains("已办结。转移接续已全部完成。"),
            "{}",
            last.message.body
        );
    }

    #[test]
    fn an_outcome_tells_the_worker_what_and_why() {
        let materials = outcome("t1", "ZJ-1", StepOutcome::MaterialsNeeded, "参保缴费凭证原件").unwrap();
        assert_eq!(materials.topic, MATERIALS_NEEDED);
        assert!(
            materials.message.body.contains("待补材料。请补充：参保缴费凭证原件。"),
            "{}",
            materials.message.body
        );
        let refused = outcome("t1", "ZJ-1", StepOutcome::Refused, "缴费记录不连续").unwrap();
        assert!(refused.message.body.contains("不予办理。原因：缴费记录不连续。"));
        assert_eq!(
            outcome("t1", "ZJ-1", StepOutcome::Cancelled, "本人撤回").unwrap().topic,
            CANCELLED
        );
        assert!(outcome("t1", "ZJ-1", StepOutcome::Done, "").is_none());
    }
}
