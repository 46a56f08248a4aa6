//! The programme office's overview: counts and sums per module and status in
//! a region and period, computed by grouped queries on indexed columns —
//! rows are never loaded to be counted.

use chrono::NaiveDate;
use entity::{application, si_transfer, si_transfer_step, wage_report, worker};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Alias, Expr, Func, Query},
};

use crate::{
    access,
    auth::Principal,
    domain::{RegionCode, china_time::DaySpan},
    error::{AppError, AppResult, ErrorCode},
    services::{calendar, programs},
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

#[derive(Debug, Clone, Default)]
pub struct WageFigures {
    pub status: String,
    pub count: i64,
    pub owed_fen: i64,
    pub recovered_fen: i64,
}

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
}

/// SUM as a 64-bit integer on both databases (PostgreSQL sums bigints as numeric).
fn total(column: impl sea_orm::sea_query::IntoColumnRef) -> Expr {
    let sum: Expr = Func::sum(Expr::col(column)).into();
    let zero: Expr = Expr::val(0);
    Func::cast_as(Func::coalesce([sum, zero]), Alias::new("BIGINT")).into()
}

fn count() -> Expr {
    Expr::expr(Func::count(Expr::cust("*")))
}

/// What the figures cover: the creation days, and the region codes (all
/// regions when `None`).
#[derive(Clone, Copy)]
struct Scope<'a> {
    span: DaySpan,
    codes: Option<&'a [String]>,
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
    let db = &state.db;
    let scope = Scope {
        span,
        codes: codes.as_deref(),
    };
    let cutoff = overdue_cutoff(db).await?;
    let (transfers_by_status, transfers_overdue) = transfer_figures(db, scope, cutoff).await?;
    let wages = wage_figures(db, scope, cutoff).await?;
    Ok(Overview {
        region_code: root,
        from,
        to,
        applications: application_figures(db, scope).await?,
        transfers_by_status,
        transfers_overdue,
        wage_reports: wages.by_status,
        wage_reports_accepted_on_time: wages.accepted_on_time,
        wage_reports_accepted_late: wages.accepted_late,
        wage_reports_overdue: wages.overdue,
        active_workers: active_workers(db, scope).await?,
    })
}

/// The last working day before today, China time: a step or a deadline due
/// before it is overdue.
async fn overdue_cutoff(db: &DatabaseConnection) -> AppResult<NaiveDate> {
    let calendar = calendar::load(db).await?;
    let mut cutoff = crate::domain::china_time::today();
    while !calendar.is_working_day(cutoff) {
        cutoff = cutoff.pred_opt().expect("dates stay far from the calendar's start");
    }
    Ok(cutoff)
}

