//! Unpaid-wage reports (欠薪线索): a worker reports from the site; the labour
//! inspectors of the county where the work was done (and of the regions above
//! it) accept or refuse within 5 working days and close within 60 of
//! acceptance (extendable once by 30); repeated or large reports against one
//! employer raise an early warning.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{wage_report, wage_report_event, worker};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Func},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    access,
    auth::{Principal, Role},
    context::RequestContext,
    domain::{CreditCode, PhoneNumber, RegionCode, TextType},
    error::{AppError, AppResult, ErrorCode, Localized},
    infra::crypto::Field,
    regions::RegionLevel,
    services::{
        allowances::DailyAllowance,
        audit::{self, Actor, Event, Outcome},
        calendar::{self, Calendar},
        counters, idempotency, notifications, uploads,
    },
    state::AppState,
};

const NUMBER_PREFIX: &str = "QX";
const ACCEPT_WITHIN: u32 = 5;
const CLOSE_WITHIN: u32 = 60;
const EXTENSION: u32 = 30;
/// The most a report may claim: 100 million yuan, far above any real case.
pub const MAX_AMOUNT_FEN: i64 = 10_000_000_000;

crate::text_enum! {
    /// Where a report is.
    ReportStatus {
        Submitted => "submitted",
        Accepted => "accepted",
        Refused => "refused",
        InfoRequested => "info_requested",
        InProgress => "in_progress",
        Resolved => "resolved",
        Closed => "closed",
    }
}

impl ReportStatus {
    /// What people read in exports.
    pub fn label(self) -> &'static str {
        match self {
            ReportStatus::Submitted => "待受理",
            ReportStatus::Accepted => "已受理",
            ReportStatus::Refused => "不予受理",
            ReportStatus::InfoRequested => "待补充材料",
            ReportStatus::InProgress => "调查处理中",
            ReportStatus::Resolved => "已处理",
            ReportStatus::Closed => "已结案",
        }
    }
}

crate::text_enum! {
    /// What an inspector does with a report.
    InspectorAction {
        Accept => "accept",
        Refuse => "refuse",
        RequestInfo => "request_info",
        Start => "start",
        Resolve => "resolve",
        Transfer => "transfer",
        Close => "close",
        Extend => "extend",
    }
}

crate::text_enum! {
    /// Why a report was closed.
    CloseReason {
        Unfounded => "unfounded",
        Withdrawn => "withdrawn",
        SentToArbitration => "sent_to_arbitration",
    }
}

/// The one state machine of a report: the status after `action`, if allowed.
/// A transfer puts the report back in the new region's queue; supplementing
/// information returns it to where it was before the request.
pub fn after(status: ReportStatus, action: InspectorAction, accepted: bool) -> Option<ReportStatus> {
    use InspectorAction as A;
    use ReportStatus as S;
    match (action, status) {
        (A::Accept, S::Submitted) => Some(S::Accepted),
        (A::Refuse, S::Submitted | S::InfoRequested) if !accepted => Some(S::Refused),
        (A::RequestInfo, S::Submitted | S::Accepted | S::InProgress) => Some(S::InfoRequested),
        (A::Start, S::Accepted) => Some(S::InProgress),
        (A::Resolve, S::Accepted | S::InProgress) => Some(S::Resolved),
        (A::Transfer, S::Submitted | S::Accepted | S::InProgress) => Some(S::Submitted),
        (A::Close, S::Submitted | S::Accepted | S::InProgress | S::InfoRequested) => Some(S::Closed),
        (A::Extend, S::Accepted | S::InProgress | S::InfoRequested) if accepted => Some(status),
        _ => None,
    }
}

pub fn is_open(status: ReportStatus) -> bool {
    !matches!(
        status,
        ReportStatus::Refused | ReportStatus::Resolved | ReportStatus::Closed
    )
}

const OPEN: [&str; 4] = ["submitted", "accepted", "info_requested", "in_progress"];

/// The employer as early warnings group it: the credit code, or the name with
/// spacing and bracket forms normalised.
pub fn employer_key(name: &str, credit_code: Option<&CreditCode>) -> String {
    match credit_code {
        Some(code) => format!("code:{}", code.as_str()),
        None => {
            let normalised: String = name
                .chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| match c {
                    '（' => '(',
                    '）' => ')',
                    other => other,
                })
                .flat_map(char::to_lowercase)
                .collect();
            format!("name:{normalised}")
        }
    }
}

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

