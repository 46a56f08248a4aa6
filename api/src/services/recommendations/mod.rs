//! 政策找人 (programs find their people) and 免申即享 (offered without
//! applying). A worker who agrees (a consent of its own, versioned and
//! revocable) is matched against every open program of their regions with
//! the programs' own rules (`programs::rules`): when a program opens (a
//! durable job, run in the background, set-based) and when their profile
//! changes (at once, for that worker). A new match is told to the worker
//! through the outbox, at most once a week. Their recommendations are
//! worked out when they ask, each with the criteria met, those still
//! unknown and what to do next. An `auto_offer` program's matches that meet
//! every criterion become offers, which reviewers confirm in batches and
//! the worker accepts with one request (`offers`).

mod jobs;
mod matching;
mod notice;
pub mod offers;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{program_match, recommendation_consent};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;

pub use self::{jobs::spawn_matcher, notice::events};
use self::{
    matching::Verdict,
    offers::{Offer, OfferStatus},
};
use crate::{
    auth::Principal,
    context::RequestContext,
    error::{AppError, AppResult, ErrorCode, Localized},
    services::{
        audit::{self, Event},
        programs::{Program, rules::Check},
        workers::{self, Profile, ProfileChange},
    },
    state::AppState,
};

/// The version of the 政策找人 text (《政策找人服务说明》) the worker agrees
/// to. Raise it when the text changes: earlier consents then match no more.
pub const RECOMMENDATION_CONSENT_VERSION: &str = "recommend-2026-12";

