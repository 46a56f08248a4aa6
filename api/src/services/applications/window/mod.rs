//! Filing at a service window (窗口代办): a staff member with the
//! `service_window` role files an application for a worker present in
//! person, recording how identity was checked and how the worker consented
//! (a signed form's scan, or a code read out from their own account). The
//! same admission rules as a worker's own submission apply
//! (`admission`), with what the window recorded in place of a profile.
//!
//! The case has no worker until the person's account joins it, on the
//! evidence rules of agency cases (`services::evidence`): the claim code
//! printed on the window's receipt, the phone the window recorded equal to
//! the one WeChat verified, or a proven ID number (`link`). A holder who has
//! already proven the number gets the case at once.

mod consent;
mod link;
mod person;

use chrono::{DateTime, Utc};
use entity::{application, upload, window_filing, worker};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, QueryTrait,
};
use serde_json::{Map, Value};

pub use self::{
    consent::{Consent, Sent, send_code},
    link::{claim, link, link_at_sign_in},
    person::{Person, applicant, facts, forget},
};
use super::{
    Created, Draft, Step, admission, insert_draft,
    status::{Action, ApplicationStatus},
    submission, take,
};
use crate::{
    access,
    auth::Principal,
    context::RequestContext,
    error::{AppError, AppResult, ErrorCode, Localized},
    infra::crypto::{Field, Purpose},
    services::{
        case_log::By,
        evidence,
        programs::Program,
        uploads::{self, CaseFile, Uploader},
    },
    state::AppState,
};

crate::text_enum! {
    /// How the staff member checked that the person present is the one
    /// the ID number belongs to.
    IdentityCheckMethod {
        /// The ID card read by a card reader (二代证读卡器).
        IdCardReader => "id_card_reader",
        /// The ID card looked at, its photo compared with the person.
        IdCardVisual => "id_card_visual",
        /// A face check against the ID card's photo (人证比对).
        FaceCheck => "face_check",
    }
}

/// What a staff member files at the window.
#[derive(Debug, Clone)]
pub struct WindowFiling {
    pub window_name: String,
    pub person: Person,
    pub identity_check: IdentityCheckMethod,
    pub consent: Consent,
    pub program_id: String,
    pub answers: Map<String, Value>,
    /// The staff member's scans (`POST /staff/window/uploads`).
    pub attachment_ids: Vec<String>,
}

/// The receipt: the case, and the claim code that joins it to the
/// person's account (shown once), unless it joined at once.
#[derive(Debug, Clone)]
pub struct Filed {
    pub created: Created,
    pub claim_code: Option<String>,
    pub claim_expires_at: Option<DateTime<Utc>>,
    /// Joined at once: the holder of the number had proven it.
    pub linked: bool,
}

/// How a case was filed, as a reviewer sees it.
#[derive(Debug, Clone)]
pub struct Filing {
    pub window_name: String,
    pub identity_check: IdentityCheckMethod,
    /// `signed_form` or `phone_code`.
    pub consent_kind: String,
    /// The scan of the signed form, among the case's documents.
    pub consent_upload_id: Option<String>,
    pub filed_at: DateTime<Utc>,
    /// When the person's account joined the case, and on what evidence.
    pub linked_at: Option<DateTime<Utc>>,
    pub link_evidence: Option<String>,
}

/// How the case `application_id` was filed, if at a window.
pub async fn filing(db: &impl ConnectionTrait, application_id: &str) -> AppResult<Option<Filing>> {
    Ok(window_filing::Entity::find_by_id(application_id.to_owned())
        .one(db)
        .await?
        .map(|row| Filing {
            window_name: row.window_name,
            identity_check: IdentityCheckMethod::parse(&row.identity_check)
                .unwrap_or(IdentityCheckMethod::IdCardVisual),
            consent_kind: row.consent_kind,
            consent_upload_id: row.consent_upload_id,
            filed_at: row.created_at,
            linked_at: row.linked_at,
            link_evidence: row.link_evidence,
        }))
}

/// The signed form must be the staff member's own scan, on no case yet.
async fn check_signed_form(db: &impl ConnectionTrait, staff: &Principal, upload_id: &str) -> AppResult<()> {
    let usable = upload::Entity::find_by_id(upload_id.to_owned())
        .one(db)
        .await?
        .is_some_and(|row| {
            row.staff_id.as_deref() == Some(staff.subject.as_str())
                && row.application_id.is_none()
                && row.wage_report_id.is_none()
        });
    if usable {
        Ok(())
    } else {
        Err(AppError::invalid_field(
            "consent.signed_form_upload_id",
            Localized::fixed(
                "找不到这份签字同意书的扫描件（要由您本人在窗口上传，且没有用在别的申请上），请重新上传。",
                "The signed form must be an upload of yours, on no other case.",
            ),
        ))
    }
}

