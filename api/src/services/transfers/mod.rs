//! Social-insurance transfers (社保关系转移接续): opened by a worker or by an
//! agency, moved step by step by the agencies' systems, each step due within
//! its legal limit in working days, every change in the agencies' feed.

pub mod claims;
pub mod process;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{si_transfer, si_transfer_change, si_transfer_step, worker};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr, sea_query::Query,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use self::process::{InsuranceType, Office, StepSpec, steps};
use crate::{
    access,
    auth::{Principal, Scope},
    context::RequestContext,
    domain::{IdNumber, PhoneNumber, RegionCode, TextType},
    error::{AppError, AppResult, ErrorCode, Localized},
    infra::crypto::{DataProtector, Field, Purpose},
    services::{
        allowances::DailyAllowance,
        audit::{self, Actor, Event, Outcome},
        calendar::{self, Calendar},
        counters, idempotency, notifications, webhooks,
    },
    state::AppState,
};

const NUMBER_PREFIX: &str = "ZJ";
const FEED_COUNTER: &str = "si_transfer_feed";
const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";
const DONE: &str = "done";
const PENDING: &str = "pending";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    pub id: String,
    pub transfer_no: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub step: String,
    pub label: &'static str,
    pub office: Office,
    pub office_region: RegionCode,
    pub status: String,
    pub limit_days: Option<i32>,
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
    pub occurred_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Transfer {
    pub id: String,
    pub transfer_no: String,
    pub insurance_type: InsuranceType,
    pub from_region_code: RegionCode,
    pub to_region_code: RegionCode,
    pub source: String,
    pub status: String,
    pub overdue: bool,
    /// The office that holds the case now (the next pending step's); none when completed.
    pub responsible: Option<(Office, RegionCode)>,
    pub steps: Vec<Step>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The case if the integrator reaches it; one outside its region is not
/// found, like one that does not exist.
fn reached(state: &AppState, client: &Principal, row: Option<si_transfer::Model>) -> AppResult<si_transfer::Model> {
    row.filter(|t| {
        match (
            RegionCode::parse(&t.from_region_code),
            RegionCode::parse(&t.to_region_code),
        ) {
            (Ok(from), Ok(to)) => access::client_reaches(&state.regions, client, from, to),
            _ => false,
        }
    })
    .ok_or_else(|| AppError::new(ErrorCode::NotFound))
}

/// The cases with either end in one of `codes`, as a condition on `si_transfer`.
fn with_an_end_in(codes: Vec<String>) -> Condition {
    Condition::any()
        .add(si_transfer::Column::FromRegionCode.is_in(codes.clone()))
        .add(si_transfer::Column::ToRegionCode.is_in(codes))
}

fn spec_of(insurance: InsuranceType, step: &str) -> Option<&'static StepSpec> {
    steps(insurance).iter().find(|s| s.key == step)
}

async fn hydrate(db: &impl ConnectionTrait, calendar: &Calendar, row: si_transfer::Model) -> AppResult<Transfer> {
    let stored = si_transfer_step::Entity::find()
        .filter(si_transfer_step::Column::TransferId.eq(&row.id))
        .order_by_asc(si_transfer_step::Column::Position)
        .all(db)
        .await?;
    assemble(calendar, row, stored)
}

