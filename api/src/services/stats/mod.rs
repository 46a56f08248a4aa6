//! The programme office's overview: counts and sums per module and status in
//! a region and period, computed by grouped queries on indexed columns —
//! rows are never loaded to be counted.

mod breakdown;
mod satisfaction;

pub use breakdown::{Breakdown, breakdown};
pub use satisfaction::{Figures as SatisfactionFigures, RatingFigures, Satisfaction, satisfaction};

use chrono::{Datelike, NaiveDate};
use entity::{application, si_transfer, window_filing, worker};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
    sea_query::{Expr, Func},
};

use crate::{
    access,
    auth::Principal,
    domain::{RegionCode, china_time::DaySpan},
    error::{AppError, AppResult, ErrorCode},
    infra::db::sum_i64,
    services::{calendar, programs, transfers, wage_reports},
    state::AppState,
};

#[derive(Debug, Clone, Default)]
pub struct ApplicationFigures {
    pub program_id: String,
    pub program_name: String,
    pub status: String,
    pub count: i64,
    pub requested_fen: i64,
    pub approved_fen: i64,
    pub disbursed_fen: i64,
}

pub use super::wage_reports::read::StatusFigures as WageFigures;

#[derive(Debug, Clone)]
pub struct Overview {
    pub region_code: RegionCode,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub applications: Vec<ApplicationFigures>,
    pub transfers_by_status: Vec<(String, i64)>,
    pub transfers_overdue: i64,
    pub wage_reports: Vec<WageFigures>,
    pub wage_reports_accepted_on_time: i64,
    pub wage_reports_accepted_late: i64,
    pub wage_reports_overdue: i64,
    pub active_workers: i64,
    /// Applications filed at a service window in the period, by region.
    pub filed_at_window: Vec<(String, i64)>,
    /// Years of the period, or whose deadlines are counted now, with no
    /// official holiday schedule entered: deadlines in them were counted
    /// with every weekday as working.
    pub calendar_missing_years: Vec<i32>,
}

fn count() -> Expr {
    Expr::expr(Func::count(Expr::cust("*")))
}

