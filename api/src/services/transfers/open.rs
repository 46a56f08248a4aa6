//! Opening a case: by the worker, or by an agency for a person who links it
//! later (`claims`).

use chrono::{DateTime, Utc};
use entity::{si_transfer, si_transfer_step};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, SqlErr,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Transfer, claims, known_region, notice, process, read, status, vanished};
use super::{
    process::{InsuranceType, Office},
    status::{StepStatus, TransferStatus},
};
use crate::{
    access,
    auth::{Principal, Scope},
    context::RequestContext,
    domain::{IdNumber, PhoneNumber, RegionCode},
    error::{AppError, AppResult, ErrorCode, Localized},
    infra::{
        crypto::{DataProtector, Field, Purpose},
        db::Writes,
    },
    services::{
        allowances::DailyAllowance,
        calendar::CalendarCache,
        case_log::{self, By, CaseKind, CaseRef, Notice},
        counters, idempotency, webhooks,
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
        action: "created",
        step: None,
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
    calendars: &CalendarCache,
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
        // A second case in progress for the same person, insurance and route.
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::new(ErrorCode::TransferAlreadyOpen),
        _ => err.into(),
    })?;
    insert_steps(transaction, calendars, &id, opening, now).await?;
    Ok(NewCase {
        id,
        transfer_no,
        to: opening.to,
        worker_id,
        created_at: row.created_at,
    })
}

/// The case's steps under the current process, all pending; the first
/// due within its limit from the request, in the working days of the
/// province whose office accepts it.
async fn insert_steps(
    transaction: &DatabaseTransaction,
    calendars: &CalendarCache,
    id: &str,
    opening: &Opening,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let process = process::current(opening.insurance_type);
    let calendars = calendars.current(transaction).await?;
    let rows = process.iter().enumerate().map(|(position, spec)| {
        let office_region = match spec.office {
            Office::From => opening.from,
            Office::To => opening.to,
        };
        let due_on = (position == 0)
            .then(|| status::due_on(process, position, now, calendars.of(office_region)))
            .flatten();
        si_transfer_step::ActiveModel {
            transfer_id: Set(id.to_owned()),
            position: Set(position as i32),
            step: Set(spec.key.to_owned()),
            office: Set(spec.office.as_str().to_owned()),
            status: Set(StepStatus::Pending.as_str().to_owned()),
            due_on: Set(due_on),
            occurred_at: Set(None),
            note: Set(None),
            recorded_by: Set(None),
            updated_at: Set(now),
            ..Default::default()
        }
    });
    // One statement for all the steps.
    si_transfer_step::Entity::insert_many(rows)
        .exec_without_returning(transaction)
        .await?;
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
    let opened = idempotency::once_writing(
        &state.db,
        worker,
        idempotency_key,
        request_hash,
        check,
        async |transaction| open_and_announce(transaction, state, request, worker, &opening, id_hash.clone()).await,
    )
    .await;
    allowance.settle(&opened).await;
    opened.map_err(|error| match error.code {
        // The case in progress may be one an agency opened for this ID
        // number that nobody has linked yet: the worker is told how to link
        // one, and nothing of whose case it is.
        ErrorCode::TransferAlreadyOpen => error.with_message(Localized::fixed(
            "这项社保转移已经在办理中。请在“我的社保转移”里查看进度；如果是社保经办机构为您开办的，请用经办机构给您的认领码认领。",
            "A transfer of this insurance on this route is already in progress; if an agency opened it for you, claim it with their code.",
        )),
        _ => error,
    })
}

