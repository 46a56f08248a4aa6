//! Linking an agency-opened case to a worker's account.
//!
//! The ID number in a profile is typed, and anyone can type anyone's, so it
//! never links a case by itself. A case the agency opened joins an account
//! only on evidence that came from the agency or from a real check, always
//! together with the same ID number in the profile:
//!
//! - the one-time claim code the agency handed the person (its keyed hash is
//!   kept, it expires, it works once, and a worker has a bounded number of
//!   wrong tries a day);
//! - the phone the agency recorded, equal to the phone WeChat verified for
//!   the worker (`POST /me/phone`);
//! - an ID number already proven: an identity check (人脸核身 / 实名核验), or
//!   an earlier case linked with the agency's evidence.
//!
//! Each link is an explicit request of the worker and an audit row naming
//! the evidence. No answer tells whether a number has cases: a wrong code,
//! a used one, an expired one and a stranger's all answer the same.

use std::time::Duration;

use chrono::Utc;
use entity::{si_transfer, worker};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;

use super::{Transfer, read};
use crate::{
    auth::Principal,
    context::RequestContext,
    domain::{RegionCode, TextType},
    error::{AppError, AppResult, ErrorCode},
    infra::crypto::{DataProtector, Field, Purpose},
    services::{
        audit::{self, Actor, Event, Outcome},
        one_time_codes,
    },
    state::AppState,
};

/// How long a claim code works after the agency opened the case.
pub const CLAIM_CODE_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::days(30);
/// Wrong claim codes a worker may enter in a day.
pub const MAX_CLAIM_TRIES: i64 = 5;
const CLAIM_TRIES: one_time_codes::Tries = one_time_codes::Tries {
    name: "claim_tries",
    max: MAX_CLAIM_TRIES,
    window: Duration::from_secs(24 * 3600),
};

/// What proved that a case is the worker's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    ClaimCode,
    Phone,
    VerifiedIdentity,
}

impl Evidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::ClaimCode => "claim_code",
            Evidence::Phone => "phone",
            Evidence::VerifiedIdentity => "verified_identity",
        }
    }
}

/// A fresh claim code, e.g. `K7M2-Q9XP-4HTD` (see `one_time_codes`).
pub fn new_claim_code() -> String {
    one_time_codes::new_code()
}

/// The keyed hash a claim code is stored as.
pub fn claim_code_hash(protector: &DataProtector, code: &str) -> Option<String> {
    one_time_codes::hash(protector, Purpose::ClaimCode, code)
}

/// Every keyed hash the stored rows may hold for one value: under each
/// lookup key still listed, so a rotation in progress misses no case.
fn hashes_of(
    protector: &DataProtector,
    (field, purpose): (Field, Purpose),
    row_id: &str,
    cipher: Option<&str>,
    stored: &str,
) -> Vec<String> {
    cipher
        .and_then(|sealed| protector.decrypt(field, row_id, sealed).ok())
        .map_or_else(
            || vec![stored.to_owned()],
            |plain| protector.lookup_hashes(purpose, &plain),
        )
}

/// The worker with the hashes of their ID number.
async fn profile_with_id_number(
    db: &impl ConnectionTrait,
    protector: &DataProtector,
    worker_id: &str,
) -> AppResult<(worker::Model, Vec<String>)> {
    let person = worker::Entity::find_by_id(worker_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::SessionEnded))?;
    let stored = person
        .id_number_hash
        .as_deref()
        .ok_or_else(|| AppError::new(ErrorCode::ProfileIncomplete).with_details(json!({ "missing": ["id_number"] })))?;
    let hashes = hashes_of(
        protector,
        (Field::WorkerIdNumber, Purpose::IdNumber),
        &person.id,
        person.id_number_cipher.as_deref(),
        stored,
    );
    Ok((person, hashes))
}

/// A case no worker has yet, as a link names it.
pub(super) struct Unclaimed<'a> {
    pub id: &'a str,
    pub transfer_no: &'a str,
    /// The new place, where the link is audited.
    pub region: Option<RegionCode>,
}

impl<'a> From<&'a si_transfer::Model> for Unclaimed<'a> {
    fn from(case: &'a si_transfer::Model) -> Self {
        Unclaimed {
            id: &case.id,
            transfer_no: &case.transfer_no,
            region: RegionCode::parse(&case.to_region_code).ok(),
        }
    }
}

