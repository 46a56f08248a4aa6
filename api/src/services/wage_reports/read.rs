//! Every query of reports and their history, and their decoding into
//! [`Report`]: the rows never leave this file.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{wage_report, wage_report_event};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Alias, Expr, ExprTrait, Func},
};

use super::status::{Deadlines, Facts, ReportStatus};
use crate::{
    config::WageAlertThresholds,
    domain::{RegionCode, TextType, china_time::DaySpan},
    error::{AppError, AppResult, ErrorCode},
    infra::{crypto::DataProtector, db::sum_i64},
    services::{
        calendar::{Calendars, OverdueCutoffs},
        keyset::{Cut, Keyset, Window},
        relatives::labels,
    },
};

/// A report as the lifecycle knows it.
#[derive(Debug, Clone)]
pub struct Report {
    pub id: String,
    pub report_no: String,
    pub worker_id: String,
    pub status: ReportStatus,
    pub employer_name: String,
    /// What early warnings group the employer by (`alerts::employer_key`).
    pub employer_key: String,
    pub credit_code: Option<String>,
    pub project_name: Option<String>,
    /// The queue it is in: where the work was done, or where it was transferred.
    pub region: RegionCode,
    pub sector: String,
    pub amount_owed_fen: i64,
    pub owed_from: NaiveDate,
    pub owed_to: NaiveDate,
    pub workers_affected: i32,
    pub description: String,
    /// The contact phone, sealed to the report (`Field::WageReportContactPhone`).
    pub contact_phone_cipher: Option<String>,
    pub accept_deadline: NaiveDate,
    pub close_deadline: Option<NaiveDate>,
    pub extended: bool,
    /// A working day has begun after the deadline that applies now.
    pub overdue: bool,
    pub amount_recovered_fen: Option<i64>,
    pub workers_paid: Option<i32>,
    pub outcome: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Report {
    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            accept: self.accept_deadline,
            close: self.close_deadline,
            accepted: self.accepted_at.is_some(),
        }
    }

    /// What the lifecycle needs to know besides the status.
    pub fn facts(&self) -> Facts {
        Facts {
            accepted: self.accepted_at.is_some(),
            extended: self.extended,
        }
    }
}

/// One entry of a report's history, as its worker and the inspectors read it.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// 本人, 劳动保障监察员, or a relative who acted for the worker
    /// (`亲友代办（妻子 王*）`): never a name in clear.
    pub by: String,
    pub comment: Option<String>,
}

/// Decodes a stored report; the calendar of its province tells whether it
/// is overdue today.
pub fn decode(calendars: &Calendars, row: wage_report::Model) -> AppResult<Report> {
    let malformed = |what: &str| AppError::internal(anyhow::anyhow!("report {} has a malformed {what}", row.id));
    let status = ReportStatus::parse(&row.status).ok_or_else(|| malformed("status"))?;
    let region = RegionCode::parse(&row.region_code).map_err(|_| malformed("region"))?;
    let mut report = Report {
        id: row.id,
        report_no: row.report_no,
        worker_id: row.worker_id,
        status,
        employer_name: row.employer_name,
        employer_key: row.employer_key,
        credit_code: row.credit_code,
        project_name: row.project_name,
        region,
        sector: row.sector,
        amount_owed_fen: row.amount_owed_fen,
        owed_from: row.owed_from,
        owed_to: row.owed_to,
        workers_affected: row.workers_affected,
        description: row.description,
        contact_phone_cipher: row.contact_phone_cipher,
        accept_deadline: row.accept_deadline,
        close_deadline: row.close_deadline,
        extended: row.extended,
        overdue: false,
        amount_recovered_fen: row.amount_recovered_fen,
        workers_paid: row.workers_paid,
        outcome: row.outcome,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
        accepted_at: row.accepted_at,
        closed_at: row.closed_at,
    };
    report.overdue = report
        .deadlines()
        .overdue(calendars.of(region), status, crate::domain::china_time::today());
    Ok(report)
}