/// 409 `DUPLICATE_APPLICATION` when the person already has a live
/// application to the program for its period: their own (an account that
/// holds the number) or one a window filed.
async fn refuse_duplicate(db: &impl ConnectionTrait, program: &Program, id_hashes: &[String]) -> AppResult<()> {
    let holders = worker::Entity::find()
        .select_only()
        .column(worker::Column::Id)
        .filter(worker::Column::IdNumberHash.is_in(id_hashes.to_vec()));
    let filed = window_filing::Entity::find()
        .select_only()
        .column(window_filing::Column::ApplicationId)
        .filter(window_filing::Column::IdNumberHash.is_in(id_hashes.to_vec()));
    let live = application::Entity::find()
        .filter(application::Column::ProgramId.eq(&program.id))
        .filter(application::Column::Period.eq(&program.terms.period))
        .filter(application::Column::Status.is_not_in([
            ApplicationStatus::Withdrawn.as_str(),
            ApplicationStatus::Rejected.as_str(),
        ]))
        .filter(
            Condition::any()
                .add(application::Column::WorkerId.in_subquery(holders.into_query()))
                .add(application::Column::Id.in_subquery(filed.into_query())),
        )
        .count(db)
        .await?;
    if live > 0 {
        return Err(
            AppError::new(ErrorCode::DuplicateApplication).with_message(Localized::fixed(
                "这位申请人已经申请过这项补贴了（在小程序里或在窗口），请查询原申请的进度。",
                "This person already has an application to this program for this period.",
            )),
        );
    }
    Ok(())
}

/// For a worker's own application: 409 `DUPLICATE_APPLICATION` when a
/// window filed one for their number to the same program and period that
/// still waits for their account to join it.
pub async fn refuse_waiting_filing(
    db: &impl ConnectionTrait,
    program: &Program,
    id_hashes: &[String],
) -> AppResult<()> {
    if id_hashes.is_empty() {
        return Ok(());
    }
    let filed = window_filing::Entity::find()
        .select_only()
        .column(window_filing::Column::ApplicationId)
        .filter(window_filing::Column::IdNumberHash.is_in(id_hashes.to_vec()))
        .filter(window_filing::Column::LinkedAt.is_null());
    let waiting = application::Entity::find()
        .filter(application::Column::Id.in_subquery(filed.into_query()))
        .filter(application::Column::ProgramId.eq(&program.id))
        .filter(application::Column::Period.eq(&program.terms.period))
        .filter(application::Column::Status.is_not_in([
            ApplicationStatus::Withdrawn.as_str(),
            ApplicationStatus::Rejected.as_str(),
        ]))
        .count(db)
        .await?;
    if waiting > 0 {
        return Err(
            AppError::new(ErrorCode::DuplicateApplication).with_message(Localized::fixed(
                "服务窗口已经为您代办了这项补贴的申请。请用窗口回执上的认领码，或绑定手机号后在“我的申请”里找回它。",
                "A service window already filed this application for you; claim it with the receipt's code.",
            )),
        );
    }
    Ok(())
}

/// The row that records how the case was filed, with the person.
fn filing_row(
    state: &AppState,
    staff: &Principal,
    case_id: &str,
    filed: &WindowFiling,
    claim_code: &str,
) -> window_filing::ActiveModel {
    let now = Utc::now();
    let person = &filed.person;
    let protector = &state.protector;
    window_filing::ActiveModel {
        application_id: Set(case_id.to_owned()),
        staff_id: Set(staff.subject.clone()),
        window_name: Set(filed.window_name.clone()),
        region_code: Set(staff.region.map(|r| r.as_str().to_owned()).unwrap_or_default()),
        identity_check: Set(filed.identity_check.as_str().to_owned()),
        consent_kind: Set(filed.consent.kind().to_owned()),
        consent_upload_id: Set(match &filed.consent {
            Consent::SignedForm { upload_id } => Some(upload_id.clone()),
            Consent::PhoneCode { .. } => None,
        }),
        applicant_name: Set(Some(person.name.clone())),
        id_number_cipher: Set(Some(protector.encrypt(
            Field::WindowIdNumber,
            case_id,
            person.id_number.as_str(),
        ))),
        id_number_hash: Set(protector.lookup_hash(Purpose::IdNumber, person.id_number.as_str())),
        phone_cipher: Set(Some(protector.encrypt(
            Field::WindowPhone,
            case_id,
            person.phone.as_str(),
        ))),
        phone_hash: Set(Some(protector.lookup_hash(Purpose::Phone, person.phone.as_str()))),
        hukou_type: Set(person.hukou_type.map(|h| h.as_str().to_owned())),
        residence_region_code: Set(person.residence.map(|r| r.as_str().to_owned())),
        work_region_code: Set(person.work.map(|r| r.as_str().to_owned())),
        claim_code_hash: Set(evidence::claim_code_hash(protector, claim_code)),
        claim_expires_at: Set(Some(now + evidence::CLAIM_CODE_LIFETIME)),
        linked_at: Set(None),
        link_evidence: Set(None),
        created_at: Set(now),
    }
}

