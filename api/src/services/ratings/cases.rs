//! A worker's own case of any kind, as ratings and complaints name it: its
//! number, the region it is worked in and whether it is closed, each read
//! through the lifecycle's own `read` and decided by its own `status`.

use crate::{
    auth::Principal,
    domain::{CaseType, RegionCode},
    error::{AppError, AppResult, ErrorCode},
    services::{applications, calendar, transfers, wage_reports},
    state::AppState,
};

/// A case of the worker's, of any kind.
#[derive(Debug, Clone)]
pub struct WorkerCase {
    pub kind: CaseType,
    pub id: String,
    /// SB-…, QX-… or ZJ-….
    pub number: String,
    /// The office that works it: an application's and a wage report's
    /// region, a transfer's receiving region (where it is taken up).
    pub region: RegionCode,
    /// Finished: it may be rated.
    pub closed: bool,
}

/// The worker's case `id` of `kind`; another worker's, or none, is 404.
pub async fn of_worker(state: &AppState, worker: &Principal, kind: CaseType, id: &str) -> AppResult<WorkerCase> {
    let db = &state.db;
    match kind {
        CaseType::Application => {
            let case = applications::read::own_case(db, &worker.subject, id).await?;
            Ok(WorkerCase {
                kind,
                id: case.id,
                number: case.application_no,
                region: case.region,
                closed: case.status.is_closed(),
            })
        }
        CaseType::WageReport => {
            let calendars = calendar::load(db).await?;
            let report = wage_reports::read::load(db, &calendars, id).await?;
            if report.worker_id != worker.subject {
                return Err(AppError::new(ErrorCode::NotFound));
            }
            Ok(WorkerCase {
                kind,
                id: report.id,
                number: report.report_no,
                region: report.region,
                closed: report.status.is_closed(),
            })
        }
        CaseType::Transfer => {
            let transfer = transfers::get_for_worker(state, worker, id).await?;
            Ok(WorkerCase {
                kind,
                id: transfer.id,
                number: transfer.transfer_no,
                region: transfer.to_region_code,
                closed: transfer.status.is_closed(),
            })
        }
    }
}
