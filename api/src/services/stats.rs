//! The programme office's overview: counts and sums per module and status in
//! a region and period, computed by grouped queries on indexed columns —
//! rows are never loaded to be counted.

use chrono::NaiveDate;
use entity::{application, si_transfer, si_transfer_step, wage_report, worker};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Alias, Expr, Func, Query},
};

use crate::{
    access,
    auth::Principal,
    domain::{RegionCode, china_time::DaySpan},
    error::{AppError, AppResult, ErrorCode},
    services::{calendar, programs, wage_reports},
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

    let mut applications = application::Entity::find()
        .select_only()
        .column(application::Column::ProgramId)
        .column(application::Column::Status)
        .column_as(count(), "count")
        .column_as(total(application::Column::RequestedAmountFen), "requested")
        .column_as(total(application::Column::ApprovedAmountFen), "approved")
        .column_as(total(application::Column::DisbursedAmountFen), "disbursed")
        .filter(span.condition(application::Column::CreatedAt))
        .group_by(application::Column::ProgramId)
        .group_by(application::Column::Status);
    if let Some(codes) = &codes {
        applications = applications.filter(application::Column::RegionCode.is_in(codes.clone()));
    }
    let rows: Vec<(String, String, i64, i64, i64, i64)> = applications.into_tuple().all(db).await?;
    let names = programs::names(db).await?;
    let applications = rows
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
        .collect();

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
    let calendar = calendar::load(db).await?;
    let mut cutoff = crate::domain::china_time::today();
    while !calendar.is_working_day(cutoff) {
        cutoff = cutoff.pred_opt().expect("dates stay far from the calendar's start");
    }
    let mut cases_in_scope = Query::select();
    cases_in_scope
        .column(si_transfer::Column::Id)
        .from(si_transfer::Entity)
        .cond_where(transfer_scope(in_period));
    let transfers_overdue = si_transfer_step::Entity::find()
        .select_only()
        .column(si_transfer_step::Column::TransferId)
        .distinct()
        .filter(si_transfer_step::Column::Status.eq("pending"))
        .filter(si_transfer_step::Column::DueOn.lt(cutoff))
        .filter(si_transfer_step::Column::TransferId.in_subquery(cases_in_scope))
        .count(db)
        .await? as i64;

    let wage_scope = |mut condition: Condition| {
        condition = condition.add(span.condition(wage_report::Column::CreatedAt));
        match &codes {
            Some(codes) => condition.add(wage_report::Column::RegionCode.is_in(codes.clone())),
            None => condition,
        }
    };
    let wage_rows: Vec<(String, i64, i64, i64)> = wage_report::Entity::find()
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
    let wage_reports = wage_rows
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
    let (on_time, late) = (accepted(false).await? as i64, accepted(true).await? as i64);
    let wage_reports_overdue = wage_report::Entity::find()
        .filter(wage_scope(wage_reports::read::overdue(cutoff)))
        .count(db)
        .await? as i64;

    let mut active = worker::Entity::find().filter(span.condition(worker::Column::LastLoginAt));
    if let Some(codes) = &codes {
        active = active.filter(
            Condition::any()
                .add(worker::Column::WorkRegionCode.is_in(codes.clone()))
                .add(worker::Column::ResidenceRegionCode.is_in(codes.clone())),
        );
    }
    let active_workers = active.count(db).await? as i64;

    Ok(Overview {
        region_code: root,
        from,
        to,
        applications,
        transfers_by_status,
        transfers_overdue,
        wage_reports,
        wage_reports_accepted_on_time: on_time,
        wage_reports_accepted_late: late,
        wage_reports_overdue,
        active_workers,
    })
}
