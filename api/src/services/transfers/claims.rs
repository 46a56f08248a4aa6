//! Linking an agency-opened case to a worker's account, under the rules of
//! `services::evidence` (a claim code, the recorded phone, a proven number),
//! which applications filed at a service window share.

use chrono::Utc;
use entity::{si_transfer, worker};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;

use super::{Transfer, read};
pub use crate::services::evidence::{CLAIM_CODE_LIFETIME, claim_code_hash, new_claim_code};
use crate::{
    auth::Principal,
    context::RequestContext,
    domain::{RegionCode, TextType},
    error::{AppError, AppResult, ErrorCode},
    services::{
        audit::{self, Actor, Event, Outcome},
        evidence::{self, Evidence, Standing},
    },
    state::AppState,
};

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
    let evidence::Claimant { person, id_hashes } =
        evidence::claimant(&state.db, &state.protector, &worker.subject).await?;
    evidence::spend_claim_try(state, &person.id).await?;
    let now = Utc::now();
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let case = match evidence::claim_code_hashes(&state.protector, code) {
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
    evidence::mark_proven(&transaction, &person).await?;
    let mut transfer = views(&transaction, vec![case]).await?;
    transaction.commit().await?;
    evidence::give_back_claim_try(state, &person.id).await?;
    transfer
        .pop()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("a claimed case vanished")))
}

/// Links every case agencies opened for the worker's ID number that the
/// worker's evidence covers: all of them once the number is proven, else
/// those whose recorded phone is the worker's WeChat-verified phone. None
/// found is an empty list, whether or not the number has other cases.
pub async fn link(state: &AppState, request: &RequestContext, worker: &Principal) -> AppResult<Vec<Transfer>> {
    let evidence::Claimant { person, id_hashes } =
        evidence::claimant(&state.db, &state.protector, &worker.subject).await?;
    let standing = evidence::required_standing(&state.protector, &person)?;
    let mut query = si_transfer::Entity::find()
        .filter(si_transfer::Column::WorkerId.is_null())
        .filter(si_transfer::Column::IdNumberHash.is_in(id_hashes))
        .order_by_asc(si_transfer::Column::CreatedAt);
    if let Standing::Phone(phones) = &standing {
        query = query.filter(si_transfer::Column::PhoneHash.is_in(phones.clone()));
    }
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let mut linked = Vec::new();
    for case in query.all(&transaction).await? {
        if link_case(
            &transaction,
            Some(request),
            Actor::Principal(worker),
            &person,
            (&case).into(),
            standing.evidence(),
        )
        .await?
        {
            linked.push(case);
        }
    }
    if !linked.is_empty() {
        evidence::mark_proven(&transaction, &person).await?;
    }
    let transfers = views(&transaction, linked).await?;
    transaction.commit().await?;
    Ok(transfers)
}