#[derive(Debug, Clone)]
pub struct Report {
    pub row: wage_report::Model,
    pub status: ReportStatus,
    pub overdue: bool,
}

#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// 本人 or 劳动保障监察员: never a name.
    pub by: &'static str,
    pub comment: Option<String>,
}

/// Overdue once a working day has begun after the deadline that applies now.
fn overdue(calendar: &Calendar, row: &wage_report::Model, status: ReportStatus, today: NaiveDate) -> bool {
    if !is_open(status) {
        return false;
    }
    let deadline = if row.accepted_at.is_some() {
        row.close_deadline
    } else {
        Some(row.accept_deadline)
    };
    deadline.is_some_and(|due| calendar.is_overdue(due, today))
}

pub fn view(calendar: &Calendar, row: wage_report::Model) -> AppResult<Report> {
    let status = ReportStatus::parse(&row.status)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("report {} has a malformed status", row.id)))?;
    Ok(Report {
        overdue: overdue(calendar, &row, status, crate::domain::china_time::today()),
        row,
        status,
    })
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

async fn record(
    transaction: &DatabaseTransaction,
    row: &wage_report::Model,
    actor: (&'static str, &str),
    action: &str,
    from: Option<ReportStatus>,
    to: ReportStatus,
    comment: Option<&str>,
) -> AppResult<()> {
    wage_report_event::ActiveModel {
        report_id: Set(row.id.clone()),
        at: Set(Utc::now()),
        actor_type: Set(actor.0.to_owned()),
        actor_id: Set(Some(actor.1.to_owned())),
        action: Set(action.to_owned()),
        from_status: Set(from.map(|s| s.as_str().to_owned())),
        to_status: Set(to.as_str().to_owned()),
        comment: Set(comment.map(str::to_owned)),
        ..Default::default()
    }
    .insert(transaction)
    .await?;
    notifications::enqueue(
        transaction,
        &row.worker_id,
        "wage_report.status",
        &notifications::Message {
            title: "欠薪线索处理进度".to_owned(),
            body: format!("您反映的欠薪线索{}：{}", row.report_no, describe(action)),
            link: Some(format!("pages/wage-reports/detail?id={}", row.id)),
        },
    )
    .await
}

fn describe(action: &str) -> &'static str {
    match action {
        "submit" => "已收到，5个工作日内决定是否受理",
        "accept" => "已受理，正在调查处理",
        "refuse" => "不予受理，请查看原因",
        "request_info" => "需要您补充材料",
        "supplement" => "已补充材料",
        "start" => "正在调查处理",
        "resolve" => "已处理完毕",
        "transfer" => "已转交工作所在地的监察机构",
        "close" => "已结案",
        "extend" => "办理期限已延长",
        _ => "状态有更新",
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
    check(&new, state)?;
    let person = worker::Entity::find_by_id(worker_principal.subject.clone())
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::SessionEnded))?;
    // Sealed below to the report's own row; the profile's phone is copied in clear.
    let contact = match &new.contact_phone {
        Some(phone) => Some(phone.as_str().to_owned()),
        None => person
            .phone_cipher
            .as_deref()
            .and_then(|cipher| state.protector.decrypt(Field::WorkerPhone, &person.id, cipher).ok()),
    };
    let day = crate::domain::china_time::today();
    let allowance = DailyAllowance::new(state.store.as_ref(), "wage_reports", &person.id);
    let filed = idempotency::once_checked(
        &state.db,
        worker_principal,
        idempotency_key,
        request_hash,
        async || {
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
            match state.wechat.content_is_safe(&person.openid, &new.description).await {
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
        },
        async |transaction| {
            let calendar = calendar::load(transaction).await?;
            let now = Utc::now();
            let id = uuid::Uuid::new_v4().to_string();
            let row = wage_report::ActiveModel {
                id: Set(id.clone()),
                report_no: Set(counters::readable_number(transaction, NUMBER_PREFIX, new.work_region.as_str()).await?),
                worker_id: Set(person.id.clone()),
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
                contact_phone_cipher: Set(contact
                    .as_deref()
                    .map(|phone| state.protector.encrypt(Field::WageReportContactPhone, &id, phone))),
                status: Set(ReportStatus::Submitted.as_str().to_owned()),
                accept_deadline: Set(calendar.add_working_days(day, ACCEPT_WITHIN)),
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
            .insert(transaction)
            .await?;
            uploads::attach_to_report(transaction, &person.id, &id, &new.attachment_ids).await?;
            record(
                transaction,
                &row,
                ("worker", &person.id),
                "submit",
                None,
                ReportStatus::Submitted,
                None,
            )
            .await?;
            audit::record(
                transaction,
                Some(request),
                Event {
                    actor: Actor::Principal(worker_principal),
                    action: "wage_report.submit",
                    target: Some(("wage_report", &id)),
                    region: Some(new.work_region),
                    outcome: Outcome::Success,
                    details: Some(json!({ "report_no": row.report_no })),
                },
            )
            .await?;
            Ok(Created {
                id,
                report_no: row.report_no,
                status: ReportStatus::Submitted,
                accept_deadline: row.accept_deadline,
            })
        },
    )
    .await;
    // A description to rewrite, WeChat not answering, or the database
    // failing to record it: none is a report filed, so the worker keeps the
    // day's allowance for it.
    allowance.settle(&filed).await;
    filed
}

pub async fn list_own(state: &AppState, worker: &Principal) -> AppResult<Vec<Report>> {
    let rows = wage_report::Entity::find()
        .filter(wage_report::Column::WorkerId.eq(&worker.subject))
        .order_by_desc(wage_report::Column::CreatedAt)
        .limit(200)
        .all(&state.db)
        .await?;
    let calendar = calendar::load(&state.db).await?;
    rows.into_iter().map(|row| view(&calendar, row)).collect()
}

pub async fn timeline(db: &impl ConnectionTrait, report_id: &str) -> AppResult<Vec<TimelineEntry>> {
    Ok(wage_report_event::Entity::find()
        .filter(wage_report_event::Column::ReportId.eq(report_id))
        .order_by_asc(wage_report_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| TimelineEntry {
            at: e.at,
            by: if e.actor_type == "worker" {
                "本人"
            } else {
                "劳动保障监察员"
            },
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            comment: e.comment,
        })
        .collect())
}

pub async fn get_own(state: &AppState, worker: &Principal, id: &str) -> AppResult<(Report, Vec<TimelineEntry>)> {
    let row = wage_report::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .filter(|r| r.worker_id == worker.subject)
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    let calendar = calendar::load(&state.db).await?;
    let events = timeline(&state.db, &row.id).await?;
    Ok((view(&calendar, row)?, events))
}

/// The worker answers a request for information: text and documents.
pub async fn supplement(
    state: &AppState,
    worker: &Principal,
    id: &str,
    text: &str,
    attachment_ids: &[String],
) -> AppResult<Report> {
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let row = wage_report::Entity::find_by_id(id.to_owned())
        .one(&transaction)
        .await?
        .filter(|r| r.worker_id == worker.subject)
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    if row.status != ReportStatus::InfoRequested.as_str() {
        return Err(AppError::new(ErrorCode::InvalidState).with_message(Localized::fixed(
            "现在不需要补充材料。",
            "No information was requested.",
        )));
    }
    let back = if row.accepted_at.is_some() {
        ReportStatus::InProgress
    } else {
        ReportStatus::Submitted
    };
    let row = update(&transaction, &row, back, |_| {}).await?;
    uploads::attach_to_report(&transaction, &worker.subject, &row.id, attachment_ids).await?;
    record(
        &transaction,
        &row,
        ("worker", &worker.subject),
        "supplement",
        Some(ReportStatus::InfoRequested),
        back,
        Some(text),
    )
    .await?;
    let calendar = calendar::load(&transaction).await?;
    transaction.commit().await?;
    view(&calendar, row)
}

async fn update(
    transaction: &DatabaseTransaction,
    row: &wage_report::Model,
    to: ReportStatus,
    edit: impl FnOnce(&mut wage_report::ActiveModel),
) -> AppResult<wage_report::Model> {
    let mut active = wage_report::ActiveModel {
        status: Set(to.as_str().to_owned()),
        version: Set(row.version + 1),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    edit(&mut active);
    let updated = wage_report::Entity::update_many()
        .set(active)
        .filter(wage_report::Column::Id.eq(&row.id))
        .filter(wage_report::Column::Version.eq(row.version))
        .exec(transaction)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::new(ErrorCode::VersionConflict));
    }
    wage_report::Entity::find_by_id(row.id.clone())
        .one(transaction)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))
}

