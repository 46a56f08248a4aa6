//! What the application routes read and answer: bodies, views, and their
//! mapping from the service's types.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem_openapi::{ApiResponse, Enum, Object, payload::Json};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::http::params::{RecordId, Version};
use crate::{
    domain::{BoundedText, RegionCode, yuan_text},
    http::json_body::present,
    routes::{certificates::CertificateView, programs::EligibilityCheck},
    services::applications::{
        Application, Decision, NewApplication, Review, StaffCase, TimelineEntry,
        status::ApplicationStatus,
        window::{Filing, IdentityCheckMethod},
    },
};

#[derive(Debug, Object)]
pub struct AttachmentView {
    pub id: String,
    /// The document kind, e.g. `id_card`.
    pub purpose: String,
    pub content_type: String,
    pub size: i64,
}

/// An application.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ApplicationView {
    pub id: String,
    /// e.g. SB-450100-20261122-000123: quote it when calling the office.
    pub application_no: String,
    pub program_id: String,
    pub program_name: String,
    pub status: ApplicationStatus,
    /// Where the case is reviewed.
    pub region_code: RegionCode,
    pub answers: BTreeMap<String, Value>,
    pub attachments: Vec<AttachmentView>,
    /// The electronic certificate (电子证照) the application carries.
    pub certificate_id: Option<String>,
    /// For integrators; the worker reads `requested_amount_yuan`.
    pub requested_amount_fen: Option<i64>,
    pub approved_amount_fen: Option<i64>,
    pub disbursed_amount_fen: Option<i64>,
    /// The amount the rule gives the answers, in yuan (`2000.00`): what the worker asked.
    pub requested_amount_yuan: Option<String>,
    /// The amount approved, in yuan.
    pub approved_amount_yuan: Option<String>,
    /// The amount paid, in yuan.
    pub disbursed_amount_yuan: Option<String>,
    /// The account the payment went to, masked (`622202*********0128`).
    pub paid_to_account: Option<String>,
    pub paid_to_bank: Option<String>,
    /// Send it back as `expected_version` when changing the application.
    pub version: i32,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn application_view(application: Application) -> ApplicationView {
    ApplicationView {
        id: application.id,
        application_no: application.application_no,
        program_id: application.program_id,
        program_name: application.program_name,
        status: application.status,
        region_code: application.region_code,
        answers: application.answers.into_iter().collect(),
        attachments: application
            .attachments
            .into_iter()
            .map(|a| AttachmentView {
                id: a.id,
                purpose: a.purpose,
                content_type: a.content_type,
                size: a.size,
            })
            .collect(),
        certificate_id: application.certificate_id,
        requested_amount_fen: application.requested_amount_fen,
        approved_amount_fen: application.approved_amount_fen,
        disbursed_amount_fen: application.disbursed_amount_fen,
        requested_amount_yuan: application.requested_amount_fen.map(yuan_text),
        approved_amount_yuan: application.approved_amount_fen.map(yuan_text),
        disbursed_amount_yuan: application.disbursed_amount_fen.map(yuan_text),
        paid_to_account: application.paid_to.as_ref().map(|paid| paid.account_masked.clone()),
        paid_to_bank: application.paid_to.map(|paid| paid.bank_name),
        version: application.version,
        submitted_at: application.submitted_at,
        decided_at: application.decided_at,
        created_at: application.created_at,
        updated_at: application.updated_at,
    }
}

/// One step of the timeline. Staff appear as 工作人员, never by name.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TimelineView {
    pub at: DateTime<Utc>,
    pub action: String,
    /// What happened, in plain Chinese.
    pub description: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// 本人, 工作人员, 系统, or the relative who acted for the worker
    /// (亲情代办): `亲友代办（妻子 王*）`.
    pub by: String,
    pub comment: Option<String>,
}

pub(crate) fn timeline_view(entries: Vec<TimelineEntry>) -> Vec<TimelineView> {
    entries
        .into_iter()
        .map(|e| TimelineView {
            at: e.at,
            action: e.action,
            description: e.description,
            from_status: e.from_status,
            to_status: e.to_status,
            by: e.by,
            comment: e.comment,
        })
        .collect()
}

#[derive(Debug, Object)]
pub struct ApplicationDetail {
    #[oai(flatten)]
    pub application: ApplicationView,
    pub timeline: Vec<TimelineView>,
}

#[derive(Debug, Object, Deserialize, Serialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct ApplicationCreate {
    pub program_id: RecordId,
    /// Answers to the program's form, by field key.
    #[serde(default)]
    #[oai(default)]
    pub answers: BTreeMap<String, Value>,
    /// Uploads (`POST /api/v1/uploads`) to attach.
    #[serde(default)]
    #[oai(default, validator(max_items = 20))]
    pub attachment_ids: Vec<BoundedText<1, 36>>,
    /// An electronic certificate of yours (`POST /api/v1/me/certificates`):
    /// the rules read its level instead of `answers.certificate_level`,
    /// which may be left out; a typed level it contradicts is 400
    /// `CERTIFICATE_LEVEL_MISMATCH`.
    #[serde(default, deserialize_with = "present")]
    pub certificate_id: Option<RecordId>,
    /// Submit at once (checked in full) instead of saving a draft.
    #[serde(default)]
    #[oai(default)]
    pub submit: bool,
}

impl From<ApplicationCreate> for NewApplication {
    fn from(body: ApplicationCreate) -> Self {
        NewApplication {
            program_id: body.program_id.into_inner(),
            answers: answers(body.answers),
            attachment_ids: BoundedText::into_strings(body.attachment_ids),
            certificate_id: body.certificate_id.map(RecordId::into_inner),
            submit: body.submit,
        }
    }
}

