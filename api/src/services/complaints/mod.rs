//! 投诉建议: a worker files a complaint or a suggestion with the office of a
//! region, perhaps about one of their cases; the office's administrators
//! answer it within 15 working days (a complaint) or 20 (a suggestion), and
//! the worker is told and reads the answer.
//!
//! Every command reads the same way: load the complaint (`read`), check who
//! may act on it (`access`), let the lifecycle decide (`status`), and record
//! the change (`case_log`).

pub mod read;
pub mod status;

use chrono::Utc;
use entity::complaint;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseTransaction};
use serde::{Deserialize, Serialize};
use serde_json::json;

use self::status::Action;
pub use self::{
    read::{CaseMention, Complaint},
    status::{ComplaintKind, ComplaintStatus},
};
use crate::{
    access,
    auth::Principal,
    context::RequestContext,
    domain::{CaseType, RegionCode},
    error::{AppError, AppResult, ErrorCode},
    services::{
        calendar::{CalendarCache, Calendars},
        case_log::{self, By, CaseKind, CaseRef, Change, Notice},
        counters, idempotency,
        keyset::{Cut, Window},
        notifications::{CaseNews, Event, Message},
        ratings::cases,
        versioned,
    },
    state::AppState,
};

const NUMBER_PREFIX: &str = "TS";

/// The events a complaint raises for its worker, for checking the
/// configured templates.
pub fn events() -> Vec<Event> {
    vec![Event {
        name: event(Action::Reply),
        carries_amount: false,
    }]
}

fn event(action: Action) -> String {
    format!("complaint.{}", action.as_str())
}

/// What the worker is told once the office answered.
fn replied_notice(complaint: &Complaint) -> Notice {
    let news = CaseNews {
        case_kind: complaint.kind.label().to_owned(),
        case_no: complaint.complaint_no.clone(),
        status: ComplaintStatus::Answered.label().to_owned(),
        next_step: "请在小程序查看答复内容".to_owned(),
        amount_fen: None,
        changed_at: Utc::now(),
    };
    Notice {
        topic: event(Action::Reply),
        message: Message::about(news, format!("pages/complaints/detail?id={}", complaint.id)),
    }
}

/// Records `action` on `complaint` (as it is after it): the worker's
/// message, when there is one, and the audit row.
async fn record(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    complaint: &Complaint,
    by: By<'_>,
    action: Action,
    from: Option<ComplaintStatus>,
) -> AppResult<()> {
    let case = CaseRef {
        kind: CaseKind::Complaint,
        id: &complaint.id,
        number: &complaint.complaint_no,
        worker_id: Some(&complaint.worker_id),
        region: Some(complaint.region),
    };
    let (audit_action, notice) = match action {
        Action::File => ("complaint.file", None),
        Action::Reply => ("complaint.reply", Some(replied_notice(complaint))),
    };
    let change = Change {
        action: action.as_str(),
        step: None,
        from: from.map(ComplaintStatus::as_str),
        to: complaint.status.as_str(),
        comment: complaint.reply.as_deref(),
        notice,
        audit_action,
        audit_details: json!({
            "complaint_no": complaint.complaint_no,
            "kind": complaint.kind.as_str(),
            "deadline": complaint.deadline,
            "replied_late": complaint.replied_late,
        }),
    };
    case_log::record(transaction, request, case, by, change).await
}

/// What a worker files.
#[derive(Debug, Clone)]
pub struct NewComplaint {
    pub kind: ComplaintKind,
    pub region: RegionCode,
    /// One of the worker's cases it concerns.
    pub case: Option<(CaseType, String)>,
    pub text: String,
}

/// What the worker gets back (and a replay with the same key).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Filed {
    pub id: String,
}

/// A worker files a complaint or a suggestion; `Idempotency-Key` makes a
/// retry return the first one.
pub async fn file(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    idempotency_key: &str,
    request_hash: String,
    new: NewComplaint,
) -> AppResult<Complaint> {
    access::require_taker(worker, Action::File.taker())?;
    status::require_text("text", &new.text)?;
    state
        .regions
        .require(new.region)
        .map_err(|_| AppError::invalid_field("region_code", ErrorCode::RegionNotFound.default_message()))?;
    let case = match &new.case {
        Some((kind, id)) => Some(cases::of_worker(state, worker, *kind, id).await?),
        None => None,
    };
    let mention = case.map(|case| CaseMention {
        kind: case.kind,
        id: case.id,
        number: case.number,
    });
    let filed: Filed = idempotency::once(&state.db, worker, idempotency_key, request_hash, async |transaction| {
        insert(transaction, &state.calendars, request, worker, &new, mention.as_ref()).await
    })
    .await?;
    let calendars = state.calendars.current(&state.db).await?;
    read::load(&state.db, &calendars, &filed.id).await
}

