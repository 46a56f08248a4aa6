//! The one lifecycle of an unpaid-wage report, pure: its statuses and
//! actions, who takes each action, what each requires, the transitions and
//! the working-day limits. Nothing here reads or writes anything.

use chrono::NaiveDate;

use crate::{
    access::Taker,
    auth::Role,
    domain::RegionCode,
    error::{AppError, ErrorCode, Localized},
    services::calendar::Calendar,
};

/// Working days the inspectors have to accept or refuse a report.
pub const ACCEPT_WITHIN: u32 = 5;
/// Working days from acceptance to closing the case.
pub const CLOSE_WITHIN: u32 = 60;
/// Working days one extension adds to the close deadline (once).
pub const EXTENSION: u32 = 30;

crate::text_enum! {
    /// Where a report is.
    ReportStatus {
        Submitted => "submitted",
        Accepted => "accepted",
        Refused => "refused",
        InfoRequested => "info_requested",
        InProgress => "in_progress",
        Resolved => "resolved",
        Closed => "closed",
    }
}

impl ReportStatus {
    /// The statuses in which a report is still being worked: they have a
    /// deadline, count for early warnings and keep their personal data.
    pub const OPEN: &'static [ReportStatus] = &[
        ReportStatus::Submitted,
        ReportStatus::Accepted,
        ReportStatus::InfoRequested,
        ReportStatus::InProgress,
    ];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    /// Finished (resolved, closed or refused): its worker may rate it (好差评).
    pub fn is_closed(self) -> bool {
        !self.is_open()
    }

    /// The statuses a report no longer leaves.
    pub fn finished() -> impl Iterator<Item = ReportStatus> {
        Self::ALL.iter().copied().filter(|status| !status.is_open())
    }

    /// What people read in exports.
    pub fn label(self) -> &'static str {
        match self {
            ReportStatus::Submitted => "待受理",
            ReportStatus::Accepted => "已受理",
            ReportStatus::Refused => "不予受理",
            ReportStatus::InfoRequested => "待补充材料",
            ReportStatus::InProgress => "调查处理中",
            ReportStatus::Resolved => "已处理",
            ReportStatus::Closed => "已结案",
        }
    }
}

crate::text_enum! {
    /// What an inspector does with a report.
    InspectorAction {
        Accept => "accept",
        Refuse => "refuse",
        RequestInfo => "request_info",
        Start => "start",
        Resolve => "resolve",
        Transfer => "transfer",
        Close => "close",
        Extend => "extend",
    }
}

crate::text_enum! {
    /// Why a report was closed.
    CloseReason {
        Unfounded => "unfounded",
        Withdrawn => "withdrawn",
        SentToArbitration => "sent_to_arbitration",
    }
}

impl CloseReason {
    /// What people read in exports.
    pub fn label(self) -> &'static str {
        match self {
            CloseReason::Unfounded => "查无实据",
            CloseReason::Withdrawn => "反映人撤回",
            CloseReason::SentToArbitration => "转劳动人事争议仲裁",
        }
    }
}

/// Everything that happens to a report: the worker's two steps and the
/// inspectors' actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The worker files the report; it starts as `submitted`.
    Submit,
    /// The worker answers a request for information.
    Supplement,
    Inspector(InspectorAction),
}

impl Action {
    pub const ALL: [Action; 10] = [
        Action::Submit,
        Action::Supplement,
        Action::Inspector(InspectorAction::Accept),
        Action::Inspector(InspectorAction::Refuse),
        Action::Inspector(InspectorAction::RequestInfo),
        Action::Inspector(InspectorAction::Start),
        Action::Inspector(InspectorAction::Resolve),
        Action::Inspector(InspectorAction::Transfer),
        Action::Inspector(InspectorAction::Close),
        Action::Inspector(InspectorAction::Extend),
    ];

