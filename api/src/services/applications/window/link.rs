//! A case filed at a service window joins the person's account under the
//! evidence rules of agency cases (`services::evidence`): the claim code of
//! the window's receipt (`claim`), the phone the window recorded equal to
//! the phone WeChat verified, or a proven ID number (`link`, and at every
//! sign-in: `link_at_sign_in`), always with the case's ID number in the
//! profile. The recorded copy of the person is then emptied: the profile
//! speaks for them. Each join is in the case's timeline and audited
//! (`application.link`, naming the evidence).

use chrono::Utc;
use entity::{application, window_filing, worker};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;

use super::{
    super::{Application, case_log_ref, read, status::ApplicationStatus},
    person,
};
use crate::{
    auth::Principal,
    context::RequestContext,
    error::{AppError, AppResult, ErrorCode},
    services::{
        audit::{self, Actor, Event, Outcome},
        case_log::{self, By, Change},
        evidence::{self, Evidence, Standing},
    },
    state::AppState,
};

/// Gives the waiting case to the worker, unless someone was faster or the
/// worker already has a live application of their own to the same program
/// and period (that one stays theirs; this one keeps waiting).
async fn join(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    by: By<'_>,
    person: &worker::Model,
    application_id: &str,
    evidence: Evidence,
) -> AppResult<bool> {
    let Some(case) = read::case(transaction, application_id).await? else {
        return Ok(false);
    };
    if case.worker_id.is_some() {
        return Ok(false);
    }
    let row = application::Entity::find_by_id(application_id.to_owned())
        .one(transaction)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    let own = application::Entity::find()
        .filter(application::Column::WorkerId.eq(&person.id))
        .filter(application::Column::ProgramId.eq(&row.program_id))
        .filter(application::Column::Period.eq(&row.period))
        .filter(application::Column::Status.is_not_in([
            ApplicationStatus::Withdrawn.as_str(),
            ApplicationStatus::Rejected.as_str(),
        ]))
        .count(transaction)
        .await?;
    if own > 0 && !matches!(case.status, ApplicationStatus::Withdrawn | ApplicationStatus::Rejected) {
        return Ok(false);
    }
    let joined = application::Entity::update_many()
        .col_expr(application::Column::WorkerId, Expr::value(person.id.clone()))
        .col_expr(application::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            application::Column::Version,
            Expr::col(application::Column::Version).add(1),
        )
        .filter(application::Column::Id.eq(application_id))
        .filter(application::Column::WorkerId.is_null())
        .exec(transaction)
        .await?;
    if joined.rows_affected == 0 {
        return Ok(false);
    }
    window_filing::Entity::update_many()
        .set(window_filing::ActiveModel {
            linked_at: Set(Some(Utc::now())),
            link_evidence: Set(Some(evidence.as_str().to_owned())),
            ..person::forgotten()
        })
        .filter(window_filing::Column::ApplicationId.eq(application_id))
        .exec(transaction)
        .await?;
    let change = Change {
        action: "link",
        step: None,
        from: Some(case.status.as_str()),
        to: case.status.as_str(),
        comment: None,
        notice: None,
        audit_action: "application.link",
        audit_details: json!({
            "application_no": case.application_no,
            "worker_id": person.id,
            "evidence": evidence.as_str(),
        }),
    };
    let mut reference = case_log_ref(&case);
    reference.worker_id = Some(&person.id);
    case_log::record(transaction, request, reference, by, change).await?;
    Ok(true)
}

/// At the filing: the case joins the holder of the number at once when that
/// holder has proven it.
pub(super) async fn join_proven_holder(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    staff: &Principal,
    application_id: &str,
    id_hashes: &[String],
) -> AppResult<bool> {
    let holder = worker::Entity::find()
        .filter(worker::Column::IdNumberHash.is_in(id_hashes.to_vec()))
        .filter(worker::Column::IdVerifiedAt.is_not_null())
        .filter(worker::Column::ClosedAt.is_null())
        .one(transaction)
        .await?;
    match holder {
        Some(person) => {
            join(
                transaction,
                request,
                By::Staff(staff),
                &person,
                application_id,
                Evidence::VerifiedIdentity,
            )
            .await
        }
        None => Ok(false),
    }
}