pub async fn overview(
    state: &AppState,
    staff: &Principal,
    region: Option<RegionCode>,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Overview> {
    access::require_overview_reader(staff)?;
    let span = DaySpan::new(Some(from), Some(to))?;
    let codes = access::staff_scope(&state.regions, staff, region)?;
    let root = match region {
        Some(region) => region,
        None => staff.region.ok_or_else(|| AppError::new(ErrorCode::OutOfRegionScope))?,
    };
    let db = &state.replica;

    let applications = application_figures(db, span, codes.as_deref()).await?;

    let transfer_scope = |condition: Condition| match &codes {
        Some(codes) => condition.add(
            Condition::any()
                .add(si_transfer::Column::FromRegionCode.is_in(codes.clone()))
                .add(si_transfer::Column::ToRegionCode.is_in(codes.clone())),
        ),
        None => condition,
    };
    let in_period = Condition::all().add(span.condition(si_transfer::Column::CreatedAt));
    let transfers_by_status: Vec<(String, i64)> = si_transfer::Entity::find()
        .select_only()
        .column(si_transfer::Column::Status)
        .column_as(count(), "count")
        .filter(transfer_scope(in_period.clone()))
        .group_by(si_transfer::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let today = crate::domain::china_time::today();
    let cutoffs = calendar::load(db).await?.overdue_cutoffs(today);
    let transfers_overdue = si_transfer::Entity::find()
        .filter(transfer_scope(in_period))
        .filter(transfers::overdue_cases(&cutoffs))
        .count(db)
        .await? as i64;

    let wage_reports = wage_reports::read::figures(db, span, codes.as_deref(), &cutoffs).await?;

    let active_workers = active_workers(db, span, codes.as_deref()).await?;
    let filed_at_window = filed_at_window(db, span, codes.as_deref()).await?;
    let calendar_missing_years = calendar::missing_years(db, &years_counted(from, to, today)).await?;

    Ok(Overview {
        region_code: root,
        from,
        to,
        applications,
        transfers_by_status,
        transfers_overdue,
        wage_reports: wage_reports.by_status,
        wage_reports_accepted_on_time: wage_reports.accepted_on_time,
        wage_reports_accepted_late: wage_reports.accepted_late,
        wage_reports_overdue: wage_reports.overdue,
        active_workers,
        filed_at_window,
        calendar_missing_years,
    })
}

/// The years whose calendar the figures lean on: the period's, and those
/// whose deadlines are counted now.
fn years_counted(from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Vec<i32> {
    let mut years: Vec<i32> = (from.year()..=to.year()).collect();
    years.extend(calendar::years_in_use(today));
    years.sort_unstable();
    years.dedup();
    years
}

/// Applications filed in the period, by programme and status.
async fn application_figures(
    db: &DatabaseConnection,
    span: DaySpan,
    codes: Option<&[String]>,
) -> AppResult<Vec<ApplicationFigures>> {
    let mut applications = application::Entity::find()
        .select_only()
        .column(application::Column::ProgramId)
        .column(application::Column::Status)
        .column_as(count(), "count")
        .column_as(sum_i64(application::Column::RequestedAmountFen), "requested")
        .column_as(sum_i64(application::Column::ApprovedAmountFen), "approved")
        .column_as(sum_i64(application::Column::DisbursedAmountFen), "disbursed")
        .filter(span.condition(application::Column::CreatedAt))
        .group_by(application::Column::ProgramId)
        .group_by(application::Column::Status);
    if let Some(codes) = codes {
        applications = applications.filter(application::Column::RegionCode.is_in(codes.iter().map(String::as_str)));
    }
    let rows: Vec<(String, String, i64, i64, i64, i64)> = applications.into_tuple().all(db).await?;
    let names = programs::names(db).await?;
    Ok(rows
        .into_iter()
        .map(
            |(program_id, status, count, requested, approved, disbursed)| ApplicationFigures {
                program_name: names.get(&program_id).cloned().unwrap_or_default(),
                program_id,
                status,
                count,
                requested_fen: requested,
                approved_fen: approved,
                disbursed_fen: disbursed,
            },
        )
        .collect())
}

/// Applications filed at a service window in the period, by the region
/// that reviews them.
async fn filed_at_window(
    db: &DatabaseConnection,
    span: DaySpan,
    codes: Option<&[String]>,
) -> AppResult<Vec<(String, i64)>> {
    let filed = window_filing::Entity::find()
        .select_only()
        .column(window_filing::Column::ApplicationId);
    let mut query = application::Entity::find()
        .select_only()
        .column(application::Column::RegionCode)
        .column_as(count(), "count")
        .filter(application::Column::Id.in_subquery(filed.into_query()))
        .filter(span.condition(application::Column::CreatedAt))
        .group_by(application::Column::RegionCode)
        .order_by_asc(application::Column::RegionCode);
    if let Some(codes) = codes {
        query = query.filter(application::Column::RegionCode.is_in(codes.iter().map(String::as_str)));
    }
    Ok(query.into_tuple().all(db).await?)
}

/// Workers who signed in during the period, working or living in the region.
async fn active_workers(db: &DatabaseConnection, span: DaySpan, codes: Option<&[String]>) -> AppResult<i64> {
    let mut active = worker::Entity::find().filter(span.condition(worker::Column::LastLoginAt));
    if let Some(codes) = codes {
        active = active.filter(
            Condition::any()
                .add(worker::Column::WorkRegionCode.is_in(codes.iter().map(String::as_str)))
                .add(worker::Column::ResidenceRegionCode.is_in(codes.iter().map(String::as_str))),
        );
    }
    Ok(active.count(db).await? as i64)
}