/// The inspectors' queue: reports in their region and below, oldest first.
pub async fn queue(
    state: &AppState,
    inspector: &Principal,
    status: Option<ReportStatus>,
    region: Option<RegionCode>,
    overdue_only: bool,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Report>, u64)> {
    access::require_role(inspector, Role::Inspector)?;
    let calendar = calendar::load(&state.db).await?;
    let mut query = wage_report::Entity::find().order_by_asc(wage_report::Column::CreatedAt);
    if let Some(codes) = access::staff_scope(&state.regions, inspector, region)? {
        query = query.filter(wage_report::Column::RegionCode.is_in(codes));
    }
    if let Some(status) = status {
        query = query.filter(wage_report::Column::Status.eq(status.as_str()));
    }
    if overdue_only {
        let cutoff = calendar.overdue_before(crate::domain::china_time::today());
        query = query.filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(wage_report::Column::AcceptedAt.is_null())
                        .add(wage_report::Column::Status.is_in(OPEN))
                        .add(wage_report::Column::AcceptDeadline.lt(cutoff)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(wage_report::Column::AcceptedAt.is_not_null())
                        .add(wage_report::Column::Status.is_in(OPEN))
                        .add(wage_report::Column::CloseDeadline.lt(cutoff)),
                ),
        );
    }
    let paginator = query.paginate(&state.db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    let reports = rows
        .into_iter()
        .map(|row| view(&calendar, row))
        .collect::<AppResult<Vec<_>>>()?;
    Ok((reports, total))
}

