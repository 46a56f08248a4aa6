//! The one state machine of an application's life, and every rule of it
//! that needs no database: what each action leads to, who takes it, what it
//! needs. `mod.rs` loads the case, asks these, and records the answer.

use serde_json::json;

use crate::{
    access::Taker,
    auth::Role,
    error::{AppError, AppResult, ErrorCode, Localized},
};

crate::text_enum! {
    /// Where an application is.
    ApplicationStatus {
        Draft => "draft",
        Submitted => "submitted",
        UnderReview => "under_review",
        Returned => "returned",
        Approved => "approved",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
        Disbursed => "disbursed",
    }
}

impl ApplicationStatus {
    /// What people read in exports and messages.
    pub fn label(self) -> &'static str {
        match self {
            ApplicationStatus::Draft => "草稿",
            ApplicationStatus::Submitted => "已提交",
            ApplicationStatus::UnderReview => "审核中",
            ApplicationStatus::Returned => "退回修改",
            ApplicationStatus::Approved => "审核通过",
            ApplicationStatus::Rejected => "审核未通过",
            ApplicationStatus::Withdrawn => "已撤回",
            ApplicationStatus::Disbursed => "已发放",
        }
    }
}

crate::text_enum! {
    /// What can happen to an application.
    Action {
        /// The worker sends a draft or a returned application in.
        Submit => "submit",
        /// The worker takes it back before a decision.
        Withdraw => "withdraw",
        /// A reviewer takes the case up; the worker sees that someone is on it.
        StartReview => "start_review",
        Approve => "approve",
        Reject => "reject",
        /// A reviewer sends it back to the worker for changes.
        Return => "return",
        /// Finance records the payment.
        Disburse => "disburse",
        /// The bank returned a payment (closed card, wrong name): the case
        /// stays approved and waits for a new account.
        ReturnPayment => "payment_returned",
    }
}

impl Action {
    /// Who takes the action: the worker on their own case, a reviewer, or finance.
    pub fn taker(self) -> Taker {
        match self {
            Action::Submit | Action::Withdraw => Taker::Worker,
            Action::StartReview | Action::Approve | Action::Reject | Action::Return => Taker::Staff(Role::Reviewer),
            Action::Disburse | Action::ReturnPayment => Taker::Staff(Role::Finance),
        }
    }

    /// What the worker reads in the timeline.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Submit => "已提交申请",
            Action::Withdraw => "已撤回申请",
            Action::StartReview => "工作人员已开始审核",
            Action::Approve => "审核通过",
            Action::Reject => "审核未通过",
            Action::Return => "退回修改，请按意见补充后重新提交",
            Action::Disburse => "补贴已发放",
            Action::ReturnPayment => "银行退回了这笔补贴，请更换收款账户",
        }
    }

    /// A refusal or a return tells the worker why.
    fn needs_comment(self) -> bool {
        matches!(self, Action::Reject | Action::Return)
    }
}

impl ApplicationStatus {
    /// The status `action` leads to from this one, if it is allowed here.
    pub fn after(self, action: Action) -> Option<ApplicationStatus> {
        use ApplicationStatus::*;
        match (action, self) {
            (Action::Submit, Draft | Returned) => Some(Submitted),
            (Action::Withdraw, Draft | Submitted | UnderReview | Returned) => Some(Withdrawn),
            (Action::StartReview, Submitted) => Some(UnderReview),
            (Action::Approve, Submitted | UnderReview) => Some(Approved),
            (Action::Reject, Submitted | UnderReview) => Some(Rejected),
            (Action::Return, Submitted | UnderReview) => Some(Returned),
            (Action::Disburse, Approved) => Some(Disbursed),
            (Action::ReturnPayment, Approved) => Some(Approved),
            _ => None,
        }
    }

    /// As `after`, or 409 `INVALID_STATE` naming the status and the action.
    pub fn decide(self, action: Action) -> AppResult<ApplicationStatus> {
        self.after(action).ok_or_else(|| {
            AppError::new(ErrorCode::InvalidState)
                .with_details(json!({ "status": self.as_str(), "action": action.as_str() }))
        })
    }

    /// The worker may change answers and documents.
    pub fn editable(self) -> bool {
        matches!(self, ApplicationStatus::Draft | ApplicationStatus::Returned)
    }

    /// 409 unless the worker may change answers and documents now.
    pub fn require_editable(self) -> AppResult<()> {
        if self.editable() {
            Ok(())
        } else {
            Err(AppError::new(ErrorCode::InvalidState).with_message(Localized::fixed(
                "申请已提交，现在不能修改。如需修改，请先撤回或等待退回。",
                "Only drafts and returned applications can change.",
            )))
        }
    }

    /// Finished: refused, withdrawn or paid. Nothing more happens to it, and
    /// its worker may rate it (好差评). An approved case is not closed until
    /// it is paid.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            ApplicationStatus::Rejected | ApplicationStatus::Withdrawn | ApplicationStatus::Disbursed
        )
    }

    /// Staff see a case once it has left the worker's drafts.
    pub fn visible_to_staff(self) -> bool {
        self != ApplicationStatus::Draft
    }
}

