//! Social-insurance transfers (社保关系转移接续): opened by a worker or by an
//! agency, moved step by step by the agencies' systems, each step due within
//! its legal limit in working days, every change in the agencies' feed.
//!
//! Each command loads the case (`read`), checks who may act (`access`),
//! asks the rule (`status`) and records the change (`case_log`).

pub mod claims;
mod notice;
pub mod process;
mod read;
pub mod status;

use chrono::{DateTime, Utc};
use entity::{si_transfer, si_transfer_step};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, SqlErr};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use self::{
    notice::events,
    read::{Change, Step, Transfer},
};
use self::{
    process::InsuranceType,
    read::{Case, StaffQuery},
    status::{Advance, Decision, StepStatus, TransferStatus},
};
use crate::{
    access,
    auth::{Principal, Scope},
    context::RequestContext,
    domain::{IdNumber, PhoneNumber, RegionCode},
    error::{AppError, AppResult, ErrorCode, Localized},
    infra::crypto::{DataProtector, Field, Purpose},
    services::{
        allowances::DailyAllowance,
        calendar,
        case_log::{self, By, CaseKind, CaseRef, Notice},
        counters, idempotency, versioned, webhooks,
    },
    state::AppState,
};

const NUMBER_PREFIX: &str = "ZJ";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    pub id: String,
    pub transfer_no: String,
    pub status: TransferStatus,
}

/// The case if the integrator reaches it; one outside its region is not
/// found, like one that does not exist.
fn reached(state: &AppState, client: &Principal, case: Option<Case>) -> AppResult<Case> {
    case.filter(|case| {
        let transfer = &case.transfer;
        access::client_reaches(
            &state.regions,
            client,
            transfer.from_region_code,
            transfer.to_region_code,
        )
    })
    .ok_or_else(|| AppError::new(ErrorCode::NotFound))
}

fn known_region(state: &AppState, field: &str, code: RegionCode) -> AppResult<()> {
    state
        .regions
        .require(code)
        .map(|_| ())
        .map_err(|_| AppError::invalid_field(field, ErrorCode::RegionNotFound.default_message()))
}

/// Which cases a staff list shows.
pub struct StaffFilter {
    /// Inside the staff member's region; by default all of it.
    pub region: Option<RegionCode>,
    pub status: Option<TransferStatus>,
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

/// A case just opened.
struct NewCase {
    id: String,
    transfer_no: String,
    to: RegionCode,
    worker_id: Option<String>,
    created_at: DateTime<Utc>,
}

impl NewCase {
    fn case_ref(&self) -> CaseRef<'_> {
        CaseRef {
            kind: CaseKind::Transfer,
            id: &self.id,
            number: &self.transfer_no,
            worker_id: self.worker_id.as_deref(),
            region: Some(self.to),
        }
    }
}

/// An opening as the feed, the worker and the audit log see it.
fn opened_change(notice: Option<Notice>, audit_details: Value) -> case_log::Change<'static> {
    case_log::Change {
        action: "open",
        from: None,
        to: TransferStatus::InProgress.as_str(),
        comment: None,
        notice,
        audit_action: "si_transfer.open",
        audit_details,
    }
}