#[derive(Debug, Object, Serialize, Deserialize)]
pub struct ApplicationCreated {
    pub id: String,
    pub application_no: String,
    pub status: ApplicationStatus,
}

#[derive(ApiResponse)]
pub enum CreatedResponse {
    /// Created; the same Idempotency-Key and body replay this answer.
    #[oai(status = 201)]
    Created(Json<ApplicationCreated>),
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct ApplicationUpdate {
    pub expected_version: Version,
    #[serde(default)]
    #[oai(default)]
    pub answers: BTreeMap<String, Value>,
    #[serde(default)]
    #[oai(default, validator(max_items = 20))]
    pub attachment_ids: Vec<BoundedText<1, 36>>,
    /// The electronic certificate the application carries; left out, it
    /// carries none.
    #[serde(default, deserialize_with = "present")]
    pub certificate_id: Option<RecordId>,
}

/// A case in the review queue.
#[derive(Debug, Object)]
pub struct QueueItem {
    #[oai(flatten)]
    pub application: ApplicationView,
    /// Whole days since it was submitted.
    pub age_days: i64,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ApplicantView {
    /// Masked, e.g. 张*.
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct StaffApplicationDetail {
    #[oai(flatten)]
    pub application: ApplicationView,
    pub applicant: ApplicantView,
    pub timeline: Vec<TimelineView>,
    /// The program's criteria checked now against the applicant's profile
    /// and answers, as a submission is checked: what the reviewer confirms.
    pub eligibility: Vec<EligibilityCheck>,
    /// The electronic certificate the application carries, as the licence
    /// service answered it (`verified_by: 电子证照`, and its issuer).
    pub certificate: Option<CertificateView>,
    /// How the case was filed at a service window, when it was.
    pub window_filing: Option<WindowFilingView>,
}

impl From<StaffCase> for StaffApplicationDetail {
    fn from(case: StaffCase) -> Self {
        StaffApplicationDetail {
            application: application_view(case.application),
            applicant: ApplicantView {
                name: case.applicant.name_masked,
                id_number: case.applicant.id_number_masked,
                phone: case.applicant.phone_masked,
            },
            timeline: timeline_view(case.timeline),
            eligibility: case.eligibility.into_iter().map(EligibilityCheck::from).collect(),
            certificate: case.certificate.map(Into::into),
            window_filing: case.window.map(Into::into),
        }
    }
}

/// How a case was filed at a service window (窗口代办).
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WindowFilingView {
    pub window_name: String,
    /// How the staff member checked the person's identity.
    pub identity_check: IdentityCheckMethod,
    /// `signed_form` (its scan is `consent_upload_id`, among the documents)
    /// or `phone_code` (read out from the worker's own account).
    pub consent: String,
    pub consent_upload_id: Option<String>,
    pub filed_at: DateTime<Utc>,
    /// When the worker's account joined the case; until then the applicant
    /// is the person the window recorded.
    pub linked_at: Option<DateTime<Utc>>,
    /// `claim_code`, `phone` or `verified_identity`.
    pub link_evidence: Option<String>,
}

impl From<Filing> for WindowFilingView {
    fn from(filing: Filing) -> Self {
        WindowFilingView {
            window_name: filing.window_name,
            identity_check: filing.identity_check,
            consent: filing.consent_kind,
            consent_upload_id: filing.consent_upload_id,
            filed_at: filing.filed_at,
            linked_at: filing.linked_at,
            link_evidence: filing.link_evidence,
        }
    }
}

/// The applicant's personal data in clear. Each reveal is audited.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Revealed {
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Copy, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DecisionName {
    Approve,
    Reject,
    Return,
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct ReviewBody {
    pub decision: DecisionName,
    /// Required to reject or return: the worker reads it.
    #[serde(default, deserialize_with = "present")]
    pub comment: Option<BoundedText<1, 1000>>,
    /// The version the reviewer saw; a stale one gets 409.
    pub expected_version: Version,
    /// Defaults to the amount the program's rule gives; never more.
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(minimum(value = "1"), maximum(value = "100000000000")))]
    pub approved_amount_fen: Option<i64>,
}

impl From<ReviewBody> for Review {
    fn from(body: ReviewBody) -> Self {
        Review {
            decision: match body.decision {
                DecisionName::Approve => Decision::Approve,
                DecisionName::Reject => Decision::Reject,
                DecisionName::Return => Decision::Return,
            },
            comment: body.comment.map(BoundedText::into_inner),
            expected_version: body.expected_version.get(),
            approved_amount_fen: body.approved_amount_fen,
        }
    }
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct StartReviewBody {
    /// The version the reviewer saw; a stale one gets 409.
    pub expected_version: Version,
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct DisburseBody {
    /// The approved amount.
    #[oai(validator(minimum(value = "1"), maximum(value = "100000000000")))]
    pub amount_fen: i64,
    /// The payment's reference in the finance system.
    pub reference: BoundedText<1, 64>,
    pub expected_version: Version,
}

pub(super) fn queue_item(application: Application, now: DateTime<Utc>) -> QueueItem {
    QueueItem {
        age_days: application.submitted_at.map_or(0, |at| (now - at).num_days()),
        application: application_view(application),
    }
}

pub(super) fn answers(map: BTreeMap<String, Value>) -> Map<String, Value> {
    map.into_iter().collect()
}