pub async fn get_for_inspector(
    state: &AppState,
    inspector: &Principal,
    id: &str,
) -> AppResult<(Report, Vec<TimelineEntry>)> {
    let row = report_for_inspector(state, inspector, id).await?;
    let calendar = calendar::load(&state.db).await?;
    let events = timeline(&state.db, &row.id).await?;
    Ok((view(&calendar, row)?, events))
}

/// A report an inspector works: in their region. The rule for reading it and
/// the documents attached to it.
pub async fn report_for_inspector(state: &AppState, inspector: &Principal, id: &str) -> AppResult<wage_report::Model> {
    access::require_role(inspector, Role::Inspector)?;
    in_scope(&state.db, state, inspector, id).await
}

async fn in_scope(
    db: &impl ConnectionTrait,
    state: &AppState,
    inspector: &Principal,
    id: &str,
) -> AppResult<wage_report::Model> {
    let row = wage_report::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    let region = RegionCode::parse(&row.region_code).map_err(|_| AppError::new(ErrorCode::NotFound))?;
    if !access::covers(&state.regions, inspector, region) {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    Ok(row)
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

fn needs(field: &str, zh: &'static str, en: &'static str) -> AppError {
    AppError::invalid_field(field, Localized::fixed(zh, en))
}

pub async fn act(
    state: &AppState,
    request: &RequestContext,
    inspector: &Principal,
    id: &str,
    decision: Decision,
) -> AppResult<Report> {
    access::require_role(inspector, Role::Inspector)?;
    use InspectorAction as A;
    let comment = decision.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
    match decision.action {
        A::Refuse | A::RequestInfo | A::Extend | A::Transfer if comment.is_none() => {
            return Err(needs(
                "comment",
                "请写明原因或需要补充的内容。",
                "A comment is required for this action.",
            ));
        }
        A::Resolve if decision.amount_recovered_fen.is_none() || decision.workers_paid.is_none() => {
            return Err(needs(
                "amount_recovered_fen",
                "请填写追回的工资金额和已支付的人数。",
                "amount_recovered_fen and workers_paid are required to resolve.",
            ));
        }
        A::Close if decision.close_reason.is_none() => {
            return Err(needs(
                "close_reason",
                "请选择结案原因。",
                "close_reason is required to close.",
            ));
        }
        _ => {}
    }
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let row = in_scope(&transaction, state, inspector, id).await?;
    if row.version != decision.expected_version {
        return Err(AppError::new(ErrorCode::VersionConflict).with_details(json!({ "current_version": row.version })));
    }
    let from = ReportStatus::parse(&row.status).ok_or_else(|| AppError::internal(anyhow::anyhow!("bad status")))?;
    let to = after(from, decision.action, row.accepted_at.is_some()).ok_or_else(|| {
        AppError::new(ErrorCode::InvalidState)
            .with_details(json!({ "status": from.as_str(), "action": decision.action.as_str() }))
    })?;
    if decision.action == A::Extend && row.extended {
        return Err(AppError::new(ErrorCode::InvalidState).with_message(Localized::fixed(
            "办理期限只能延长一次。",
            "The deadline can be extended only once.",
        )));
    }
    let calendar = calendar::load(&transaction).await?;
    let today = crate::domain::china_time::today();
    let target = match decision.action {
        A::Transfer => {
            let region = decision
                .to_region
                .filter(|r| {
                    state.regions.get(*r).is_some_and(|x| x.level == RegionLevel::County)
                        && r.as_str() != row.region_code
                })
                .ok_or_else(|| {
                    needs(
                        "to_region_code",
                        "请选择要转交的县（区）。",
                        "to_region_code must be another county.",
                    )
                })?;
            Some(region)
        }
        _ => None,
    };
    let row = update(&transaction, &row, to, |active| match decision.action {
        A::Accept => {
            active.accepted_at = Set(Some(Utc::now()));
            active.accepted_late = Set(Some(today > row.accept_deadline));
            active.close_deadline = Set(Some(calendar.add_working_days(today, CLOSE_WITHIN)));
        }
        A::Extend => {
            let base = row.close_deadline.unwrap_or(today);
            active.close_deadline = Set(Some(calendar.add_working_days(base, EXTENSION)));
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
            active.outcome = Set(Some("refused".to_owned()));
            active.closed_at = Set(Some(Utc::now()));
        }
        A::Transfer => {
            if let Some(region) = target {
                active.region_code = Set(region.as_str().to_owned());
            }
            active.accepted_at = Set(None);
            active.accepted_late = Set(None);
            active.close_deadline = Set(None);
            active.accept_deadline = Set(calendar.add_working_days(today, ACCEPT_WITHIN));
        }
        A::RequestInfo | A::Start => {}
    })
    .await?;
    record(
        &transaction,
        &row,
        ("staff", &inspector.subject),
        decision.action.as_str(),
        Some(from),
        to,
        comment,
    )
    .await?;
    audit::record(
        &transaction,
        Some(request),
        Event {
            actor: Actor::Principal(inspector),
            action: "wage_report.action",
            target: Some(("wage_report", &row.id)),
            region: RegionCode::parse(&row.region_code).ok(),
            outcome: Outcome::Success,
            details: Some(json!({ "action": decision.action.as_str(), "from": from.as_str(), "to": to.as_str() })),
        },
    )
    .await?;
    transaction.commit().await?;
    view(&calendar, row)
}

/// SUM as a 64-bit integer on both databases (PostgreSQL sums bigints as numeric).
fn total(column: wage_report::Column) -> Expr {
    Func::cast_as(Func::sum(Expr::col(column)), Alias::new("BIGINT")).into()
}

/// One employer that has drawn an early warning, with its reports.
#[derive(Debug, Clone)]
pub struct Alert {
    pub employer_key: String,
    pub employer_name: String,
    pub reasons: Vec<&'static str>,
    pub reports: Vec<Report>,
}

/// Employers with repeated reports in 30 days, or many workers or a large sum
/// in open reports, inside the inspector's region. Two grouped queries on
/// indexes find them; only their reports are read.
pub async fn alerts(state: &AppState, inspector: &Principal) -> AppResult<Vec<Alert>> {
    access::require_role(inspector, Role::Inspector)?;
    let thresholds = state.config.wage_alerts;
    let scope = access::staff_scope(&state.regions, inspector, None)?;
    let since = Utc::now() - chrono::Duration::days(30);
    let in_scope = |query: sea_orm::Select<wage_report::Entity>| match &scope {
        Some(codes) => query.filter(wage_report::Column::RegionCode.is_in(codes.clone())),
        None => query,
    };
    let repeated: Vec<(String, i64)> = in_scope(wage_report::Entity::find())
        .select_only()
        .column(wage_report::Column::EmployerKey)
        .column_as(Expr::expr(Func::count(Expr::col(wage_report::Column::Id))), "reports")
        .filter(wage_report::Column::CreatedAt.gte(since))
        .group_by(wage_report::Column::EmployerKey)
        .having(
            Expr::expr(Func::count(Expr::col(wage_report::Column::Id))).gte(i64::from(thresholds.reports_in_30_days)),
        )
        .into_tuple()
        .all(&state.db)
        .await?;
    let large: Vec<(String, Option<i64>, Option<i64>)> = in_scope(wage_report::Entity::find())
        .select_only()
        .column(wage_report::Column::EmployerKey)
        .column_as(total(wage_report::Column::WorkersAffected), "workers")
        .column_as(total(wage_report::Column::AmountOwedFen), "owed")
        .filter(wage_report::Column::Status.is_in(OPEN))
        .group_by(wage_report::Column::EmployerKey)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut flagged: std::collections::BTreeMap<String, Vec<&'static str>> = std::collections::BTreeMap::new();
    for (key, _) in repeated {
        flagged.entry(key).or_default().push("repeated_reports");
    }
    for (key, workers, owed) in large {
        if workers.unwrap_or(0) >= i64::from(thresholds.workers_affected) {
            flagged.entry(key.clone()).or_default().push("many_workers");
        }
        if owed.unwrap_or(0) >= thresholds.amount_owed_fen {
            flagged.entry(key).or_default().push("large_amount");
        }
    }
    let calendar = calendar::load(&state.db).await?;
    let mut alerts = Vec::new();
    for (key, reasons) in flagged {
        let rows = in_scope(wage_report::Entity::find())
            .filter(wage_report::Column::EmployerKey.eq(&key))
            .filter(
                sea_orm::Condition::any()
                    .add(wage_report::Column::CreatedAt.gte(since))
                    .add(wage_report::Column::Status.is_in(OPEN)),
            )
            .order_by_asc(wage_report::Column::CreatedAt)
            .all(&state.db)
            .await?;
        let employer_name = rows.first().map(|r| r.employer_name.clone()).unwrap_or_default();
        let reports = rows
            .into_iter()
            .map(|row| view(&calendar, row))
            .collect::<AppResult<Vec<_>>>()?;
        alerts.push(Alert {
            employer_key: key,
            employer_name,
            reasons,
            reports,
        });
    }
    Ok(alerts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_machine_follows_the_inspection_process() {
        use InspectorAction as A;
        use ReportStatus as S;
        assert_eq!(after(S::Submitted, A::Accept, false), Some(S::Accepted));
        assert_eq!(after(S::Submitted, A::Refuse, false), Some(S::Refused));
        assert_eq!(after(S::Accepted, A::Start, true), Some(S::InProgress));
        assert_eq!(after(S::InProgress, A::Resolve, true), Some(S::Resolved));
        assert_eq!(after(S::InProgress, A::Transfer, true), Some(S::Submitted));
        assert_eq!(
            after(S::Accepted, A::Refuse, true),
            None,
            "accepted reports are closed, not refused"
        );
        assert_eq!(after(S::Submitted, A::Extend, false), None);
        assert_eq!(after(S::Resolved, A::Close, true), None);
    }

    #[test]
    fn employers_without_a_code_group_by_their_normalised_name() {
        assert_eq!(
            employer_key("南京 某某建筑（集团）公司", None),
            employer_key("南京某某建筑(集团)公司", None)
        );
        let code = CreditCode::parse("91350100M000100Y43").ok();
        assert!(code.is_none() || employer_key("x", code.as_ref()).starts_with("code:"));
    }
}
