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
use rand::Rng;
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
    services::audit::{self, Actor, Event, Outcome},
    state::AppState,
};

/// How long a claim code works after the agency opened the case.
pub const CLAIM_CODE_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::days(30);
/// Wrong claim codes a worker may enter in `WRONG_CLAIMS_WINDOW`.
pub const MAX_CLAIM_TRIES: i64 = 5;
const CLAIM_TRIES_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// 32 symbols without 0/O and 1/I, which people confuse on paper.
const CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// 12 symbols: 60 random bits, printed as three groups of four.
const CODE_LENGTH: usize = 12;

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

/// A fresh claim code, e.g. `K7M2-Q9XP-4HTD`.
pub fn new_claim_code() -> String {
    let mut rng = rand::rng();
    let symbols: Vec<char> = (0..CODE_LENGTH)
        .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
        .collect();
    symbols
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The code as typed, without spaces or dashes and in capitals; `None`
/// when it cannot be a claim code at all.
pub fn normalise_claim_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == CODE_LENGTH && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// The keyed hash a claim code is stored as.
pub fn claim_code_hash(protector: &DataProtector, code: &str) -> Option<String> {
    normalise_claim_code(code).map(|code| protector.lookup_hash(Purpose::ClaimCode, &code))
}

/// Every hash a stored claim code may hold, under each listed lookup key.
fn claim_code_hashes(protector: &DataProtector, code: &str) -> Option<Vec<String>> {
    normalise_claim_code(code).map(|code| protector.lookup_hashes(Purpose::ClaimCode, &code))
}

fn tries_key(worker_id: &str) -> String {
    format!("claim_tries:{worker_id}")
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
    let key = tries_key(&person.id);
    if state.store.increment(&key, CLAIM_TRIES_WINDOW).await? > MAX_CLAIM_TRIES {
        return Err(AppError::new(ErrorCode::ClaimTriesExhausted).with_retry_after(CLAIM_TRIES_WINDOW));
    }
    let now = Utc::now();
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let case = match claim_code_hashes(&state.protector, code) {
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
    state.store.decrement(&key).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_code_reads_back_as_itself() {
        let code = new_claim_code();
        assert_eq!(code.len(), CODE_LENGTH + 2, "{code}");
        assert_eq!(normalise_claim_code(&code), Some(code.replace('-', "")));
    }

    #[test]
    fn typing_slips_are_forgiven_but_not_confusable_symbols() {
        assert_eq!(
            normalise_claim_code(" k7m2 q9xp-4htd "),
            Some("K7M2Q9XP4HTD".to_owned())
        );
        assert_eq!(normalise_claim_code("K7M2-Q9XP-4HT0"), None, "0 is not in the alphabet");
        assert_eq!(normalise_claim_code("K7M2-Q9XP"), None);
        assert_eq!(normalise_claim_code(""), None);
    }
}
