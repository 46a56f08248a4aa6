//! Unpaid-wage reports (欠薪线索): a worker reports from the site; the labour
//! inspectors of the county where the work was done (and of the regions above
//! it) accept or refuse within 5 working days and close within 60 of
//! acceptance (extendable once by 30); repeated or large reports against one
//! employer raise an early warning.
//!
//! Every command reads the same way: load the report (`read`), check who may
//! act on it (`access`), let the lifecycle decide (`status`), and record the
//! change (`case_log`).

mod alerts;
mod notice;
pub mod read;
mod reporter;
pub mod status;

use chrono::{NaiveDate, Utc};
use entity::{wage_report, worker};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryTrait, TryIntoModel};
use serde::{Deserialize, Serialize};
use serde_json::json;

use self::status::{Action, Given};
pub use self::{
    alerts::{Alert, alerts, employer_key},
    notice::events,
    read::{Report, TimelineEntry},
    reporter::{Reporter, ReporterInClear, report_for_personal_data, reveal},
    status::{CloseReason, InspectorAction, ReportStatus},
};
use crate::{
    access,
    auth::{Principal, Role},
    context::RequestContext,
    domain::{CreditCode, PhoneNumber, RegionCode},
    error::{AppError, AppResult, ErrorCode, Localized},
    infra::{crypto::Field, db::Writes},
    regions::RegionLevel,
    services::{
        allowances::DailyAllowance,
        calendar::Calendars,
        case_log::{self, By, CaseKind, CaseRef, Change},
        counters, idempotency,
        keyset::{Cut, Window},
        uploads::{self, Attached, CaseFile},
        versioned,
    },
    state::AppState,
};

const NUMBER_PREFIX: &str = "QX";
/// The most a report may claim: 100 million yuan, far above any real case.
pub const MAX_AMOUNT_FEN: i64 = 10_000_000_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    pub id: String,
    pub report_no: String,
    pub status: ReportStatus,
    pub accept_deadline: NaiveDate,
}

pub struct NewReport {
    pub employer_name: String,
    pub credit_code: Option<CreditCode>,
    pub project_name: Option<String>,
    pub work_region: RegionCode,
    pub sector: String,
    pub amount_owed_fen: i64,
    pub owed_from: NaiveDate,
    pub owed_to: NaiveDate,
    pub workers_affected: i32,
    pub description: String,
    pub attachment_ids: Vec<String>,
    pub contact_phone: Option<PhoneNumber>,
}

fn check(new: &NewReport, state: &AppState) -> AppResult<()> {
    let region = state
        .regions
        .get(new.work_region)
        .ok_or_else(|| AppError::invalid_field("work_region_code", ErrorCode::RegionNotFound.default_message()))?;
    if region.level != RegionLevel::County {
        return Err(AppError::invalid_field(
            "work_region_code",
            Localized::fixed(
                "请选择干活所在的县（区）。",
                "work_region_code must be a county-level region.",
            ),
        ));
    }
    if new.amount_owed_fen <= 0 || new.amount_owed_fen > MAX_AMOUNT_FEN {
        return Err(AppError::invalid_field(
            "amount_owed_fen",
            Localized::fixed(
                "被欠的工资金额要大于0。",
                "amount_owed_fen must be positive (and below 100 million yuan).",
            ),
        ));
    }
    let today = crate::domain::china_time::today();
    if new.owed_to > today {
        return Err(AppError::invalid_field(
            "owed_to",
            Localized::fixed("欠薪的结束日期不能晚于今天。", "owed_to cannot be in the future."),
        ));
    }
    if new.owed_from > new.owed_to {
        return Err(AppError::invalid_field(
            "owed_from",
            Localized::fixed("欠薪的开始日期不能晚于结束日期。", "owed_from is after owed_to."),
        ));
    }
    Ok(())
}

/// One move of a report, as it is recorded.
struct Step<'a> {
    action: Action,
    from: Option<ReportStatus>,
    to: ReportStatus,
    comment: Option<&'a str>,
}