fn decode_all(calendars: &Calendars, rows: Vec<wage_report::Model>) -> AppResult<Vec<Report>> {
    rows.into_iter().map(|row| decode(calendars, row)).collect()
}

/// The report `id`; 404 when there is none.
pub async fn load(db: &impl ConnectionTrait, calendars: &Calendars, id: &str) -> AppResult<Report> {
    let row = wage_report::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    decode(calendars, row)
}

fn of_worker_newest_first(worker_id: &str) -> Select<wage_report::Entity> {
    wage_report::Entity::find()
        .filter(wage_report::Column::WorkerId.eq(worker_id))
        .order_by_desc(wage_report::Column::CreatedAt)
        .order_by_desc(wage_report::Column::Id)
}

/// Every report of a worker, newest first (their copy of their data).
pub async fn of_worker(db: &impl ConnectionTrait, calendars: &Calendars, worker_id: &str) -> AppResult<Vec<Report>> {
    decode_all(calendars, of_worker_newest_first(worker_id).all(db).await?)
}

/// One page of a worker's reports, newest first, and how many they have.
pub async fn page_of_worker(
    db: &impl ConnectionTrait,
    calendars: &Calendars,
    worker_id: &str,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Report>, u64)> {
    one_page(db, calendars, of_worker_newest_first(worker_id), page, page_size).await
}