/// Applications per program and status, with their amounts.
async fn application_figures(db: &DatabaseConnection, scope: Scope<'_>) -> AppResult<Vec<ApplicationFigures>> {
    let mut applications = application::Entity::find()
        .select_only()
        .column(application::Column::ProgramId)
        .column(application::Column::Status)
        .column_as(count(), "count")
        .column_as(total(application::Column::RequestedAmountFen), "requested")
        .column_as(total(application::Column::ApprovedAmountFen), "approved")
        .column_as(total(application::Column::DisbursedAmountFen), "disbursed")
        .filter(scope.span.condition(application::Column::CreatedAt))
        .group_by(application::Column::ProgramId)
        .group_by(application::Column::Status);
    if let Some(codes) = scope.codes {
        applications = applications.filter(application::Column::RegionCode.is_in(codes.to_vec()));
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

/// Transfers per status, and how many have a step overdue.
async fn transfer_figures(
    db: &DatabaseConnection,
    scope: Scope<'_>,
    cutoff: NaiveDate,
) -> AppResult<(Vec<(String, i64)>, i64)> {
    let transfer_scope = |condition: Condition| match scope.codes {
        Some(codes) => condition.add(
            Condition::any()
                .add(si_transfer::Column::FromRegionCode.is_in(codes.to_vec()))
                .add(si_transfer::Column::ToRegionCode.is_in(codes.to_vec())),
        ),
        None => condition,
    };
    let in_period = Condition::all().add(scope.span.condition(si_transfer::Column::CreatedAt));
    let by_status: Vec<(String, i64)> = si_transfer::Entity::find()
        .select_only()
        .column(si_transfer::Column::Status)
        .column_as(count(), "count")
        .filter(transfer_scope(in_period.clone()))
        .group_by(si_transfer::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut cases_in_scope = Query::select();
    cases_in_scope
        .column(si_transfer::Column::Id)
        .from(si_transfer::Entity)
        .cond_where(transfer_scope(in_period));
    let overdue = si_transfer_step::Entity::find()
        .select_only()
        .column(si_transfer_step::Column::TransferId)
        .distinct()
        .filter(si_transfer_step::Column::Status.eq("pending"))
        .filter(si_transfer_step::Column::DueOn.lt(cutoff))
        .filter(si_transfer_step::Column::TransferId.in_subquery(cases_in_scope))
        .count(db)
        .await? as i64;
    Ok((by_status, overdue))
}

struct WageSummary {
    by_status: Vec<WageFigures>,
    accepted_on_time: i64,
    accepted_late: i64,
    overdue: i64,
}

/// Wage reports per status with their amounts, how many were accepted in
/// time, and how many open ones are past a deadline.
async fn wage_figures(db: &DatabaseConnection, scope: Scope<'_>, cutoff: NaiveDate) -> AppResult<WageSummary> {
    let wage_scope = |mut condition: Condition| {
        condition = condition.add(scope.span.condition(wage_report::Column::CreatedAt));
        match scope.codes {
            Some(codes) => condition.add(wage_report::Column::RegionCode.is_in(codes.to_vec())),
            None => condition,
        }
    };
    let rows: Vec<(String, i64, i64, i64)> = wage_report::Entity::find()
        .select_only()
        .column(wage_report::Column::Status)
        .column_as(count(), "count")
        .column_as(total(wage_report::Column::AmountOwedFen), "owed")
        .column_as(total(wage_report::Column::AmountRecoveredFen), "recovered")
        .filter(wage_scope(Condition::all()))
        .group_by(wage_report::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let by_status = rows
        .into_iter()
        .map(|(status, count, owed, recovered)| WageFigures {
            status,
            count,
            owed_fen: owed,
            recovered_fen: recovered,
        })
        .collect();
    let accepted = |late: bool| {
        wage_report::Entity::find()
            .filter(wage_scope(
                Condition::all().add(wage_report::Column::AcceptedLate.eq(late)),
            ))
            .count(db)
    };
    let (accepted_on_time, accepted_late) = (accepted(false).await? as i64, accepted(true).await? as i64);
    let open = ["submitted", "accepted", "info_requested", "in_progress"];
    let overdue = wage_report::Entity::find()
        .filter(wage_scope(
            Condition::all().add(wage_report::Column::Status.is_in(open)).add(
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
                    ),
            ),
        ))
        .count(db)
        .await? as i64;
    Ok(WageSummary {
        by_status,
        accepted_on_time,
        accepted_late,
        overdue,
    })
}

/// Workers who signed in during the period, living or working in the scope.
async fn active_workers(db: &DatabaseConnection, scope: Scope<'_>) -> AppResult<i64> {
    let mut active = worker::Entity::find().filter(scope.span.condition(worker::Column::LastLoginAt));
    if let Some(codes) = scope.codes {
        active = active.filter(
            Condition::any()
                .add(worker::Column::WorkRegionCode.is_in(codes.to_vec()))
                .add(worker::Column::ResidenceRegionCode.is_in(codes.to_vec())),
        );
    }
    Ok(active.count(db).await? as i64)
}