/// Inserts the case, under the current process, and its pending steps.
async fn open_case(
    transaction: &DatabaseTransaction,
    protector: &DataProtector,
    opening: &Opening,
    id_number_hash: String,
    opener: Opener,
) -> AppResult<NewCase> {
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
    let transfer_no = counters::readable_number(transaction, NUMBER_PREFIX, opening.to.as_str()).await?;
    let row = si_transfer::ActiveModel {
        id: Set(id.clone()),
        transfer_no: Set(transfer_no.clone()),
        insurance_type: Set(opening.insurance_type.as_str().to_owned()),
        from_region_code: Set(opening.from.as_str().to_owned()),
        to_region_code: Set(opening.to.as_str().to_owned()),
        worker_id: Set(worker_id.clone()),
        id_number_hash: Set(id_number_hash),
        source: Set(source.to_owned()),
        client_id: Set(client_id),
        status: Set(TransferStatus::InProgress.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        anonymised_at: Set(None),
        phone_cipher: Set(phone_cipher),
        phone_hash: Set(phone_hash),
        claim_expires_at: Set(claim_code_hash.as_ref().map(|_| now + claims::CLAIM_CODE_LIFETIME)),
        claim_code_hash: Set(claim_code_hash),
        version: Set(1),
        process_version: Set(process::CURRENT_VERSION),
    }
    .insert(transaction)
    .await
    .map_err(|err| match err.sql_err() {
        // A worker's second case in progress of the same insurance and route.
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::new(ErrorCode::TransferAlreadyOpen),
        _ => err.into(),
    })?;
    insert_steps(transaction, &id, opening.insurance_type, now).await?;
    Ok(NewCase {
        id,
        transfer_no,
        to: opening.to,
        worker_id,
        created_at: row.created_at,
    })
}

/// The case's steps under the current process, all pending.
async fn insert_steps(
    transaction: &DatabaseTransaction,
    id: &str,
    insurance: InsuranceType,
    now: DateTime<Utc>,
) -> AppResult<()> {
    for (position, spec) in process::current(insurance).iter().enumerate() {
        si_transfer_step::ActiveModel {
            transfer_id: Set(id.to_owned()),
            position: Set(position as i32),
            step: Set(spec.key.to_owned()),
            office: Set(spec.office.as_str().to_owned()),
            status: Set(StepStatus::Pending.as_str().to_owned()),
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
    Ok(())
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
    let id_hash = read::id_number_hash(&state.db, &worker.subject).await?;
    // Each case goes out to every agency's feed and webhook: a worker opens
    // a few a day at most.
    let allowance = DailyAllowance::new(state.store.as_ref(), "si_transfers", &worker.subject);
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
        async |transaction| open_and_announce(transaction, state, request, worker, &opening, id_hash.clone()).await,
    )
    .await;
    allowance.settle(&opened).await;
    opened
}

/// The worker's case: opened, announced to the agencies' webhooks, and
/// recorded.
async fn open_and_announce(
    transaction: &DatabaseTransaction,
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    opening: &Opening,
    id_hash: String,
) -> AppResult<Created> {
    let opener = Opener::Worker {
        worker_id: worker.subject.clone(),
    };
    let case = open_case(transaction, &state.protector, opening, id_hash, opener).await?;
    webhooks::enqueue(
        transaction,
        &state.regions,
        Scope::SiTransferRead,
        "si_transfer.created",
        &[opening.from, opening.to],
        &json!({
            "event": "si_transfer.created",
            "transfer_no": case.transfer_no,
            "insurance_type": opening.insurance_type.as_str(),
            "from_region_code": opening.from.as_str(),
            "to_region_code": opening.to.as_str(),
            "created_at": case.created_at.to_rfc3339(),
        }),
    )
    .await?;
    let notice = notice::opened(
        &case.id,
        &case.transfer_no,
        &process::current(opening.insurance_type)[0],
    );
    let change = opened_change(Some(notice), json!({ "transfer_no": case.transfer_no }));
    case_log::record(transaction, request, case.case_ref(), By::Worker(worker), change).await?;
    Ok(Created {
        id: case.id,
        transfer_no: case.transfer_no,
        status: TransferStatus::InProgress,
    })
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
    access::require_taker(client, status::AGENCY)?;
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
    let opener = Opener::Agency {
        client_id: client.subject.clone(),
        evidence: AgencyEvidence {
            phone: agency.phone.clone(),
            claim_code_hash: claims::claim_code_hash(protector, &claim_code),
        },
    };
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let opened = open_case(&transaction, protector, opening, id_hash, opener).await?;
    let details = json!({ "transfer_no": opened.transfer_no, "phone_recorded": agency.phone.is_some() });
    case_log::record(
        &transaction,
        request,
        opened.case_ref(),
        By::Agency(client),
        opened_change(None, details),
    )
    .await?;
    let holder_hashes = protector.lookup_hashes(Purpose::IdNumber, agency.id_number.as_str());
    let unclaimed = claims::Unclaimed {
        id: &opened.id,
        transfer_no: &opened.transfer_no,
        region: Some(opened.to),
    };
    let linked = claims::link_if_proven(&transaction, request, client, unclaimed, holder_hashes).await?;
    let case = read::by_id(&transaction, &opened.id).await?.ok_or_else(vanished)?;
    transaction.commit().await?;
    Ok(AgencyOpened {
        transfer: case.transfer,
        claim_code: (!linked).then_some(claim_code),
        claim_expires_at: case.claim_expires_at.filter(|_| !linked),
    })
}

fn vanished() -> AppError {
    AppError::internal(anyhow::anyhow!("a transfer vanished inside its transaction"))
}

/// The worker's cases: those they opened and those they linked.
/// One page of the worker's cases, newest first, with how many they have.
pub async fn list_for_worker(
    state: &AppState,
    worker: &Principal,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Transfer>, u64)> {
    read::worker_page(&state.db, &worker.subject, page, page_size).await
}

pub async fn get_for_worker(state: &AppState, worker: &Principal, id: &str) -> AppResult<Transfer> {
    read::of_worker(&state.db, &worker.subject, id)
        .await?
        .map(|case| case.transfer)
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))
}

pub async fn get_for_agency(state: &AppState, client: &Principal, transfer_no: &str) -> AppResult<Transfer> {
    access::require_scope(client, Scope::SiTransferRead)?;
    let case = read::by_number(&state.db, transfer_no).await?;
    Ok(reached(state, client, case)?.transfer)
}

/// An agency's report that a step happened.
pub struct StepReport {
    pub occurred_at: DateTime<Utc>,
    pub note: Option<String>,
}

