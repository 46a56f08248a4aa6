//! Social-insurance transfers (社保关系转移接续): opened by a worker or by an
//! agency, moved step by step by the agencies' systems, each step due within
//! its legal limit in working days, every change in the agencies' feed.
//!
//! Each command loads the case (`read`), checks who may act (`access`),
//! asks the rule (`status`) and records the change (`case_log`).

pub mod claims;
mod identity;
mod notice;
mod open;
pub mod process;
mod read;
pub mod status;
mod steps;

pub use self::{
    identity::{AgencyTransfer, Attested, Person, StaffTransfer, Verification, get_for_agency, get_for_staff},
    notice::events,
    open::{AgencyOpened, AgencyOpening, Created, Opening, open_for_agency, open_for_worker},
    read::{Change, Step, TimelineEntry, Transfer, in_progress_by_ends, overdue_cases},
    steps::{StepReport, answer_materials, record_step, record_step_as_staff},
};
use self::{
    read::{Case, StaffQuery},
    status::TransferStatus,
};
use crate::{
    access,
    auth::{Principal, Scope},
    domain::RegionCode,
    error::{AppError, AppResult, ErrorCode},
    services::{
        case_log::{CaseKind, CaseRef},
        keyset::{Cut, Window},
    },
    state::AppState,
};

/// The case if the integrator (or staff member) reaches it; one outside
/// its region is not found, like one that does not exist.
fn reached(state: &AppState, client: &Principal, case: Option<Case>) -> AppResult<Case> {
    case.filter(|case| {
        let transfer = &case.transfer;
        access::client_reaches(
            &state.regions,
            client,
            transfer.from_region_code,
            transfer.to_region_code,
        )
    })
    .ok_or_else(|| AppError::new(ErrorCode::NotFound))
}

/// The case if the staff member follows transfers and reaches it; one
/// outside their region is not found.
fn reached_by_staff(state: &AppState, staff: &Principal, case: Option<Case>) -> AppResult<Case> {
    access::require_transfer_follower(staff)?;
    reached(state, staff, case)
}

fn known_region(state: &AppState, field: &str, code: RegionCode) -> AppResult<()> {
    state
        .regions
        .require(code)
        .map(|_| ())
        .map_err(|_| AppError::invalid_field(field, ErrorCode::RegionNotFound.default_message()))
}

/// Which cases a staff list shows.
pub struct StaffFilter {
    /// Inside the staff member's region; by default all of it.
    pub region: Option<RegionCode>,
    pub status: Option<TransferStatus>,
    /// Only cases with a step past its due day.
    pub overdue_only: bool,
}

fn vanished() -> AppError {
    AppError::internal(anyhow::anyhow!("a transfer vanished inside its transaction"))
}

/// The worker's cases: those they opened and those they linked.
/// One page of the worker's cases, newest first, with how many they have.
pub async fn list_for_worker(
    state: &AppState,
    worker: &Principal,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Transfer>, u64)> {
    read::worker_page(&state.db, &worker.subject, page, page_size).await
}

pub async fn get_for_worker(state: &AppState, worker: &Principal, id: &str) -> AppResult<Transfer> {
    read::of_worker(&state.db, &worker.subject, id)
        .await?
        .map(|case| case.transfer)
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))
}

fn case_ref(case: &Case) -> CaseRef<'_> {
    CaseRef {
        kind: CaseKind::Transfer,
        id: &case.transfer.id,
        number: &case.transfer.transfer_no,
        worker_id: case.worker_id.as_deref(),
        region: Some(case.transfer.to_region_code),
    }
}

/// The feed of the cases the client reaches after `cursor`, in order; the
/// last `seq` is the next cursor (the sequence is shared by every region, so
/// a client sees gaps where other regions' entries are).
pub async fn changes(state: &AppState, client: &Principal, cursor: i64, limit: u64) -> AppResult<Vec<Change>> {
    access::require_scope(client, Scope::SiTransferRead)?;
    let codes = access::staff_scope(&state.regions, client, None)?;
    read::changes(&state.db, codes, cursor, limit).await
}

/// Cases whose old or new place is in `region` (by default the staff
/// member's whole region), which must lie inside the staff member's scope;
/// one page, oldest first, with how many match.
pub async fn list_for_staff(
    state: &AppState,
    staff: &Principal,
    filter: StaffFilter,
    window: Window,
) -> AppResult<Cut<Transfer>> {
    access::require_transfer_follower(staff)?;
    let query = StaffQuery {
        codes: access::staff_scope(&state.regions, staff, filter.region)?,
        status: filter.status,
        overdue_only: filter.overdue_only,
    };
    read::staff_page(&state.db, &state.protector, query, window).await
}