    /// The name in the report's history and the worker's messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Supplement => "supplement",
            Action::Inspector(action) => action.as_str(),
        }
    }

    /// Who takes the action: the worker their own report's steps, the
    /// labour inspectors every decision.
    pub fn taker(self) -> Taker {
        match self {
            Action::Submit | Action::Supplement => Taker::Worker,
            Action::Inspector(_) => Taker::Staff(Role::Inspector),
        }
    }

    /// Refuses the action when the request lacks what it needs: a reason to
    /// refuse, ask, transfer or extend; the outcome to resolve; the reason
    /// to close.
    pub fn requires(self, given: &Given) -> Result<(), Refusal> {
        use InspectorAction as A;
        let Action::Inspector(action) = self else {
            return Ok(());
        };
        match action {
            A::Refuse | A::RequestInfo | A::Extend | A::Transfer if !given.comment => {
                Err(Refusal::Missing(Missing::Comment))
            }
            A::Resolve if !(given.amount_recovered && given.workers_paid) => Err(Refusal::Missing(Missing::Outcome)),
            A::Close if !given.close_reason => Err(Refusal::Missing(Missing::CloseReason)),
            _ => Ok(()),
        }
    }
}

impl From<InspectorAction> for Action {
    fn from(action: InspectorAction) -> Self {
        Action::Inspector(action)
    }
}

/// What a request brings along with its action.
#[derive(Debug, Clone, Copy, Default)]
pub struct Given {
    /// A comment that is not blank.
    pub comment: bool,
    pub amount_recovered: bool,
    pub workers_paid: bool,
    pub close_reason: bool,
}

/// What the lifecycle needs to know of a report besides its status.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    /// Accepted (and not transferred since): the close deadline runs.
    pub accepted: bool,
    /// The close deadline has been extended once already (in the county
    /// that holds the report now: a transfer starts the count afresh).
    pub extended: bool,
}

/// The field an action cannot go without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Comment,
    /// The wages recovered and the workers paid.
    Outcome,
    CloseReason,
    /// Another county to transfer to.
    TransferTarget,
}

/// Why the lifecycle refuses an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Missing(Missing),
    /// The action does not apply to a report in this status.
    NotFrom(ReportStatus, Action),
    /// The worker supplements while nothing is asked of them.
    NothingRequested,
    /// The close deadline was extended already.
    ExtendedAlready,
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        let field =
            |name: &str, zh: &'static str, en: &'static str| AppError::invalid_field(name, Localized::fixed(zh, en));
        match refusal {
            Refusal::Missing(Missing::Comment) => field(
                "comment",
                "请写明原因或需要补充的内容。",
                "A comment is required for this action.",
            ),
            Refusal::Missing(Missing::Outcome) => field(
                "amount_recovered_fen",
                "请填写追回的工资金额和已支付的人数。",
                "amount_recovered_fen and workers_paid are required to resolve.",
            ),
            Refusal::Missing(Missing::CloseReason) => {
                field("close_reason", "请选择结案原因。", "close_reason is required to close.")
            }
            Refusal::Missing(Missing::TransferTarget) => field(
                "to_region_code",
                "请选择要转交的县（区）。",
                "to_region_code must be another county.",
            ),
            Refusal::NotFrom(status, action) => AppError::new(ErrorCode::InvalidState)
                .with_details(serde_json::json!({ "status": status.as_str(), "action": action.as_str() })),
            Refusal::NothingRequested => AppError::new(ErrorCode::InvalidState).with_message(Localized::fixed(
                "现在不需要补充材料。",
                "No information was requested.",
            )),
            Refusal::ExtendedAlready => AppError::new(ErrorCode::InvalidState).with_message(Localized::fixed(
                "办理期限只能延长一次。",
                "The deadline can be extended only once.",
            )),
        }
    }
}

impl ReportStatus {
    /// The status `action` leads to from this one, if it applies here. A
    /// transfer puts the report back in the new region's queue; a
    /// supplement sends it back to the inspectors: to their acceptance, or
    /// to the investigation once accepted.
    pub fn after(self, action: Action, accepted: bool) -> Option<ReportStatus> {
        use Action::Inspector as I;
        use InspectorAction as A;
        use ReportStatus as S;
        match (action, self) {
            (Action::Supplement, S::InfoRequested) if accepted => Some(S::InProgress),
            (Action::Supplement, S::InfoRequested) => Some(S::Submitted),
            (I(A::Accept), S::Submitted) => Some(S::Accepted),
            (I(A::Refuse), S::Submitted | S::InfoRequested) if !accepted => Some(S::Refused),
            (I(A::RequestInfo), S::Submitted | S::Accepted | S::InProgress) => Some(S::InfoRequested),
            (I(A::Start), S::Accepted) => Some(S::InProgress),
            (I(A::Resolve), S::Accepted | S::InProgress) => Some(S::Resolved),
            (I(A::Transfer), S::Submitted | S::Accepted | S::InProgress) => Some(S::Submitted),
            (I(A::Close), S::Submitted | S::Accepted | S::InProgress | S::InfoRequested) => Some(S::Closed),
            (I(A::Extend), S::Accepted | S::InProgress | S::InfoRequested) if accepted => Some(self),
            _ => None,
        }
    }
}