/// 422 when the action needs a comment the reviewer did not write.
pub fn check_comment(action: Action, comment: Option<&str>) -> AppResult<()> {
    if action.needs_comment() && comment.is_none_or(|c| c.trim().is_empty()) {
        return Err(AppError::invalid_field(
            "comment",
            Localized::fixed(
                "不通过或退回时，请写明原因。",
                "A comment is required to reject or return.",
            ),
        ));
    }
    Ok(())
}

/// The amount an approval commits: the reviewer's figure, by default what
/// the program's rule entitles the worker to, never more and never nothing.
pub fn approved_amount(chosen: Option<i64>, entitled: i64) -> AppResult<i64> {
    let amount = chosen.unwrap_or(entitled);
    if amount <= 0 || amount > entitled {
        return Err(AppError::invalid_field(
            "approved_amount_fen",
            Localized::new(
                format!("核定金额应在1分到{entitled}分之间（按补贴标准）。"),
                format!("approved_amount_fen must be between 1 and {entitled} under the program's rule."),
            ),
        ));
    }
    Ok(amount)
}

/// Finance pays exactly what was approved.
pub fn check_disbursement(approved: Option<i64>, paid: i64) -> AppResult<()> {
    if approved.is_some_and(|approved| paid != approved) {
        return Err(AppError::invalid_field(
            "amount_fen",
            Localized::fixed("发放金额应等于核定金额。", "amount_fen must equal the approved amount."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Action::*, ApplicationStatus::*, *};

    /// Every status and action: where it leads, or `None` where it is refused.
    #[test]
    fn every_transition_allowed_and_refused() {
        let expected = |status: ApplicationStatus, action: Action| match (status, action) {
            (Draft | Returned, Submit) => Some(Submitted),
            (Draft | Submitted | UnderReview | Returned, Withdraw) => Some(Withdrawn),
            (Submitted, StartReview) => Some(UnderReview),
            (Submitted | UnderReview, Approve) => Some(Approved),
            (Submitted | UnderReview, Reject) => Some(Rejected),
            (Submitted | UnderReview, Return) => Some(Returned),
            (Approved, Disburse) => Some(Disbursed),
            (Approved, ReturnPayment) => Some(Approved),
            _ => None,
        };
        let mut allowed = 0;
        for status in ApplicationStatus::ALL {
            for action in Action::ALL {
                let after = status.after(*action);
                assert_eq!(after, expected(*status, *action), "{status:?} {action:?}");
                assert_eq!(status.decide(*action).ok(), after);
                if let Err(refused) = status.decide(*action) {
                    assert_eq!(refused.code, ErrorCode::InvalidState);
                }
                allowed += usize::from(after.is_some());
            }
        }
        assert_eq!(allowed, 15);
    }

    #[test]
    fn the_closed_applications_are_those_no_action_moves() {
        for status in ApplicationStatus::ALL {
            let moves = Action::ALL.iter().any(|action| status.after(*action).is_some());
            // A draft moves; an approved case still waits for its payment.
            assert_eq!(status.is_closed(), !moves, "{status:?}");
        }
    }

    #[test]
    fn decided_and_closed_applications_do_not_move_back() {
        for status in [Approved, Rejected, Withdrawn, Disbursed] {
            for action in [Submit, Withdraw, StartReview, Approve, Reject, Return] {
                assert_eq!(status.after(action), None, "{status:?} {action:?}");
            }
            assert!(status.require_editable().is_err());
        }
        assert!(Draft.require_editable().is_ok() && Returned.require_editable().is_ok());
        assert!(Submitted.require_editable().is_err() && UnderReview.require_editable().is_err());
    }

    #[test]
    fn the_worker_submits_and_withdraws_reviewers_decide_finance_pays() {
        for action in Action::ALL {
            let taker = match action {
                Submit | Withdraw => Taker::Worker,
                Disburse | ReturnPayment => Taker::Staff(Role::Finance),
                _ => Taker::Staff(Role::Reviewer),
            };
            assert_eq!(action.taker(), taker, "{action:?}");
        }
    }

    #[test]
    fn a_refusal_or_a_return_needs_a_reason() {
        for action in Action::ALL {
            let needs = matches!(action, Reject | Return);
            assert_eq!(check_comment(*action, None).is_err(), needs, "{action:?}");
            assert_eq!(check_comment(*action, Some("  ")).is_err(), needs, "{action:?}");
            assert!(check_comment(*action, Some("材料不全")).is_ok());
        }
    }

    #[test]
    fn approval_stays_within_the_entitlement() {
        assert_eq!(approved_amount(None, 500_000).ok(), Some(500_000));
        assert_eq!(approved_amount(Some(300_000), 500_000).ok(), Some(300_000));
        assert!(approved_amount(Some(500_001), 500_000).is_err());
        assert!(approved_amount(Some(0), 500_000).is_err());
        assert!(approved_amount(None, 0).is_err());
    }

    #[test]
    fn finance_pays_the_approved_amount() {
        assert!(check_disbursement(Some(500_000), 500_000).is_ok());
        assert!(check_disbursement(Some(500_000), 400_000).is_err());
        assert!(check_disbursement(None, 1).is_ok());
    }

    #[test]
    fn staff_do_not_see_drafts() {
        for status in ApplicationStatus::ALL {
            assert_eq!(status.visible_to_staff(), *status != Draft);
        }
    }
}
