//! A worker's rights over their own data (PIPL Art. 45 and 47): a copy of
//! everything held about them, and closing the account (注销).
//!
//! Closing ends every session at once, takes the personal data off the
//! account and off the worker's closed cases (through the retention
//! policy's own anonymisation), deletes the inbox and loose documents, and
//! frees the WeChat openid: the next sign-in makes a new, empty account.
//! Open cases keep what the offices need to finish them, and lose it like
//! any case once closed and past the retention period; the audit trail stays
//! for its own period (see `retention`).

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    application, audit_log, idempotency_record, notification, si_transfer, si_transfer_step, upload, wage_report,
    worker,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    auth::{Audience, Principal},
    context::RequestContext,
    error::{AppError, AppResult, ErrorCode},
    infra::crypto::{DataProtector, Field},
    services::{
        audit::{self, Actor, Event, Outcome},
        calendar, recommendations, relatives, retention, wage_reports,
    },
    state::AppState,
};

/// The profile, personal data in clear: this copy is for the worker themself.
#[derive(Debug)]
pub struct ProfileData {
    pub id: String,
    pub real_name: Option<String>,
    pub id_number: Option<String>,
    pub id_number_proven_at: Option<DateTime<Utc>>,
    pub phone: Option<String>,
    pub hukou_region_code: Option<String>,
    pub hukou_type: Option<String>,
    pub residence_region_code: Option<String>,
    pub work_region_code: Option<String>,
    /// Where subsidies are paid: the bank and the account number in clear.
    pub payee_bank_name: Option<String>,
    pub payee_account_number: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

#[derive(Debug)]
pub struct ConsentData {
    pub version: String,
    pub accepted_at: Option<DateTime<Utc>>,
}

#[derive(Debug)]
pub struct ApplicationData {
    pub id: String,
    pub application_no: String,
    pub program_id: String,
    pub period: String,
    pub region_code: String,
    pub status: String,
    pub answers: Value,
    pub requested_amount_fen: Option<i64>,
    pub approved_amount_fen: Option<i64>,
    pub disbursed_amount_fen: Option<i64>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A document's description; the file itself is `GET /uploads/{id}`.
#[derive(Debug)]
pub struct DocumentData {
    pub id: String,
    pub purpose: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub application_id: Option<String>,
    pub wage_report_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug)]
pub struct StepData {
    pub step: String,
    pub status: String,
    pub due_on: Option<NaiveDate>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

#[derive(Debug)]
pub struct TransferData {
    pub id: String,
    pub transfer_no: String,
    pub insurance_type: String,
    pub from_region_code: String,
    pub to_region_code: String,
    pub source: String,
    pub status: String,
    /// The phone the agency recorded when it opened the case.
    pub agency_phone: Option<String>,
    pub steps: Vec<StepData>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A wage report as its worker filed and follows it, with the contact phone
/// they gave in clear.
#[derive(Debug)]
pub struct WageReportData {
    pub report: wage_reports::Report,
    pub contact_phone: Option<String>,
}

#[derive(Debug)]
pub struct NotificationData {
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub wechat_status: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Debug)]
pub struct SignInData {
    pub at: DateTime<Utc>,
    pub outcome: String,
    pub ip: Option<String>,
}

/// Everything held about a worker.
#[derive(Debug)]
pub struct PersonalData {
    pub exported_at: DateTime<Utc>,
    pub profile: ProfileData,
    pub consents: Vec<ConsentData>,
    pub applications: Vec<ApplicationData>,
    pub documents: Vec<DocumentData>,
    pub si_transfers: Vec<TransferData>,
    pub wage_reports: Vec<WageReportData>,
    pub notifications: Vec<NotificationData>,
    pub sign_ins: Vec<SignInData>,
    /// References to electronic certificates (电子证照).
    pub certificates: Vec<crate::services::certificates::Certificate>,
}

fn clear(protector: &DataProtector, field: Field, row_id: &str, cipher: Option<&str>) -> Option<String> {
    cipher.and_then(|c| protector.decrypt(field, row_id, c).ok())
}

async fn open_account(db: &impl sea_orm::ConnectionTrait, worker_id: &str) -> AppResult<worker::Model> {
    worker::Entity::find_by_id(worker_id.to_owned())
        .one(db)
        .await?
        .filter(|row| row.closed_at.is_none())
        .ok_or_else(|| AppError::new(ErrorCode::SessionEnded))
}

/// A copy of everything held about the worker, audited.
pub async fn export(state: &AppState, request: &RequestContext, principal: &Principal) -> AppResult<PersonalData> {
    let db = &state.db;
    let protector = &state.protector;
    let row = open_account(db, &principal.subject).await?;
    let id = row.id.clone();
    let data = PersonalData {
        exported_at: Utc::now(),
        profile: profile_of(protector, &row),
        consents: row
            .consent_version
            .clone()
            .map(|version| ConsentData {
                version,
                accepted_at: row.consented_at,
            })
            .into_iter()
            .collect(),
        applications: applications_of(db, &id).await?,
        documents: documents_of(db, &id).await?,
        si_transfers: transfers_of(db, protector, &id).await?,
        wage_reports: wage_reports_of(db, protector, &id).await?,
        notifications: notifications_of(db, &id).await?,
        sign_ins: sign_ins_of(db, &id).await?,
        certificates: crate::services::certificates::of_worker(db, &id).await?,
    };
    audit::record(
        db,
        Some(request),
        Event {
            actor: Actor::Principal(principal),
            action: "worker.data.export",
            target: Some(("worker", &id)),
            region: None,
            outcome: Outcome::Success,
            details: None,
        },
    )
    .await?;
    Ok(data)
}

async fn applications_of(db: &sea_orm::DatabaseConnection, id: &str) -> AppResult<Vec<ApplicationData>> {
    Ok(application::Entity::find()
        .filter(application::Column::WorkerId.eq(id))
        .order_by_asc(application::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|a| ApplicationData {
            answers: serde_json::from_str(&a.answers).unwrap_or(Value::Null),
            id: a.id,
            application_no: a.application_no,
            program_id: a.program_id,
            period: a.period,
            region_code: a.region_code,
            status: a.status,
            requested_amount_fen: a.requested_amount_fen,
            approved_amount_fen: a.approved_amount_fen,
            disbursed_amount_fen: a.disbursed_amount_fen,
            submitted_at: a.submitted_at,
            decided_at: a.decided_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
        })
        .collect())
}

async fn documents_of(db: &sea_orm::DatabaseConnection, id: &str) -> AppResult<Vec<DocumentData>> {
    Ok(upload::Entity::find()
        .filter(upload::Column::WorkerId.eq(id))
        .order_by_asc(upload::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|u| DocumentData {
            id: u.id,
            purpose: u.purpose,
            content_type: u.content_type,
            size_bytes: u.size_bytes,
            sha256: u.sha256,
            application_id: u.application_id,
            wage_report_id: u.wage_report_id,
            created_at: u.created_at,
        })
        .collect())
}

async fn transfers_of(
    db: &sea_orm::DatabaseConnection,
    protector: &DataProtector,
    id: &str,
) -> AppResult<Vec<TransferData>> {
    let mut si_transfers = Vec::new();
    for t in si_transfer::Entity::find()
        .filter(si_transfer::Column::WorkerId.eq(id))
        .order_by_asc(si_transfer::Column::CreatedAt)
        .all(db)
        .await?
    {
        let steps = si_transfer_step::Entity::find()
            .filter(si_transfer_step::Column::TransferId.eq(&t.id))
            .order_by_asc(si_transfer_step::Column::Position)
            .all(db)
            .await?
            .into_iter()
            .map(|s| StepData {
                step: s.step,
                status: s.status,
                due_on: s.due_on,
                occurred_at: s.occurred_at,
                note: s.note,
            })
            .collect();
        si_transfers.push(TransferData {
            agency_phone: clear(protector, Field::TransferAgencyPhone, &t.id, t.phone_cipher.as_deref()),
            id: t.id,
            transfer_no: t.transfer_no,
            insurance_type: t.insurance_type,
            from_region_code: t.from_region_code,
            to_region_code: t.to_region_code,
            source: t.source,
            status: t.status,
            steps,
            created_at: t.created_at,
            updated_at: t.updated_at,
        });
    }
    Ok(si_transfers)
}

async fn wage_reports_of(
    db: &sea_orm::DatabaseConnection,
    protector: &DataProtector,
    id: &str,
) -> AppResult<Vec<WageReportData>> {
    let calendars = calendar::load(db).await?;
    let reports = wage_reports::read::of_worker(db, &calendars, id).await?;
    Ok(reports
        .into_iter()
        .map(|report| WageReportData {
            contact_phone: clear(
                protector,
                Field::WageReportContactPhone,
                &report.id,
                report.contact_phone_cipher.as_deref(),
            ),
            report,
        })
        .collect())
}

async fn notifications_of(db: &sea_orm::DatabaseConnection, id: &str) -> AppResult<Vec<NotificationData>> {
    Ok(notification::Entity::find()
        .filter(notification::Column::WorkerId.eq(id))
        .order_by_asc(notification::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|n| NotificationData {
            title: n.title,
            body: n.body,
            link: n.link,
            wechat_status: n.wechat_status,
            created_at: n.created_at,
            read_at: n.read_at,
        })
        .collect())
}

/// The worker's sign-ins, from the audit log.
async fn sign_ins_of(db: &sea_orm::DatabaseConnection, id: &str) -> AppResult<Vec<SignInData>> {
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::ActorType.eq(Audience::Worker.as_str()))
        .filter(audit_log::Column::ActorId.eq(id))
        .filter(audit_log::Column::Action.eq("worker.login"))
        .order_by_asc(audit_log::Column::At)
        .all(db)
        .await?
        .into_iter()
        .map(|a| SignInData {
            at: a.at,
            outcome: a.outcome,
            ip: a.ip,
        })
        .collect())
}