/// Decides an action on a report: the status it moves to, or why not.
pub fn decide(status: ReportStatus, action: Action, facts: Facts) -> Result<ReportStatus, Refusal> {
    let to = status.after(action, facts.accepted).ok_or(match action {
        Action::Supplement => Refusal::NothingRequested,
        _ => Refusal::NotFrom(status, action),
    })?;
    if action == Action::Inspector(InspectorAction::Extend) && facts.extended {
        return Err(Refusal::ExtendedAlready);
    }
    Ok(to)
}

/// A transfer goes to another county: `county` is the one asked for, when
/// it is a county.
pub fn transfer_target(county: Option<RegionCode>, from: RegionCode) -> Result<RegionCode, Refusal> {
    county
        .filter(|county| *county != from)
        .ok_or(Refusal::Missing(Missing::TransferTarget))
}

/// The day by which a report filed (or transferred) on `day` is accepted.
pub fn accept_deadline(calendar: &Calendar, day: NaiveDate) -> NaiveDate {
    calendar.add_working_days(day, ACCEPT_WITHIN)
}

/// The day by which a report accepted on `day` is closed.
pub fn close_deadline(calendar: &Calendar, day: NaiveDate) -> NaiveDate {
    calendar.add_working_days(day, CLOSE_WITHIN)
}

/// The close deadline after the one extension, counted from the current
/// deadline (or from `today` should there be none).
pub fn extended_deadline(calendar: &Calendar, current: Option<NaiveDate>, today: NaiveDate) -> NaiveDate {
    calendar.add_working_days(current.unwrap_or(today), EXTENSION)
}

/// The deadline that applies now to a report, and so whether it is overdue.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    pub accept: NaiveDate,
    pub close: Option<NaiveDate>,
    pub accepted: bool,
}

impl Deadlines {
    /// Overdue once a working day has begun after the deadline that applies
    /// now: acceptance until accepted, closing after. Finished reports never are.
    pub fn overdue(self, calendar: &Calendar, status: ReportStatus, today: NaiveDate) -> bool {
        if !status.is_open() {
            return false;
        }
        let due = if self.accepted { self.close } else { Some(self.accept) };
        due.is_some_and(|due| calendar.is_overdue(due, today))
    }
}

#[cfg(test)]
mod tests {
    use super::{Action::Inspector as I, InspectorAction as A, ReportStatus as S, *};

    use crate::domain::TextType;

    /// Every move the lifecycle allows, as (from, action, accepted, to).
    /// Whatever is not listed is refused.
    const ALLOWED: &[(S, Action, bool, S)] = &[
        (S::Submitted, I(A::Accept), false, S::Accepted),
        (S::Submitted, I(A::Accept), true, S::Accepted),
        (S::Submitted, I(A::Refuse), false, S::Refused),
        (S::Submitted, I(A::RequestInfo), false, S::InfoRequested),
        (S::Submitted, I(A::RequestInfo), true, S::InfoRequested),
        (S::Submitted, I(A::Transfer), false, S::Submitted),
        (S::Submitted, I(A::Transfer), true, S::Submitted),
        (S::Submitted, I(A::Close), false, S::Closed),
        (S::Submitted, I(A::Close), true, S::Closed),
        (S::Accepted, I(A::RequestInfo), false, S::InfoRequested),
        (S::Accepted, I(A::RequestInfo), true, S::InfoRequested),
        (S::Accepted, I(A::Start), false, S::InProgress),
        (S::Accepted, I(A::Start), true, S::InProgress),
        (S::Accepted, I(A::Resolve), false, S::Resolved),
        (S::Accepted, I(A::Resolve), true, S::Resolved),
        (S::Accepted, I(A::Transfer), false, S::Submitted),
        (S::Accepted, I(A::Transfer), true, S::Submitted),
        (S::Accepted, I(A::Close), false, S::Closed),
        (S::Accepted, I(A::Close), true, S::Closed),
        (S::Accepted, I(A::Extend), true, S::Accepted),
        (S::InfoRequested, Action::Supplement, false, S::Submitted),
        (S::InfoRequested, Action::Supplement, true, S::InProgress),
        (S::InfoRequested, I(A::Refuse), false, S::Refused),
        (S::InfoRequested, I(A::Close), false, S::Closed),
        (S::InfoRequested, I(A::Close), true, S::Closed),
        (S::InfoRequested, I(A::Extend), true, S::InfoRequested),
        (S::InProgress, I(A::RequestInfo), false, S::InfoRequested),
        (S::InProgress, I(A::RequestInfo), true, S::InfoRequested),
        (S::InProgress, I(A::Resolve), false, S::Resolved),
        (S::InProgress, I(A::Resolve), true, S::Resolved),
        (S::InProgress, I(A::Transfer), false, S::Submitted),
        (S::InProgress, I(A::Transfer), true, S::Submitted),
        (S::InProgress, I(A::Close), false, S::Closed),
        (S::InProgress, I(A::Close), true, S::Closed),
        (S::InProgress, I(A::Extend), true, S::InProgress),
    ];

