//! 免申即享 offers: proposed by matching to the workers who meet every
//! criterion of an `auto_offer` program, confirmed in batches by reviewers
//! of their region (each confirmation audited: it is done for the worker),
//! then accepted by the worker with one request, which files the
//! application through the usual path with the answers the profile gives,
//! submitted, or declined.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{program_offer, worker};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    sea_query::OnConflict,
};
use serde_json::json;

use super::{matching, notice};
use crate::{
    access,
    auth::Principal,
    context::RequestContext,
    domain::{RegionCode, TextType},
    error::{AppError, AppResult, ErrorCode, Localized},
    services::{
        applications::{self, Applicant, ApplicantInClear, Application},
        audit::{self, Event},
        keyset::{Cut, Keyset, Window},
        notifications,
        programs::{self, Program, ProgramStatus, rules},
    },
    state::AppState,
};

crate::text_enum! {
    /// Where a 免申即享 offer stands.
    OfferStatus {
        /// Found by matching; a reviewer has still to confirm it.
        Proposed => "proposed",
        /// Confirmed: the worker may accept it.
        Confirmed => "confirmed",
        /// The worker accepted it: it is an application now.
        Accepted => "accepted",
        Declined => "declined",
        /// The worker no longer qualifies, or stopped 政策找人.
        Withdrawn => "withdrawn",
    }
}

/// Confirmed or waiting to be: what a worker may still take up.
const OPEN: [OfferStatus; 2] = [OfferStatus::Proposed, OfferStatus::Confirmed];

#[derive(Debug, Clone)]
pub struct Offer {
    pub id: String,
    pub program_id: String,
    pub worker_id: String,
    pub region_code: RegionCode,
    pub status: OfferStatus,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The application it became, once accepted.
    pub application_id: Option<String>,
}

fn offer_of(row: program_offer::Model) -> AppResult<Offer> {
    let corrupt = || AppError::internal(anyhow::anyhow!("offer {} is malformed", row.id));
    Ok(Offer {
        status: OfferStatus::parse(&row.status).ok_or_else(corrupt)?,
        region_code: RegionCode::parse(&row.region_code).map_err(|_| corrupt())?,
        id: row.id,
        program_id: row.program_id,
        worker_id: row.worker_id,
        created_at: row.created_at,
        confirmed_at: row.confirmed_at,
        decided_at: row.decided_at,
        application_id: row.application_id,
    })
}

fn open_statuses() -> [&'static str; 2] {
    OPEN.map(OfferStatus::as_str)
}

