//! Electronic certificates (电子证照) a worker referenced instead of
//! photographing them: fetched with the worker's authorisation through the
//! `CertificateProvider` adapter (`infra/certificates.rs`), and kept as a
//! reference: kind, number, title, level, issuer, when, and the holder as
//! the keyed hash of their ID number, never the number itself.
//!
//! A certificate is the worker's only when its holder is the ID number in
//! their profile: a number of someone else's certificate is refused at the
//! fetch, and one whose holder no longer matches the profile is refused
//! when an application carries it.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{certificate, worker};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

pub use crate::infra::certificates::CertificateKind;
use crate::{
    auth::Principal,
    context::RequestContext,
    domain::{IdNumber, TextType},
    error::{AppError, AppResult, ErrorCode, Localized},
    infra::{
        certificates::{CertificateQuery, IssuedCertificate},
        crypto::{DataProtector, Field, Purpose},
    },
    services::{
        audit::{self, Actor, Event, Outcome},
        evidence,
        programs::rules::CertifiedLevel,
    },
    state::AppState,
};

/// The version of the text (《电子证照授权查询说明》) the worker accepts
/// before each fetch: we ask the licence service for their certificate, on
/// their behalf, and keep a reference to it. Raise it when the text changes.
pub const AUTHORIZATION_VERSION: &str = "certificate-2026-12";

/// A certificate as the worker and the reviewer see it.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub id: String,
    pub kind: CertificateKind,
    pub number: String,
    pub title: String,
    /// A vocational certificate's level, 1 (高级技师) to 5 (初级工).
    pub level: Option<u8>,
    pub issuer: String,
    pub issued_on: Option<NaiveDate>,
    /// Which licence service answered (`sandbox`, …).
    pub provider: String,
    pub fetched_at: DateTime<Utc>,
}

impl Certificate {
    fn of(row: certificate::Model) -> Certificate {
        Certificate {
            kind: CertificateKind::parse(&row.kind).unwrap_or(CertificateKind::Vocational),
            level: row.level.and_then(|level| u8::try_from(level).ok()),
            id: row.id,
            number: row.number,
            title: row.title,
            issuer: row.issuer,
            issued_on: row.issued_on,
            provider: row.provider,
            fetched_at: row.fetched_at,
        }
    }

    /// The level the rules read, for a vocational certificate.
    pub fn certified_level(&self) -> Option<CertifiedLevel> {
        self.level
            .filter(|_| self.kind == CertificateKind::Vocational)
            .map(|level| CertifiedLevel {
                level,
                issuer: self.issuer.clone(),
            })
    }
}

/// What the worker asks for.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub kind: CertificateKind,
    /// The certificate's number, where the worker holds several or reads it
    /// off the paper; without it, the licence service answers the holder's.
    pub number: Option<String>,
    /// The authorisation text the worker accepted: `AUTHORIZATION_VERSION`.
    pub authorization_version: String,
}

/// The worker's ID number from the profile; 400 `PROFILE_INCOMPLETE` without one.
fn profile_number(protector: &DataProtector, person: &worker::Model) -> AppResult<IdNumber> {
    person
        .id_number_cipher
        .as_deref()
        .and_then(|sealed| protector.decrypt(Field::WorkerIdNumber, &person.id, sealed).ok())
        .and_then(|plain| IdNumber::parse(&plain).ok())
        .ok_or_else(|| AppError::new(ErrorCode::ProfileIncomplete).with_details(json!({ "missing": ["id_number"] })))
}

async fn refused(state: &AppState, request: &RequestContext, worker: &Principal, reason: &str) -> AppResult<()> {
    let event = Event {
        actor: Actor::Principal(worker),
        action: "certificate.fetch",
        target: None,
        region: None,
        outcome: Outcome::Denied,
        details: Some(json!({ "reason": reason })),
    };
    audit::record(&state.db, Some(request), event).await
}