    fn expected(status: S, action: Action, accepted: bool) -> Option<S> {
        ALLOWED
            .iter()
            .find(|(from, a, acc, _)| (*from, *a, *acc) == (status, action, accepted))
            .map(|(_, _, _, to)| *to)
    }

    #[test]
    fn every_status_and_action_moves_as_the_table_says_and_no_other_way() {
        let mut allowed = 0;
        for &status in S::ALL {
            for action in Action::ALL {
                for accepted in [false, true] {
                    let facts = Facts {
                        accepted,
                        extended: false,
                    };
                    let want = expected(status, action, accepted);
                    assert_eq!(
                        status.after(action, accepted),
                        want,
                        "{status:?} {action:?} accepted={accepted}"
                    );
                    match (decide(status, action, facts), want) {
                        (Ok(to), Some(want)) => assert_eq!(to, want),
                        (Err(Refusal::NothingRequested), None) => assert_eq!(action, Action::Supplement),
                        (Err(Refusal::NotFrom(from, refused)), None) => {
                            assert_eq!((from, refused), (status, action));
                            assert_ne!(action, Action::Supplement);
                        }
                        (outcome, want) => panic!("{status:?} {action:?} {accepted}: {outcome:?}, wanted {want:?}"),
                    }
                    allowed += usize::from(want.is_some());
                }
            }
        }
        assert_eq!(allowed, ALLOWED.len(), "the table lists each move once");
    }

    #[test]
    fn finished_reports_and_the_filing_itself_move_no_further() {
        for status in S::finished() {
            assert!(Action::ALL.iter().all(|a| status.after(*a, true).is_none()));
        }
        assert!(S::ALL.iter().all(|s| s.after(Action::Submit, false).is_none()));
    }

    #[test]
    fn the_open_statuses_are_the_unfinished_ones() {
        assert_eq!(S::OPEN, [S::Submitted, S::Accepted, S::InfoRequested, S::InProgress]);
        assert_eq!(S::finished().collect::<Vec<_>>(), [S::Refused, S::Resolved, S::Closed]);
    }

    #[test]
    fn every_inspector_action_is_an_action() {
        for action in A::ALL {
            assert!(Action::ALL.contains(&Action::from(*action)));
            assert_eq!(Action::from(*action).as_str(), action.as_str());
        }
    }

    #[test]
    fn the_worker_takes_their_steps_and_inspectors_every_decision() {
        assert_eq!(Action::Submit.taker(), Taker::Worker);
        assert_eq!(Action::Supplement.taker(), Taker::Worker);
        for action in A::ALL {
            assert_eq!(I(*action).taker(), Taker::Staff(Role::Inspector), "{action:?}");
        }
    }

