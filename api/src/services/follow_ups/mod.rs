//! Follow-ups (回访): a rating of 1 or 2 opens one for the office of the
//! case rated, due in 3 working days of its province; the staff who work
//! that kind of case there (`access::follow_up_role`) close it with what was
//! done, and the worker is told.
//!
//! Every command reads the same way: load the follow-up (`read`), check who
//! may act on it (`access`), let the lifecycle decide (`status`), and record
//! the change (`case_log`).

pub mod read;
pub mod status;

use chrono::Utc;
use entity::follow_up;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseTransaction};
use serde_json::json;

use self::status::Action;
pub use self::{
    read::{FollowUp, QueueFilter},
    status::FollowUpStatus,
};
use crate::{
    access,
    auth::Principal,
    context::RequestContext,
    domain::{CaseType, RegionCode},
    error::{AppError, AppResult, ErrorCode},
    services::{
        calendar::{self, CalendarCache, Calendars},
        case_log::{self, By, CaseKind, CaseRef, Change, Notice},
        counters,
        keyset::{Cut, Window},
        notifications::{CaseNews, Event, Message},
        ratings::rules::{self, RatingTag},
        versioned,
    },
    state::AppState,
};

const NUMBER_PREFIX: &str = "HF";

/// The events a follow-up raises for its worker, for checking the
/// configured templates.
pub fn events() -> Vec<Event> {
    vec![Event {
        name: event(Action::Close),
        carries_amount: false,
    }]
}

fn event(action: Action) -> String {
    format!("follow_up.{}", action.as_str())
}

/// What the worker is told once the office followed their rating up.
fn closed_notice(follow_up: &FollowUp) -> Notice {
    let news = CaseNews {
        case_kind: "服务回访".to_owned(),
        case_no: follow_up.case_no.clone(),
        status: FollowUpStatus::Closed.label().to_owned(),
        next_step: "请在小程序查看回访情况".to_owned(),
        amount_fen: None,
        changed_at: Utc::now(),
    };
    let link = format!(
        "pages/ratings/detail?case_kind={}&case_id={}",
        follow_up.case_kind.as_str(),
        follow_up.case_id
    );
    Notice {
        topic: event(Action::Close),
        message: Message::about(news, link),
    }
}

/// Records `action` on `follow_up` (as it is after it): the worker's
/// message, when there is one, and the audit row.
async fn record(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    follow_up: &FollowUp,
    by: By<'_>,
    action: Action,
    from: Option<FollowUpStatus>,
) -> AppResult<()> {
    let case = CaseRef {
        kind: CaseKind::FollowUp,
        id: &follow_up.id,
        number: &follow_up.follow_up_no,
        worker_id: Some(&follow_up.worker_id),
        region: Some(follow_up.region),
    };
    let (audit_action, notice) = match action {
        Action::Open => ("follow_up.open", None),
        Action::Close => ("follow_up.close", Some(closed_notice(follow_up))),
    };
    let change = Change {
        action: action.as_str(),
        step: None,
        from: from.map(FollowUpStatus::as_str),
        to: follow_up.status.as_str(),
        comment: follow_up.what_was_done.as_deref(),
        notice,
        audit_action,
        audit_details: json!({
            "follow_up_no": follow_up.follow_up_no,
            "case_kind": follow_up.case_kind.as_str(),
            "case_no": follow_up.case_no,
            "score": follow_up.score,
            "deadline": follow_up.deadline,
            "closed_late": follow_up.closed_late,
        }),
    };
    case_log::record(transaction, request, case, by, change).await
}

/// The rating a follow-up is opened for.
#[derive(Debug, Clone, Copy)]
pub struct Opening<'a> {
    pub rating_id: &'a str,
    pub case_kind: CaseType,
    pub case_id: &'a str,
    pub case_no: &'a str,
    /// The office that worked the case.
    pub region: RegionCode,
    pub score: i32,
    pub tags: &'a [RatingTag],
    pub comment: Option<&'a str>,
}