/// Gives `case` to the worker, unless someone was faster, and audits the
/// link. The link is no step of the process, so it is not in the agencies'
/// feed; it raises the case's version like every change.
async fn link_case(
    transaction: &sea_orm::DatabaseTransaction,
    request: Option<&RequestContext>,
    actor: Actor<'_>,
    person: &worker::Model,
    case: Unclaimed<'_>,
    evidence: Evidence,
) -> AppResult<bool> {
    let linked = si_transfer::Entity::update_many()
        .set(si_transfer::ActiveModel {
            worker_id: Set(Some(person.id.clone())),
            claim_code_hash: Set(None),
            claim_expires_at: Set(None),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .col_expr(
            si_transfer::Column::Version,
            Expr::col(si_transfer::Column::Version).add(1),
        )
        .filter(si_transfer::Column::Id.eq(case.id))
        .filter(si_transfer::Column::WorkerId.is_null())
        .exec(transaction)
        .await?;
    if linked.rows_affected == 0 {
        return Ok(false);
    }
    audit::record(
        transaction,
        request,
        Event {
            actor,
            action: "si_transfer.link",
            target: Some(("si_transfer", case.id)),
            region: case.region,
            outcome: Outcome::Success,
            details: Some(json!({
                "transfer_no": case.transfer_no,
                "worker_id": person.id,
                "evidence": evidence.as_str(),
            })),
        },
    )
    .await?;
    Ok(true)
}

async fn mark_proven(transaction: &sea_orm::DatabaseTransaction, person: &worker::Model) -> AppResult<()> {
    if person.id_verified_at.is_none() {
        let mut active = person.clone().into_active_model();
        active.id_verified_at = Set(Some(Utc::now()));
        active.updated_at = Set(Utc::now());
        sea_orm::ActiveModelTrait::update(active, transaction).await?;
    }
    Ok(())
}

/// At an agency's opening: the case joins the holder of the number at once
/// only when that holder has proven it.
pub(super) async fn link_if_proven(
    transaction: &sea_orm::DatabaseTransaction,
    request: &RequestContext,
    client: &Principal,
    case: Unclaimed<'_>,
    id_number_hashes: Vec<String>,
) -> AppResult<bool> {
    let holder = worker::Entity::find()
        .filter(worker::Column::IdNumberHash.is_in(id_number_hashes))
        .filter(worker::Column::IdVerifiedAt.is_not_null())
        .one(transaction)
        .await?;
    match holder {
        Some(person) => {
            link_case(
                transaction,
                Some(request),
                Actor::Principal(client),
                &person,
                case,
                Evidence::VerifiedIdentity,
            )
            .await
        }
        None => Ok(false),
    }
}

/// A fresh claim code for a case that still waits for its person, in place
/// of the one before, which stops working: the agency lost the answer that
/// carried it and opens the case again with the same `Idempotency-Key`. It
/// works until the first code would have expired. None once the case is
/// linked or that day has passed. Audited as `si_transfer.claim_code.reissue`.
pub(super) async fn reissue(
    state: &AppState,
    request: &RequestContext,
    client: &Principal,
    case: Unclaimed<'_>,
) -> AppResult<Option<String>> {
    let code = new_claim_code();
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let replaced = si_transfer::Entity::update_many()
        .set(si_transfer::ActiveModel {
            claim_code_hash: Set(claim_code_hash(&state.protector, &code)),
            ..Default::default()
        })
        .filter(si_transfer::Column::Id.eq(case.id))
        .filter(si_transfer::Column::WorkerId.is_null())
        .filter(si_transfer::Column::ClaimExpiresAt.gt(Utc::now()))
        .exec(&transaction)
        .await?;
    if replaced.rows_affected == 0 {
        return Ok(None);
    }
    let details = json!({ "transfer_no": case.transfer_no });
    let reissued = Event::success(
        client,
        "si_transfer.claim_code.reissue",
        ("si_transfer", case.id),
        case.region,
        Some(details),
    );
    audit::record(&transaction, Some(request), reissued).await?;
    transaction.commit().await?;
    Ok(Some(code))
}

/// The cases as they are after linking.
async fn views(transaction: &sea_orm::DatabaseTransaction, cases: Vec<si_transfer::Model>) -> AppResult<Vec<Transfer>> {
    let mut transfers = Vec::with_capacity(cases.len());
    for case in cases {
        let view = read::by_id(transaction, &case.id).await?.ok_or_else(super::vanished)?;
        transfers.push(view.transfer);
    }
    Ok(transfers)
}

/// A worker claims the case an agency opened for them with the code it
/// handed them. The profile must hold the case's ID number.
pub async fn claim(state: &AppState, request: &RequestContext, worker: &Principal, code: &str) -> AppResult<Transfer> {
    let (person, id_hashes) = profile_with_id_number(&state.db, &state.protector, &worker.subject).await?;
    // Counted before the code is looked at, so a burst cannot try more.
    if !CLAIM_TRIES.spend(state, &person.id).await? {
        return Err(AppError::new(ErrorCode::ClaimTriesExhausted).with_retry_after(CLAIM_TRIES.window));
    }
    let now = Utc::now();
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let case = match one_time_codes::hashes(&state.protector, Purpose::ClaimCode, code) {
        Some(hashes) => {
            si_transfer::Entity::find()
                .filter(si_transfer::Column::ClaimCodeHash.is_in(hashes))
                .filter(si_transfer::Column::WorkerId.is_null())
                .filter(si_transfer::Column::ClaimExpiresAt.gt(now))
                .filter(si_transfer::Column::IdNumberHash.is_in(id_hashes))
                .one(&transaction)
                .await?
        }
        None => None,
    };
    let linked = match &case {
        Some(case) => {
            link_case(
                &transaction,
                Some(request),
                Actor::Principal(worker),
                &person,
                case.into(),
                Evidence::ClaimCode,
            )
            .await?
        }
        None => false,
    };
    let Some(case) = case.filter(|_| linked) else {
        drop(transaction);
        audit::record(
            &state.db,
            Some(request),
            Event {
                actor: Actor::Principal(worker),
                action: "si_transfer.claim",
                target: None,
                region: None,
                outcome: Outcome::Denied,
                details: Some(json!({ "reason": "no claimable case for this code and ID number" })),
            },
        )
        .await?;
        return Err(AppError::new(ErrorCode::ClaimCodeInvalid));
    };
    mark_proven(&transaction, &person).await?;
    let mut transfer = views(&transaction, vec![case]).await?;
    transaction.commit().await?;
    CLAIM_TRIES.give_back(state, &person.id).await?;
    transfer
        .pop()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("a claimed case vanished")))
}