/// A case with its stored steps (in position order) as the API shows it.
fn assemble(calendar: &Calendar, row: si_transfer::Model, stored: Vec<si_transfer_step::Model>) -> AppResult<Transfer> {
    let corrupt = |what: &str| AppError::internal(anyhow::anyhow!("transfer {} has a malformed {what}", row.id));
    let insurance = InsuranceType::parse(&row.insurance_type).ok_or_else(|| corrupt("insurance type"))?;
    let from = RegionCode::parse(&row.from_region_code).map_err(|_| corrupt("region"))?;
    let to = RegionCode::parse(&row.to_region_code).map_err(|_| corrupt("region"))?;
    let today = crate::domain::china_time::today();
    let steps: Vec<Step> = stored
        .into_iter()
        .map(|s| {
            let spec = spec_of(insurance, &s.step);
            let office = spec.map_or(Office::To, |spec| spec.office);
            Step {
                overdue: s.status == PENDING && s.due_on.is_some_and(|due| calendar.is_overdue(due, today)),
                label: spec.map_or("", |spec| spec.label),
                office_region: if office == Office::From { from } else { to },
                office,
                step: s.step,
                status: s.status,
                limit_days: spec.and_then(|spec| spec.limit_days).map(|d| d as i32),
                due_on: s.due_on,
                occurred_at: s.occurred_at,
                note: s.note,
            }
        })
        .collect();
    Ok(Transfer {
        overdue: steps.iter().any(|s| s.overdue),
        responsible: steps
            .iter()
            .find(|s| s.status == PENDING)
            .map(|s| (s.office, s.office_region)),
        steps,
        insurance_type: insurance,
        from_region_code: from,
        to_region_code: to,
        id: row.id,
        transfer_no: row.transfer_no,
        source: row.source,
        status: row.status,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Appends to the agencies' feed. The sequence comes from a counter whose row
/// stays locked until the transaction commits, so entries become visible in
/// sequence order: a reader never sees 11 before 10 (no gaps, no repeats).
async fn feed(
    transaction: &DatabaseTransaction,
    transfer: &si_transfer::Model,
    kind: &str,
    step: Option<&str>,
) -> AppResult<()> {
    let seq = counters::next(transaction, FEED_COUNTER).await?;
    si_transfer_change::ActiveModel {
        seq: Set(seq),
        transfer_id: Set(transfer.id.clone()),
        transfer_no: Set(transfer.transfer_no.clone()),
        kind: Set(kind.to_owned()),
        step: Set(step.map(str::to_owned)),
        at: Set(Utc::now()),
    }
    .insert(transaction)
    .await?;
    Ok(())
}

fn known_region(state: &AppState, field: &str, code: RegionCode) -> AppResult<()> {
    state
        .regions
        .require(code)
        .map(|_| ())
        .map_err(|_| AppError::invalid_field(field, ErrorCode::RegionNotFound.default_message()))
}

/// Which cases a staff list shows.
pub struct StaffFilter<'a> {
    /// Inside the staff member's region; by default all of it.
    pub region: Option<RegionCode>,
    /// `in_progress` or `completed`.
    pub status: Option<&'a str>,
    /// Only cases with a step past its due day.
    pub overdue_only: bool,
}

/// What opens a case.
pub struct Opening {
    pub insurance_type: InsuranceType,
    pub from: RegionCode,
    pub to: RegionCode,
}

/// What an agency records when it opens a case, for the person to link it
/// with (see `claims`): the phone the agency has for them, and the claim
/// code's keyed hash.
struct AgencyEvidence {
    phone: Option<PhoneNumber>,
    claim_code_hash: Option<String>,
}

/// Who opens a case: the worker themself, or an agency for a person who
/// links it later.
enum Opener {
    Worker {
        worker_id: String,
    },
    Agency {
        client_id: String,
        evidence: AgencyEvidence,
    },
}

async fn open_case(
    transaction: &DatabaseTransaction,
    protector: &DataProtector,
    opening: &Opening,
    id_number_hash: String,
    opener: Opener,
) -> AppResult<si_transfer::Model> {
    let now = Utc::now();
    let id = uuid::Uuid::new_v4().to_string();
    let (source, worker_id, client_id, evidence) = match opener {
        Opener::Worker { worker_id } => ("worker", Some(worker_id), None, None),
        Opener::Agency { client_id, evidence } => ("agency", None, Some(client_id), Some(evidence)),
    };
    let claim_code_hash = evidence.as_ref().and_then(|e| e.claim_code_hash.clone());
    let (phone_cipher, phone_hash) = evidence
        .and_then(|e| e.phone)
        .map(|phone| {
            (
                protector.encrypt(Field::TransferAgencyPhone, &id, phone.as_str()),
                protector.lookup_hash(Purpose::Phone, phone.as_str()),
            )
        })
        .unzip();
    let transfer = si_transfer::ActiveModel {
        id: Set(id),
        transfer_no: Set(counters::readable_number(transaction, NUMBER_PREFIX, opening.to.as_str()).await?),
        insurance_type: Set(opening.insurance_type.as_str().to_owned()),
        from_region_code: Set(opening.from.as_str().to_owned()),
        to_region_code: Set(opening.to.as_str().to_owned()),
        worker_id: Set(worker_id),
        id_number_hash: Set(id_number_hash),
        source: Set(source.to_owned()),
        client_id: Set(client_id),
        status: Set(IN_PROGRESS.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        anonymised_at: Set(None),
        phone_cipher: Set(phone_cipher),
        phone_hash: Set(phone_hash),
        claim_expires_at: Set(claim_code_hash.as_ref().map(|_| now + claims::CLAIM_CODE_LIFETIME)),
        claim_code_hash: Set(claim_code_hash),
        version: Set(1),
        process_version: Set(1),
    }
    .insert(transaction)
    .await
    .map_err(|err| match err.sql_err() {
        // A worker's second case in progress of the same insurance and route.
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::new(ErrorCode::TransferAlreadyOpen),
        _ => err.into(),
    })?;
    for (position, spec) in steps(opening.insurance_type).iter().enumerate() {
        si_transfer_step::ActiveModel {
            transfer_id: Set(transfer.id.clone()),
            position: Set(position as i32),
            step: Set(spec.key.to_owned()),
            office: Set(spec.office.as_str().to_owned()),
            status: Set(PENDING.to_owned()),
            due_on: Set(None),
            occurred_at: Set(None),
            note: Set(None),
            recorded_by: Set(None),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(transaction)
        .await?;
    }
    feed(transaction, &transfer, "created", None).await?;
    Ok(transfer)
}

fn opening_checks(state: &AppState, opening: &Opening) -> AppResult<()> {
    known_region(state, "from_region_code", opening.from)?;
    known_region(state, "to_region_code", opening.to)?;
    if opening.from == opening.to {
        return Err(AppError::invalid_field(
            "to_region_code",
            Localized::fixed("转入地和转出地不能相同。", "The two regions must differ."),
        ));
    }
    Ok(())
}

/// A worker opens a case; their ID number (from the profile) lets the
/// agencies match it.
pub async fn open_for_worker(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    idempotency_key: &str,
    request_hash: String,
    opening: Opening,
) -> AppResult<Created> {
    opening_checks(state, &opening)?;
    let person = worker::Entity::find_by_id(worker.subject.clone())
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::SessionEnded))?;
    let id_hash = person
        .id_number_hash
        .ok_or_else(|| AppError::new(ErrorCode::ProfileIncomplete).with_details(json!({ "missing": ["id_number"] })))?;
    // Each case goes out to every agency's feed and webhook: a worker opens
    // a few a day at most.
    let allowance = DailyAllowance::new(state.store.as_ref(), "si_transfers", &person.id);
    let limit = state.config.transfers_per_day;
    let check = async || {
        allowance
            .take(
                limit,
                Localized::new(
                    format!("每天最多可以申请{limit}次社保转移，请明天再申请。"),
                    format!("At most {limit} transfers a day."),
                ),
            )
            .await
    };
    let opened = idempotency::once_checked(
        &state.db,
        worker,
        idempotency_key,
        request_hash,
        check,
        async |transaction| {
            let transfer = open_case(
                transaction,
                &state.protector,
                &opening,
                id_hash.clone(),
                Opener::Worker {
                    worker_id: worker.subject.clone(),
                },
            )
            .await?;
            webhooks::enqueue(
                transaction,
                &state.regions,
                Scope::SiTransferRead,
                "si_transfer.created",
                &[opening.from, opening.to],
                &json!({
                    "event": "si_transfer.created",
                    "transfer_no": transfer.transfer_no,
                    "insurance_type": transfer.insurance_type,
                    "from_region_code": transfer.from_region_code,
                    "to_region_code": transfer.to_region_code,
                    "created_at": transfer.created_at.to_rfc3339(),
                }),
            )
            .await?;
            notifications::enqueue(
                transaction,
                &worker.subject,
                "si_transfer.created",
                &notifications::Message {
                    title: "社保转移接续".to_owned(),
                    body: format!("已收到您的转移申请{}，请等待转入地受理。", transfer.transfer_no),
                    link: Some(format!("pages/transfers/detail?id={}", transfer.id)),
                },
            )
            .await?;
            audit::record(
                transaction,
                Some(request),
                Event {
                    actor: Actor::Principal(worker),
                    action: "si_transfer.open",
                    target: Some(("si_transfer", &transfer.id)),
                    region: RegionCode::parse(&transfer.to_region_code).ok(),
                    outcome: Outcome::Success,
                    details: Some(json!({ "transfer_no": transfer.transfer_no })),
                },
            )
            .await?;
            Ok(Created {
                id: transfer.id,
                transfer_no: transfer.transfer_no,
                status: transfer.status,
            })
        },
    )
    .await;
    allowance.settle(&opened).await;
    opened
}

/// What an agency gives when it opens a case.
pub struct AgencyOpening {
    pub opening: Opening,
    pub id_number: IdNumber,
    /// The phone the agency knows for the person; a worker whose WeChat
    /// phone is this one links the case without a code.
    pub phone: Option<PhoneNumber>,
}

/// A case an agency opened, with the claim code to hand the person: shown
/// this once, kept only as a keyed hash. None when the case joined its
/// worker at once.
pub struct AgencyOpened {
    pub transfer: Transfer,
    pub claim_code: Option<String>,
    pub claim_expires_at: Option<DateTime<Utc>>,
}

/// An agency opens a case for an ID number. It joins an account at once
/// only if the holder of that number has proven it; otherwise it waits for
/// the person to link it with the claim code or the recorded phone
/// (`claims`), whoever has typed the number.
pub async fn open_for_agency(
    state: &AppState,
    request: &RequestContext,
    client: &Principal,
    agency: AgencyOpening,
) -> AppResult<AgencyOpened> {
    access::require_scope(client, Scope::SiTransferWrite)?;
    opening_checks(state, &agency.opening)?;
    let opening = &agency.opening;
    if !access::client_reaches(&state.regions, client, opening.from, opening.to) {
        return Err(AppError::new(ErrorCode::OutOfRegionScope).with_details(json!({
            "from_region_code": opening.from,
            "to_region_code": opening.to,
        })));
    }
    let protector = &state.protector;
    let id_hash = protector.lookup_hash(Purpose::IdNumber, agency.id_number.as_str());
    let claim_code = claims::new_claim_code();
    let evidence = AgencyEvidence {
        phone: agency.phone.clone(),
        claim_code_hash: claims::claim_code_hash(protector, &claim_code),
    };
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let transfer = open_case(
        &transaction,
        protector,
        &agency.opening,
        id_hash,
        Opener::Agency {
            client_id: client.subject.clone(),
            evidence,
        },
    )
    .await?;
    audit::record(
        &transaction,
        Some(request),
        Event {
            actor: Actor::Principal(client),
            action: "si_transfer.open",
            target: Some(("si_transfer", &transfer.id)),
            region: RegionCode::parse(&transfer.to_region_code).ok(),
            outcome: Outcome::Success,
            details: Some(json!({ "transfer_no": transfer.transfer_no, "phone_recorded": agency.phone.is_some() })),
        },
    )
    .await?;
    let holder_hashes = protector.lookup_hashes(Purpose::IdNumber, agency.id_number.as_str());
    let linked = claims::link_if_proven(&transaction, request, client, &transfer, holder_hashes).await?;
    let transfer = si_transfer::Entity::find_by_id(transfer.id.clone())
        .one(&transaction)
        .await?
        .unwrap_or(transfer);
    let claim_expires_at = transfer.claim_expires_at;
    let calendar = calendar::load(&transaction).await?;
    let view = hydrate(&transaction, &calendar, transfer).await?;
    transaction.commit().await?;
    Ok(AgencyOpened {
        transfer: view,
        claim_code: (!linked).then_some(claim_code),
        claim_expires_at: claim_expires_at.filter(|_| !linked),
    })
}

/// The worker's cases: those they opened and those they linked.
pub async fn list_for_worker(state: &AppState, worker: &Principal) -> AppResult<Vec<Transfer>> {
    let rows = si_transfer::Entity::find()
        .filter(si_transfer::Column::WorkerId.eq(&worker.subject))
        .order_by_desc(si_transfer::Column::CreatedAt)
        .all(&state.db)
        .await?;
    let calendar = calendar::load(&state.db).await?;
    let mut transfers = Vec::with_capacity(rows.len());
    for row in rows {
        transfers.push(hydrate(&state.db, &calendar, row).await?);
    }
    Ok(transfers)
}

pub async fn get_for_worker(state: &AppState, worker: &Principal, id: &str) -> AppResult<Transfer> {
    let row = si_transfer::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .filter(|t| t.worker_id.as_deref() == Some(worker.subject.as_str()))
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    let calendar = calendar::load(&state.db).await?;
    hydrate(&state.db, &calendar, row).await
}

pub async fn get_for_agency(state: &AppState, client: &Principal, transfer_no: &str) -> AppResult<Transfer> {
    access::require_scope(client, Scope::SiTransferRead)?;
    let row = si_transfer::Entity::find()
        .filter(si_transfer::Column::TransferNo.eq(transfer_no))
        .one(&state.db)
        .await?;
    let row = reached(state, client, row)?;
    let calendar = calendar::load(&state.db).await?;
    hydrate(&state.db, &calendar, row).await
}

/// An agency's report that a step happened.
pub struct StepReport {
    pub occurred_at: DateTime<Utc>,
    pub note: Option<String>,
}

/// Records a step. The same report twice changes nothing the second time;
/// a step before its predecessor, or a different report of a done step, is 409.
pub async fn record_step(
    state: &AppState,
    request: &RequestContext,
    client: &Principal,
    transfer_no: &str,
    step: &str,
    report: StepReport,
) -> AppResult<Transfer> {
    access::require_scope(client, Scope::SiTransferWrite)?;
    if report.occurred_at > Utc::now() + chrono::Duration::minutes(5) {
        return Err(AppError::invalid_field(
            "occurred_at",
            Localized::fixed("办理时间不能晚于现在。", "occurred_at is in the future."),
        ));
    }
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let transfer = si_transfer::Entity::find()
        .filter(si_transfer::Column::TransferNo.eq(transfer_no))
        .one(&transaction)
        .await?;
    let transfer = reached(state, client, transfer)?;
    let insurance = InsuranceType::parse(&transfer.insurance_type)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("bad insurance type")))?;
    let process = steps(insurance);
    let Some(position) = process.iter().position(|s| s.key == step) else {
        return Err(AppError::new(ErrorCode::StepNotInProcess).with_details(json!({
            "step": step,
            "steps": process.iter().map(|s| s.key).collect::<Vec<_>>(),
        })));
    };
    let stored = si_transfer_step::Entity::find()
        .filter(si_transfer_step::Column::TransferId.eq(&transfer.id))
        .order_by_asc(si_transfer_step::Column::Position)
        .all(&transaction)
        .await?;
    let current = &stored[position];
    if current.status == DONE {
        if current.occurred_at == Some(report.occurred_at) {
            let calendar = calendar::load(&transaction).await?;
            return hydrate(&transaction, &calendar, transfer).await;
        }
        return Err(AppError::new(ErrorCode::StepAlreadyDone).with_details(json!({ "step": step })));
    }
    if let Some(previous) = position.checked_sub(1).map(|p| &stored[p]) {
        let in_order = previous.status == DONE && previous.occurred_at.is_none_or(|at| at <= report.occurred_at);
        if !in_order {
            return Err(AppError::new(ErrorCode::StepOutOfOrder).with_details(json!({
                "step": step,
                "waiting_for": previous.step,
            })));
        }
    }
    let now = Utc::now();
    si_transfer_step::Entity::update_many()
        .set(si_transfer_step::ActiveModel {
            status: Set(DONE.to_owned()),
            occurred_at: Set(Some(report.occurred_at)),
            note: Set(report.note.clone()),
            recorded_by: Set(Some(client.subject.clone())),
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(si_transfer_step::Column::Id.eq(current.id))
        .filter(si_transfer_step::Column::Status.eq(PENDING))
        .exec(&transaction)
        .await?;
    let calendar = calendar::load(&transaction).await?;
    if let Some(next) = stored.get(position + 1) {
        let due = process[position + 1]
            .limit_days
            .map(|days| calendar.add_working_days(crate::domain::china_time::date_of(report.occurred_at), days));
        si_transfer_step::Entity::update_many()
            .set(si_transfer_step::ActiveModel {
                due_on: Set(due),
                updated_at: Set(now),
                ..Default::default()
            })
            .filter(si_transfer_step::Column::Id.eq(next.id))
            .exec(&transaction)
            .await?;
    }
    let finished = position + 1 == process.len();
    let transfer = {
        let mut active: si_transfer::ActiveModel = transfer.clone().into();
        active.updated_at = Set(now);
        if finished {
            active.status = Set(COMPLETED.to_owned());
        }
        active.update(&transaction).await?
    };
    feed(&transaction, &transfer, "step", Some(step)).await?;
    if let Some(worker_id) = &transfer.worker_id {
        notifications::enqueue(
            &transaction,
            worker_id,
            "si_transfer.step",
            &notifications::Message {
                title: "社保转移接续进度".to_owned(),
                body: format!("{}：{}", transfer.transfer_no, process[position].label),
                link: Some(format!("pages/transfers/detail?id={}", transfer.id)),
            },
        )
        .await?;
    }
    audit::record(
        &transaction,
        Some(request),
        Event {
            actor: Actor::Principal(client),
            action: "si_transfer.step",
            target: Some(("si_transfer", &transfer.id)),
            region: RegionCode::parse(&transfer.to_region_code).ok(),
            outcome: Outcome::Success,
            details: Some(json!({ "step": step, "occurred_at": report.occurred_at.to_rfc3339() })),
        },
    )
    .await?;
    let view = hydrate(&transaction, &calendar, transfer).await?;
    transaction.commit().await?;
    Ok(view)
}

/// One entry of the feed.
#[derive(Debug, Clone)]
pub struct Change {
    pub seq: i64,
    pub transfer_no: String,
    pub kind: String,
    pub step: Option<String>,
    pub at: DateTime<Utc>,
}

/// The feed of the cases the client reaches after `cursor`, in order; the
/// last `seq` is the next cursor (the sequence is shared by every region, so
/// a client sees gaps where other regions' entries are).
pub async fn changes(state: &AppState, client: &Principal, cursor: i64, limit: u64) -> AppResult<Vec<Change>> {
    access::require_scope(client, Scope::SiTransferRead)?;
    let mut query = si_transfer_change::Entity::find()
        .filter(si_transfer_change::Column::Seq.gt(cursor))
        .order_by_asc(si_transfer_change::Column::Seq)
        .limit(limit);
    if let Some(codes) = access::staff_scope(&state.regions, client, None)? {
        query = query.filter(
            si_transfer_change::Column::TransferId.in_subquery(
                Query::select()
                    .column(si_transfer::Column::Id)
                    .from(si_transfer::Entity)
                    .cond_where(with_an_end_in(codes))
                    .to_owned(),
            ),
        );
    }
    Ok(query
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| Change {
            seq: c.seq,
            transfer_no: c.transfer_no,
            kind: c.kind,
            step: c.step,
            at: c.at,
        })
        .collect())
}

/// Cases whose old or new place is in `region` (by default the staff
/// member's whole region), which must lie inside the staff member's scope;
/// one page, oldest first, with how many match. Every filter is part of the
/// query, and the page's steps come in one more: four queries whatever the
/// page size.
pub async fn list_for_staff(
    state: &AppState,
    staff: &Principal,
    filter: StaffFilter<'_>,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Transfer>, u64)> {
    access::require_transfer_follower(staff)?;
    let calendar = calendar::load(&state.db).await?;
    let mut query = si_transfer::Entity::find()
        .order_by_asc(si_transfer::Column::CreatedAt)
        .order_by_asc(si_transfer::Column::Id);
    if let Some(codes) = access::staff_scope(&state.regions, staff, filter.region)? {
        query = query.filter(
            Condition::any()
                .add(si_transfer::Column::FromRegionCode.is_in(codes.clone()))
                .add(si_transfer::Column::ToRegionCode.is_in(codes)),
        );
    }
    if let Some(status) = filter.status {
        query = query.filter(si_transfer::Column::Status.eq(status));
    }
    if filter.overdue_only {
        // A pending step is overdue once its due day lies before the latest
        // working day (`Calendar::overdue_before`); a completed case has none.
        let cutoff = calendar.overdue_before(crate::domain::china_time::today());
        query = query.filter(
            si_transfer::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(si_transfer_step::Column::TransferId)
                    .from(si_transfer_step::Entity)
                    .and_where(si_transfer_step::Column::Status.eq(PENDING))
                    .and_where(si_transfer_step::Column::DueOn.lt(cutoff))
                    .to_owned(),
            ),
        );
    }
    let paginator = query.paginate(&state.db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    let mut steps: HashMap<String, Vec<si_transfer_step::Model>> = HashMap::new();
    if !rows.is_empty() {
        for step in si_transfer_step::Entity::find()
            .filter(si_transfer_step::Column::TransferId.is_in(rows.iter().map(|row| row.id.clone())))
            .order_by_asc(si_transfer_step::Column::TransferId)
            .order_by_asc(si_transfer_step::Column::Position)
            .all(&state.db)
            .await?
        {
            steps.entry(step.transfer_id.clone()).or_default().push(step);
        }
    }
    let transfers = rows
        .into_iter()
        .map(|row| {
            let stored = steps.remove(&row.id).unwrap_or_default();
            assemble(&calendar, row, stored)
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok((transfers, total))
}