    #[test]
    fn refusing_asking_transferring_and_extending_need_a_comment() {
        let with_comment = Given {
            comment: true,
            ..Given::default()
        };
        for action in [A::Refuse, A::RequestInfo, A::Transfer, A::Extend] {
            assert_eq!(
                I(action).requires(&Given::default()),
                Err(Refusal::Missing(Missing::Comment))
            );
            assert_eq!(I(action).requires(&with_comment), Ok(()));
        }
        for action in [A::Accept, A::Start] {
            assert_eq!(I(action).requires(&Given::default()), Ok(()));
        }
        assert_eq!(Action::Supplement.requires(&Given::default()), Ok(()));
        assert_eq!(Action::Submit.requires(&Given::default()), Ok(()));
    }

    #[test]
    fn resolving_needs_the_amount_recovered_and_the_workers_paid() {
        let both = Given {
            amount_recovered: true,
            workers_paid: true,
            ..Given::default()
        };
        assert_eq!(I(A::Resolve).requires(&both), Ok(()));
        for given in [
            Given::default(),
            Given {
                amount_recovered: true,
                ..Given::default()
            },
            Given {
                workers_paid: true,
                comment: true,
                ..Given::default()
            },
        ] {
            assert_eq!(I(A::Resolve).requires(&given), Err(Refusal::Missing(Missing::Outcome)));
        }
    }

    #[test]
    fn closing_needs_a_reason() {
        let reason = Given {
            close_reason: true,
            ..Given::default()
        };
        assert_eq!(I(A::Close).requires(&reason), Ok(()));
        assert_eq!(
            I(A::Close).requires(&Given {
                comment: true,
                ..Given::default()
            }),
            Err(Refusal::Missing(Missing::CloseReason))
        );
    }

    #[test]
    fn the_close_deadline_is_extended_once() {
        let once = Facts {
            accepted: true,
            extended: false,
        };
        let twice = Facts {
            accepted: true,
            extended: true,
        };
        assert_eq!(decide(S::InProgress, I(A::Extend), once), Ok(S::InProgress));
        assert_eq!(
            decide(S::InProgress, I(A::Extend), twice),
            Err(Refusal::ExtendedAlready)
        );
        assert_eq!(decide(S::InProgress, I(A::Close), twice), Ok(S::Closed));
    }

    #[test]
    fn a_transfer_goes_to_another_county() {
        let here = RegionCode::parse("320115").unwrap();
        let there = RegionCode::parse("320116").unwrap();
        assert_eq!(transfer_target(Some(there), here), Ok(there));
        for county in [Some(here), None] {
            assert_eq!(
                transfer_target(county, here),
                Err(Refusal::Missing(Missing::TransferTarget))
            );
        }
    }

    #[test]
    fn refusals_keep_their_messages_and_fields() {
        let comment = AppError::from(Refusal::Missing(Missing::Comment));
        assert_eq!(comment.code, ErrorCode::ValidationFailed);
        assert_eq!(comment.details.unwrap()["fields"][0]["field"], "comment");
        let extended = AppError::from(Refusal::ExtendedAlready);
        assert_eq!(extended.code, ErrorCode::InvalidState);
        assert_eq!(extended.message.unwrap().zh, "办理期限只能延长一次。");
        let moved = AppError::from(Refusal::NotFrom(S::Closed, I(A::Start)));
        assert_eq!(
            moved.details,
            Some(serde_json::json!({ "status": "closed", "action": "start" }))
        );
    }

    #[test]
    fn the_deadline_that_applies_is_acceptance_then_closing() {
        let calendar = Calendar::default();
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        // Monday 2 November: five working days end on Monday the 9th.
        assert_eq!(accept_deadline(&calendar, day(2)), day(9));
        assert_eq!(close_deadline(&calendar, day(2)), day(2) + chrono::Days::new(84));
        assert_eq!(
            extended_deadline(&calendar, None, day(2)),
            day(2) + chrono::Days::new(42)
        );
        let waiting = Deadlines {
            accept: day(9),
            close: None,
            accepted: false,
        };
        assert!(!waiting.overdue(&calendar, S::Submitted, day(9)));
        assert!(waiting.overdue(&calendar, S::Submitted, day(10)));
        assert!(!waiting.overdue(&calendar, S::Refused, day(10)));
        let accepted = Deadlines {
            close: Some(day(20)),
            accepted: true,
            ..waiting
        };
        assert!(!accepted.overdue(&calendar, S::InProgress, day(10)));
        assert!(accepted.overdue(&calendar, S::InProgress, day(23)));
    }
}
