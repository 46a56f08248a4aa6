//! 好差评: the worker rates each of their closed cases once (1 to 5 stars,
//! tags from a fixed list, perhaps a comment) and may change the rating for
//! 7 days after first giving it. A rating of 1 or 2 opens a follow-up (回访)
//! for the office of the case (`follow_ups`).
//!
//! A rating is not a case of its own: it has no status to move through, so
//! it is written here directly, with its audit row, in one transaction with
//! the follow-up it opens.

pub mod cases;
pub mod read;
pub mod rules;

use chrono::{DateTime, Utc};
use entity::case_rating;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, SqlErr};
use serde_json::json;

pub use self::{
    cases::WorkerCase,
    read::Rating,
    rules::{Decision, Given, RatingTag},
};
use crate::{
    access::{self, Taker},
    auth::Principal,
    context::RequestContext,
    domain::CaseType,
    error::{AppError, AppResult, ErrorCode},
    services::{
        audit::{self, Event},
        calendar::CalendarCache,
        follow_ups::{self, FollowUp, Opening},
        versioned,
    },
    state::AppState,
};

/// A rating with the follow-up it opened, as its worker reads it.
#[derive(Debug, Clone)]
pub struct Rated {
    pub rating: Rating,
    /// Until when the rating may change.
    pub changeable_until: DateTime<Utc>,
    pub follow_up: Option<FollowUp>,
    /// What this request did: created, changed, or nothing (the same again).
    pub decision: Decision,
}

/// The worker's case and their rating of it, if they gave one; a case that
/// is not theirs is not found.
pub async fn get_own(
    state: &AppState,
    worker: &Principal,
    kind: CaseType,
    id: &str,
) -> AppResult<(WorkerCase, Option<Rated>)> {
    access::require_taker(worker, Taker::Worker)?;
    let case = cases::of_worker(state, worker, kind, id).await?;
    let rated = match read::of_case(&state.db, case.kind, &case.id).await? {
        Some(rating) => Some(rated(state, worker, rating, Decision::Unchanged).await?),
        None => None,
    };
    Ok((case, rated))
}

async fn rated(state: &AppState, worker: &Principal, rating: Rating, decision: Decision) -> AppResult<Rated> {
    let follow_up = match &rating.follow_up_id {
        Some(id) => Some(follow_ups::of_worker(&state.db, worker, id).await?),
        None => None,
    };
    Ok(Rated {
        changeable_until: rules::changeable_until(rating.created_at),
        rating,
        follow_up,
        decision,
    })
}

/// The worker rates their closed case, or changes the rating within 7 days
/// of first giving it; the same rating again changes nothing. A rating of 1
/// or 2 opens a follow-up for the case's office, once.
pub async fn rate(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    kind: CaseType,
    id: &str,
    given: Given,
) -> AppResult<Rated> {
    access::require_taker(worker, Taker::Worker)?;
    let case = cases::of_worker(state, worker, kind, id).await?;
    rules::require_closed(case.closed)?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let standing = read::of_case(&transaction, case.kind, &case.id).await?;
    let held = standing.as_ref().map(|rating| rules::Standing {
        given: &rating.given,
        created_at: rating.created_at,
    });
    let decision = rules::decide(held, &given, Utc::now())?;
    let rating_id = match (decision, standing) {
        (Decision::Unchanged, Some(rating)) => return rated(state, worker, rating, decision).await,
        (Decision::Change, Some(rating)) => change(&transaction, &rating, &given).await?,
        _ => create(&transaction, worker, &case, &given).await?,
    };
    let mut rating = read::load(&transaction, &rating_id).await?;
    if rules::opens_follow_up(rating.given.score, rating.follow_up_id.is_some()) {
        rating = follow_up(&transaction, &state.calendars, request, worker, rating).await?;
    }
    let action = if decision == Decision::Create {
        "rating.create"
    } else {
        "rating.change"
    };
    let details = json!({
        "case_kind": rating.case_kind.as_str(),
        "case_no": rating.case_no,
        "score": rating.given.score,
        "follow_up_id": rating.follow_up_id,
    });
    let event = Event::success(
        worker,
        action,
        ("case_rating", &rating.id),
        Some(rating.region),
        Some(details),
    );
    audit::record(&transaction, Some(request), event).await?;
    transaction.commit().await?;
    rated(state, worker, rating, decision).await
}

/// Writes the first rating of `case`; its id.
async fn create(
    transaction: &DatabaseTransaction,
    worker: &Principal,
    case: &WorkerCase,
    given: &Given,
) -> AppResult<String> {
    let now = Utc::now();
    let id = uuid::Uuid::new_v4().to_string();
    let row = case_rating::ActiveModel {
        id: Set(id.clone()),
        worker_id: Set(worker.subject.clone()),
        case_kind: Set(case.kind.as_str().to_owned()),
        case_id: Set(case.id.clone()),
        case_no: Set(case.number.clone()),
        region_code: Set(case.region.as_str().to_owned()),
        score: Set(given.score),
        tags: Set(rules::tags_text(&given.tags)),
        comment: Set(given.comment.clone()),
        follow_up_id: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    match row.insert(transaction).await {
        Ok(_) => Ok(id),
        // Two first ratings of one case at once: the other one was first.
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(AppError::new(ErrorCode::Conflict))
        }
        Err(err) => Err(err.into()),
    }
}

/// Changes `rating` to `given`; its id.
async fn change(transaction: &DatabaseTransaction, rating: &Rating, given: &Given) -> AppResult<String> {
    let changes = case_rating::ActiveModel {
        score: Set(given.score),
        tags: Set(rules::tags_text(&given.tags)),
        comment: Set(given.comment.clone()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    versioned::update::<case_rating::Entity>(transaction, &rating.id, rating.version, changes).await?;
    Ok(rating.id.clone())
}

/// Opens the follow-up of a low `rating` and links it; the rating as linked.
async fn follow_up(
    transaction: &DatabaseTransaction,
    calendars: &CalendarCache,
    request: &RequestContext,
    worker: &Principal,
    rating: Rating,
) -> AppResult<Rating> {
    let opening = Opening {
        rating_id: &rating.id,
        case_kind: rating.case_kind,
        case_id: &rating.case_id,
        case_no: &rating.case_no,
        region: rating.region,
        score: rating.given.score,
        tags: &rating.given.tags,
        comment: rating.given.comment.as_deref(),
    };
    let opened = follow_ups::open(transaction, calendars, request, worker, opening).await?;
    let link = case_rating::ActiveModel {
        follow_up_id: Set(Some(opened.id)),
        ..Default::default()
    };
    versioned::update::<case_rating::Entity>(transaction, &rating.id, rating.version, link).await?;
    read::load(transaction, &rating.id).await
}
