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
    /// Applications filed at a service window (窗口代办) in the period, by
    /// the region that reviews them; included in `applications`.
    pub filed_at_window: Vec<RegionCount>,
    /// Years of the period, or whose deadlines are counted now, with no
    /// official holiday schedule entered: deadlines across them count every
    /// weekday as working until a national administrator enters it, so
    /// on-time and overdue figures there may be off. Empty when none.
    pub calendar_missing_years: Vec<i32>,
}

/// A count in one region.
#[derive(Debug, Object)]
pub struct RegionCount {
    pub region_code: String,
    pub count: i64,
}

/// What waits in one subdivision. `applications` counts those filed in the
/// period; the other figures are the state now.
#[derive(Debug, Object)]
pub struct SubdivisionFigures {
    pub region_code: String,
    pub name: String,
    pub applications: i64,
    /// Submitted or under review now.
    pub applications_waiting: i64,
    pub wage_reports_open: i64,
    /// Open reports past the deadline that applies now.
    pub wage_reports_overdue: i64,
    /// Cases with an end in the subdivision; one between two subdivisions
    /// counts in both.
    pub transfers_in_progress: i64,
    pub transfers_overdue: i64,
}

/// Applications filed in one month of the period, by status.
#[derive(Debug, Object)]
pub struct MonthCount {
    /// `2026-03`.
    pub month: String,
    pub by_status: Vec<StatusCount>,
}

/// A region split by its subdivisions, and its applications by month.
#[derive(Debug, Object)]
pub struct RegionBreakdown {
    pub region_code: RegionCode,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Every month the period touches, in order.
    pub months: Vec<MonthCount>,
    /// The region's direct subdivisions in code order (a province's cities, a
    /// city's counties), each present even with nothing to count; cases of
    /// the region itself, not of one below it, under its own code.
    pub subdivisions: Vec<SubdivisionFigures>,
}

impl From<stats::Breakdown> for RegionBreakdown {
    fn from(breakdown: stats::Breakdown) -> Self {
        let counts = |pairs: Vec<(String, i64)>| {
            pairs
                .into_iter()
                .map(|(status, count)| StatusCount { status, count })
                .collect()
        };
        RegionBreakdown {
            region_code: breakdown.region_code,
            from: breakdown.from,
            to: breakdown.to,
            months: breakdown
                .months
                .into_iter()
                .map(|month| MonthCount {
                    month: month.month,
                    by_status: counts(month.by_status),
                })
                .collect(),
            subdivisions: breakdown
                .subdivisions
                .into_iter()
                .map(|row| SubdivisionFigures {
                    region_code: row.region_code,
                    name: row.name,
                    applications: row.applications,
                    applications_waiting: row.applications_waiting,
                    wage_reports_open: row.wage_reports_open,
                    wage_reports_overdue: row.wage_reports_overdue,
                    transfers_in_progress: row.transfers_in_progress,
                    transfers_overdue: row.transfers_overdue,
                })
                .collect(),
        }
    }
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
            filed_at_window: figures
                .filed_at_window
                .into_iter()
                .map(|(region_code, count)| RegionCount { region_code, count })
                .collect(),
            calendar_missing_years: figures.calendar_missing_years,
        }
    }
}

/// How many ratings gave one score.
#[derive(Debug, Object)]
pub struct ScoreCount {
    /// 1 to 5 stars.
    pub score: i32,
    pub count: i64,
}

/// The ratings first given in the period (好差评).
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RatingStats {
    pub count: i64,
    /// The average score to two decimals; absent without ratings.
    pub average: Option<f64>,
    /// Every score from 1 to 5, in order, each present.
    pub by_score: Vec<ScoreCount>,
}

/// The follow-ups (回访) of ratings of 1 or 2 opened in the period.
#[derive(Debug, Object)]
pub struct FollowUpStats {
    pub opened: i64,
    /// Closed before a working day began after the 3-working-day deadline.
    pub closed_on_time: i64,
    pub closed_late: i64,
    /// Still open, and past the deadline now.
    pub overdue: i64,
}

