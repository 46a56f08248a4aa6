//! The evidence that joins a case someone else opened for a person to that
//! person's account: an agency's social-insurance transfer
//! (`transfers::claims`) or an application filed at a service window
//! (`applications::window`). One set of rules for both.
//!
//! The ID number in a profile is typed, and anyone can type anyone's, so it
//! never links a case by itself. A case joins an account only on evidence
//! that came from the office that opened it or from a real check, always
//! together with the same ID number in the profile:
//!
//! - the one-time claim code the office handed the person (its keyed hash is
//!   kept, it expires, it works once, and a worker has a bounded number of
//!   wrong tries a day, shared by every kind of case);
//! - the phone the office recorded, equal to the phone WeChat verified for
//!   the worker (`POST /me/phone`);
//! - an ID number already proven: an identity check (人脸核身 / 实名核验), or
//!   an earlier case linked with an office's evidence.
//!
//! Each link is an audit row naming the evidence. No answer tells whether a
//! number has cases: a wrong code, a used one, an expired one and a
//! stranger's all answer the same.

use std::time::Duration;

use chrono::Utc;
use entity::worker;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel};
use serde_json::json;

use crate::{
    error::{AppError, AppResult, ErrorCode},
    infra::crypto::{DataProtector, Field, Purpose},
    services::one_time_codes,
    state::AppState,
};

/// How long a claim code works after the office opened the case.
pub const CLAIM_CODE_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::days(30);
/// Wrong claim codes a worker may enter in a day, whatever the kind of case.
const CLAIM_TRIES: one_time_codes::Tries = one_time_codes::Tries {
    name: "claim_tries",
    max: 5,
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

/// Every hash a stored claim code may hold, under each listed lookup key.
pub fn claim_code_hashes(protector: &DataProtector, code: &str) -> Option<Vec<String>> {
    one_time_codes::hashes(protector, Purpose::ClaimCode, code)
}

/// Every keyed hash the stored rows may hold for one value: under each
/// lookup key still listed, so a rotation in progress misses no case.
pub fn hashes_of(
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

/// The worker who asks for a case, with the hashes of the ID number in
/// their profile.
pub struct Claimant {
    pub person: worker::Model,
    pub id_hashes: Vec<String>,
}

/// The worker with the hashes of their ID number; 400 `PROFILE_INCOMPLETE`
/// without one.
pub async fn claimant(db: &impl ConnectionTrait, protector: &DataProtector, worker_id: &str) -> AppResult<Claimant> {
    let person = worker::Entity::find_by_id(worker_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::SessionEnded))?;
    let stored = person
        .id_number_hash
        .as_deref()
        .ok_or_else(|| AppError::new(ErrorCode::ProfileIncomplete).with_details(json!({ "missing": ["id_number"] })))?;
    let id_hashes = hashes_of(
        protector,
        (Field::WorkerIdNumber, Purpose::IdNumber),
        &person.id,
        person.id_number_cipher.as_deref(),
        stored,
    );
    Ok(Claimant { person, id_hashes })
}

/// What the worker can link without a code: every case of their number once
/// it is proven, else those whose recorded phone is the one WeChat verified.
pub enum Standing {
    Proven,
    /// The hashes of the worker's verified phone.
    Phone(Vec<String>),
}

impl Standing {
    pub fn evidence(&self) -> Evidence {
        match self {
            Standing::Proven => Evidence::VerifiedIdentity,
            Standing::Phone(_) => Evidence::Phone,
        }
    }
}

/// The worker's standing, or `None` with neither a proven number nor a
/// verified phone.
pub fn standing(protector: &DataProtector, person: &worker::Model) -> Option<Standing> {
    if person.id_verified_at.is_some() {
        return Some(Standing::Proven);
    }
    person.phone_hash.as_deref().map(|phone| {
        Standing::Phone(hashes_of(
            protector,
            (Field::WorkerPhone, Purpose::Phone),
            &person.id,
            person.phone_cipher.as_deref(),
            phone,
        ))
    })
}

/// As `standing`, or 409 `IDENTITY_NOT_PROVEN`.
pub fn required_standing(protector: &DataProtector, person: &worker::Model) -> AppResult<Standing> {
    standing(protector, person).ok_or_else(|| AppError::new(ErrorCode::IdentityNotProven))
}

/// Takes one of the worker's claim tries of the day, before any code is
/// looked at, so that a burst cannot try more; 429
/// `CLAIM_TRIES_EXHAUSTED` once they are spent. A code that works gives
/// its try back (`give_back_claim_try`).
pub async fn spend_claim_try(state: &AppState, worker_id: &str) -> AppResult<()> {
    if !CLAIM_TRIES.spend(state, worker_id).await? {
        return Err(AppError::new(ErrorCode::ClaimTriesExhausted).with_retry_after(CLAIM_TRIES.window));
    }
    Ok(())
}

pub async fn give_back_claim_try(state: &AppState, worker_id: &str) -> AppResult<()> {
    CLAIM_TRIES.give_back(state, worker_id).await
}

/// Records that the worker's number is proven: a case was linked on an
/// office's evidence.
pub async fn mark_proven(transaction: &sea_orm::DatabaseTransaction, person: &worker::Model) -> AppResult<()> {
    if person.id_verified_at.is_none() {
        let mut active = person.clone().into_active_model();
        active.id_verified_at = Set(Some(Utc::now()));
        active.updated_at = Set(Utc::now());
        sea_orm::ActiveModelTrait::update(active, transaction).await?;
    }
    Ok(())
}