/// Where the worker stands with 政策找人.
#[derive(Debug, Clone)]
pub struct Consent {
    /// The version agreed to; `None` before agreeing and after revoking.
    pub consent_version: Option<String>,
    pub consented_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Consent {
    /// Whether matching may run for the worker: consent to the current text.
    pub fn given(&self) -> bool {
        self.consent_version.as_deref() == Some(RECOMMENDATION_CONSENT_VERSION)
    }
}

fn consent_of(row: Option<recommendation_consent::Model>) -> Consent {
    match row {
        Some(row) => Consent {
            consent_version: row.consent_version,
            consented_at: row.consented_at,
            revoked_at: row.revoked_at,
        },
        None => Consent {
            consent_version: None,
            consented_at: None,
            revoked_at: None,
        },
    }
}

async fn stored_consent(db: &impl ConnectionTrait, worker_id: &str) -> AppResult<Consent> {
    Ok(consent_of(
        recommendation_consent::Entity::find_by_id(worker_id.to_owned())
            .one(db)
            .await?,
    ))
}

pub async fn consent(state: &AppState, worker: &Principal) -> AppResult<Consent> {
    stored_consent(&state.db, &worker.subject).await
}

/// The worker agrees to the current text. Their matches are found at once,
/// without telling them: they are looking at the list as they agree.
pub async fn give_consent(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    version: &str,
) -> AppResult<Consent> {
    if version != RECOMMENDATION_CONSENT_VERSION {
        return Err(AppError::new(ErrorCode::ConsentRequired)
            .with_message(Localized::fixed(
                "请先阅读并同意当前版本的《政策找人服务说明》，再开启政策找人。",
                "Agree to the current recommendations text (details.current_version).",
            ))
            .with_details(json!({ "current_version": RECOMMENDATION_CONSENT_VERSION })));
    }
    let now = Utc::now();
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let existing = recommendation_consent::Entity::find_by_id(worker.subject.clone())
        .one(&transaction)
        .await?;
    let mut active = recommendation_consent::ActiveModel {
        worker_id: Set(worker.subject.clone()),
        consent_version: Set(Some(version.to_owned())),
        consented_at: Set(Some(now)),
        revoked_at: Set(None),
        updated_at: Set(now),
        ..Default::default()
    };
    if existing.is_some() {
        active.update(&transaction).await?;
    } else {
        active.last_notified_at = Set(None);
        active.insert(&transaction).await?;
    }
    let details = json!({ "consent_version": version });
    let given = Event::success(
        worker,
        "worker.recommendation_consent.give",
        ("worker", &worker.subject),
        None,
        Some(details),
    );
    audit::record(&transaction, Some(request), given).await?;
    matching::rematch_worker(state, &transaction, &worker.subject, false).await?;
    let consent = stored_consent(&transaction, &worker.subject).await?;
    transaction.commit().await?;
    Ok(consent)
}

/// The worker withdraws their consent: matching stops, their matches are
/// forgotten and the offers not yet taken are withdrawn. Applications they
/// made stay theirs.
pub async fn revoke_consent(state: &AppState, request: &RequestContext, worker: &Principal) -> AppResult<Consent> {
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let current = stored_consent(&transaction, &worker.subject).await?;
    if current.consent_version.is_some() {
        let now = Utc::now();
        recommendation_consent::ActiveModel {
            worker_id: Set(worker.subject.clone()),
            consent_version: Set(None),
            revoked_at: Set(Some(now)),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&transaction)
        .await?;
        program_match::Entity::delete_many()
            .filter(program_match::Column::WorkerId.eq(&worker.subject))
            .exec(&transaction)
            .await?;
        let withdrawn = offers::withdraw_all_of(&transaction, &worker.subject).await?;
        let details = json!({ "offers_withdrawn": withdrawn });
        let revoked = Event::success(
            worker,
            "worker.recommendation_consent.revoke",
            ("worker", &worker.subject),
            None,
            Some(details),
        );
        audit::record(&transaction, Some(request), revoked).await?;
    }
    let consent = stored_consent(&transaction, &worker.subject).await?;
    transaction.commit().await?;
    Ok(consent)
}

/// A closing account leaves 政策找人: its consent and matches go, its open
/// offers are withdrawn (in the closing's transaction).
pub async fn forget(transaction: &sea_orm::DatabaseTransaction, worker_id: &str) -> AppResult<()> {
    recommendation_consent::Entity::delete_by_id(worker_id.to_owned())
        .exec(transaction)
        .await?;
    program_match::Entity::delete_many()
        .filter(program_match::Column::WorkerId.eq(worker_id))
        .exec(transaction)
        .await?;
    offers::withdraw_all_of(transaction, worker_id).await?;
    Ok(())
}

/// A profile change, then the worker matched again at once: a new match is
/// told (at most once a week), matches and offers they no longer qualify
/// for go.
pub async fn update_profile(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    change: ProfileChange,
) -> AppResult<Profile> {
    let profile = workers::update_profile(state, request, worker, change).await?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    matching::rematch_worker(state, &transaction, &worker.subject, true).await?;
    transaction.commit().await?;
    Ok(profile)
}

/// One program the worker may qualify for.
#[derive(Debug, Clone)]
pub struct Recommendation {
    pub program: Program,
    /// The criteria the worker's profile meets.
    pub met: Vec<Check>,
    /// Those not known yet: asked in the form, or missing from the profile.
    pub unknown: Vec<Check>,
    /// What to do next, in Chinese.
    pub next_step: String,
    /// The 免申即享 offer, once a reviewer confirmed it (or while they have
    /// still to).
    pub offer: Option<Offer>,
}

/// The open programs of the worker's regions that no criterion rules them
/// out of, worked out now from the profile. 409
/// `RECOMMENDATION_CONSENT_REQUIRED` without consent.
pub async fn recommendations(state: &AppState, worker: &Principal) -> AppResult<Vec<Recommendation>> {
    if !consent(state, worker).await?.given() {
        return Err(AppError::new(ErrorCode::RecommendationConsentRequired)
            .with_details(json!({ "current_version": RECOMMENDATION_CONSENT_VERSION })));
    }
    let row = matching::worker_row(&state.db, &worker.subject).await?;
    let facts = workers::facts_of(&state.protector, &row);
    let applied = matching::applied_programs(&state.db, &worker.subject).await?;
    let mut offered: HashMap<String, Offer> = offers::of_worker(&state.db, &worker.subject)
        .await?
        .into_iter()
        .map(|offer| (offer.program_id.clone(), offer))
        .collect();
    let mut found = Vec::new();
    for program in matching::open_programs_for(state, &facts).await? {
        if applied.contains(&(program.id.clone(), program.terms.period.clone())) {
            continue;
        }
        let checks = matching::checks(state, &program, &facts);
        if matching::verdict(&checks) == Verdict::Fails {
            continue;
        }
        let offer = offered
            .remove(&program.id)
            .filter(|o| matches!(o.status, OfferStatus::Proposed | OfferStatus::Confirmed));
        let (met, unknown): (Vec<Check>, Vec<Check>) = checks.into_iter().partition(|c| c.passed);
        found.push(Recommendation {
            next_step: notice::next_step(&program, &unknown, offer.as_ref()),
            program,
            met,
            unknown,
            offer,
        });
    }
    Ok(found)
}
