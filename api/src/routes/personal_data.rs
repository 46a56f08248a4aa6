//! Personal data as the routes carry it: the worker's copy of everything
//! held about them (PIPL Art. 45), as `GET /api/v1/me/data` returns it, and
//! the reason staff give to see someone's data in clear.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde::Deserialize;

use super::certificates::CertificateView;
use crate::domain::BoundedText;

/// Why a staff member must see the person's data in clear (PIPL Art. 6: a
/// stated purpose). Kept in the `personal_data.reveal` audit row.
#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct RevealBody {
    /// 查看原因, 2–200 characters, e.g. 核对身份证照片与填写的身份证号.
    pub reason: BoundedText<2, 200>,
}

use crate::services::accounts::{
    ApplicationData, ConsentData, DocumentData, NotificationData, PersonalData, ProfileData, SignInData, StepData,
    TransferData, WageReportData,
};

/// The profile with personal data in clear: this copy is for the worker themself.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ProfileRecord {
    pub id: String,
    pub real_name: Option<String>,
    pub id_number: Option<String>,
    /// When the ID number was proven (identity check, or a case claimed).
    pub id_number_proven_at: Option<DateTime<Utc>>,
    pub phone: Option<String>,
    pub hukou_region_code: Option<String>,
    pub hukou_type: Option<String>,
    pub residence_region_code: Option<String>,
    pub work_region_code: Option<String>,
    /// Where subsidies are paid.
    pub payee_bank_name: Option<String>,
    pub payee_account_number: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A version of the personal-data notice the worker accepted.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ConsentRecord {
    pub version: String,
    pub accepted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ApplicationRecord {
    pub id: String,
    pub application_no: String,
    pub program_id: String,
    pub period: String,
    pub region_code: String,
    pub status: String,
    /// The form answers as given (`{}` once removed under retention).
    pub answers: serde_json::Value,
    pub requested_amount_fen: Option<i64>,
    pub approved_amount_fen: Option<i64>,
    pub disbursed_amount_fen: Option<i64>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A document's description; the file itself is `GET /uploads/{id}`.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct DocumentRecord {
    pub id: String,
    pub purpose: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub application_id: Option<String>,
    pub wage_report_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct StepRecord {
    pub step: String,
    pub status: String,
    pub due_on: Option<chrono::NaiveDate>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TransferRecord {
    pub id: String,
    pub transfer_no: String,
    pub insurance_type: String,
    pub from_region_code: String,
    pub to_region_code: String,
    pub source: String,
    pub status: String,
    /// The phone the agency recorded when it opened the case.
    pub agency_phone: Option<String>,
    pub steps: Vec<StepRecord>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WageReportRecord {
    pub id: String,
    pub report_no: String,
    pub employer_name: String,
    pub credit_code: Option<String>,
    pub project_name: Option<String>,
    pub region_code: String,
    pub sector: String,
    pub amount_owed_fen: i64,
    pub owed_from: chrono::NaiveDate,
    pub owed_to: chrono::NaiveDate,
    pub workers_affected: i32,
    pub description: String,
    pub contact_phone: Option<String>,
    pub status: String,
    pub outcome: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct NotificationRecord {
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub wechat_status: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SignInRecord {
    pub at: DateTime<Utc>,
    /// `success` or `failure`.
    pub outcome: String,
    /// The address the sign-in came from.
    pub ip: Option<String>,
}

/// Everything held about the worker (PIPL Art. 45).
#[derive(Debug, Object)]
pub struct MyData {
    pub exported_at: DateTime<Utc>,
    pub profile: ProfileRecord,
    pub consents: Vec<ConsentRecord>,
    pub applications: Vec<ApplicationRecord>,
    pub documents: Vec<DocumentRecord>,
    pub si_transfers: Vec<TransferRecord>,
    pub wage_reports: Vec<WageReportRecord>,
    pub notifications: Vec<NotificationRecord>,
    pub sign_ins: Vec<SignInRecord>,
    /// References to electronic certificates fetched with the worker's authorisation.
    pub certificates: Vec<CertificateView>,
}

impl From<PersonalData> for MyData {
    fn from(data: PersonalData) -> Self {
        MyData {
            exported_at: data.exported_at,
            profile: data.profile.into(),
            consents: data.consents.into_iter().map(ConsentRecord::from).collect(),
            applications: data.applications.into_iter().map(ApplicationRecord::from).collect(),
            documents: data.documents.into_iter().map(DocumentRecord::from).collect(),
            si_transfers: data.si_transfers.into_iter().map(TransferRecord::from).collect(),
            wage_reports: data.wage_reports.into_iter().map(WageReportRecord::from).collect(),
            notifications: data.notifications.into_iter().map(NotificationRecord::from).collect(),
            sign_ins: data.sign_ins.into_iter().map(SignInRecord::from).collect(),
            certificates: data.certificates.into_iter().map(CertificateView::from).collect(),
        }
    }
}

impl From<ConsentData> for ConsentRecord {
    fn from(c: ConsentData) -> Self {
        ConsentRecord {
            version: c.version,
            accepted_at: c.accepted_at,
        }
    }
}

impl From<ApplicationData> for ApplicationRecord {
    fn from(a: ApplicationData) -> Self {
        ApplicationRecord {
            id: a.id,
            application_no: a.application_no,
            program_id: a.program_id,
            period: a.period,
            region_code: a.region_code,
            status: a.status,
            answers: a.answers,
            requested_amount_fen: a.requested_amount_fen,
            approved_amount_fen: a.approved_amount_fen,
            disbursed_amount_fen: a.disbursed_amount_fen,
            submitted_at: a.submitted_at,
            decided_at: a.decided_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

impl From<DocumentData> for DocumentRecord {
    fn from(d: DocumentData) -> Self {
        DocumentRecord {
            id: d.id,
            purpose: d.purpose,
            content_type: d.content_type,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            application_id: d.application_id,
            wage_report_id: d.wage_report_id,
            created_at: d.created_at,
        }
    }
}

impl From<StepData> for StepRecord {
    fn from(s: StepData) -> Self {
        StepRecord {
            step: s.step,
            status: s.status,
            due_on: s.due_on,
            occurred_at: s.occurred_at,
            note: s.note,
        }
    }
}

impl From<WageReportData> for WageReportRecord {
    fn from(data: WageReportData) -> Self {
        let r = data.report;
        WageReportRecord {
            id: r.id,
            report_no: r.report_no,
            employer_name: r.employer_name,
            credit_code: r.credit_code,
            project_name: r.project_name,
            region_code: r.region.as_str().to_owned(),
            sector: r.sector,
            amount_owed_fen: r.amount_owed_fen,
            owed_from: r.owed_from,
            owed_to: r.owed_to,
            workers_affected: r.workers_affected,
            description: r.description,
            contact_phone: data.contact_phone,
            status: r.status.as_str().to_owned(),
            outcome: r.outcome,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl From<NotificationData> for NotificationRecord {
    fn from(n: NotificationData) -> Self {
        NotificationRecord {
            title: n.title,
            body: n.body,
            link: n.link,
            wechat_status: n.wechat_status,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

impl From<SignInData> for SignInRecord {
    fn from(s: SignInData) -> Self {
        SignInRecord {
            at: s.at,
            outcome: s.outcome,
            ip: s.ip,
        }
    }
}

impl From<TransferData> for TransferRecord {
    fn from(t: TransferData) -> Self {
        TransferRecord {
            id: t.id,
            transfer_no: t.transfer_no,
            insurance_type: t.insurance_type,
            from_region_code: t.from_region_code,
            to_region_code: t.to_region_code,
            source: t.source,
            status: t.status,
            agency_phone: t.agency_phone,
            steps: t.steps.into_iter().map(StepRecord::from).collect(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

impl From<ProfileData> for ProfileRecord {
    fn from(p: ProfileData) -> Self {
        ProfileRecord {
            id: p.id,
            real_name: p.real_name,
            id_number: p.id_number,
            id_number_proven_at: p.id_number_proven_at,
            phone: p.phone,
            hukou_region_code: p.hukou_region_code,
            hukou_type: p.hukou_type,
            residence_region_code: p.residence_region_code,
            work_region_code: p.work_region_code,
            payee_bank_name: p.payee_bank_name,
            payee_account_number: p.payee_account_number,
            created_at: p.created_at,
            last_login_at: p.last_login_at,
        }
    }
}
