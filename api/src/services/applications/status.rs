//! The one state machine of an application's life.

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

/// What can happen to an application, and who does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The worker sends a draft or a returned application in.
    Submit,
    /// The worker takes it back before a decision.
    Withdraw,
    /// A reviewer opens it.
    StartReview,
    Approve,
    Reject,
    /// A reviewer sends it back to the worker for changes.
    Return,
    /// Finance records the payment.
    Disburse,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Withdraw => "withdraw",
            Action::StartReview => "start_review",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Return => "return",
            Action::Disburse => "disburse",
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
        }
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
            _ => None,
        }
    }

    /// The worker may change answers and documents.
    pub fn editable(self) -> bool {
        matches!(self, ApplicationStatus::Draft | ApplicationStatus::Returned)
    }
}

#[cfg(test)]
mod tests {
    use super::{Action::*, ApplicationStatus::*};

    #[test]
    fn the_happy_path_and_the_return_loop() {
        assert_eq!(Draft.after(Submit), Some(Submitted));
        assert_eq!(Submitted.after(StartReview), Some(UnderReview));
        assert_eq!(UnderReview.after(Return), Some(Returned));
        assert_eq!(Returned.after(Submit), Some(Submitted));
        assert_eq!(Submitted.after(Approve), Some(Approved));
        assert_eq!(Approved.after(Disburse), Some(Disbursed));
    }

    #[test]
    fn decided_and_closed_applications_do_not_move_back() {
        for status in [Approved, Rejected, Withdrawn, Disbursed] {
            for action in [Submit, Withdraw, StartReview, Approve, Reject, Return] {
                assert_eq!(status.after(action), None, "{status:?} {action:?}");
            }
        }
        assert_eq!(Draft.after(Approve), None);
        assert_eq!(Submitted.after(Disburse), None);
    }
}
