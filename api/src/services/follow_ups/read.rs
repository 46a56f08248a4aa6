//! Every query of follow-ups and their decoding into [`FollowUp`]: the rows
//! never leave this file.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::follow_up;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Select,
    sea_query::{Expr, Func},
};

use super::status::{self, FollowUpStatus};
use crate::{
    domain::{CaseType, RegionCode, TextType, china_time::DaySpan},
    error::{AppError, AppResult, ErrorCode},
    infra::crypto::DataProtector,
    services::{
        calendar::{Calendars, OverdueCutoffs},
        keyset::{Cut, Keyset, Window},
        ratings::rules::{self, RatingTag},
    },
};

/// A follow-up as the lifecycle knows it.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub id: String,
    pub follow_up_no: String,
    pub rating_id: String,
    pub worker_id: String,
    pub case_kind: CaseType,
    pub case_id: String,
    pub case_no: String,
    /// The office that worked the case.
    pub region: RegionCode,
    /// The rating as it was given when the follow-up opened.
    pub score: i32,
    pub tags: Vec<RatingTag>,
    pub comment: Option<String>,
    pub status: FollowUpStatus,
    pub deadline: NaiveDate,
    /// Open, and a working day has begun after the deadline.
    pub overdue: bool,
    pub what_was_done: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_late: Option<bool>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

/// Decodes a stored follow-up; the calendar of its province tells whether
/// it is overdue today.
pub fn decode(calendars: &Calendars, row: follow_up::Model) -> AppResult<FollowUp> {
    let malformed = |what: &str| AppError::internal(anyhow::anyhow!("follow-up {} has a malformed {what}", row.id));
    let status = FollowUpStatus::parse(&row.status).ok_or_else(|| malformed("status"))?;
    let region = RegionCode::parse(&row.region_code).map_err(|_| malformed("region"))?;
    let today = crate::domain::china_time::today();
    let overdue = status == FollowUpStatus::Open && status::past_deadline(calendars.of(region), row.deadline, today);
    Ok(FollowUp {
        case_kind: CaseType::parse(&row.case_kind).ok_or_else(|| malformed("case kind"))?,
        tags: rules::tags_of(&row.tags),
        id: row.id,
        follow_up_no: row.follow_up_no,
        rating_id: row.rating_id,
        worker_id: row.worker_id,
        case_id: row.case_id,
        case_no: row.case_no,
        region,
        score: row.score,
        comment: row.comment,
        status,
        deadline: row.deadline,
        overdue,
        what_was_done: row.what_was_done,
        closed_at: row.closed_at,
        closed_late: row.closed_late,
        version: row.version,
        created_at: row.created_at,
    })
}

/// The follow-up `id`; 404 when there is none.
pub async fn load(db: &impl ConnectionTrait, calendars: &Calendars, id: &str) -> AppResult<FollowUp> {
    let row = follow_up::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    decode(calendars, row)
}

/// Which follow-ups a queue shows.
#[derive(Debug, Clone)]
pub struct QueueFilter {
    /// The region codes it covers (`access::staff_scope`).
    pub regions: Option<Vec<String>>,
    /// The kinds the staff member works (`access::follow_up_kinds`).
    pub kinds: Vec<CaseType>,
    pub status: Option<FollowUpStatus>,
    pub overdue_only: bool,
}

fn in_regions(query: Select<follow_up::Entity>, codes: Option<&[String]>) -> Select<follow_up::Entity> {
    match codes {
        Some(codes) => query.filter(follow_up::Column::RegionCode.is_in(codes.iter().map(String::as_str))),
        None => query,
    }
}

/// Open follow-ups past their deadline in their province: the query form
/// of `status::past_deadline`.
fn overdue(cutoffs: &OverdueCutoffs) -> Condition {
    let in_province = |prefix: &str| Condition::all().add(follow_up::Column::RegionCode.starts_with(prefix));
    let due_before = |cutoff: NaiveDate| Condition::all().add(follow_up::Column::Deadline.lt(cutoff));
    Condition::all()
        .add(follow_up::Column::Status.eq(FollowUpStatus::Open.as_str()))
        .add(cutoffs.condition(in_province, due_before))
}

/// One page of a queue, oldest first (the id breaking ties), and how many
/// follow-ups it holds.
pub async fn queue(
    db: &impl ConnectionTrait,
    protector: &DataProtector,
    calendars: &Calendars,
    filter: QueueFilter,
    window: Window,
) -> AppResult<Cut<FollowUp>> {
    use follow_up::Column::{CreatedAt, Id};
    let keyset = Keyset::open(protector, "follow_ups", &filter, (vec![CreatedAt, Id], false), window)?;
    let kinds = filter.kinds.iter().map(|kind| kind.as_str());
    let mut query = in_regions(follow_up::Entity::find(), filter.regions.as_deref())
        .filter(follow_up::Column::CaseKind.is_in(kinds));
    if let Some(status) = filter.status {
        query = query.filter(follow_up::Column::Status.eq(status.as_str()));
    }
    if filter.overdue_only {
        query = query.filter(overdue(&calendars.overdue_cutoffs(crate::domain::china_time::today())));
    }
    keyset
        .read(db, query, |row| vec![row.created_at.into(), row.id.as_str().into()])
        .await?
        .try_map(|row| decode(calendars, row))
}

/// The follow-ups opened in a period in one region code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub opened: i64,
    pub closed_on_time: i64,
    pub closed_late: i64,
    /// Still open, and past the deadline now.
    pub overdue: i64,
}

/// The figures of the follow-ups opened in `span` in `regions`, by region
/// code, from two grouped queries.
pub async fn figures_by_region(
    db: &impl ConnectionTrait,
    span: DaySpan,
    regions: Option<&[String]>,
    cutoffs: &OverdueCutoffs,
) -> AppResult<HashMap<String, Figures>> {
    let opened = || in_regions(follow_up::Entity::find(), regions).filter(span.condition(follow_up::Column::CreatedAt));
    let count = || Expr::expr(Func::count(Expr::cust("*")));
    let rows: Vec<(String, Option<bool>, i64)> = opened()
        .select_only()
        .column(follow_up::Column::RegionCode)
        .column(follow_up::Column::ClosedLate)
        .column_as(count(), "count")
        .group_by(follow_up::Column::RegionCode)
        .group_by(follow_up::Column::ClosedLate)
        .into_tuple()
        .all(db)
        .await?;
    let mut figures: HashMap<String, Figures> = HashMap::new();
    for (region, late, count) in rows {
        let row = figures.entry(region).or_default();
        row.opened += count;
        match late {
            Some(false) => row.closed_on_time += count,
            Some(true) => row.closed_late += count,
            None => {}
        }
    }
    let overdue: Vec<(String, i64)> = opened()
        .select_only()
        .column(follow_up::Column::RegionCode)
        .column_as(count(), "count")
        .filter(overdue(cutoffs))
        .group_by(follow_up::Column::RegionCode)
        .into_tuple()
        .all(db)
        .await?;
    for (region, count) in overdue {
        figures.entry(region).or_default().overdue += count;
    }
    Ok(figures)
}