fn profile_of(protector: &DataProtector, row: &worker::Model) -> ProfileData {
    ProfileData {
        id: row.id.clone(),
        real_name: row.real_name.clone(),
        id_number: clear(
            protector,
            Field::WorkerIdNumber,
            &row.id,
            row.id_number_cipher.as_deref(),
        ),
        id_number_proven_at: row.id_verified_at,
        phone: clear(protector, Field::WorkerPhone, &row.id, row.phone_cipher.as_deref()),
        hukou_region_code: row.hukou_region_code.clone(),
        hukou_type: row.hukou_type.clone(),
        residence_region_code: row.residence_region_code.clone(),
        work_region_code: row.work_region_code.clone(),
        payee_bank_name: row.payee_bank_name.clone(),
        payee_account_number: clear(
            protector,
            Field::WorkerPayeeAccount,
            &row.id,
            row.payee_account_cipher.as_deref(),
        ),
        created_at: row.created_at,
        last_login_at: row.last_login_at,
    }
}

/// What closing kept and removed, for the answer and the audit row.
#[derive(Debug, Clone, Serialize)]
pub struct Closure {
    pub closed_at: DateTime<Utc>,
    /// Cases still open: kept for the offices until they close.
    pub open_cases_kept: u64,
    /// Closed cases whose personal data went now.
    pub closed_cases_anonymised: u64,
}