/// The worker's case: opened, announced to the agencies' webhooks, and
/// recorded; the announcement and the record handed back unsent, to go with
/// the key's answer.
async fn open_and_announce(
    transaction: &DatabaseTransaction,
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    opening: &Opening,
    id_hash: String,
) -> AppResult<(Created, Writes)> {
    let opener = Opener::Worker {
        worker_id: worker.subject.clone(),
    };
    let case = open_case(
        transaction,
        &state.protector,
        &state.calendars,
        opening,
        id_hash,
        opener,
    )
    .await?;
    let deliveries = webhooks::deliveries(
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
    let mut writes = case_log::writes(transaction, request, case.case_ref(), By::Worker(worker), change).await?;
    if let Some(insert) = deliveries {
        writes.push(insert);
    }
    let created = Created {
        id: case.id,
        transfer_no: case.transfer_no,
        status: TransferStatus::InProgress,
    };
    Ok((created, writes))
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
/// in this answer only, kept only as a keyed hash. None when the case joined
/// its worker at once, or is linked by now.
pub struct AgencyOpened {
    pub transfer: Transfer,
    pub claim_code: Option<String>,
    pub claim_expires_at: Option<DateTime<Utc>>,
}

/// The stored answer to an agency's opening, which a retry with the same
/// `Idempotency-Key` replays: the case, and whether a claim code went out
/// with it. Never the code: a replay hands out a fresh one instead
/// (`claims::reissue`).
#[derive(Serialize, Deserialize)]
struct AgencyReceipt {
    id: String,
    claim_code_issued: bool,
    /// The code, in the first answer only.
    #[serde(skip)]
    claim_code: Option<String>,
}

/// An agency opens a case for an ID number, once per `Idempotency-Key`. It
/// joins an account at once only if the holder of that number has proven
/// it; otherwise it waits for the person to link it with the claim code or
/// the recorded phone (`claims`), whoever has typed the number. A retry
/// answers the same case as it is now, with a fresh claim code that
/// replaces the lost one while the case still waits for its person.
pub async fn open_for_agency(
    state: &AppState,
    request: &RequestContext,
    client: &Principal,
    idempotency_key: &str,
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
    let hash = agency_request_hash(&state.protector, &agency);
    let opened = idempotency::once(&state.db, client, idempotency_key, hash, async |transaction| {
        open_agency_case(transaction, state, request, client, &agency).await
    })
    .await;
    let receipt = match opened {
        Err(error) if error.code == ErrorCode::TransferAlreadyOpen => return Err(already_open(state, &agency).await?),
        opened => opened?,
    };
    let case = read::by_id(&state.db, &receipt.id).await?.ok_or_else(vanished)?;
    let claim_code = match receipt.claim_code {
        Some(code) => Some(code),
        None if receipt.claim_code_issued => {
            let waiting = claims::Unclaimed {
                id: &case.transfer.id,
                transfer_no: &case.transfer.transfer_no,
                region: Some(case.transfer.to_region_code),
            };
            claims::reissue(state, request, client, waiting).await?
        }
        None => None,
    };
    Ok(AgencyOpened {
        transfer: case.transfer,
        claim_expires_at: case.claim_expires_at.filter(|_| claim_code.is_some()),
        claim_code,
    })
}

/// What makes two openings "the same" for `Idempotency-Key`. The ID number
/// and the phone go in as keyed hashes: a plain digest of a body holding an
/// ID number, kept for a month, would give the number back to anyone who
/// tried every possible one.
fn agency_request_hash(protector: &DataProtector, agency: &AgencyOpening) -> String {
    let opening = &agency.opening;
    let fingerprint = json!({
        "id_number": protector.lookup_hash(Purpose::IdNumber, agency.id_number.as_str()),
        "phone": agency.phone.as_ref().map(|phone| protector.lookup_hash(Purpose::Phone, phone.as_str())),
        "insurance_type": opening.insurance_type.as_str(),
        "from_region_code": opening.from,
        "to_region_code": opening.to,
    });
    idempotency::request_hash("agencyOpenTransfer", &fingerprint)
}

/// The agency's case, opened, recorded, and joined to the holder of the
/// number if they proved it.
async fn open_agency_case(
    transaction: &DatabaseTransaction,
    state: &AppState,
    request: &RequestContext,
    client: &Principal,
    agency: &AgencyOpening,
) -> AppResult<AgencyReceipt> {
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
    let opened = open_case(
        transaction,
        protector,
        &state.calendars,
        &agency.opening,
        id_hash,
        opener,
    )
    .await?;
    let details = json!({ "transfer_no": opened.transfer_no, "phone_recorded": agency.phone.is_some() });
    case_log::record(
        transaction,
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
    let linked = claims::link_if_proven(transaction, request, client, unclaimed, holder_hashes).await?;
    Ok(AgencyReceipt {
        claim_code_issued: !linked,
        claim_code: (!linked).then_some(claim_code),
        id: opened.id,
    })
}

/// 409 `TRANSFER_ALREADY_OPEN` naming the case in progress the agency's
/// opening ran into. It has the same route, so the agency reaches it.
async fn already_open(state: &AppState, agency: &AgencyOpening) -> AppResult<AppError> {
    let opening = &agency.opening;
    let open = si_transfer::Entity::find()
        .filter(
            si_transfer::Column::IdNumberHash.is_in(
                state
                    .protector
                    .lookup_hashes(Purpose::IdNumber, agency.id_number.as_str()),
            ),
        )
        .filter(si_transfer::Column::InsuranceType.eq(opening.insurance_type.as_str()))
        .filter(si_transfer::Column::FromRegionCode.eq(opening.from.as_str()))
        .filter(si_transfer::Column::ToRegionCode.eq(opening.to.as_str()))
        .filter(si_transfer::Column::Status.eq(TransferStatus::InProgress.as_str()))
        .order_by_asc(si_transfer::Column::CreatedAt)
        .one(&state.db)
        .await?;
    let refused = AppError::new(ErrorCode::TransferAlreadyOpen).with_message(Localized::fixed(
        "这个人的这项社保转移已经在办理中（案件编号见 details.transfer_no），不能重复开办。",
        "This person already has a transfer of this insurance on this route in progress (details.transfer_no).",
    ));
    Ok(match open {
        Some(case) => refused.with_details(json!({ "transfer_no": case.transfer_no })),
        None => refused,
    })
}