/// Fetches the certificate the worker asked for from the licence service,
/// with their authorisation, and keeps (or refreshes) the reference.
/// Audited as `certificate.fetch`, refused or not.
pub async fn fetch(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    asked: FetchRequest,
) -> AppResult<Certificate> {
    if asked.authorization_version != AUTHORIZATION_VERSION {
        return Err(AppError::invalid_field(
            "authorization_version",
            Localized::new(
                format!("请先阅读并同意《电子证照授权查询说明》（版本 {AUTHORIZATION_VERSION}），再查询您的电子证照。"),
                format!("Accept the current authorisation text ({AUTHORIZATION_VERSION}) first."),
            ),
        ));
    }
    let provider = state
        .certificates
        .as_ref()
        .ok_or_else(|| AppError::new(ErrorCode::CertificateServiceUnavailable))?;
    let evidence::Claimant { person, id_hashes } =
        evidence::claimant(&state.db, &state.protector, &worker.subject).await?;
    let holder = profile_number(&state.protector, &person)?;
    let query = CertificateQuery {
        kind: asked.kind,
        holder: &holder,
        number: asked.number.as_deref(),
    };
    let answered = provider.fetch(&query).await.map_err(|unavailable| AppError {
        source: Some(anyhow::anyhow!(unavailable)),
        ..AppError::new(ErrorCode::CertificateServiceUnavailable)
    })?;
    let Some(issued) = answered else {
        refused(state, request, worker, "no such certificate").await?;
        return Err(AppError::new(ErrorCode::CertificateNotFound));
    };
    let holder_hash = state.protector.lookup_hash(Purpose::IdNumber, &issued.holder);
    if !id_hashes.contains(&holder_hash) {
        refused(state, request, worker, "the holder is someone else").await?;
        return Err(AppError::new(ErrorCode::CertificateNotHolder));
    }
    let kept = keep(&state.db, &person.id, provider.name(), holder_hash, issued).await?;
    let fetched = Event::success(
        worker,
        "certificate.fetch",
        ("certificate", &kept.id),
        None,
        Some(json!({ "kind": kept.kind.as_str(), "provider": kept.provider })),
    );
    audit::record(&state.db, Some(request), fetched).await?;
    Ok(kept)
}

/// Stores the reference, or refreshes the one the worker already has.
async fn keep(
    db: &impl ConnectionTrait,
    worker_id: &str,
    provider: &str,
    holder_hash: String,
    issued: IssuedCertificate,
) -> AppResult<Certificate> {
    let now = Utc::now();
    let existing = certificate::Entity::find()
        .filter(certificate::Column::WorkerId.eq(worker_id))
        .filter(certificate::Column::Kind.eq(issued.kind.as_str()))
        .filter(certificate::Column::Number.eq(&issued.number))
        .one(db)
        .await?;
    let mut row = match existing {
        Some(row) => row.into(),
        None => certificate::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            worker_id: Set(worker_id.to_owned()),
            kind: Set(issued.kind.as_str().to_owned()),
            number: Set(issued.number.clone()),
            ..Default::default()
        },
    };
    row.title = Set(issued.title);
    row.level = Set(issued.level.map(i16::from));
    row.issuer = Set(issued.issuer);
    row.holder_hash = Set(holder_hash);
    row.issued_on = Set(issued.issued_on);
    row.provider = Set(provider.to_owned());
    row.authorized_at = Set(now);
    row.fetched_at = Set(now);
    let saved = match row.id.is_unchanged() {
        true => row.update(db).await?,
        false => row.insert(db).await?,
    };
    Ok(Certificate::of(saved))
}

/// The worker's certificates, newest fetch first.
pub async fn list_own(state: &AppState, worker: &Principal) -> AppResult<Vec<Certificate>> {
    of_worker(&state.db, &worker.subject).await
}

/// The certificates of `worker_id`, newest fetch first (also for their copy of their data).
pub async fn of_worker(db: &impl ConnectionTrait, worker_id: &str) -> AppResult<Vec<Certificate>> {
    Ok(certificate::Entity::find()
        .filter(certificate::Column::WorkerId.eq(worker_id))
        .order_by_desc(certificate::Column::FetchedAt)
        .all(db)
        .await?
        .into_iter()
        .map(Certificate::of)
        .collect())
}

/// The certificate an application of `worker_id` carries: theirs, and held
/// by the ID number in their profile now. Another's, or none, is 400 on
/// `certificate_id`; one whose holder is no longer the profile's number is
/// 400 `CERTIFICATE_NOT_HOLDER`.
pub async fn for_application(
    db: &impl ConnectionTrait,
    protector: &DataProtector,
    worker_id: &str,
    certificate_id: &str,
) -> AppResult<Certificate> {
    let row = certificate::Entity::find_by_id(certificate_id.to_owned())
        .one(db)
        .await?
        .filter(|row| row.worker_id == worker_id)
        .ok_or_else(|| {
            AppError::invalid_field(
                "certificate_id",
                Localized::fixed(
                    "没有找到您的这张电子证照，请先在“我的证照”里获取。",
                    "No certificate of yours has this id.",
                ),
            )
        })?;
    let evidence::Claimant { id_hashes, .. } = evidence::claimant(db, protector, worker_id).await?;
    if !id_hashes.contains(&row.holder_hash) {
        return Err(AppError::new(ErrorCode::CertificateNotHolder));
    }
    Ok(Certificate::of(row))
}

/// A certificate by id, as a reviewer sees it on the case that carries it.
pub async fn by_id(db: &impl ConnectionTrait, id: &str) -> AppResult<Option<Certificate>> {
    Ok(certificate::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .map(Certificate::of))
}

/// Removes the worker's certificates (the account is closed).
pub async fn forget_all_of(db: &impl ConnectionTrait, worker_id: &str) -> AppResult<u64> {
    Ok(certificate::Entity::delete_many()
        .filter(certificate::Column::WorkerId.eq(worker_id))
        .exec(db)
        .await?
        .rows_affected)
}