/// Page `page` of `query` (from 1) and how many rows it holds, both in SQL.
async fn one_page(
    db: &impl ConnectionTrait,
    calendars: &Calendars,
    query: Select<wage_report::Entity>,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Report>, u64)> {
    let paginator = query.paginate(db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    Ok((decode_all(calendars, rows)?, total))
}

/// A report's history, oldest first.
pub async fn timeline(db: &impl ConnectionTrait, report_id: &str) -> AppResult<Vec<TimelineEntry>> {
    let events = wage_report_event::Entity::find()
        .filter(wage_report_event::Column::ReportId.eq(report_id))
        .order_by_asc(wage_report_event::Column::Id)
        .all(db)
        .await?;
    let relatives = labels::of_history(db, events.iter().map(|e| e.relative_grant_id.as_ref())).await?;
    Ok(events
        .into_iter()
        .map(|e| TimelineEntry {
            at: e.at,
            by: if e.actor_type == "worker" {
                labels::acted_by("本人", e.relative_grant_id.as_ref(), &relatives)
            } else {
                "劳动保障监察员".to_owned()
            },
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            comment: e.comment,
        })
        .collect())
}

/// Reports in one of the open statuses.
fn open() -> Condition {
    Condition::all().add(wage_report::Column::Status.is_in(ReportStatus::OPEN.iter().map(|s| s.as_str())))
}

/// Open reports whose deadline that applies now is before the cutoff of
/// their region's province (`Calendars::overdue_cutoffs`): the query form
/// of `Deadlines::overdue`.
fn overdue(cutoffs: &OverdueCutoffs) -> Condition {
    let in_province = |prefix: &str| Condition::all().add(wage_report::Column::RegionCode.starts_with(prefix));
    let due_before = |cutoff: NaiveDate| {
        Condition::any()
            .add(
                Condition::all()
                    .add(wage_report::Column::AcceptedAt.is_null())
                    .add(wage_report::Column::AcceptDeadline.lt(cutoff)),
            )
            .add(
                Condition::all()
                    .add(wage_report::Column::AcceptedAt.is_not_null())
                    .add(wage_report::Column::CloseDeadline.lt(cutoff)),
            )
    };
    open().add(cutoffs.condition(in_province, due_before))
}

/// Open reports now, and the overdue among them, by region code: `(region,
/// open, overdue)`, from two grouped queries.
pub async fn open_by_region(
    db: &impl ConnectionTrait,
    regions: Option<&[String]>,
    cutoffs: &OverdueCutoffs,
) -> AppResult<Vec<(String, i64, i64)>> {
    let counted = |condition: Condition| {
        in_regions(wage_report::Entity::find(), regions)
            .select_only()
            .column(wage_report::Column::RegionCode)
            .column_as(Expr::expr(Func::count(Expr::cust("*"))), "count")
            .filter(condition)
            .group_by(wage_report::Column::RegionCode)
            .into_tuple::<(String, i64)>()
            .all(db)
    };
    let overdue: HashMap<String, i64> = counted(overdue(cutoffs)).await?.into_iter().collect();
    Ok(counted(open())
        .await?
        .into_iter()
        .map(|(region, open)| {
            let late = overdue.get(&region).copied().unwrap_or(0);
            (region, open, late)
        })
        .collect())
}

/// Reports in these region codes (`None`: everywhere, no filter at all).
fn in_regions(query: Select<wage_report::Entity>, codes: Option<&[String]>) -> Select<wage_report::Entity> {
    match codes {
        Some(codes) => query.filter(wage_report::Column::RegionCode.is_in(codes.iter().map(String::as_str))),
        None => query,
    }
}

/// Which reports a queue shows.
#[derive(Debug, Clone)]
pub struct QueueFilter {
    /// The region codes it covers (`access::staff_scope`).
    pub regions: Option<Vec<String>>,
    pub status: Option<ReportStatus>,
    pub overdue_only: bool,
}

/// One page of a queue, oldest first (the id breaking ties), and how many
/// reports it holds.
pub async fn queue(
    db: &impl ConnectionTrait,
    protector: &DataProtector,
    calendars: &Calendars,
    filter: QueueFilter,
    window: Window,
) -> AppResult<Cut<Report>> {
    use wage_report::Column::{CreatedAt, Id};
    let keyset = Keyset::open(protector, "wage_reports", &filter, (vec![CreatedAt, Id], false), window)?;
    let mut query = in_regions(wage_report::Entity::find(), filter.regions.as_deref());
    if let Some(status) = filter.status {
        query = query.filter(wage_report::Column::Status.eq(status.as_str()));
    }
    if filter.overdue_only {
        query = query.filter(overdue(&calendars.overdue_cutoffs(crate::domain::china_time::today())));
    }
    keyset
        .read(db, query, |row| vec![row.created_at.into(), row.id.as_str().into()])
        .await?
        .try_map(|row| decode(calendars, row))
}

/// What an employer's reports add up to, as the early warnings weigh them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployerFigures {
    pub employer_key: String,
    /// Reports filed since the window began, whatever became of them.
    pub recent_reports: i64,
    /// Workers affected across the employer's open reports.
    pub workers_affected: i64,
    /// Wages owed across the employer's open reports.
    pub amount_owed_fen: i64,
}

/// `expr` as a 64-bit integer on both databases (PostgreSQL sums bigints
/// as numeric).
fn bigint(expr: impl Into<Expr>) -> Expr {
    Func::cast_as(expr.into(), Alias::new("BIGINT")).into()
}