/// Records `step` of `report` (as it is after the step): its history entry,
/// the worker's message and the audit row.
async fn record(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    report: &Report,
    by: By<'_>,
    step: Step<'_>,
) -> AppResult<()> {
    Ok(writes(transaction, request, report, by, step)
        .await?
        .send(transaction)
        .await?)
}

/// The writes of `record`, not yet sent.
async fn writes(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    report: &Report,
    by: By<'_>,
    step: Step<'_>,
) -> AppResult<Writes> {
    let moved = || json!({ "action": step.action.as_str(), "from": step.from.map(ReportStatus::as_str), "to": step.to.as_str() });
    let (audit_action, audit_details) = match step.action {
        Action::Submit => ("wage_report.submit", json!({ "report_no": report.report_no })),
        Action::Supplement => ("wage_report.supplement", moved()),
        Action::Inspector(_) => ("wage_report.action", moved()),
    };
    let case = CaseRef {
        kind: CaseKind::WageReport,
        id: &report.id,
        number: &report.report_no,
        worker_id: Some(&report.worker_id),
        region: Some(report.region),
    };
    let change = Change {
        action: step.action.as_str(),
        step: None,
        from: step.from.map(ReportStatus::as_str),
        to: step.to.as_str(),
        comment: step.comment,
        notice: Some(notice::notice(&report.id, &report.report_no, step.action, step.to)),
        audit_action,
        audit_details,
    };
    case_log::writes(transaction, request, case, by, change).await
}

/// Moves `report` to `to` with `changes`, unless someone changed it since it
/// was read, and reads it back.
async fn move_to(
    transaction: &DatabaseTransaction,
    calendars: &Calendars,
    report: &Report,
    to: ReportStatus,
    mut changes: wage_report::ActiveModel,
) -> AppResult<Report> {
    changes.status = Set(to.as_str().to_owned());
    changes.updated_at = Set(Utc::now());
    versioned::update::<wage_report::Entity>(transaction, &report.id, report.version, changes).await?;
    read::load(transaction, calendars, &report.id).await
}

/// The row of a new report, waiting for acceptance by `accept_deadline`;
/// `contact_phone_cipher` is the contact phone sealed to the report's id.
fn new_row(
    id: &str,
    report_no: String,
    worker_id: &str,
    new: &NewReport,
    accept_deadline: NaiveDate,
    contact_phone_cipher: Option<String>,
) -> wage_report::ActiveModel {
    let now = Utc::now();
    wage_report::ActiveModel {
        id: Set(id.to_owned()),
        report_no: Set(report_no),
        worker_id: Set(worker_id.to_owned()),
        employer_name: Set(new.employer_name.trim().to_owned()),
        employer_key: Set(employer_key(&new.employer_name, new.credit_code.as_ref())),
        credit_code: Set(new.credit_code.as_ref().map(|c| c.as_str().to_owned())),
        project_name: Set(new.project_name.clone()),
        region_code: Set(new.work_region.as_str().to_owned()),
        sector: Set(new.sector.clone()),
        amount_owed_fen: Set(new.amount_owed_fen),
        owed_from: Set(new.owed_from),
        owed_to: Set(new.owed_to),
        workers_affected: Set(new.workers_affected),
        description: Set(new.description.clone()),
        contact_phone_cipher: Set(contact_phone_cipher),
        status: Set(ReportStatus::Submitted.as_str().to_owned()),
        accept_deadline: Set(accept_deadline),
        close_deadline: Set(None),
        extended: Set(false),
        amount_recovered_fen: Set(None),
        workers_paid: Set(None),
        outcome: Set(None),
        version: Set(1),
        accepted_at: Set(None),
        closed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        accepted_late: Set(None),
        anonymised_at: Set(None),
    }
}

