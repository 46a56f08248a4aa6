use chrono::NaiveDate;
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};

use super::ApiTags;
use crate::{
    auth::schemes::StaffAuth,
    domain::RegionCode,
    http::problem::{ApiResult, status},
    services::stats,
    state::AppState,
};

pub struct StatsApi;

#[derive(Debug, Object)]
pub struct ApplicationCount {
    pub program_id: String,
    pub program_name: String,
    pub status: String,
    pub count: i64,
    pub requested_fen: i64,
    pub approved_fen: i64,
    pub disbursed_fen: i64,
}

#[derive(Debug, Object)]
pub struct StatusCount {
    pub status: String,
    pub count: i64,
}

#[derive(Debug, Object)]
pub struct WageReportCount {
    pub status: String,
    pub count: i64,
    /// Wages reported owed, in fen.
    pub owed_fen: i64,
    pub recovered_fen: i64,
}

#[derive(Debug, Object)]
pub struct TransferFigures {
    pub by_status: Vec<StatusCount>,
    /// Cases with a step past its due day.
    pub overdue: i64,
}

#[derive(Debug, Object)]
pub struct WageFigures {
    pub by_status: Vec<WageReportCount>,
    /// Accepted within the 5 working days.
    pub accepted_on_time: i64,
    pub accepted_late: i64,
    /// Open reports past the deadline that applies now.
    pub overdue: i64,
}

/// Counts and sums of one region and period (by creation date, China time).
#[derive(Debug, Object)]
pub struct Overview {
    pub region_code: RegionCode,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub applications: Vec<ApplicationCount>,
    pub si_transfers: TransferFigures,
    pub wage_reports: WageFigures,
    /// Workers of the region (work or residence) who signed in during the period.
    pub active_workers: i64,
    /// Years of the period, or whose deadlines are counted now, with no
    /// official holiday schedule entered: deadlines across them count every
    /// weekday as working until a national administrator enters it, so
    /// on-time and overdue figures there may be off. Empty when none.
    pub calendar_missing_years: Vec<i32>,
}

impl From<stats::ApplicationFigures> for ApplicationCount {
    fn from(a: stats::ApplicationFigures) -> Self {
        ApplicationCount {
            program_id: a.program_id,
            program_name: a.program_name,
            status: a.status,
            count: a.count,
            requested_fen: a.requested_fen,
            approved_fen: a.approved_fen,
            disbursed_fen: a.disbursed_fen,
        }
    }
}

impl From<stats::WageFigures> for WageReportCount {
    fn from(w: stats::WageFigures) -> Self {
        WageReportCount {
            status: w.status,
            count: w.count,
            owed_fen: w.owed_fen,
            recovered_fen: w.recovered_fen,
        }
    }
}

impl From<stats::Overview> for Overview {
    fn from(figures: stats::Overview) -> Self {
        Overview {
            region_code: figures.region_code,
            from: figures.from,
            to: figures.to,
            applications: figures.applications.into_iter().map(ApplicationCount::from).collect(),
            si_transfers: TransferFigures {
                by_status: figures
                    .transfers_by_status
                    .into_iter()
                    .map(|(status, count)| StatusCount { status, count })
                    .collect(),
                overdue: figures.transfers_overdue,
            },
            wage_reports: WageFigures {
                by_status: figures.wage_reports.into_iter().map(WageReportCount::from).collect(),
                accepted_on_time: figures.wage_reports_accepted_on_time,
                accepted_late: figures.wage_reports_accepted_late,
                overdue: figures.wage_reports_overdue,
            },
            active_workers: figures.active_workers,
            calendar_missing_years: figures.calendar_missing_years,
        }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Statistics")]
impl StatsApi {
    /// Overview of a region and period
    ///
    /// Applications by program and status with amounts requested, approved
    /// and disbursed; transfers by status and overdue; wage reports by status
    /// with amounts owed and recovered and deadline compliance; active workers.
    /// Inside the caller's region (by default all of it), for administrators,
    /// reviewers, inspectors and finance (403 `ROLE_REQUIRED` otherwise).
    #[oai(path = "/staff/stats/overview", method = "get", operation_id = "statsOverview")]
    async fn overview(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        region_code: Query<Option<RegionCode>>,
        /// First day (inclusive).
        #[oai(example = "example_from")]
        from: Query<NaiveDate>,
        /// Last day (inclusive).
        #[oai(example = "example_to")]
        to: Query<NaiveDate>,
    ) -> ApiResult<Json<Overview>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let figures = stats::overview(&state, &auth.0, region_code.0, from.0, to.0).await?;
        Ok(Json(figures.into()))
    }
}

/// The documented period: one calendar year.
fn example_from() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).expect("a calendar date")
}

fn example_to() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 31).expect("a calendar date")
}