/// Opens the follow-up of `opening`, a rating `worker` has just given, in
/// `transaction`: due 3 working days after today in the office's province.
pub async fn open(
    transaction: &DatabaseTransaction,
    calendars: &CalendarCache,
    request: &RequestContext,
    worker: &Principal,
    opening: Opening<'_>,
) -> AppResult<FollowUp> {
    access::require_taker(worker, Action::Open.taker(opening.case_kind))?;
    let to = status::decide(None, Action::Open)?;
    let calendars = calendars.current(transaction).await?;
    let today = crate::domain::china_time::today();
    let now = Utc::now();
    let row = follow_up::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        follow_up_no: Set(counters::readable_number(transaction, NUMBER_PREFIX, opening.region.as_str()).await?),
        rating_id: Set(opening.rating_id.to_owned()),
        worker_id: Set(worker.subject.clone()),
        case_kind: Set(opening.case_kind.as_str().to_owned()),
        case_id: Set(opening.case_id.to_owned()),
        case_no: Set(opening.case_no.to_owned()),
        region_code: Set(opening.region.as_str().to_owned()),
        score: Set(opening.score),
        tags: Set(rules::tags_text(opening.tags)),
        comment: Set(opening.comment.map(str::to_owned)),
        status: Set(to.as_str().to_owned()),
        deadline: Set(status::deadline(calendars.of(opening.region), today)),
        what_was_done: Set(None),
        closed_by: Set(None),
        closed_at: Set(None),
        closed_late: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let opened = read::decode(&calendars, row.insert(transaction).await?)?;
    record(transaction, request, &opened, By::Worker(worker), Action::Open, None).await?;
    Ok(opened)
}

/// The follow-up `id`, as its worker reads it beside their rating.
pub async fn of_worker(db: &impl ConnectionTrait, worker: &Principal, id: &str) -> AppResult<FollowUp> {
    let calendars = calendar::load(db).await?;
    let follow_up = read::load(db, &calendars, id).await?;
    if follow_up.worker_id != worker.subject {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    Ok(follow_up)
}

/// What a queue asks for besides the page.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueQuery {
    pub status: Option<FollowUpStatus>,
    pub region: Option<RegionCode>,
    pub overdue_only: bool,
}

/// The staff's queue: follow-ups of the kinds they work, in their region
/// and below, oldest first.
pub async fn queue(state: &AppState, staff: &Principal, query: QueueQuery, window: Window) -> AppResult<Cut<FollowUp>> {
    let filter = QueueFilter {
        kinds: access::follow_up_kinds(staff)?,
        regions: access::staff_scope(&state.regions, staff, query.region)?,
        status: query.status,
        overdue_only: query.overdue_only,
    };
    let calendars = state.calendars.current(&state.db).await?;
    read::queue(&state.db, &state.protector, &calendars, filter, window).await
}

/// A follow-up the staff member reaches; one they do not is not found.
async fn reached(
    db: &impl ConnectionTrait,
    calendars: &Calendars,
    state: &AppState,
    staff: &Principal,
    id: &str,
) -> AppResult<FollowUp> {
    let follow_up = read::load(db, calendars, id).await?;
    if !access::reaches_follow_up(&state.regions, staff, follow_up.case_kind, follow_up.region) {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    Ok(follow_up)
}

/// The office closes a follow-up with what was done; the worker is told.
pub async fn close(
    state: &AppState,
    request: &RequestContext,
    staff: &Principal,
    id: &str,
    what_was_done: &str,
) -> AppResult<FollowUp> {
    access::follow_up_kinds(staff)?;
    status::require_what_was_done(what_was_done)?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let calendars = state.calendars.current(&transaction).await?;
    let follow_up = reached(&transaction, &calendars, state, staff, id).await?;
    access::require_taker(staff, Action::Close.taker(follow_up.case_kind))?;
    let to = status::decide(Some(follow_up.status), Action::Close)?;
    let today = crate::domain::china_time::today();
    let late = status::past_deadline(calendars.of(follow_up.region), follow_up.deadline, today);
    let now = Utc::now();
    let changes = follow_up::ActiveModel {
        status: Set(to.as_str().to_owned()),
        what_was_done: Set(Some(what_was_done.trim().to_owned())),
        closed_by: Set(Some(staff.subject.clone())),
        closed_at: Set(Some(now)),
        closed_late: Set(Some(late)),
        updated_at: Set(now),
        ..Default::default()
    };
    versioned::update::<follow_up::Entity>(&transaction, &follow_up.id, follow_up.version, changes).await?;
    let closed = read::load(&transaction, &calendars, &follow_up.id).await?;
    record(
        &transaction,
        request,
        &closed,
        By::Staff(staff),
        Action::Close,
        Some(follow_up.status),
    )
    .await?;
    transaction.commit().await?;
    Ok(closed)
}