/// Files the report in `transaction`: its row, its attachments, its first
/// history entry. `contact` is the phone to seal to it. The row and the
/// history are handed back unsent, to go with the key's answer.
async fn file(
    transaction: &DatabaseTransaction,
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    contact: Option<&str>,
    new: &NewReport,
) -> AppResult<(Created, Writes)> {
    let calendars = state.calendars.current(transaction).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let today = crate::domain::china_time::today();
    let sealed = contact.map(|phone| state.protector.encrypt(Field::WageReportContactPhone, &id, phone));
    // The counter's row stays locked until the commit: drawn last, so that
    // reports of one county and day wait on each other as little as can be.
    let report_no = counters::readable_number(transaction, NUMBER_PREFIX, new.work_region.as_str()).await?;
    let row = new_row(
        &id,
        report_no,
        &worker.subject,
        new,
        status::accept_deadline(calendars.of(new.work_region), today),
        sealed,
    );
    let report = read::decode(&calendars, row.clone().try_into_model()?)?;
    let mut writes = Writes::default();
    writes.push(wage_report::Entity::insert(row).into_query());
    if !new.attachment_ids.is_empty() {
        // The uploads point at the report: its row goes first.
        std::mem::take(&mut writes).send(transaction).await?;
        let owner = uploads::Uploader::Worker(&worker.subject);
        uploads::attach(transaction, owner, CaseFile::WageReport(&id), &new.attachment_ids).await?;
    }
    let step = Step {
        action: Action::Submit,
        from: None,
        to: report.status,
        comment: None,
    };
    writes.append(self::writes(transaction, request, &report, By::Worker(worker), step).await?);
    let created = Created {
        id: report.id,
        report_no: report.report_no,
        status: report.status,
        accept_deadline: report.accept_deadline,
    };
    Ok((created, writes))
}

/// Takes one of the worker's reports a day and passes the description
/// through WeChat's content check (live mode).
async fn admit(state: &AppState, allowance: &DailyAllowance<'_>, openid: &str, description: &str) -> AppResult<()> {
    let limit = state.config.wage_reports_per_day;
    allowance
        .take(
            limit,
            Localized::new(
                format!("每天最多可以反映{limit}条欠薪线索，请明天再提交。"),
                format!("At most {limit} reports a day."),
            ),
        )
        .await?;
    match state.wechat.content_is_safe(openid, description).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(AppError::invalid_field(
            "description",
            Localized::fixed(
                "描述中有不合规的内容，请修改后再提交。",
                "The description was refused by the content check.",
            ),
        )),
        Err(err) => Err(err.into()),
    }
}

/// A worker reports unpaid wages. Limited per worker and day; the description
/// passes WeChat's content check in live mode.
pub async fn submit(
    state: &AppState,
    request: &RequestContext,
    worker_principal: &Principal,
    idempotency_key: &str,
    request_hash: String,
    new: NewReport,
) -> AppResult<Created> {
    access::require_taker(worker_principal, Action::Submit.taker())?;
    check(&new, state)?;
    let person = worker::Entity::find_by_id(worker_principal.subject.clone())
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::SessionEnded))?;
    // Sealed to the report's own row; the profile's phone is copied in clear.
    let contact = match &new.contact_phone {
        Some(phone) => Some(phone.as_str().to_owned()),
        None => person
            .phone_cipher
            .as_deref()
            .and_then(|cipher| state.protector.decrypt(Field::WorkerPhone, &person.id, cipher).ok()),
    };
    let allowance = DailyAllowance::new(state.store.as_ref(), "wage_reports", &person.id);
    let filed = idempotency::once_writing(
        &state.db,
        worker_principal,
        idempotency_key,
        request_hash,
        async || admit(state, &allowance, &person.openid, &new.description).await,
        async |transaction| file(transaction, state, request, worker_principal, contact.as_deref(), &new).await,
    )
    .await;
    // A description to rewrite, WeChat not answering, or the database
    // failing to record it: none is a report filed, so the worker keeps the
    // day's allowance for it.
    allowance.settle(&filed).await;
    filed
}

