//! `Idempotency-Key` for worker creates, as API.md has it: the same key and
//! body replay the first response and create nothing twice; the same key with
//! another body is 422; the same key while the first request is still running
//! is 409. The response is stored in the same transaction as what it created,
//! so a crash leaves either both or neither. Keys are remembered for
//! `KEPT_FOR`; the retention run forgets older ones.

use chrono::{DateTime, SubsecRound, Utc};
use entity::idempotency_record;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryTrait,
};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

use crate::{
    auth::Principal,
    error::{AppError, AppResult, ErrorCode},
    infra::db::Writes,
};

/// An in-flight record older than this belongs to a request that died; a
/// retry may take it over.
const ABANDONED_AFTER: chrono::Duration = chrono::Duration::seconds(60);
/// How often a release the database refused is tried again.
const RELEASE_RETRY: std::time::Duration = std::time::Duration::from_millis(250);
/// How long a key is remembered. API.md promises at least 24 hours; a month
/// covers any client's retries many times over, and the table does not grow
/// for ever.
pub const KEPT_FOR: chrono::Duration = chrono::Duration::days(30);
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
    once_checked(db, principal, key, hash, async || Ok(()), create).await
}

/// As `once`, with a `check` that runs first, once the key is claimed but
/// before the transaction begins: a slow outside call (WeChat's content
/// check) made there holds no database connection or lock while it waits.
/// When it fails, nothing is created and the key is released.
pub async fn once_checked<T, K, F>(
    db: &DatabaseConnection,
    principal: &Principal,
    key: &str,
    hash: String,
    check: K,
    create: F,
) -> AppResult<T>
where
    T: Serialize + DeserializeOwned,
    K: AsyncFnOnce() -> AppResult<()>,
    F: AsyncFnOnce(&DatabaseTransaction) -> AppResult<T>,
{
    once_writing(
        db,
        principal,
        key,
        hash,
        check,
        async |transaction: &DatabaseTransaction| Ok((create(transaction).await?, Writes::default())),
    )
    .await
}

/// As `once_checked`, where `create` also hands back writes it has not sent:
/// they go with the key's answer, in one statement on PostgreSQL.
pub async fn once_writing<T, K, F>(
    db: &DatabaseConnection,
    principal: &Principal,
    key: &str,
    hash: String,
    check: K,
    create: F,
) -> AppResult<T>
where
    T: Serialize + DeserializeOwned,
    K: AsyncFnOnce() -> AppResult<()>,
    F: AsyncFnOnce(&DatabaseTransaction) -> AppResult<(T, Writes)>,
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
    // A key already claimed is no error but no row inserted: the database
    // neither aborts the statement nor logs it, as it would a violation.
    let claim = idempotency_record::Entity::insert(claim)
        .on_conflict_do_nothing()
        .into_query();
    let inserted = match db.execute(&claim).await {
        Ok(done) => done.rows_affected() == 1,
        Err(err) => {
            // The insert may have landed with only its answer lost.
            release(db, owner, key.to_owned(), claimed_at).await;
            return Err(err.into());
        }
    };
    if !inserted {
        match claimed_before(db, &owner, key, &hash).await? {
            Claimed::Answered(body) => return serde_json::from_str(&body).map_err(AppError::internal),
            Claimed::TakenOver(at) => claimed_at = at,
        }
    }

    let outcome = async {
        check().await?;
        let transaction = crate::infra::db::begin_write(db).await?;
        let (response, mut writes) = create(&transaction).await?;
        let body = serde_json::to_string(&response).map_err(AppError::internal)?;
        let answer = idempotency_record::Entity::update_many()
            .set(idempotency_record::ActiveModel {
                state: Set(DONE.to_owned()),
                response_status: Set(Some(201)),
                response_body: Set(Some(body)),
                ..Default::default()
            })
            .filter(idempotency_record::Column::Principal.eq(&owner))
            .filter(idempotency_record::Column::IdempotencyKey.eq(key));
        writes.push(answer.into_query());
        writes.send(&transaction).await?;
        transaction.commit().await?;
        Ok(response)
    }
    .await;
    if outcome.is_err() {
        release(db, owner, key.to_owned(), claimed_at).await;
    }
    outcome
}

/// What became of a key someone claimed before.
enum Claimed {
    /// Its request finished: the stored answer, to replay.
    Answered(String),
    /// Its request died mid-way; this one took its place, claimed then.
    TakenOver(DateTime<Utc>),
}

