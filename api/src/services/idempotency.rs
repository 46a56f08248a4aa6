//! `Idempotency-Key` for worker creates, as API.md has it: the same key and
//! body replay the first response and create nothing twice; the same key with
//! another body is 422; the same key while the first request is still running
//! is 409. The response is stored in the same transaction as what it created,
//! so a crash leaves either both or neither.

use chrono::Utc;
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
    let claim = idempotency_record::ActiveModel {
        principal: Set(owner.clone()),
        idempotency_key: Set(key.to_owned()),
        request_hash: Set(hash.clone()),
        state: Set(IN_FLIGHT.to_owned()),
        response_status: Set(None),
        response_body: Set(None),
        created_at: Set(Utc::now()),
    };
    if let Err(err) = claim.insert(db).await {
        if !matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
            return Err(err.into());
        }
        let existing = idempotency_record::Entity::find_by_id((owner.clone(), key.to_owned()))
            .one(db)
            .await?
            .ok_or_else(|| AppError::new(ErrorCode::IdempotencyInFlight))?;
        if existing.request_hash != hash {
            return Err(AppError::new(ErrorCode::IdempotencyKeyReused));
        }
        if existing.state == DONE {
            let body = existing.response_body.unwrap_or_default();
            return serde_json::from_str(&body).map_err(AppError::internal);
        }
        if Utc::now() - existing.created_at < ABANDONED_AFTER {
            return Err(AppError::new(ErrorCode::IdempotencyInFlight));
        }
        // The first request died mid-way; this one takes its place.
        let taken = idempotency_record::Entity::update_many()
            .set(idempotency_record::ActiveModel {
                created_at: Set(Utc::now()),
                ..Default::default()
            })
            .filter(idempotency_record::Column::Principal.eq(&owner))
            .filter(idempotency_record::Column::IdempotencyKey.eq(key))
            .filter(idempotency_record::Column::State.eq(IN_FLIGHT))
            .filter(idempotency_record::Column::CreatedAt.eq(existing.created_at))
            .exec(db)
            .await?;
        if taken.rows_affected == 0 {
            return Err(AppError::new(ErrorCode::IdempotencyInFlight));
        }
    }

    let transaction = crate::infra::db::begin_write(db).await?;
    match create(&transaction).await {
        Ok(response) => {
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
        Err(error) => {
            drop(transaction);
            // Nothing was created: free the key so a corrected retry may use it.
            idempotency_record::Entity::delete_by_id((owner, key.to_owned()))
                .exec(db)
                .await?;
            Err(error)
        }
    }
}