/// The worker's own report; anyone else's is not found.
async fn own(db: &impl ConnectionTrait, calendars: &Calendars, worker: &Principal, id: &str) -> AppResult<Report> {
    let report = read::load(db, calendars, id).await?;
    if report.worker_id != worker.subject {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    Ok(report)
}

/// One page of the worker's reports, newest first, and how many they have.
pub async fn list_own(
    state: &AppState,
    worker: &Principal,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Report>, u64)> {
    let calendars = state.calendars.current(&state.db).await?;
    read::page_of_worker(&state.db, &calendars, &worker.subject, page, page_size).await
}

pub async fn get_own(state: &AppState, worker: &Principal, id: &str) -> AppResult<(Report, Vec<TimelineEntry>)> {
    let calendars = state.calendars.current(&state.db).await?;
    let report = own(&state.db, &calendars, worker, id).await?;
    let events = read::timeline(&state.db, &report.id).await?;
    Ok((report, events))
}

/// The worker answers a request for information: text and documents.
pub async fn supplement(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    id: &str,
    text: &str,
    attachment_ids: &[String],
) -> AppResult<Report> {
    access::require_taker(worker, Action::Supplement.taker())?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let calendars = state.calendars.current(&transaction).await?;
    let report = own(&transaction, &calendars, worker, id).await?;
    let to = status::decide(report.status, Action::Supplement, report.facts())?;
    let supplemented = move_to(&transaction, &calendars, &report, to, Default::default()).await?;
    let owner = uploads::Uploader::Worker(&worker.subject);
    uploads::attach(&transaction, owner, CaseFile::WageReport(id), attachment_ids).await?;
    let step = Step {
        action: Action::Supplement,
        from: Some(report.status),
        to,
        comment: Some(text),
    };
    record(&transaction, request, &supplemented, By::Worker(worker), step).await?;
    transaction.commit().await?;
    Ok(supplemented)
}

/// The inspectors' queue: reports in their region and below, oldest first;
/// by status, region and whether only those overdue.
pub async fn queue(
    state: &AppState,
    inspector: &Principal,
    (status, region, overdue_only): (Option<ReportStatus>, Option<RegionCode>, bool),
    window: Window,
) -> AppResult<Cut<Report>> {
    access::require_role(inspector, Role::Inspector)?;
    let filter = read::QueueFilter {
        regions: access::staff_scope(&state.regions, inspector, region)?,
        status,
        overdue_only,
    };
    let calendars = state.calendars.current(&state.db).await?;
    read::queue(&state.db, &state.protector, &calendars, filter, window).await
}

/// A report in the inspector's region; one outside it is not found.
async fn in_region(
    db: &impl ConnectionTrait,
    calendars: &Calendars,
    state: &AppState,
    inspector: &Principal,
    id: &str,
) -> AppResult<Report> {
    let report = read::load(db, calendars, id).await?;
    if !access::reaches_wage_report(&state.regions, inspector, report.region) {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    Ok(report)
}

/// A report as the inspectors who work it see it.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub report: Report,
    pub timeline: Vec<TimelineEntry>,
    /// What the reporter attached, with the report and with supplements.
    pub documents: Vec<Attached>,
    /// Masked: `reveal` shows them in clear, audited.
    pub reporter: Reporter,
}

/// A report in the inspector's region, with its history, its documents
/// and the reporter masked.
pub async fn get_for_inspector(state: &AppState, inspector: &Principal, id: &str) -> AppResult<Inspection> {
    access::require_role(inspector, Role::Inspector)?;
    let calendars = state.calendars.current(&state.db).await?;
    let report = in_region(&state.db, &calendars, state, inspector, id).await?;
    let timeline = read::timeline(&state.db, &report.id).await?;
    let documents = uploads::attached(&state.db, CaseFile::WageReport(&report.id)).await?;
    let reporter = reporter::in_clear(&state.db, &state.protector, &report).await?.masked();
    Ok(Inspection {
        report,
        timeline,
        documents,
        reporter,
    })
}

/// What an inspector does, with what it needs.
#[derive(Debug, Clone)]
pub struct Decision {
    pub action: InspectorAction,
    pub comment: Option<String>,
    pub expected_version: i32,
    pub amount_recovered_fen: Option<i64>,
    pub workers_paid: Option<i32>,
    pub to_region: Option<RegionCode>,
    pub close_reason: Option<CloseReason>,
}

impl Decision {
    /// The comment, unless it is blank.
    fn comment(&self) -> Option<&str> {
        self.comment.as_deref().map(str::trim).filter(|c| !c.is_empty())
    }

    fn given(&self) -> Given {
        Given {
            comment: self.comment().is_some(),
            amount_recovered: self.amount_recovered_fen.is_some(),
            workers_paid: self.workers_paid.is_some(),
            close_reason: self.close_reason.is_some(),
        }
    }
}

/// What `decision` changes on `report` besides its status.
fn changes(
    state: &AppState,
    calendars: &Calendars,
    report: &Report,
    decision: &Decision,
) -> AppResult<wage_report::ActiveModel> {
    use InspectorAction as A;
    let today = crate::domain::china_time::today();
    let calendar = calendars.of(report.region);
    let mut active = <wage_report::ActiveModel as Default>::default();
    match decision.action {
        A::Accept => {
            active.accepted_at = Set(Some(Utc::now()));
            active.accepted_late = Set(Some(today > report.accept_deadline));
            active.close_deadline = Set(Some(status::close_deadline(calendar, today)));
        }
        A::Extend => {
            active.close_deadline = Set(Some(status::extended_deadline(calendar, report.close_deadline, today)));
            active.extended = Set(true);
        }
        A::Resolve => {
            active.amount_recovered_fen = Set(decision.amount_recovered_fen);
            active.workers_paid = Set(decision.workers_paid);
            active.closed_at = Set(Some(Utc::now()));
        }
        A::Close => {
            active.outcome = Set(decision.close_reason.map(|r| r.as_str().to_owned()));
            active.closed_at = Set(Some(Utc::now()));
        }
        A::Refuse => {
            active.outcome = Set(Some(ReportStatus::Refused.as_str().to_owned()));
            active.closed_at = Set(Some(Utc::now()));
        }
        A::Transfer => {
            let county = decision
                .to_region
                .filter(|r| state.regions.get(*r).is_some_and(|x| x.level == RegionLevel::County));
            let region = status::transfer_target(county, report.region)?;
            // The receiving county opens a case of its own (立案): its own
            // acceptance, its own 60 working days and its own one extension,
            // in the days of its own province.
            active.region_code = Set(region.as_str().to_owned());
            active.accepted_at = Set(None);
            active.accepted_late = Set(None);
            active.close_deadline = Set(None);
            active.extended = Set(false);
            active.accept_deadline = Set(status::accept_deadline(calendars.of(region), today));
        }
        A::RequestInfo | A::Start => {}
    }
    Ok(active)
}

/// An inspector acts on a report in their region, on the version they saw.
pub async fn act(
    state: &AppState,
    request: &RequestContext,
    inspector: &Principal,
    id: &str,
    decision: Decision,
) -> AppResult<Report> {
    let action = Action::from(decision.action);
    access::require_taker(inspector, action.taker())?;
    action.requires(&decision.given())?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let calendars = state.calendars.current(&transaction).await?;
    let report = in_region(&transaction, &calendars, state, inspector, id).await?;
    versioned::check(Some(decision.expected_version), report.version)?;
    let to = status::decide(report.status, action, report.facts())?;
    let changes = changes(state, &calendars, &report, &decision)?;
    let acted = move_to(&transaction, &calendars, &report, to, changes).await?;
    let step = Step {
        action,
        from: Some(report.status),
        to,
        comment: decision.comment(),
    };
    record(&transaction, request, &acted, By::Staff(inspector), step).await?;
    transaction.commit().await?;
    Ok(acted)
}