/// Links every case agencies opened for the worker's ID number that the
/// worker's evidence covers: all of them once the number is proven, else
/// those whose recorded phone is the worker's WeChat-verified phone. None
/// found is an empty list, whether or not the number has other cases.
pub async fn link(state: &AppState, request: &RequestContext, worker: &Principal) -> AppResult<Vec<Transfer>> {
    let (person, id_hashes) = profile_with_id_number(&state.db, &state.protector, &worker.subject).await?;
    let mut query = si_transfer::Entity::find()
        .filter(si_transfer::Column::WorkerId.is_null())
        .filter(si_transfer::Column::IdNumberHash.is_in(id_hashes))
        .order_by_asc(si_transfer::Column::CreatedAt);
    let evidence = if person.id_verified_at.is_some() {
        Evidence::VerifiedIdentity
    } else if let Some(phone) = &person.phone_hash {
        let phones = hashes_of(
            &state.protector,
            (Field::WorkerPhone, Purpose::Phone),
            &person.id,
            person.phone_cipher.as_deref(),
            phone,
        );
        query = query.filter(si_transfer::Column::PhoneHash.is_in(phones));
        Evidence::Phone
    } else {
        return Err(AppError::new(ErrorCode::IdentityNotProven));
    };
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let mut linked = Vec::new();
    for case in query.all(&transaction).await? {
        if link_case(
            &transaction,
            Some(request),
            Actor::Principal(worker),
            &person,
            (&case).into(),
            evidence,
        )
        .await?
        {
            linked.push(case);
        }
    }
    if !linked.is_empty() {
        mark_proven(&transaction, &person).await?;
    }
    let transfers = views(&transaction, linked).await?;
    transaction.commit().await?;
    Ok(transfers)
}