/// One page of the employers, by key, whose reports in `regions` reach a
/// threshold: `thresholds.reports_in_30_days` filed since `since`, or the
/// workers or wages of their open reports; and how many such employers
/// there are. One grouped query with HAVING, paged in SQL.
pub async fn flagged_employers(
    db: &impl ConnectionTrait,
    regions: Option<&[String]>,
    since: DateTime<Utc>,
    thresholds: WageAlertThresholds,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<EmployerFigures>, u64)> {
    let filed_since = || wage_report::Column::CreatedAt.gte(since);
    let sum_where = |condition: Condition, value: Expr| bigint(Func::sum(Expr::case(condition, value).finally(0)));
    let recent = || sum_where(Condition::all().add(filed_since()), Expr::val(1));
    let workers = || sum_where(open(), Expr::col(wage_report::Column::WorkersAffected));
    let owed = || sum_where(open(), Expr::col(wage_report::Column::AmountOwedFen));
    let paginator = in_regions(wage_report::Entity::find(), regions)
        .select_only()
        .column(wage_report::Column::EmployerKey)
        .column_as(recent(), "recent")
        .column_as(workers(), "workers")
        .column_as(owed(), "owed")
        .filter(Condition::any().add(filed_since()).add(open()))
        .group_by(wage_report::Column::EmployerKey)
        .having(
            Condition::any()
                .add(recent().gte(i64::from(thresholds.reports_in_30_days)))
                .add(workers().gte(i64::from(thresholds.workers_affected)))
                .add(owed().gte(thresholds.amount_owed_fen)),
        )
        .order_by_asc(wage_report::Column::EmployerKey)
        .into_tuple::<(String, i64, i64, i64)>()
        .paginate(db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let employers = paginator
        .fetch_page(u64::from(page.saturating_sub(1)))
        .await?
        .into_iter()
        .map(
            |(employer_key, recent_reports, workers_affected, amount_owed_fen)| EmployerFigures {
                employer_key,
                recent_reports,
                workers_affected,
                amount_owed_fen,
            },
        )
        .collect();
    Ok((employers, total))
}

/// The reports of `employers` (by key) filed since `since` or still open,
/// oldest first.
pub async fn of_employers(
    db: &impl ConnectionTrait,
    calendars: &Calendars,
    regions: Option<&[String]>,
    employers: &[String],
    since: DateTime<Utc>,
) -> AppResult<Vec<Report>> {
    let rows = in_regions(wage_report::Entity::find(), regions)
        .filter(wage_report::Column::EmployerKey.is_in(employers.iter().map(String::as_str)))
        .filter(
            Condition::any()
                .add(wage_report::Column::CreatedAt.gte(since))
                .add(open()),
        )
        .order_by_asc(wage_report::Column::CreatedAt)
        .order_by_asc(wage_report::Column::Id)
        .all(db)
        .await?;
    decode_all(calendars, rows)
}

/// The reports filed in a period with one status, and what they add up to.
#[derive(Debug, Clone, Default)]
pub struct StatusFigures {
    pub status: String,
    pub count: i64,
    pub owed_fen: i64,
    pub recovered_fen: i64,
}

/// The reports filed in a period, for the overview.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub by_status: Vec<StatusFigures>,
    pub accepted_on_time: i64,
    pub accepted_late: i64,
    /// Past the deadline that applies now, in the days of each report's
    /// province.
    pub overdue: i64,
}

/// The figures of the reports filed in `span` in `regions`, by grouped
/// queries: rows are never loaded to be counted.
pub async fn figures(
    db: &impl ConnectionTrait,
    span: DaySpan,
    regions: Option<&[String]>,
    cutoffs: &OverdueCutoffs,
) -> AppResult<Figures> {
    let filed =
        || in_regions(wage_report::Entity::find(), regions).filter(span.condition(wage_report::Column::CreatedAt));
    let by_status: Vec<(String, i64, i64, i64)> = filed()
        .select_only()
        .column(wage_report::Column::Status)
        .column_as(Expr::expr(Func::count(Expr::cust("*"))), "count")
        .column_as(sum_i64(wage_report::Column::AmountOwedFen), "owed")
        .column_as(sum_i64(wage_report::Column::AmountRecoveredFen), "recovered")
        .group_by(wage_report::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let accepted = |late: bool| filed().filter(wage_report::Column::AcceptedLate.eq(late)).count(db);
    let (on_time, late) = (accepted(false).await?, accepted(true).await?);
    let overdue = filed().filter(overdue(cutoffs)).count(db).await?;
    Ok(Figures {
        by_status: by_status
            .into_iter()
            .map(|(status, count, owed_fen, recovered_fen)| StatusFigures {
                status,
                count,
                owed_fen,
                recovered_fen,
            })
            .collect(),
        accepted_on_time: on_time as i64,
        accepted_late: late as i64,
        overdue: overdue as i64,
    })
}