/// Records a step. The same report twice changes nothing the second time;
/// a step before its predecessor, or a different report of a done step, is
/// 409, and so is the second of two reports made at once.
pub async fn record_step(
    state: &AppState,
    request: &RequestContext,
    client: &Principal,
    transfer_no: &str,
    step: &str,
    report: StepReport,
) -> AppResult<Transfer> {
    access::require_taker(client, status::AGENCY)?;
    status::check_occurred_at(report.occurred_at, Utc::now())?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let case = reached(state, client, read::by_number(&transaction, transfer_no).await?)?;
    let progress: Vec<_> = case.transfer.steps.iter().map(Step::progress).collect();
    let decision = status::report_step(case.process, case.transfer.status, &progress, step, report.occurred_at)?;
    let Decision::Advance(advance) = decision else {
        return Ok(case.transfer);
    };
    advance_case(&transaction, &case, advance, client, &report).await?;
    let spec = &case.process[advance.position];
    let change = case_log::Change {
        action: spec.key,
        from: Some(advance.from.as_str()),
        to: advance.to.as_str(),
        comment: report.note.as_deref(),
        notice: Some(notice::step_done(
            &case.transfer.id,
            &case.transfer.transfer_no,
            advance.to,
            case.process.get(advance.position + 1),
        )),
        audit_action: "si_transfer.step",
        audit_details: json!({ "step": spec.key, "occurred_at": report.occurred_at.to_rfc3339() }),
    };
    case_log::record(&transaction, request, case_ref(&case), By::Agency(client), change).await?;
    let view = read::by_id(&transaction, &case.transfer.id)
        .await?
        .ok_or_else(vanished)?;
    transaction.commit().await?;
    Ok(view.transfer)
}

fn case_ref(case: &Case) -> CaseRef<'_> {
    CaseRef {
        kind: CaseKind::Transfer,
        id: &case.transfer.id,
        number: &case.transfer.transfer_no,
        worker_id: case.worker_id.as_deref(),
        region: Some(case.transfer.to_region_code),
    }
}

/// Writes a step done: the case first, only if nobody moved it since it was
/// loaded (so of two agencies reporting at once the second gets 409), then
/// the step and the next step's due day from the case's process.
async fn advance_case(
    transaction: &DatabaseTransaction,
    case: &Case,
    advance: Advance,
    client: &Principal,
    report: &StepReport,
) -> AppResult<()> {
    let now = Utc::now();
    let id = &case.transfer.id;
    let changes = si_transfer::ActiveModel {
        status: Set(advance.to.as_str().to_owned()),
        updated_at: Set(now),
        ..Default::default()
    };
    versioned::update::<si_transfer::Entity>(transaction, id, case.version, changes).await?;
    let done = si_transfer_step::Entity::update_many()
        .set(si_transfer_step::ActiveModel {
            status: Set(StepStatus::Done.as_str().to_owned()),
            occurred_at: Set(Some(report.occurred_at)),
            note: Set(report.note.clone()),
            recorded_by: Set(Some(client.subject.clone())),
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(si_transfer_step::Column::TransferId.eq(id))
        .filter(si_transfer_step::Column::Position.eq(advance.position as i32))
        .filter(si_transfer_step::Column::Status.eq(StepStatus::Pending.as_str()))
        .exec(transaction)
        .await?;
    if done.rows_affected == 0 {
        return Err(versioned::stale(case.version));
    }
    let next = advance.position + 1;
    if next < case.transfer.steps.len() {
        let calendar = calendar::load(transaction).await?;
        si_transfer_step::Entity::update_many()
            .set(si_transfer_step::ActiveModel {
                due_on: Set(status::due_on(case.process, next, report.occurred_at, &calendar)),
                updated_at: Set(now),
                ..Default::default()
            })
            .filter(si_transfer_step::Column::TransferId.eq(id))
            .filter(si_transfer_step::Column::Position.eq(next as i32))
            .exec(transaction)
            .await?;
    }
    Ok(())
}

/// The feed of the cases the client reaches after `cursor`, in order; the
/// last `seq` is the next cursor (the sequence is shared by every region, so
/// a client sees gaps where other regions' entries are).
pub async fn changes(state: &AppState, client: &Principal, cursor: i64, limit: u64) -> AppResult<Vec<Change>> {
    access::require_scope(client, Scope::SiTransferRead)?;
    let codes = access::staff_scope(&state.regions, client, None)?;
    read::changes(&state.db, codes, cursor, limit).await
}

/// Cases whose old or new place is in `region` (by default the staff
/// member's whole region), which must lie inside the staff member's scope;
/// one page, oldest first, with how many match.
pub async fn list_for_staff(
    state: &AppState,
    staff: &Principal,
    filter: StaffFilter,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Transfer>, u64)> {
    access::require_transfer_follower(staff)?;
    let query = StaffQuery {
        codes: access::staff_scope(&state.regions, staff, filter.region)?,
        status: filter.status,
        overdue_only: filter.overdue_only,
        page,
        page_size,
    };
    read::staff_page(&state.db, query).await
}