/// A key already claimed: 422 under another body, the stored answer once
/// done, 409 while its request may still be running, else taken over.
async fn claimed_before(db: &DatabaseConnection, owner: &str, key: &str, hash: &str) -> AppResult<Claimed> {
    let existing = idempotency_record::Entity::find_by_id((owner.to_owned(), key.to_owned()))
        .one(db)
        .await?
        .ok_or_else(in_flight_error)?;
    if existing.request_hash != hash {
        return Err(AppError::new(ErrorCode::IdempotencyKeyReused));
    }
    if existing.state == DONE {
        return Ok(Claimed::Answered(existing.response_body.unwrap_or_default()));
    }
    if Utc::now() - existing.created_at < ABANDONED_AFTER {
        return Err(in_flight_error());
    }
    Ok(Claimed::TakenOver(
        take_over(db, owner, key, existing.created_at).await?,
    ))
}

/// Claims anew an in-flight key whose claim (made at `abandoned_at`) was
/// abandoned; 409 when another request took it over first. Returns the new
/// claim's instant.
async fn take_over(
    db: &DatabaseConnection,
    owner: &str,
    key: &str,
    abandoned_at: DateTime<Utc>,
) -> AppResult<DateTime<Utc>> {
    let claimed_at = Utc::now().trunc_subsecs(6);
    let taken = idempotency_record::Entity::update_many()
        .set(idempotency_record::ActiveModel {
            created_at: Set(claimed_at),
            ..Default::default()
        })
        .filter(idempotency_record::Column::Principal.eq(owner))
        .filter(idempotency_record::Column::IdempotencyKey.eq(key))
        .filter(idempotency_record::Column::State.eq(IN_FLIGHT))
        .filter(idempotency_record::Column::CreatedAt.eq(abandoned_at))
        .exec(db)
        .await?;
    if taken.rows_affected == 0 {
        return Err(in_flight_error());
    }
    Ok(claimed_at)
}

/// The keys claimed more than `KEPT_FOR` before `now`: forgotten with
/// `apply`, else only counted. Returns how many.
pub async fn forget_expired(db: &DatabaseConnection, now: DateTime<Utc>, apply: bool) -> AppResult<u64> {
    let expired = idempotency_record::Column::CreatedAt.lt(now - KEPT_FOR);
    if apply {
        let deleted = idempotency_record::Entity::delete_many()
            .filter(expired)
            .exec(db)
            .await?;
        Ok(deleted.rows_affected)
    } else {
        Ok(idempotency_record::Entity::find().filter(expired).count(db).await?)
    }
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

/// The key itself goes from the header, checked there for 1 to 255
/// characters, straight into the record's key; what is computed from the
/// request, and so could panic or collide, is the hash and the owner.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;
    use crate::auth::Audience;

    /// Bodies are typed structs in the routes; arbitrary JSON with any Unicode
    /// in its strings and keys covers whatever they serialize to.
    fn body() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,300}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("\\PC{0,20}", inner, 0..6)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    /// Subjects made of audience names and colons, besides any text, try to
    /// make one caller's owner spell another's.
    fn principal() -> impl Strategy<Value = Principal> {
        let audience = prop::sample::select(vec![Audience::Worker, Audience::Staff, Audience::Integrator]);
        let subject = prop_oneof!["(worker|staff|integrator|:|1){0,4}", "\\PC{0,64}"];
        (audience, subject).prop_map(|(audience, subject)| Principal {
            audience,
            subject,
            session_id: "s-1".to_owned(),
            roles: vec![],
            region: None,
            scopes: vec![],
            acting: None,
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The record's column holds 64 characters; a hash of another shape
        /// would fail the insert rather than the comparison.
        #[test]
        fn any_operation_and_body_hash_to_64_lowercase_hex_digits(operation in "\\PC{0,300}", body in body()) {
            let hash = request_hash(&operation, &body);
            prop_assert_eq!(hash.len(), 64);
            prop_assert!(hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{}", hash);
            prop_assert_eq!(request_hash(&operation, &body), hash);
        }

        /// A retry with another body under the same key must be told 422, not
        /// be handed the first body's response.
        #[test]
        fn different_bodies_under_one_operation_hash_differently(first in body(), second in body()) {
            prop_assume!(first != second);
            prop_assert_ne!(request_hash("createApplication", &first), request_hash("createApplication", &second));
        }

        /// A key reused on another route must be refused, not replay a
        /// response of another shape.
        #[test]
        fn one_body_under_different_operations_hashes_differently(body in body()) {
            prop_assert_ne!(request_hash("createApplication", &body), request_hash("openTransfer", &body));
            prop_assert_ne!(request_hash("openTransfer", &body), request_hash("fileWageReport", &body));
        }

        /// Keys are chosen by the client, so two callers may well pick the same
        /// one; only a distinct owner keeps one from replaying the other's
        /// response.
        #[test]
        fn different_callers_never_share_an_owner(first in principal(), second in principal()) {
            prop_assume!((first.audience, &first.subject) != (second.audience, &second.subject));
            prop_assert_ne!(owner(&first), owner(&second));
        }
    }
}