/// A worker claims the case a window filed for them with the code on its
/// receipt. The profile must hold the case's ID number; a wrong, used,
/// expired or another person's code is 404 `CLAIM_CODE_INVALID`, and the
/// wrong tries of a day are shared with agency claim codes.
pub async fn claim(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    code: &str,
) -> AppResult<Application> {
    let evidence::Claimant { person, id_hashes } =
        evidence::claimant(&state.db, &state.protector, &worker.subject).await?;
    evidence::spend_claim_try(state, &person.id).await?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let waiting = match evidence::claim_code_hashes(&state.protector, code) {
        Some(hashes) => {
            window_filing::Entity::find()
                .filter(window_filing::Column::ClaimCodeHash.is_in(hashes))
                .filter(window_filing::Column::LinkedAt.is_null())
                .filter(window_filing::Column::ClaimExpiresAt.gt(Utc::now()))
                .filter(window_filing::Column::IdNumberHash.is_in(id_hashes))
                .one(&transaction)
                .await?
        }
        None => None,
    };
    let joined = match &waiting {
        Some(row) => {
            let by = By::Worker(worker);
            join(
                &transaction,
                request,
                by,
                &person,
                &row.application_id,
                Evidence::ClaimCode,
            )
            .await?
        }
        None => false,
    };
    let Some(row) = waiting.filter(|_| joined) else {
        drop(transaction);
        let refused = Event {
            actor: Actor::Principal(worker),
            action: "application.claim",
            target: None,
            region: None,
            outcome: Outcome::Denied,
            details: Some(json!({ "reason": "no claimable case for this code and ID number" })),
        };
        audit::record(&state.db, Some(request), refused).await?;
        return Err(AppError::new(ErrorCode::ClaimCodeInvalid));
    };
    evidence::mark_proven(&transaction, &person).await?;
    let application = read::application(&transaction, &row.application_id).await?;
    transaction.commit().await?;
    evidence::give_back_claim_try(state, &person.id).await?;
    Ok(application)
}

/// Joins every case windows filed for the worker's number that their
/// standing covers: all once the number is proven, else those whose
/// recorded phone is the worker's verified phone.
async fn join_covered(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    claimant: evidence::Claimant,
    standing: Standing,
) -> AppResult<Vec<Application>> {
    let evidence::Claimant { person, id_hashes } = claimant;
    let mut query = window_filing::Entity::find()
        .filter(window_filing::Column::LinkedAt.is_null())
        .filter(window_filing::Column::IdNumberHash.is_in(id_hashes))
        .order_by_asc(window_filing::Column::CreatedAt);
    if let Standing::Phone(phones) = &standing {
        query = query.filter(window_filing::Column::PhoneHash.is_in(phones.clone()));
    }
    let waiting = query.all(&state.db).await?;
    if waiting.is_empty() {
        return Ok(Vec::new());
    }
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let mut joined = Vec::new();
    for row in waiting {
        let by = By::Worker(worker);
        if join(
            &transaction,
            request,
            by,
            &person,
            &row.application_id,
            standing.evidence(),
        )
        .await?
        {
            joined.push(read::application(&transaction, &row.application_id).await?);
        }
    }
    if !joined.is_empty() {
        evidence::mark_proven(&transaction, &person).await?;
    }
    transaction.commit().await?;
    Ok(joined)
}

/// `POST /applications/link`: the cases the worker's evidence covers; 409
/// `IDENTITY_NOT_PROVEN` with neither a verified phone nor a proven number.
/// None found is an empty list, whether or not the number has other cases.
pub async fn link(state: &AppState, request: &RequestContext, worker: &Principal) -> AppResult<Vec<Application>> {
    let claimant = evidence::claimant(&state.db, &state.protector, &worker.subject).await?;
    let standing = evidence::required_standing(&state.protector, &claimant.person)?;
    join_covered(state, request, worker, claimant, standing).await
}

/// At sign-in: the same as `link`, silently nothing for a worker without an
/// ID number in the profile, or without a verified phone or proven number.
pub async fn link_at_sign_in(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
) -> AppResult<Vec<Application>> {
    let claimant = match evidence::claimant(&state.db, &state.protector, &worker.subject).await {
        Ok(claimant) => claimant,
        Err(err) if err.code == ErrorCode::ProfileIncomplete => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    match evidence::standing(&state.protector, &claimant.person) {
        Some(standing) => join_covered(state, request, worker, claimant, standing).await,
        None => Ok(Vec::new()),
    }
}