/// The worker's row with everything personal gone: no WeChat user, no
/// name, numbers, places or payee account, only that it existed and when
/// it closed.
fn forgotten_account(row: worker::Model, now: DateTime<Utc>) -> worker::ActiveModel {
    let id = row.id.clone();
    let mut active = row.into_active_model();
    active.openid = Set(format!("closed:{id}"));
    active.unionid = Set(None);
    active.real_name = Set(None);
    active.id_number_cipher = Set(None);
    active.id_number_hash = Set(None);
    active.id_verified_at = Set(None);
    active.phone_cipher = Set(None);
    active.phone_hash = Set(None);
    active.hukou_region_code = Set(None);
    active.hukou_type = Set(None);
    active.residence_region_code = Set(None);
    active.work_region_code = Set(None);
    active.payee_kind = Set(None);
    active.payee_bank_name = Set(None);
    active.payee_account_cipher = Set(None);
    active.payee_account_masked = Set(None);
    active.payee_consent_version = Set(None);
    active.payee_updated_at = Set(None);
    active.closed_at = Set(Some(now));
    active.updated_at = Set(now);
    active
}

/// Closes the worker's account: see the module's description.
pub async fn close(state: &AppState, request: &RequestContext, principal: &Principal) -> AppResult<Closure> {
    let id = principal.subject.clone();
    // Sessions first: should the rest fail, the worker signs in again and
    // retries, and no token outlives a closed account.
    state.sessions.revoke_all(Audience::Worker, &id).await?;
    state.store.delete(&format!("wechat:session_key:{id}")).await?;
    // Closed cases lose their personal data first, each in its own
    // transaction; should the closing below fail, a retry finds them done.
    let forgotten = retention::forget_closed_cases_of(&state.db, state.files.as_ref(), &id).await?;
    let now = Utc::now();
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    forgotten_account(open_account(&transaction, &id).await?, now)
        .update(&transaction)
        .await?;
    notification::Entity::delete_many()
        .filter(notification::Column::WorkerId.eq(&id))
        .exec(&transaction)
        .await?;
    recommendations::forget(&transaction, &id).await?;
    idempotency_record::Entity::delete_many()
        .filter(idempotency_record::Column::Principal.eq(format!("{}:{id}", Audience::Worker.as_str())))
        .exec(&transaction)
        .await?;
    // 亲情代办: nobody acts for a closed account, nor does it act for anyone.
    relatives::end_all_of(&transaction, &id).await?;
    // References to certificates: fetched again from the licence service if needed.
    crate::services::certificates::forget_all_of(&transaction, &id).await?;
    let loose_keys: Vec<String> = upload::Entity::find()
        .filter(upload::Column::WorkerId.eq(&id))
        .filter(upload::Column::ApplicationId.is_null())
        .filter(upload::Column::WageReportId.is_null())
        .select_only()
        .column(upload::Column::StorageKey)
        .into_tuple()
        .all(&transaction)
        .await?;
    upload::Entity::delete_many()
        .filter(upload::Column::WorkerId.eq(&id))
        .filter(upload::Column::ApplicationId.is_null())
        .filter(upload::Column::WageReportId.is_null())
        .exec(&transaction)
        .await?;
    let open_cases_kept = open_cases(&transaction, &id).await?;
    let closure = Closure {
        closed_at: now,
        open_cases_kept,
        closed_cases_anonymised: forgotten.applications + forgotten.wage_reports + forgotten.si_transfers,
    };
    // The audit row commits with the closing, or neither does.
    audit::record(
        &transaction,
        Some(request),
        Event {
            actor: Actor::Principal(principal),
            action: "worker.close",
            target: Some(("worker", &id)),
            region: None,
            outcome: Outcome::Success,
            details: Some(json!(closure)),
        },
    )
    .await?;
    transaction.commit().await?;
    retention::remove_files(state.files.as_ref(), loose_keys).await;
    Ok(closure)
}

/// The worker's cases that still hold personal data.
async fn open_cases(db: &impl sea_orm::ConnectionTrait, worker_id: &str) -> AppResult<u64> {
    let applications = application::Entity::find()
        .filter(application::Column::WorkerId.eq(worker_id))
        .filter(application::Column::AnonymisedAt.is_null())
        .count(db)
        .await?;
    let reports = wage_report::Entity::find()
        .filter(wage_report::Column::WorkerId.eq(worker_id))
        .filter(wage_report::Column::AnonymisedAt.is_null())
        .count(db)
        .await?;
    let transfers = si_transfer::Entity::find()
        .filter(si_transfer::Column::WorkerId.eq(worker_id))
        .filter(si_transfer::Column::AnonymisedAt.is_null())
        .count(db)
        .await?;
    Ok(applications + reports + transfers)
}
