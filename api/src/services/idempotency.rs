//! `Idempotency-Key` for worker creates, as API.md has it: the same key and
//! body replay the first response and create nothing twice; the same key with
//! another body is 422; the same key while the first request is still running
//! is 409. The response is stored in the same transaction as what it created,
//! so a crash leaves either both or neither.

use chrono::{DateTime, SubsecRound, Utc};
use entity::idempotency_record;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    SqlErr,
};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

use crate::{
    auth::Principal,
    error::{AppError, AppResult, ErrorCode},
};

/// An in-flight record older than this belongs to a request that died; a
/// retry may take it over.
const ABANDONED_AFTER: chrono::Duration = chrono::Duration::seconds(60);
/// How often a release the database refused is tried again.
const RELEASE_RETRY: std::time::Duration = std::time::Duration::from_millis(250);
const IN_FLIGHT: &str = "in_flight";
const DONE: &str = "done";

/// SHA-256 of what makes two requests "the same": the operation and the body.
pub fn request_hash(operation: &str, body: &impl Serialize) -> String {
    let body = serde_json::to_string(body).expect("request bodies serialize");
    hex::encode(Sha256::digest(format!("{operation}\n{body}").as_bytes()))
}

fn owner(principal: &Principal) -> String {
    format!("{}:{}", principal.audience.as_str(), principal.subject)
}

/// Runs `create` once per (principal, key). `create` gets the transaction in
/// which the response is stored; its result is what a replay returns.
pub async fn once<T, F>(
    db: &DatabaseConnection,
    principal: &Principal,
    key: &str,
    hash: String,
    create: F,
) -> AppResult<T>
where
    T: Serialize + DeserializeOwned,
    F: AsyncFnOnce(&DatabaseTransaction) -> AppResult<T>,
{
    let owner = owner(principal);
    // Whole microseconds, as both databases keep them: the claim is told
    // apart from a later one for the same key by this instant.
    let mut claimed_at = Utc::now().trunc_subsecs(6);
    let claim = idempotency_record::ActiveModel {
        principal: Set(owner.clone()),
        idempotency_key: Set(key.to_owned()),
        request_hash: Set(hash.clone()),
        state: Set(IN_FLIGHT.to_owned()),
        response_status: Set(None),
        response_body: Set(None),
        created_at: Set(claimed_at),
    };
    if let Err(err) = claim.insert(db).await {
        if !matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
            // The insert may have landed with only its answer lost.
            release(db, owner, key.to_owned(), claimed_at).await;
            return Err(err.into());
        }
        let existing = idempotency_record::Entity::find_by_id((owner.clone(), key.to_owned()))
            .one(db)
            .await?
            .ok_or_else(in_flight_error)?;
        if existing.request_hash != hash {
            return Err(AppError::new(ErrorCode::IdempotencyKeyReused));
        }
        if existing.state == DONE {
            let body = existing.response_body.unwrap_or_default();
            return serde_json::from_str(&body).map_err(AppError::internal);
        }
        if Utc::now() - existing.created_at < ABANDONED_AFTER {
            return Err(in_flight_error());
        }
        // The first request died mid-way; this one takes its place.
        claimed_at = Utc::now().trunc_subsecs(6);
        let taken = idempotency_record::Entity::update_many()
            .set(idempotency_record::ActiveModel {
                created_at: Set(claimed_at),
                ..Default::default()
            })
            .filter(idempotency_record::Column::Principal.eq(&owner))
            .filter(idempotency_record::Column::IdempotencyKey.eq(key))
            .filter(idempotency_record::Column::State.eq(IN_FLIGHT))
            .filter(idempotency_record::Column::CreatedAt.eq(existing.created_at))
            .exec(db)
            .await?;
        if taken.rows_affected == 0 {
            return Err(in_flight_error());
        }
    }

    let outcome = async {
        let transaction = crate::infra::db::begin_write(db).await?;
        let response = create(&transaction).await?;
        let body = serde_json::to_string(&response).map_err(AppError::internal)?;
        idempotency_record::Entity::update_many()
            .set(idempotency_record::ActiveModel {
                state: Set(DONE.to_owned()),
                response_status: Set(Some(201)),
                response_body: Set(Some(body)),
                ..Default::default()
            })
            .filter(idempotency_record::Column::Principal.eq(&owner))
            .filter(idempotency_record::Column::IdempotencyKey.eq(key))
            .exec(&transaction)
            .await?;
        transaction.commit().await?;
        Ok(response)
    }
    .await;
    if outcome.is_err() {
        release(db, owner, key.to_owned(), claimed_at).await;
    }
    outcome
}

fn in_flight_error() -> AppError {
    AppError::new(ErrorCode::IdempotencyInFlight).with_retry_after(std::time::Duration::from_secs(1))
}

/// Frees the key of a request that created nothing, so that a retry may use
/// it. Only an in-flight claim goes: if the commit went through and only its
/// answer was lost, the stored response stays for the retry to replay. When
/// the database itself failed, the release is tried again in the background
/// until it answers, or until the claim would count as abandoned anyway.
async fn release(db: &DatabaseConnection, owner: String, key: String, claimed_at: DateTime<Utc>) {
    if delete_in_flight(db, &owner, &key, claimed_at).await {
        return;
    }
    let db = db.clone();
    tokio::spawn(async move {
        let give_up = tokio::time::Instant::now() + ABANDONED_AFTER.to_std().expect("a positive duration");
        while tokio::time::Instant::now() < give_up {
            tokio::time::sleep(RELEASE_RETRY).await;
            if delete_in_flight(&db, &owner, &key, claimed_at).await {
                return;
            }
        }
    });
}

/// Deletes this request's claim only: not a stored response, nor a later
/// request's claim on the same key.
async fn delete_in_flight(db: &DatabaseConnection, owner: &str, key: &str, claimed_at: DateTime<Utc>) -> bool {
    idempotency_record::Entity::delete_many()
        .filter(idempotency_record::Column::Principal.eq(owner))
        .filter(idempotency_record::Column::IdempotencyKey.eq(key))
        .filter(idempotency_record::Column::State.eq(IN_FLIGHT))
        .filter(idempotency_record::Column::CreatedAt.eq(claimed_at))
        .exec(db)
        .await
        .is_ok()
}
