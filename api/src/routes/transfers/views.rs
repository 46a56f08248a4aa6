//! What the transfer operations take and answer.

use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::{ApiResponse, Object, payload::Json, types::Example};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{BoundedText, IdNumber, PhoneNumber, RegionCode, TextType},
    http::json_body::present,
    services::transfers::{
        StepReport, Transfer,
        process::{InsuranceType, Office},
        status::StepOutcome,
    },
};

/// One legal step of a transfer.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct StepView {
    /// e.g. `contact_letter_issued`.
    pub step: String,
    /// What happens, in plain Chinese.
    pub label: String,
    /// Which office acts: `from` (old place) or `to` (new place).
    pub office: Office,
    pub office_region_code: RegionCode,
    /// `pending`, `done`, `materials_needed` (the office waits for the
    /// person; the clock is stopped), `refused` or `cancelled`.
    pub status: String,
    /// The legal limit in working days from the previous step.
    pub limit_days: Option<i32>,
    /// The last day of the limit, once the previous step is done.
    pub due_on: Option<NaiveDate>,
    /// Past its due day by at least one working day.
    pub overdue: bool,
    pub occurred_at: Option<DateTime<Utc>>,
    /// The office's note; for `materials_needed`, `refused` and `cancelled`,
    /// the materials needed or the reason.
    pub note: Option<String>,
    /// The person's answer to the last request for materials.
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// A transfer case with its steps.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TransferView {
    pub id: String,
    /// e.g. ZJ-320115-20261122-000001.
    pub transfer_no: String,
    pub insurance_type: InsuranceType,
    pub from_region_code: RegionCode,
    pub to_region_code: RegionCode,
    /// `worker` or `agency`: who opened it.
    pub source: String,
    /// `in_progress`, `completed`, `refused` or `cancelled`.
    pub status: String,
    pub overdue: bool,
    /// The office holding the case now.
    pub responsible_office: Option<Office>,
    pub responsible_region_code: Option<RegionCode>,
    pub steps: Vec<StepView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(super) fn transfer_view(transfer: Transfer) -> TransferView {
    TransferView {
        responsible_office: transfer.responsible.map(|(office, _)| office),
        responsible_region_code: transfer.responsible.map(|(_, region)| region),
        steps: transfer
            .steps
            .into_iter()
            .map(|s| StepView {
                step: s.step,
                label: s.label.to_owned(),
                office: s.office,
                office_region_code: s.office_region,
                status: s.status.as_str().to_owned(),
                limit_days: s.limit_days,
                due_on: s.due_on,
                overdue: s.overdue,
                occurred_at: s.occurred_at,
                note: s.note,
                answer: s.answer,
                answered_at: s.answered_at,
            })
            .collect(),
        id: transfer.id,
        transfer_no: transfer.transfer_no,
        insurance_type: transfer.insurance_type,
        from_region_code: transfer.from_region_code,
        to_region_code: transfer.to_region_code,
        source: transfer.source,
        status: transfer.status.as_str().to_owned(),
        overdue: transfer.overdue,
        created_at: transfer.created_at,
        updated_at: transfer.updated_at,
    }
}

#[derive(Debug, Object, Deserialize, Serialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct TransferRequest {
    pub insurance_type: InsuranceType,
    /// Where the insurance was paid until now.
    pub from_region_code: RegionCode,
    /// Where it continues.
    pub to_region_code: RegionCode,
}

#[derive(Debug, Object)]
pub struct TransferCreated {
    pub id: String,
    pub transfer_no: String,
    pub status: String,
}

#[derive(ApiResponse)]
pub enum TransferOpened {
    /// Opened; the same Idempotency-Key and body replay this answer.
    #[oai(status = 201)]
    Created(Json<TransferCreated>),
}

#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct AgencyTransferRequest {
    /// The insured person's ID number. It does not link the case to an
    /// account by itself: see `claim_code` and `phone`.
    pub id_number: IdNumber,
    pub insurance_type: InsuranceType,
    pub from_region_code: RegionCode,
    pub to_region_code: RegionCode,
    /// The person's mobile number as the agency knows it (stored encrypted).
    /// A worker whose phone, verified by WeChat, is this one links the case
    /// without a code.
    #[serde(default, deserialize_with = "present")]
    pub phone: Option<PhoneNumber>,
}

impl Example for AgencyTransferRequest {
    fn example() -> Self {
        AgencyTransferRequest {
            id_number: IdNumber::parse("450103199002022342").expect("a valid example"),
            insurance_type: InsuranceType::Medical,
            from_region_code: RegionCode::parse("450103").expect("a valid example"),
            to_region_code: RegionCode::parse("320115").expect("a valid example"),
            phone: PhoneNumber::parse("13812345678").ok(),
        }
    }
}

/// A case the agency opened, with the code to hand the person.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AgencyTransferView {
    #[oai(flatten)]
    pub transfer: TransferView,
    /// One-time code for the person to claim the case in the mini-program
    /// (e.g. printed on the receipt). Shown this once; works once, until
    /// `claim_expires_at`. Absent when the case already joined the account
    /// of a worker who had proven this ID number.
    pub claim_code: Option<String>,
    pub claim_expires_at: Option<DateTime<Utc>>,
}

#[derive(ApiResponse)]
pub enum AgencyTransferOpened {
    /// Opened.
    #[oai(status = 201)]
    Created(Json<AgencyTransferView>),
}

/// The claim code an agency handed the worker.
#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct ClaimRequest {
    /// As printed, e.g. `K7M2-Q9XP-4HTD`; spaces, dashes and small letters are fine.
    pub code: BoundedText<1, 32>,
}

impl Example for ClaimRequest {
    fn example() -> Self {
        ClaimRequest {
            code: BoundedText::parse("K7M2-Q9XP-4HTD").expect("a valid example"),
        }
    }
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct StepUpdate {
    /// The outcome: `done`, `refused`, `materials_needed` or `cancelled`.
    /// Reported when it happens.
    pub status: StepOutcome,
    /// When it happened (RFC 3339); the past is fine, the future is not.
    pub occurred_at: DateTime<Utc>,
    /// Optional for `done`. Required otherwise: the reason for `refused`
    /// and `cancelled`, the materials the person must give for
    /// `materials_needed` (the worker reads it as written).
    #[serde(default, deserialize_with = "present")]
    pub note: Option<BoundedText<1, 500>>,
}

impl StepUpdate {
    pub(super) fn into_report(self) -> StepReport {
        StepReport {
            outcome: self.status,
            occurred_at: self.occurred_at,
            note: self.note.map(BoundedText::into_inner),
        }
    }
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ChangeView {
    /// Strictly increasing; numbers of other regions' entries are missing.
    pub seq: i64,
    pub transfer_no: String,
    /// `created`, `step` (a step done), `refused`, `materials_needed`,
    /// `materials_answered` or `cancelled`.
    pub kind: String,
    pub step: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct ChangePage {
    pub items: Vec<ChangeView>,
    /// Pass it as `cursor` next time (unchanged when there was nothing new).
    pub next_cursor: i64,
}

/// The person's answer to a request for materials.
#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct MaterialsAnswer {
    /// What the person gives and how (e.g. handed in at the window, posted).
    pub answer: BoundedText<1, 500>,
}
