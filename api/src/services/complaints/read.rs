//! Every query of complaints and their decoding into [`Complaint`]: the rows
//! never leave this file.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::complaint;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Expr, Func},
};

use super::status::{self, ComplaintKind, ComplaintStatus};
use crate::{
    domain::{CaseType, RegionCode, TextType, china_time::DaySpan},
    error::{AppError, AppResult, ErrorCode},
    infra::crypto::DataProtector,
    services::{
        calendar::{Calendars, OverdueCutoffs},
        keyset::{Cut, Keyset, Window},
    },
};

/// The worker's case a complaint concerns.
#[derive(Debug, Clone)]
pub struct CaseMention {
    pub kind: CaseType,
    pub id: String,
    pub number: String,
}

/// A complaint as the lifecycle knows it.
#[derive(Debug, Clone)]
pub struct Complaint {
    pub id: String,
    pub complaint_no: String,
    pub worker_id: String,
    pub kind: ComplaintKind,
    /// The office it is addressed to.
    pub region: RegionCode,
    pub case: Option<CaseMention>,
    pub text: String,
    pub status: ComplaintStatus,
    pub deadline: NaiveDate,
    /// Open, and a working day has begun after the deadline.
    pub overdue: bool,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub replied_late: Option<bool>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

/// Decodes a stored complaint; the calendar of its province tells whether
/// it is overdue today.
pub fn decode(calendars: &Calendars, row: complaint::Model) -> AppResult<Complaint> {
    let malformed = |what: &str| AppError::internal(anyhow::anyhow!("complaint {} has a malformed {what}", row.id));
    let status = ComplaintStatus::parse(&row.status).ok_or_else(|| malformed("status"))?;
    let region = RegionCode::parse(&row.region_code).map_err(|_| malformed("region"))?;
    let today = crate::domain::china_time::today();
    let overdue = status == ComplaintStatus::Open && status::past_deadline(calendars.of(region), row.deadline, today);
    let case = match (row.case_kind.as_deref(), row.case_id, row.case_no) {
        (Some(kind), Some(id), Some(number)) => Some(CaseMention {
            kind: CaseType::parse(kind).ok_or_else(|| malformed("case kind"))?,
            id,
            number,
        }),
        _ => None,
    };
    Ok(Complaint {
        kind: ComplaintKind::parse(&row.kind).ok_or_else(|| malformed("kind"))?,
        id: row.id,
        complaint_no: row.complaint_no,
        worker_id: row.worker_id,
        region,
        case,
        text: row.text,
        status,
        deadline: row.deadline,
        overdue,
        reply: row.reply,
        replied_at: row.replied_at,
        replied_late: row.replied_late,
        version: row.version,
        created_at: row.created_at,
    })
}

/// The complaint `id`; 404 when there is none.
pub async fn load(db: &impl ConnectionTrait, calendars: &Calendars, id: &str) -> AppResult<Complaint> {
    let row = complaint::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    decode(calendars, row)
}

fn in_regions(query: Select<complaint::Entity>, codes: Option<&[String]>) -> Select<complaint::Entity> {
    match codes {
        Some(codes) => query.filter(complaint::Column::RegionCode.is_in(codes.iter().map(String::as_str))),
        None => query,
    }
}

/// Open complaints past their deadline in their province: the query form
/// of `status::past_deadline`.
fn overdue(cutoffs: &OverdueCutoffs) -> Condition {
    let in_province = |prefix: &str| Condition::all().add(complaint::Column::RegionCode.starts_with(prefix));
    let due_before = |cutoff: NaiveDate| Condition::all().add(complaint::Column::Deadline.lt(cutoff));
    Condition::all()
        .add(complaint::Column::Status.eq(ComplaintStatus::Open.as_str()))
        .add(cutoffs.condition(in_province, due_before))
}

/// Page `page` of `query` (from 1) and how many rows it holds, both in SQL.
async fn one_page(
    db: &impl ConnectionTrait,
    calendars: &Calendars,
    query: Select<complaint::Entity>,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Complaint>, u64)> {
    let paginator = query.paginate(db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    let items = rows
        .into_iter()
        .map(|row| decode(calendars, row))
        .collect::<AppResult<_>>()?;
    Ok((items, total))
}

/// One page of a worker's complaints, newest first, and how many they have.
pub async fn page_of_worker(
    db: &impl ConnectionTrait,
    calendars: &Calendars,
    worker_id: &str,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Complaint>, u64)> {
    let query = complaint::Entity::find()
        .filter(complaint::Column::WorkerId.eq(worker_id))
        .order_by_desc(complaint::Column::CreatedAt)
        .order_by_desc(complaint::Column::Id);
    one_page(db, calendars, query, page, page_size).await
}

/// Which complaints a queue shows.
#[derive(Debug, Clone)]
pub struct QueueFilter {
    /// The region codes it covers (`access::staff_scope`).
    pub regions: Option<Vec<String>>,
    pub kind: Option<ComplaintKind>,
    pub status: Option<ComplaintStatus>,
    pub overdue_only: bool,
}

/// One page of a queue, oldest first (the id breaking ties), and how many
/// complaints it holds.
pub async fn queue(
    db: &impl ConnectionTrait,
    protector: &DataProtector,
    calendars: &Calendars,
    filter: QueueFilter,
    window: Window,
) -> AppResult<Cut<Complaint>> {
    use complaint::Column::{CreatedAt, Id};
    let keyset = Keyset::open(protector, "complaints", &filter, (vec![CreatedAt, Id], false), window)?;
    let mut query = in_regions(complaint::Entity::find(), filter.regions.as_deref());
    if let Some(kind) = filter.kind {
        query = query.filter(complaint::Column::Kind.eq(kind.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(complaint::Column::Status.eq(status.as_str()));
    }
    if filter.overdue_only {
        query = query.filter(overdue(&calendars.overdue_cutoffs(crate::domain::china_time::today())));
    }
    keyset
        .read(db, query, |row| vec![row.created_at.into(), row.id.as_str().into()])
        .await?
        .try_map(|row| decode(calendars, row))
}

/// The complaints and suggestions filed in a period in one region code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub complaints: i64,
    pub suggestions: i64,
    pub answered_on_time: i64,
    pub answered_late: i64,
    /// Still open, and past the deadline now.
    pub overdue: i64,
}

/// The figures of the complaints filed in `span` in `regions`, by region
/// code, from two grouped queries.
pub async fn figures_by_region(
    db: &impl ConnectionTrait,
    span: DaySpan,
    regions: Option<&[String]>,
    cutoffs: &OverdueCutoffs,
) -> AppResult<HashMap<String, Figures>> {
    let filed = || in_regions(complaint::Entity::find(), regions).filter(span.condition(complaint::Column::CreatedAt));
    let count = || Expr::expr(Func::count(Expr::cust("*")));
    let rows: Vec<(String, String, Option<bool>, i64)> = filed()
        .select_only()
        .column(complaint::Column::RegionCode)
        .column(complaint::Column::Kind)
        .column(complaint::Column::RepliedLate)
        .column_as(count(), "count")
        .group_by(complaint::Column::RegionCode)
        .group_by(complaint::Column::Kind)
        .group_by(complaint::Column::RepliedLate)
        .into_tuple()
        .all(db)
        .await?;
    let mut figures: HashMap<String, Figures> = HashMap::new();
    for (region, kind, late, count) in rows {
        let row = figures.entry(region).or_default();
        match ComplaintKind::parse(&kind) {
            Some(ComplaintKind::Complaint) => row.complaints += count,
            Some(ComplaintKind::Suggestion) => row.suggestions += count,
            None => {}
        }
        match late {
            Some(false) => row.answered_on_time += count,
            Some(true) => row.answered_late += count,
            None => {}
        }
    }
    let overdue: Vec<(String, i64)> = filed()
        .select_only()
        .column(complaint::Column::RegionCode)
        .column_as(count(), "count")
        .filter(overdue(cutoffs))
        .group_by(complaint::Column::RegionCode)
        .into_tuple()
        .all(db)
        .await?;
    for (region, count) in overdue {
        figures.entry(region).or_default().overdue += count;
    }
    Ok(figures)
}