async fn insert(
    transaction: &DatabaseTransaction,
    calendars: &CalendarCache,
    request: &RequestContext,
    worker: &Principal,
    new: &NewComplaint,
    case: Option<&CaseMention>,
) -> AppResult<Filed> {
    let to = status::decide(None, Action::File)?;
    let calendars = calendars.current(transaction).await?;
    let today = crate::domain::china_time::today();
    let now = Utc::now();
    let row = complaint::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        complaint_no: Set(counters::readable_number(transaction, NUMBER_PREFIX, new.region.as_str()).await?),
        worker_id: Set(worker.subject.clone()),
        kind: Set(new.kind.as_str().to_owned()),
        region_code: Set(new.region.as_str().to_owned()),
        case_kind: Set(case.map(|case| case.kind.as_str().to_owned())),
        case_id: Set(case.map(|case| case.id.clone())),
        case_no: Set(case.map(|case| case.number.clone())),
        text: Set(new.text.trim().to_owned()),
        status: Set(to.as_str().to_owned()),
        deadline: Set(status::deadline(calendars.of(new.region), new.kind, today)),
        reply: Set(None),
        replied_by: Set(None),
        replied_at: Set(None),
        replied_late: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let filed = read::decode(&calendars, row.insert(transaction).await?)?;
    record(transaction, request, &filed, By::Worker(worker), Action::File, None).await?;
    Ok(Filed { id: filed.id })
}

/// One page of the worker's complaints, newest first, and how many they have.
pub async fn list_own(
    state: &AppState,
    worker: &Principal,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Complaint>, u64)> {
    access::require_taker(worker, Action::File.taker())?;
    let calendars = state.calendars.current(&state.db).await?;
    read::page_of_worker(&state.db, &calendars, &worker.subject, page, page_size).await
}

/// The worker's own complaint with its answer; anyone else's is not found.
pub async fn get_own(state: &AppState, worker: &Principal, id: &str) -> AppResult<Complaint> {
    access::require_taker(worker, Action::File.taker())?;
    let calendars = state.calendars.current(&state.db).await?;
    let complaint = read::load(&state.db, &calendars, id).await?;
    if complaint.worker_id != worker.subject {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    Ok(complaint)
}

/// What a queue asks for besides the page.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueQuery {
    pub kind: Option<ComplaintKind>,
    pub status: Option<ComplaintStatus>,
    pub region: Option<RegionCode>,
    pub overdue_only: bool,
}

/// The administrators' queue: complaints addressed to their region and
/// below, oldest first.
pub async fn queue(
    state: &AppState,
    staff: &Principal,
    query: QueueQuery,
    window: Window,
) -> AppResult<Cut<Complaint>> {
    access::require_complaint_handler(staff)?;
    let filter = read::QueueFilter {
        regions: access::staff_scope(&state.regions, staff, query.region)?,
        kind: query.kind,
        status: query.status,
        overdue_only: query.overdue_only,
    };
    let calendars = state.calendars.current(&state.db).await?;
    read::queue(&state.db, &state.protector, &calendars, filter, window).await
}

/// A complaint the administrator reaches; one they do not is not found.
async fn reached(
    db: &impl ConnectionTrait,
    calendars: &Calendars,
    state: &AppState,
    staff: &Principal,
    id: &str,
) -> AppResult<Complaint> {
    let complaint = read::load(db, calendars, id).await?;
    if !access::reaches_complaint(&state.regions, staff, complaint.region) {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    Ok(complaint)
}

/// The office answers a complaint; the worker is told.
pub async fn reply(
    state: &AppState,
    request: &RequestContext,
    staff: &Principal,
    id: &str,
    text: &str,
) -> AppResult<Complaint> {
    access::require_taker(staff, Action::Reply.taker())?;
    status::require_text("reply", text)?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let calendars = state.calendars.current(&transaction).await?;
    let complaint = reached(&transaction, &calendars, state, staff, id).await?;
    let to = status::decide(Some(complaint.status), Action::Reply)?;
    let today = crate::domain::china_time::today();
    let now = Utc::now();
    let changes = complaint::ActiveModel {
        status: Set(to.as_str().to_owned()),
        reply: Set(Some(text.trim().to_owned())),
        replied_by: Set(Some(staff.subject.clone())),
        replied_at: Set(Some(now)),
        replied_late: Set(Some(status::past_deadline(
            calendars.of(complaint.region),
            complaint.deadline,
            today,
        ))),
        updated_at: Set(now),
        ..Default::default()
    };
    versioned::update::<complaint::Entity>(&transaction, &complaint.id, complaint.version, changes).await?;
    let answered = read::load(&transaction, &calendars, &complaint.id).await?;
    record(
        &transaction,
        request,
        &answered,
        By::Staff(staff),
        Action::Reply,
        Some(complaint.status),
    )
    .await?;
    transaction.commit().await?;
    Ok(answered)
}