/// Creates the case, checked as a worker's own submission, attaches the
/// scans, and records how it was filed; returns the case and the claim code.
async fn record(
    state: &AppState,
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    staff: &Principal,
    program: &Program,
    filed: &WindowFiling,
) -> AppResult<(super::Case, String)> {
    let facts = filed.person.facts();
    let routed = admission::routing_region(state, program, &facts);
    let region = access::window_filing_region(&state.regions, staff, program.terms.region_code, routed)?;
    let draft = Draft {
        by: By::Staff(staff),
        worker_id: None,
        program,
        region,
        answers: &filed.answers,
        certificate_id: None,
        action: "window_filed",
        comment: Some(&filed.window_name),
    };
    let case = insert_draft(transaction, request, draft).await?;
    let mut scans = filed.attachment_ids.clone();
    if let Consent::SignedForm { upload_id } = &filed.consent
        && !scans.contains(upload_id)
    {
        scans.push(upload_id.clone());
    }
    let owner = Uploader::Staff(&staff.subject);
    let attached = uploads::attach(transaction, owner, CaseFile::Application(&case.id), &scans).await?;
    let amount = admission::admissible(state, program, &facts, &filed.answers, &attached)?;
    let step = Step {
        by: By::Staff(staff),
        action: Action::Submit,
        expected_version: None,
        comment: None,
        amount_fen: None,
    };
    take(transaction, request, &case, step, submission(amount)).await?;
    let claim_code = evidence::new_claim_code();
    filing_row(state, staff, &case.id, filed, &claim_code)
        .insert(transaction)
        .await?;
    Ok((case, claim_code))
}

/// Files an application at the window for the person present. Refused: a
/// staff member without the role (403), a program outside the window's
/// region (403), a signed form that is not the staff member's scan, a wrong
/// code (400), a person who already applied (409), and whatever a worker's
/// own submission is refused for.
pub async fn file(
    state: &AppState,
    request: &RequestContext,
    staff: &Principal,
    filed: WindowFiling,
) -> AppResult<Filed> {
    access::require_window_clerk(staff)?;
    let program = admission::program_to_apply_for(state, &filed.program_id, &filed.answers).await?;
    access::window_filing_region(
        &state.regions,
        staff,
        program.terms.region_code,
        admission::routing_region(state, &program, &filed.person.facts()),
    )?;
    if let Consent::SignedForm { upload_id } = &filed.consent {
        check_signed_form(&state.db, staff, upload_id).await?;
    }
    let id_hashes = state
        .protector
        .lookup_hashes(Purpose::IdNumber, filed.person.id_number.as_str());
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    refuse_duplicate(&transaction, &program, &id_hashes).await?;
    let (case, claim_code) = record(state, &transaction, request, staff, &program, &filed).await?;
    // The code is spent last: a filing refused for anything else keeps it.
    if let Consent::PhoneCode { code } = &filed.consent
        && let Err(error) = consent::use_code(state, staff, &filed.person.phone, code).await
    {
        drop(transaction);
        return Err(consent::refused(state, request, staff, error).await);
    }
    let linked = link::join_proven_holder(&transaction, request, staff, &case.id, &id_hashes).await?;
    transaction.commit().await?;
    Ok(Filed {
        created: Created {
            id: case.id,
            application_no: case.application_no,
            status: ApplicationStatus::Submitted,
        },
        claim_expires_at: (!linked).then(|| Utc::now() + evidence::CLAIM_CODE_LIFETIME),
        claim_code: (!linked).then_some(claim_code),
        linked,
    })
}

/// Stores a document the staff member scanned at the window, theirs until
/// a filing takes it.
pub async fn store_scan(
    state: &AppState,
    staff: &Principal,
    purpose: &str,
    bytes: Vec<u8>,
) -> AppResult<uploads::Stored> {
    access::require_window_clerk(staff)?;
    uploads::store(state, Uploader::Staff(&staff.subject), purpose, bytes).await
}

/// What consent the staff member gave: exactly one of a signed form's scan
/// and a code; neither (or both) is 400 `WINDOW_CONSENT_MISSING`.
pub fn consent_from(signed_form_upload_id: Option<String>, code: Option<String>) -> AppResult<Consent> {
    match (signed_form_upload_id, code) {
        (Some(upload_id), None) => Ok(Consent::SignedForm { upload_id }),
        (None, Some(code)) => Ok(Consent::PhoneCode { code }),
        _ => Err(AppError::new(ErrorCode::WindowConsentMissing)),
    }
}
