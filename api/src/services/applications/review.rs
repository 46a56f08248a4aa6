//! What staff read of applications: the review queue, a case with its
//! applicant masked and its criteria checked, the applicant in clear.

use chrono::Utc;
use sea_orm::ConnectionTrait;
use serde_json::json;

use super::{
    ApplicantInClear, Application, Case, TimelineEntry, admission, not_found,
    read::{self, Applicant, Listing},
    status::ApplicationStatus,
    window,
};
use crate::{
    access,
    auth::Principal,
    context::RequestContext,
    domain::RegionCode,
    error::AppResult,
    services::{
        audit::{self, Event},
        certificates::{self, Certificate},
        keyset::{Cut, Window},
        programs::{self, rules},
        workers,
    },
    state::AppState,
};

/// Filters of the review queue.
#[derive(Debug, Default)]
pub struct QueueFilter {
    pub status: Option<ApplicationStatus>,
    pub program_id: Option<String>,
    pub region: Option<RegionCode>,
    /// Only cases waiting at least this many whole days since submission.
    pub min_age_days: Option<u32>,
}

/// Cases in the reviewer's region, oldest submission first.
pub async fn queue(
    state: &AppState,
    staff: &Principal,
    filter: QueueFilter,
    window: Window,
) -> AppResult<Cut<Application>> {
    access::require_case_worker(staff)?;
    let regions = access::staff_scope(&state.regions, staff, filter.region)?;
    let scope = (&filter, &regions);
    let scope = format!("{scope:?}");
    let listing = Listing {
        submitted_only: true,
        regions,
        status: filter.status,
        program_id: filter.program_id,
        submitted_before: filter
            .min_age_days
            .map(|days| Utc::now() - chrono::Duration::days(i64::from(days))),
        ..Default::default()
    };
    read::queue_page(&state.db, &state.protector, listing, &scope, window).await
}

/// A case a reviewer or finance works: in their region, past its draft.
/// Any other is "not found".
pub(super) async fn case_in_scope(
    db: &impl ConnectionTrait,
    state: &AppState,
    staff: &Principal,
    id: &str,
) -> AppResult<Case> {
    access::require_case_worker(staff)?;
    read::case(db, id)
        .await?
        .filter(|case| access::reaches_application(&state.regions, staff, case.region, !case.status.visible_to_staff()))
        .ok_or_else(not_found)
}

/// A case as staff read it.
#[derive(Debug)]
pub struct StaffCase {
    pub application: Application,
    /// Masked.
    pub applicant: Applicant,
    pub timeline: Vec<TimelineEntry>,
    /// The program's criteria checked now against the applicant's profile
    /// and answers, as a submission is checked.
    pub eligibility: Vec<rules::Check>,
    /// The electronic certificate the application carries, verified by the
    /// licence service (电子证照).
    pub certificate: Option<Certificate>,
    /// How the case was filed at a service window, when it was.
    pub window: Option<window::Filing>,
}

/// The applicant's name, ID number and phone: the worker's profile, or, for
/// a case a service window filed that no account has joined yet, the person
/// as the window recorded them.
pub(super) async fn applicant_of(state: &AppState, case: &Case) -> AppResult<ApplicantInClear> {
    match &case.worker_id {
        Some(worker_id) => read::applicant_in_clear(&state.db, &state.protector, worker_id).await,
        None => window::applicant(&state.db, &state.protector, &case.id).await,
    }
}

/// What the rules know of the applicant, without the certificate.
pub(super) async fn applicant_facts(state: &AppState, case: &Case) -> AppResult<rules::Facts<'static>> {
    match &case.worker_id {
        Some(worker_id) => workers::facts(state, worker_id).await,
        None => window::facts(&state.db, &state.protector, &case.id).await,
    }
}

/// A case for staff, the applicant masked. Reading a case never changes it:
/// a reviewer takes it up with `start_review`.
pub async fn get_for_staff(state: &AppState, staff: &Principal, id: &str) -> AppResult<StaffCase> {
    let case = case_in_scope(&state.db, state, staff, id).await?;
    let applicant = applicant_of(state, &case).await?;
    let program = programs::load(&state.db, &case.program_id).await?;
    let certificate = match &case.certificate_id {
        Some(certificate_id) => certificates::by_id(&state.db, certificate_id).await?,
        None => None,
    };
    let facts = rules::Facts {
        certificate: certificate.as_ref().and_then(Certificate::certified_level),
        ..applicant_facts(state, &case).await?
    };
    let eligibility = admission::criteria_checks(state, &program, &facts, &case.answers);
    Ok(StaffCase {
        application: read::application(&state.db, &case.id).await?,
        applicant: applicant.masked(),
        timeline: read::timeline(&state.db, &case.id).await?,
        eligibility,
        certificate,
        window: window::filing(&state.db, &case.id).await?,
    })
}

/// The case whose applicant a staff member may see in clear: a reviewer's,
/// in their region, past its draft. The one rule for revealing the applicant
/// and for fetching the documents they attached (the ID-card image).
pub async fn case_for_personal_data(state: &AppState, staff: &Principal, id: &str) -> AppResult<Case> {
    access::require_applicant_reader(staff)?;
    case_in_scope(&state.db, state, staff, id).await
}

/// The applicant's personal data in clear, for a reviewer who must check it;
/// every reveal is audited.
pub async fn reveal(
    state: &AppState,
    request: &RequestContext,
    staff: &Principal,
    id: &str,
    reason: &str,
) -> AppResult<ApplicantInClear> {
    let case = case_for_personal_data(state, staff, id).await?;
    let applicant = applicant_of(state, &case).await?;
    let details = json!({ "worker_id": case.worker_id, "filed_at_window": case.worker_id.is_none() });
    let reveal = Event::reveal(staff, ("application", &case.id), case.region, details, reason);
    audit::record(&state.db, Some(request), reveal).await?;
    Ok(applicant)
}