/// Every offer made to the worker.
pub async fn of_worker(db: &impl ConnectionTrait, worker_id: &str) -> AppResult<Vec<Offer>> {
    program_offer::Entity::find()
        .filter(program_offer::Column::WorkerId.eq(worker_id))
        .order_by_asc(program_offer::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(offer_of)
        .collect()
}

/// Offers the program to the workers (each with the region that confirms
/// it); an offer withdrawn before is proposed again, one declined or taken
/// stays so. Returns how many were proposed now.
pub async fn propose(
    transaction: &DatabaseTransaction,
    program: &Program,
    workers: &[(String, RegionCode)],
) -> AppResult<i64> {
    if workers.is_empty() {
        return Ok(0);
    }
    let existing: HashMap<String, String> = program_offer::Entity::find()
        .filter(program_offer::Column::ProgramId.eq(&program.id))
        .filter(program_offer::Column::WorkerId.is_in(workers.iter().map(|(w, _)| w.clone())))
        .all(transaction)
        .await?
        .into_iter()
        .map(|row| (row.worker_id, row.status))
        .collect();
    let now = Utc::now();
    let fresh: Vec<program_offer::ActiveModel> = workers
        .iter()
        .filter(|(worker_id, _)| !existing.contains_key(worker_id))
        .map(|(worker_id, region)| program_offer::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            program_id: Set(program.id.clone()),
            worker_id: Set(worker_id.clone()),
            region_code: Set(region.as_str().to_owned()),
            status: Set(OfferStatus::Proposed.as_str().to_owned()),
            created_at: Set(now),
            confirmed_at: Set(None),
            confirmed_by: Set(None),
            decided_at: Set(None),
            application_id: Set(None),
            updated_at: Set(now),
        })
        .collect();
    let proposed = fresh.len() as i64;
    if !fresh.is_empty() {
        program_offer::Entity::insert_many(fresh)
            .on_conflict(
                OnConflict::columns([program_offer::Column::ProgramId, program_offer::Column::WorkerId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(transaction)
            .await?;
    }
    let withdrawn: Vec<&String> = existing
        .iter()
        .filter(|(_, status)| status.as_str() == OfferStatus::Withdrawn.as_str())
        .map(|(worker_id, _)| worker_id)
        .collect();
    let revived = if withdrawn.is_empty() {
        0
    } else {
        set_status(OfferStatus::Proposed)
            .filter(program_offer::Column::ProgramId.eq(&program.id))
            .filter(program_offer::Column::WorkerId.is_in(withdrawn.into_iter().cloned()))
            .filter(program_offer::Column::Status.eq(OfferStatus::Withdrawn.as_str()))
            .exec(transaction)
            .await?
            .rows_affected as i64
    };
    Ok(proposed + revived)
}

fn set_status(to: OfferStatus) -> sea_orm::UpdateMany<program_offer::Entity> {
    program_offer::Entity::update_many().set(program_offer::ActiveModel {
        status: Set(to.as_str().to_owned()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    })
}

/// Withdraws the program's open offers to these workers, who no longer
/// meet every criterion.
pub async fn withdraw_for_program(
    transaction: &DatabaseTransaction,
    program_id: &str,
    worker_ids: &[String],
) -> AppResult<()> {
    if worker_ids.is_empty() {
        return Ok(());
    }
    set_status(OfferStatus::Withdrawn)
        .filter(program_offer::Column::ProgramId.eq(program_id))
        .filter(program_offer::Column::WorkerId.is_in(worker_ids.iter().cloned()))
        .filter(program_offer::Column::Status.is_in(open_statuses()))
        .exec(transaction)
        .await?;
    Ok(())
}

/// Withdraws the worker's open offers but those of `kept` programs.
pub async fn withdraw_for_worker(transaction: &DatabaseTransaction, worker_id: &str, kept: &[String]) -> AppResult<()> {
    set_status(OfferStatus::Withdrawn)
        .filter(program_offer::Column::WorkerId.eq(worker_id))
        .filter(program_offer::Column::ProgramId.is_not_in(kept.iter().cloned()))
        .filter(program_offer::Column::Status.is_in(open_statuses()))
        .exec(transaction)
        .await?;
    Ok(())
}

/// Withdraws every open offer of the worker; returns how many.
pub async fn withdraw_all_of(transaction: &DatabaseTransaction, worker_id: &str) -> AppResult<u64> {
    Ok(set_status(OfferStatus::Withdrawn)
        .filter(program_offer::Column::WorkerId.eq(worker_id))
        .filter(program_offer::Column::Status.is_in(open_statuses()))
        .exec(transaction)
        .await?
        .rows_affected)
}

// ---- reviewers --------------------------------------------------------------

/// An offer as a reviewer confirms it: the worker masked.
#[derive(Debug, Clone)]
pub struct StaffOffer {
    pub offer: Offer,
    pub applicant: Applicant,
}

/// The program whose offers a reviewer works, and the regions of the
/// offers they reach (`None`: all of the program's).
async fn program_for_reviewer(
    state: &AppState,
    reviewer: &Principal,
    program_id: &str,
) -> AppResult<(Program, Option<Vec<String>>)> {
    access::require_offer_reviewer(reviewer)?;
    let program = programs::load(&state.db, program_id).await?;
    let region = program.terms.region_code;
    access::require_offer_region(&state.regions, reviewer, region)?;
    if !program.terms.auto_offer {
        return Err(AppError::new(ErrorCode::InvalidState).with_message(Localized::fixed(
            "这项补贴不是免申即享，没有要确认的名单。",
            "This program is not auto_offer: it has no offers.",
        )));
    }
    let scope = if access::covers(&state.regions, reviewer, region) {
        None
    } else {
        access::staff_scope(&state.regions, reviewer, None)?
    };
    Ok((program, scope))
}

/// One page of a program's offers in the reviewer's region (of `status`,
/// or all), oldest first, the workers masked.
pub async fn list_for_reviewer(
    state: &AppState,
    reviewer: &Principal,
    program_id: &str,
    status: Option<OfferStatus>,
    window: Window,
) -> AppResult<Cut<StaffOffer>> {
    use program_offer::Column::{CreatedAt, Id};
    let (program, scope) = program_for_reviewer(state, reviewer, program_id).await?;
    let filter = (&program.id, &scope, status);
    let order = (vec![CreatedAt, Id], false);
    let keyset = Keyset::open(&state.protector, "program_offers", &filter, order, window)?;
    let mut query = program_offer::Entity::find().filter(program_offer::Column::ProgramId.eq(&program.id));
    if let Some(codes) = scope {
        query = query.filter(program_offer::Column::RegionCode.is_in(codes));
    }
    if let Some(status) = status {
        query = query.filter(program_offer::Column::Status.eq(status.as_str()));
    }
    let (rows, cut) = keyset
        .read(&state.db, query, |row| {
            vec![row.created_at.into(), row.id.as_str().into()]
        })
        .await?
        .take_items();
    let offers = rows.into_iter().map(offer_of).collect::<AppResult<Vec<_>>>()?;
    let people: HashMap<String, worker::Model> = worker::Entity::find()
        .filter(worker::Column::Id.is_in(offers.iter().map(|o| o.worker_id.clone())))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|row| (row.id.clone(), row))
        .collect();
    let listed = offers
        .into_iter()
        .map(|offer| {
            let applicant = people.get(&offer.worker_id).map(|row| masked(state, row));
            StaffOffer {
                applicant: applicant.unwrap_or(Applicant {
                    name_masked: None,
                    id_number_masked: None,
                    phone_masked: None,
                }),
                offer,
            }
        })
        .collect();
    Ok(cut.with_items(listed))
}

fn masked(state: &AppState, row: &worker::Model) -> Applicant {
    let clear = |field, cipher: &Option<String>| {
        cipher
            .as_deref()
            .and_then(|c| state.protector.decrypt(field, &row.id, c).ok())
    };
    ApplicantInClear {
        name: row.real_name.clone(),
        id_number: clear(crate::infra::crypto::Field::WorkerIdNumber, &row.id_number_cipher),
        phone: clear(crate::infra::crypto::Field::WorkerPhone, &row.phone_cipher),
    }
    .masked()
}

/// An offer a batch did not confirm, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub offer_id: String,
    /// `not_found`, `out_of_region`, or the offer's status.
    pub reason_code: &'static str,
    pub reason: &'static str,
}

#[derive(Debug, Clone)]
pub struct Confirmation {
    pub confirmed: Vec<String>,
    pub skipped: Vec<Skipped>,
}

fn skipped(offer_id: &str, reason_code: &'static str) -> Skipped {
    let reason = match reason_code {
        "out_of_region" => "这位申请人不在您的辖区，由所在地的审核人员确认。",
        "confirmed" => "已经确认过了。",
        "accepted" => "申请人已经领取。",
        "declined" => "申请人已经放弃。",
        "withdrawn" => "已撤回：申请人不再符合条件，或关闭了政策找人。",
        "changed" => "刚被其他人处理过，请刷新后查看。",
        _ => "这项补贴没有这条待确认记录。",
    };
    Skipped {
        offer_id: offer_id.to_owned(),
        reason_code,
        reason,
    }
}

/// Confirms the proposed offers among `offer_ids` that the reviewer
/// reaches, in one conditional update; tells each worker and audits each
/// confirmation. The others are skipped, each with why.
pub async fn confirm(
    state: &AppState,
    request: &RequestContext,
    reviewer: &Principal,
    program_id: &str,
    offer_ids: &[String],
) -> AppResult<Confirmation> {
    let (program, scope) = program_for_reviewer(state, reviewer, program_id).await?;
    if program.status == ProgramStatus::Closed {
        return Err(AppError::new(ErrorCode::ProgramClosed));
    }
    let scope: Option<HashSet<String>> = scope.map(|codes| codes.into_iter().collect());
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let found: HashMap<String, program_offer::Model> = program_offer::Entity::find()
        .filter(program_offer::Column::Id.is_in(offer_ids.iter().cloned()))
        .filter(program_offer::Column::ProgramId.eq(&program.id))
        .all(&transaction)
        .await?
        .into_iter()
        .map(|row| (row.id.clone(), row))
        .collect();
    let mut candidates = Vec::new();
    let mut skipped_ones = Vec::new();
    let mut seen = HashSet::new();
    for id in offer_ids.iter().filter(|id| seen.insert(id.as_str())) {
        match found.get(id) {
            None => skipped_ones.push(skipped(id, "not_found")),
            Some(row) if scope.as_ref().is_some_and(|s| !s.contains(&row.region_code)) => {
                skipped_ones.push(skipped(id, "out_of_region"));
            }
            Some(row) if row.status != OfferStatus::Proposed.as_str() => {
                let status = OfferStatus::parse(&row.status).map_or("not_found", OfferStatus::as_str);
                skipped_ones.push(skipped(id, status));
            }
            Some(_) => candidates.push(id.clone()),
        }
    }
    let now = Utc::now();
    let confirmed: Vec<program_offer::Model> = program_offer::Entity::update_many()
        .set(program_offer::ActiveModel {
            status: Set(OfferStatus::Confirmed.as_str().to_owned()),
            confirmed_at: Set(Some(now)),
            confirmed_by: Set(Some(reviewer.subject.clone())),
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(program_offer::Column::Id.is_in(candidates.iter().cloned()))
        .filter(program_offer::Column::Status.eq(OfferStatus::Proposed.as_str()))
        .exec_with_returning(&transaction)
        .await?;
    let done: HashSet<&str> = confirmed.iter().map(|row| row.id.as_str()).collect();
    skipped_ones.extend(
        candidates
            .iter()
            .filter(|id| !done.contains(id.as_str()))
            .map(|id| skipped(id, "changed")),
    );
    record_confirmations(&transaction, request, reviewer, &program, &confirmed).await?;
    transaction.commit().await?;
    Ok(Confirmation {
        confirmed: confirmed.into_iter().map(|row| row.id).collect(),
        skipped: skipped_ones,
    })
}

/// Each confirmation is an act for a worker: audited one by one, and told
/// to the worker.
async fn record_confirmations(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    reviewer: &Principal,
    program: &Program,
    confirmed: &[program_offer::Model],
) -> AppResult<()> {
    for row in confirmed {
        let region = RegionCode::parse(&row.region_code).ok();
        let details = json!({ "program_id": program.id, "worker_id": row.worker_id });
        let event = Event::success(
            reviewer,
            "program_offer.confirm",
            ("program_offer", &row.id),
            region,
            Some(details),
        );
        audit::record(transaction, Some(request), event).await?;
    }
    let messages: Vec<_> = confirmed
        .iter()
        .map(|row| (row.worker_id.clone(), notice::confirmed(program, &row.id)))
        .collect();
    if !messages.is_empty() {
        notifications::enqueue_many(transaction, notice::OFFER_EVENT, &messages).await?;
    }
    Ok(())
}

// ---- the worker ---------------------------------------------------------------

fn not_found() -> AppError {
    AppError::new(ErrorCode::NotFound).with_message(Localized::fixed(
        "没有找到这项免申即享补贴。",
        "No offer of yours has this id.",
    ))
}

/// Why an offer that is not confirmed cannot be taken up.
fn not_open(status: OfferStatus) -> AppError {
    match status {
        OfferStatus::Proposed => AppError::new(ErrorCode::OfferNotConfirmed),
        OfferStatus::Declined => AppError::new(ErrorCode::OfferClosed)
            .with_message(Localized::fixed(
                "您已经放弃了这项免申即享补贴，不能再领取。如果仍想要，可以在补贴页面自己申请。",
                "You declined this offer.",
            ))
            .with_details(json!({ "status": status.as_str() })),
        _ => AppError::new(ErrorCode::OfferClosed)
            .with_message(Localized::fixed(
                "这项免申即享补贴已经撤回（您的资料变了、不再符合条件，或关闭了政策找人），不能领取。",
                "This offer was withdrawn.",
            ))
            .with_details(json!({ "status": status.as_str() })),
    }
}

async fn own_offer(db: &impl ConnectionTrait, worker: &Principal, id: &str) -> AppResult<Offer> {
    program_offer::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .filter(|row| row.worker_id == worker.subject)
        .map(offer_of)
        .transpose()?
        .ok_or_else(not_found)
}

/// The worker takes up a confirmed offer in one request: the application is
/// filed and submitted through the usual path, its answers given by the
/// profile, and the offer marked accepted, all in one transaction. Again
/// (a retry): the same application, nothing filed twice.
pub async fn accept(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    id: &str,
) -> AppResult<(Offer, Application)> {
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    // Claimed first: of two accepts at once, the second waits here and then
    // finds it accepted.
    let claimed = set_status(OfferStatus::Accepted)
        .col_expr(
            program_offer::Column::DecidedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(program_offer::Column::Id.eq(id))
        .filter(program_offer::Column::WorkerId.eq(&worker.subject))
        .filter(program_offer::Column::Status.eq(OfferStatus::Confirmed.as_str()))
        .exec(&transaction)
        .await?
        .rows_affected;
    let offer = own_offer(&transaction, worker, id).await?;
    if claimed == 0 {
        return match (offer.status, &offer.application_id) {
            (OfferStatus::Accepted, Some(application_id)) => {
                let application = applications::read::application(&transaction, application_id).await?;
                Ok((offer, application))
            }
            (status, _) => Err(not_open(status)),
        };
    }
    let program = programs::load(&transaction, &offer.program_id).await?;
    let row = matching::worker_row(&transaction, &worker.subject).await?;
    let answers = rules::prefill(&program.terms.form_fields, &matching::profile_answers(state, &row));
    let created = applications::create_from_offer(state, &transaction, request, worker, &program, answers).await?;
    program_offer::Entity::update_many()
        .set(program_offer::ActiveModel {
            application_id: Set(Some(created.id.clone())),
            ..Default::default()
        })
        .filter(program_offer::Column::Id.eq(id))
        .exec(&transaction)
        .await?;
    let details = json!({ "program_id": program.id, "application_id": created.id });
    let event = Event::success(
        worker,
        "program_offer.accept",
        ("program_offer", id),
        None,
        Some(details),
    );
    audit::record(&transaction, Some(request), event).await?;
    let offer = own_offer(&transaction, worker, id).await?;
    let application = applications::read::application(&transaction, &created.id).await?;
    transaction.commit().await?;
    Ok((offer, application))
}

/// The worker turns a confirmed offer down (again: the same answer).
pub async fn decline(state: &AppState, request: &RequestContext, worker: &Principal, id: &str) -> AppResult<Offer> {
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let offer = own_offer(&transaction, worker, id).await?;
    match offer.status {
        OfferStatus::Declined => return Ok(offer),
        OfferStatus::Confirmed => {}
        OfferStatus::Accepted => {
            return Err(AppError::new(ErrorCode::OfferClosed)
                .with_message(Localized::fixed(
                    "您已经领取了这项补贴，不能再放弃；如需撤回，请在“我的申请”里撤回申请。",
                    "You accepted this offer already; withdraw the application instead.",
                ))
                .with_details(json!({ "status": offer.status.as_str() })));
        }
        other => return Err(not_open(other)),
    }
    set_status(OfferStatus::Declined)
        .col_expr(
            program_offer::Column::DecidedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(program_offer::Column::Id.eq(id))
        .exec(&transaction)
        .await?;
    let event = Event::success(worker, "program_offer.decline", ("program_offer", id), None, None);
    audit::record(&transaction, Some(request), event).await?;
    let offer = own_offer(&transaction, worker, id).await?;
    transaction.commit().await?;
    Ok(offer)
}