/// The complaints and suggestions (投诉建议) filed in the period.
#[derive(Debug, Object)]
pub struct ComplaintStats {
    pub complaints: i64,
    pub suggestions: i64,
    /// Answered before a working day began after the deadline.
    pub answered_on_time: i64,
    pub answered_late: i64,
    /// Still unanswered, and past the deadline now.
    pub overdue: i64,
}

/// The satisfaction figures of one place.
#[derive(Debug, Object)]
pub struct SatisfactionFigures {
    pub region_code: String,
    pub name: String,
    pub ratings: RatingStats,
    pub follow_ups: FollowUpStats,
    pub complaints: ComplaintStats,
}

impl From<stats::SatisfactionFigures> for SatisfactionFigures {
    fn from(figures: stats::SatisfactionFigures) -> Self {
        let ratings = figures.ratings;
        let (f, c) = (figures.follow_ups, figures.complaints);
        SatisfactionFigures {
            region_code: figures.region_code,
            name: figures.name,
            ratings: RatingStats {
                count: ratings.count(),
                average: ratings.average(),
                by_score: (1..)
                    .zip(ratings.by_score)
                    .map(|(score, count)| ScoreCount { score, count })
                    .collect(),
            },
            follow_ups: FollowUpStats {
                opened: f.opened,
                closed_on_time: f.closed_on_time,
                closed_late: f.closed_late,
                overdue: f.overdue,
            },
            complaints: ComplaintStats {
                complaints: c.complaints,
                suggestions: c.suggestions,
                answered_on_time: c.answered_on_time,
                answered_late: c.answered_late,
                overdue: c.overdue,
            },
        }
    }
}

/// Ratings, follow-ups and complaints of a region and period, and of each
/// of its direct subdivisions.
#[derive(Debug, Object)]
pub struct Satisfaction {
    pub region_code: RegionCode,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The whole region.
    pub total: SatisfactionFigures,
    /// The region's direct subdivisions in code order, each present even with
    /// nothing to count; what was given or filed at the region itself, not
    /// below it, first under its own code.
    pub subdivisions: Vec<SatisfactionFigures>,
}

impl From<stats::Satisfaction> for Satisfaction {
    fn from(figures: stats::Satisfaction) -> Self {
        Satisfaction {
            region_code: figures.region_code,
            from: figures.from,
            to: figures.to,
            total: figures.total.into(),
            subdivisions: figures.subdivisions.into_iter().map(Into::into).collect(),
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

    /// A region by subdivision and by month
    ///
    /// The 工作台's drill-down: for each direct subdivision of the region (a
    /// province's cities, a city's counties) the applications filed in the
    /// period and those waiting for a decision now, the wage reports open now
    /// and overdue, the transfers in progress and overdue; and the region's
    /// applications by month and status. Inside the caller's region (by
    /// default all of it), for the roles that read the overview (403
    /// `ROLE_REQUIRED` otherwise; 403 `OUT_OF_REGION_SCOPE` for a region
    /// outside one's own). A period of more than 24 months is 400.
    #[oai(path = "/staff/stats/breakdown", method = "get", operation_id = "statsBreakdown")]
    async fn breakdown(
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
    ) -> ApiResult<Json<RegionBreakdown>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let figures = stats::breakdown(&state, &auth.0, region_code.0, from.0, to.0).await?;
        Ok(Json(figures.into()))
    }

    /// Ratings, follow-ups and complaints of a region
    ///
    /// 好差评 in figures: the ratings first given in the period (count,
    /// average, each score), the follow-ups of ratings of 1 or 2 opened in it
    /// (closed on time, late, overdue now) and the complaints and
    /// suggestions filed in it (answered on time, late, overdue now), for the
    /// region and each of its direct subdivisions, by the office that worked
    /// the case or was addressed. Inside the caller's region (by default all
    /// of it), for the roles that read the overview (403 `ROLE_REQUIRED`
    /// otherwise; 403 `OUT_OF_REGION_SCOPE` for a region outside one's own).
    #[oai(
        path = "/staff/stats/satisfaction",
        method = "get",
        operation_id = "statsSatisfaction"
    )]
    async fn satisfaction(
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
    ) -> ApiResult<Json<Satisfaction>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let figures = stats::satisfaction(&state, &auth.0, region_code.0, from.0, to.0).await?;
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
