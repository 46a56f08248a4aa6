//! Subsidy applications: created (idempotently) and edited by workers,
//! reviewed by reviewers of the case's region, paid by finance. Every change
//! goes through one state machine (`status`) and lands in the timeline and the
//! audit log in the same transaction.

pub mod status;

use chrono::{DateTime, Utc};
use entity::{application, application_event, program, worker};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    ExprTrait, FromQueryResult, JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
    sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use self::status::{Action, ApplicationStatus};
use crate::{
    access,
    auth::{Principal, Role},
    context::RequestContext,
    domain::{IdNumber, PhoneNumber, RegionCode, TextType, masked_name},
    error::{AppError, AppResult, ErrorCode, Localized},
    infra::crypto::Field,
    services::{
        audit::{self, Event, Outcome},
        counters, idempotency, notifications,
        programs::{self, Program, rules},
        uploads, workers,
    },
    state::AppState,
};

const NUMBER_PREFIX: &str = "SB";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    pub id: String,
    pub application_no: String,
    pub status: ApplicationStatus,
}

#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: String,
    pub purpose: String,
    pub content_type: String,
    pub size: i64,
}

#[derive(Debug, Clone)]
pub struct Application {
    pub id: String,
    pub application_no: String,
    pub program_id: String,
    pub program_name: String,
    pub worker_id: String,
    pub region_code: RegionCode,
    pub status: ApplicationStatus,
    pub answers: Map<String, Value>,
    pub attachments: Vec<Attachment>,
    pub requested_amount_fen: Option<i64>,
    pub approved_amount_fen: Option<i64>,
    pub disbursed_amount_fen: Option<i64>,
    pub disbursement_reference: Option<String>,
    pub version: i32,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub action: String,
    pub description: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// Who acted, as the worker may see it: 本人, 工作人员 or 系统.
    pub by: &'static str,
    pub comment: Option<String>,
}

pub struct NewApplication {
    pub program_id: String,
    pub answers: Map<String, Value>,
    pub attachment_ids: Vec<String>,
    pub submit: bool,
}

fn not_found() -> AppError {
    AppError::new(ErrorCode::NotFound)
}

/// An application as its pages show it, read again (inside the caller's
/// transaction, after a change).
async fn read(db: &impl ConnectionTrait, id: &str) -> AppResult<Application> {
    with_program_and_documents(
        application::Entity::find_by_id(id.to_owned()),
        db.get_database_backend(),
    )
    .into_model::<WithDocuments>()
    .one(db)
    .await?
    .ok_or_else(not_found)?
    .into_application()
}

/// A page of `select`'s applications with their programs' names and
/// documents, and how many there are in all.
async fn page_of(
    db: &impl ConnectionTrait,
    select: sea_orm::Select<application::Entity>,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Application>, u64)> {
    let total = select.clone().count(db).await?;
    let applications = with_program_and_documents(select, db.get_database_backend())
        .into_model::<WithDocuments>()
        .paginate(db, u64::from(page_size))
        .fetch_page(u64::from(page.saturating_sub(1)))
        .await?
        .into_iter()
        .map(WithDocuments::into_application)
        .collect::<AppResult<_>>()?;
    Ok((applications, total))
}

fn application_of(
    row: application::Model,
    program_name: String,
    attachments: Vec<Attachment>,
) -> AppResult<Application> {
    let corrupt = |what: &str| malformed(&row.id, what);
    Ok(Application {
        status: ApplicationStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?,
        region_code: RegionCode::parse(&row.region_code).map_err(|_| corrupt("region"))?,
        answers: serde_json::from_str(&row.answers).map_err(|_| corrupt("answer set"))?,
        attachments,
        program_name,
        id: row.id,
        application_no: row.application_no,
        program_id: row.program_id,
        worker_id: row.worker_id,
        requested_amount_fen: row.requested_amount_fen,
        approved_amount_fen: row.approved_amount_fen,
        disbursed_amount_fen: row.disbursed_amount_fen,
        disbursement_reference: row.disbursement_reference,
        version: row.version,
        submitted_at: row.submitted_at,
        decided_at: row.decided_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn invalid_answers((field, reason): (String, String)) -> AppError {
    AppError::invalid_field(
        &field,
        Localized::new(reason, format!("{field} is not valid for this program's form.")),
    )
}

/// Where the case is reviewed: where the worker works or lives inside the
/// program's region, else the program's region itself.
fn routing_region(state: &AppState, program: &Program, facts: &rules::Facts<'_>) -> RegionCode {
    [facts.work, facts.residence]
        .into_iter()
        .flatten()
        .find(|r| state.regions.covers(program.region_code, *r))
        .unwrap_or(program.region_code)
}

/// The checks a submission must pass: program open, form complete, every
/// criterion met, every required document attached. Returns the amount asked.
async fn admissible(
    state: &AppState,
    program: &Program,
    worker_id: &str,
    answers: &Map<String, Value>,
    attached: &[entity::upload::Model],
) -> AppResult<i64> {
    let today = crate::domain::china_time::today();
    if !program.accepting(today) {
        return Err(AppError::new(ErrorCode::ProgramClosed));
    }
    rules::validate_answers(&program.form_fields, answers, true).map_err(invalid_answers)?;
    let facts = workers::facts(state, worker_id).await?;
    let facts = rules::Facts {
        answers: Some(answers),
        ..facts
    };
    let checks = rules::evaluate(&program.criteria, program.region_code, &facts, &state.regions, today);
    if checks.iter().any(|c| !c.passed) {
        let details: Vec<Value> = checks
            .iter()
            .map(|c| json!({ "criterion": c.criterion, "passed": c.passed, "detail": c.detail }))
            .collect();
        return Err(AppError::new(ErrorCode::NotEligible).with_details(json!({ "checks": details })));
    }
    let missing: Vec<&str> = program
        .required_documents
        .iter()
        .filter(|doc| !attached.iter().any(|u| u.purpose == doc.kind))
        .map(|doc| doc.label.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(AppError::new(ErrorCode::DocumentsMissing).with_details(json!({ "missing": missing })));
    }
    program.amount_rule.amount(answers).map_err(|reason| {
        AppError::invalid_field(
            "answers",
            Localized::new(reason, "The amount cannot be worked out from the answers."),
        )
    })
}

/// Who acted, for the timeline and the audit log.
struct By<'a> {
    principal: &'a Principal,
    kind: &'static str,
}

/// One step through the state machine.
struct Step<'a> {
    action: Action,
    /// The version the actor last saw, where a stale view must be refused.
    expected_version: Option<i32>,
    comment: Option<&'a str>,
}

/// Moves an application through `action`, checking the state machine and the
/// version, and records the step in the timeline and the audit log.
async fn record_step(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    actor: &By<'_>,
    row: &application::Model,
    step: Step<'_>,
    edit: impl FnOnce(&mut application::ActiveModel),
) -> AppResult<application::Model> {
    let Step {
        action,
        expected_version,
        comment,
    } = step;
    let from =
        ApplicationStatus::parse(&row.status).ok_or_else(|| AppError::internal(anyhow::anyhow!("bad status")))?;
    let to = from.after(action).ok_or_else(|| {
        AppError::new(ErrorCode::InvalidState)
            .with_details(json!({ "status": from.as_str(), "action": action.as_str() }))
    })?;
    if let Some(expected) = expected_version
        && expected != row.version
    {
        return Err(AppError::new(ErrorCode::VersionConflict).with_details(json!({ "current_version": row.version })));
    }
    let now = Utc::now();
    let mut active = application::ActiveModel {
        status: Set(to.as_str().to_owned()),
        version: Set(row.version + 1),
        updated_at: Set(now),
        ..Default::default()
    };
    edit(&mut active);
    let updated = application::Entity::update_many()
        .set(active)
        .filter(application::Column::Id.eq(&row.id))
        .filter(application::Column::Version.eq(row.version))
        .exec(transaction)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::new(ErrorCode::VersionConflict));
    }
    application_event::ActiveModel {
        application_id: Set(row.id.clone()),
        at: Set(now),
        actor_type: Set(actor.kind.to_owned()),
        actor_id: Set(Some(actor.principal.subject.clone())),
        action: Set(action.as_str().to_owned()),
        from_status: Set(Some(from.as_str().to_owned())),
        to_status: Set(to.as_str().to_owned()),
        comment: Set(comment.map(str::to_owned)),
        ..Default::default()
    }
    .insert(transaction)
    .await?;
    notifications::enqueue(
        transaction,
        &row.worker_id,
        "application.status",
        &notifications::Message {
            title: "补贴申请进度".to_owned(),
            body: format!("您的申请{}：{}", row.application_no, action.describe()),
            link: Some(format!("pages/applications/detail?id={}", row.id)),
        },
    )
    .await?;
    audit::record(
        transaction,
        Some(request),
        Event {
            actor: audit::Actor::Principal(actor.principal),
            action: "application.transition",
            target: Some(("application", &row.id)),
            region: RegionCode::parse(&row.region_code).ok(),
            outcome: Outcome::Success,
            details: Some(json!({ "action": action.as_str(), "from": from.as_str(), "to": to.as_str() })),
        },
    )
    .await?;
    application::Entity::find_by_id(row.id.clone())
        .one(transaction)
        .await?
        .ok_or_else(not_found)
}

pub async fn create(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    idempotency_key: &str,
    request_hash: String,
    new: NewApplication,
) -> AppResult<Created> {
    let program = programs::get_public(state, &new.program_id).await.map_err(|err| {
        if err.code == ErrorCode::NotFound {
            AppError::invalid_field(
                "program_id",
                Localized::fixed("没有这项补贴。", "No program has this id."),
            )
        } else {
            err
        }
    })?;
    if !program.accepting(crate::domain::china_time::today()) {
        return Err(AppError::new(ErrorCode::ProgramClosed));
    }
    rules::validate_answers(&program.form_fields, &new.answers, false).map_err(invalid_answers)?;
    let facts = workers::facts(state, &worker.subject).await?;
    let region = routing_region(state, &program, &facts);
    idempotency::once(&state.db, worker, idempotency_key, request_hash, async |transaction| {
        let now = Utc::now();
        let id = uuid::Uuid::new_v4().to_string();
        let application_no = counters::readable_number(transaction, NUMBER_PREFIX, region.as_str()).await?;
        let row = application::ActiveModel {
            id: Set(id.clone()),
            application_no: Set(application_no),
            program_id: Set(program.id.clone()),
            worker_id: Set(worker.subject.clone()),
            period: Set(program.period.clone()),
            region_code: Set(region.as_str().to_owned()),
            status: Set(ApplicationStatus::Draft.as_str().to_owned()),
            answers: Set(Value::Object(new.answers.clone()).to_string()),
            requested_amount_fen: Set(None),
            approved_amount_fen: Set(None),
            disbursed_amount_fen: Set(None),
            disbursement_reference: Set(None),
            version: Set(1),
            submitted_at: Set(None),
            decided_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            anonymised_at: Set(None),
        }
        .insert(transaction)
        .await
        .map_err(|err| match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AppError::new(ErrorCode::DuplicateApplication),
            _ => err.into(),
        })?;
        application_event::ActiveModel {
            application_id: Set(id.clone()),
            at: Set(now),
            actor_type: Set("worker".to_owned()),
            actor_id: Set(Some(worker.subject.clone())),
            action: Set("create".to_owned()),
            from_status: Set(None),
            to_status: Set(ApplicationStatus::Draft.as_str().to_owned()),
            comment: Set(None),
            ..Default::default()
        }
        .insert(transaction)
        .await?;
        let attached = uploads::attach(transaction, &worker.subject, &id, &new.attachment_ids).await?;
        let row = if new.submit {
            let amount = admissible(state, &program, &worker.subject, &new.answers, &attached).await?;
            let actor = By {
                principal: worker,
                kind: "worker",
            };
            record_step(
                transaction,
                request,
                &actor,
                &row,
                Step {
                    action: Action::Submit,
                    expected_version: None,
                    comment: None,
                },
                |active| {
                    active.requested_amount_fen = Set(Some(amount));
                    active.submitted_at = Set(Some(Utc::now()));
                },
            )
            .await?
        } else {
            row
        };
        Ok(Created {
            id,
            application_no: row.application_no,
            status: ApplicationStatus::parse(&row.status).unwrap_or(ApplicationStatus::Draft),
        })
    })
    .await
}

/// A worker reaches only their own applications; another's is "not found",
/// so that its existence does not leak.
fn is_own(row: &application::Model, worker: &Principal) -> bool {
    row.worker_id == worker.subject
}

async fn own_row(db: &impl ConnectionTrait, worker: &Principal, id: &str) -> AppResult<application::Model> {
    application::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .filter(|row| is_own(row, worker))
        .ok_or_else(not_found)
}

pub async fn list_own(
    state: &AppState,
    worker: &Principal,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Application>, u64)> {
    let mine = application::Entity::find()
        .filter(application::Column::WorkerId.eq(&worker.subject))
        .order_by_desc(application::Column::CreatedAt);
    page_of(&state.db, mine, page, page_size).await
}

pub async fn timeline(db: &impl ConnectionTrait, application_id: &str) -> AppResult<Vec<TimelineEntry>> {
    let events = application_event::Entity::find()
        .filter(application_event::Column::ApplicationId.eq(application_id))
        .order_by_asc(application_event::Column::Id)
        .all(db)
        .await?;
    Ok(events
        .into_iter()
        .map(|e| {
            timeline_entry(EventFacts {
                at: e.at,
                actor_type: e.actor_type,
                action: e.action,
                from_status: e.from_status,
                to_status: e.to_status,
                comment: e.comment,
            })
        })
        .collect())
}

/// What the worker is shown of one step: the columns of `application_event`
/// without who exactly acted.
#[derive(Deserialize)]
struct EventFacts {
    at: DateTime<Utc>,
    actor_type: String,
    action: String,
    from_status: Option<String>,
    to_status: String,
    comment: Option<String>,
}

fn timeline_entry(event: EventFacts) -> TimelineEntry {
    let description = match event.action.as_str() {
        "create" => "创建了申请".to_owned(),
        "submit" => Action::Submit.describe().to_owned(),
        "withdraw" => Action::Withdraw.describe().to_owned(),
        "start_review" => Action::StartReview.describe().to_owned(),
        "approve" => Action::Approve.describe().to_owned(),
        "reject" => Action::Reject.describe().to_owned(),
        "return" => Action::Return.describe().to_owned(),
        "disburse" => Action::Disburse.describe().to_owned(),
        "edit" => "修改了申请内容".to_owned(),
        other => other.to_owned(),
    };
    TimelineEntry {
        at: event.at,
        action: event.action,
        description,
        from_status: event.from_status,
        to_status: event.to_status,
        by: match event.actor_type.as_str() {
            "worker" => "本人",
            "staff" => "工作人员",
            _ => "系统",
        },
        comment: event.comment,
    }
}

/// The columns of `upload` a worker sees of a document.
#[derive(Deserialize)]
struct DocumentFacts {
    id: String,
    purpose: String,
    content_type: String,
    size_bytes: i64,
}

/// An application row read together with its program's name and its
/// documents, the latter as a JSON array built by the database.
#[derive(FromQueryResult)]
struct WithDocuments {
    #[sea_orm(nested)]
    application: application::Model,
    program_name: Option<String>,
    documents: String,
}

impl WithDocuments {
    fn into_application(self) -> AppResult<Application> {
        let attachments = attachments_from_json(&self.application.id, &self.documents)?;
        application_of(self.application, self.program_name.unwrap_or_default(), attachments)
    }
}

/// As `WithDocuments`, with the timeline as a JSON array too.
#[derive(FromQueryResult)]
struct WithDetail {
    #[sea_orm(nested)]
    found: WithDocuments,
    events: String,
}

/// The rows of `select` with their program's name and their documents, so
/// that a worker's pages need no query per application.
fn with_program_and_documents(
    select: sea_orm::Select<application::Entity>,
    backend: DbBackend,
) -> sea_orm::Select<application::Entity> {
    let documents = rows_as_json(
        backend,
        "upload",
        &["id", "purpose", "content_type", "size_bytes"],
        "created_at",
    );
    select
        .column_as(program::Column::Name, "program_name")
        .column_as(Expr::cust(documents), "documents")
        .join(
            JoinType::LeftJoin,
            application::Entity::belongs_to(program::Entity)
                .from(application::Column::ProgramId)
                .to(program::Column::Id)
                .into(),
        )
}

fn malformed(id: &str, what: &str) -> AppError {
    AppError::internal(anyhow::anyhow!("application {id} has malformed {what}"))
}

fn attachments_from_json(id: &str, documents: &str) -> AppResult<Vec<Attachment>> {
    let documents: Vec<DocumentFacts> = serde_json::from_str(documents).map_err(|_| malformed(id, "documents"))?;
    Ok(documents
        .into_iter()
        .map(|d| Attachment {
            id: d.id,
            purpose: d.purpose,
            content_type: d.content_type,
            size: d.size_bytes,
        })
        .collect())
}

/// `(SELECT …)`: the JSON array of `table`'s rows that belong to the
/// application of the outer query, each an object of `columns`, in `order`.
/// The two databases name the same JSON functions differently.
fn rows_as_json(backend: DbBackend, table: &str, columns: &[&str], order: &str) -> String {
    let (array, object, as_text) = match backend {
        DbBackend::Postgres => ("json_agg", "json_build_object", "::text"),
        _ => ("json_group_array", "json_object", ""),
    };
    let pairs: Vec<String> = columns.iter().map(|c| format!("'{c}', \"{table}\".\"{c}\"")).collect();
    format!(
        "(SELECT COALESCE({array}({object}({}) ORDER BY \"{table}\".\"{order}\"){as_text}, '[]') \
         FROM \"{table}\" WHERE \"{table}\".\"application_id\" = \"application\".\"id\")",
        pairs.join(", ")
    )
}

/// The worker's own application with its timeline: the most read page of
/// all, so the row, its program's name, its documents and its timeline come
/// in one statement.
pub async fn get_own(state: &AppState, worker: &Principal, id: &str) -> AppResult<(Application, Vec<TimelineEntry>)> {
    let backend = state.db.get_database_backend();
    let events = rows_as_json(
        backend,
        "application_event",
        &["at", "actor_type", "action", "from_status", "to_status", "comment"],
        "id",
    );
    let found = with_program_and_documents(application::Entity::find_by_id(id.to_owned()), backend)
        .column_as(Expr::cust(events), "events")
        .into_model::<WithDetail>()
        .one(&state.db)
        .await?;
    let WithDetail { found, events } = found
        .filter(|f| is_own(&f.found.application, worker))
        .ok_or_else(not_found)?;
    let events: Vec<EventFacts> = serde_json::from_str(&events).map_err(|_| malformed(id, "timeline"))?;
    Ok((
        found.into_application()?,
        events.into_iter().map(timeline_entry).collect(),
    ))
}

/// Changes answers and documents while the application is a draft or returned.
pub async fn edit(
    state: &AppState,
    worker: &Principal,
    id: &str,
    expected_version: i32,
    answers: Map<String, Value>,
    attachment_ids: Vec<String>,
) -> AppResult<Application> {
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let row = own_row(&transaction, worker, id).await?;
    let status = ApplicationStatus::parse(&row.status).unwrap_or(ApplicationStatus::Draft);
    if !status.editable() {
        return Err(AppError::new(ErrorCode::InvalidState).with_message(Localized::fixed(
            "申请已提交，现在不能修改。如需修改，请先撤回或等待退回。",
            "Only drafts and returned applications can change.",
        )));
    }
    let program = programs::load(&transaction, &row.program_id).await?;
    rules::validate_answers(&program.form_fields, &answers, false).map_err(invalid_answers)?;
    let updated = application::Entity::update_many()
        .set(application::ActiveModel {
            answers: Set(Value::Object(answers).to_string()),
            version: Set(row.version + 1),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .filter(application::Column::Id.eq(&row.id))
        .filter(application::Column::Version.eq(expected_version))
        .exec(&transaction)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::new(ErrorCode::VersionConflict).with_details(json!({ "current_version": row.version })));
    }
    uploads::attach(&transaction, &worker.subject, &row.id, &attachment_ids).await?;
    application_event::ActiveModel {
        application_id: Set(row.id.clone()),
        at: Set(Utc::now()),
        actor_type: Set("worker".to_owned()),
        actor_id: Set(Some(worker.subject.clone())),
        action: Set("edit".to_owned()),
        from_status: Set(Some(row.status.clone())),
        to_status: Set(row.status.clone()),
        comment: Set(None),
        ..Default::default()
    }
    .insert(&transaction)
    .await?;
    let row = own_row(&transaction, worker, id).await?;
    let application = read(&transaction, &row.id).await?;
    transaction.commit().await?;
    Ok(application)
}

pub async fn submit(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    id: &str,
) -> AppResult<Application> {
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let row = own_row(&transaction, worker, id).await?;
    let program = programs::load(&transaction, &row.program_id).await?;
    let answers: Map<String, Value> = serde_json::from_str(&row.answers).map_err(AppError::internal)?;
    let attached = uploads::attach(&transaction, &worker.subject, &row.id, &[]).await?;
    if ApplicationStatus::parse(&row.status)
        .and_then(|s| s.after(Action::Submit))
        .is_none()
    {
        return Err(AppError::new(ErrorCode::InvalidState).with_details(json!({ "status": row.status })));
    }
    let amount = admissible(state, &program, &worker.subject, &answers, &attached).await?;
    let actor = By {
        principal: worker,
        kind: "worker",
    };
    let row = record_step(
        &transaction,
        request,
        &actor,
        &row,
        Step {
            action: Action::Submit,
            expected_version: None,
            comment: None,
        },
        |active| {
            active.requested_amount_fen = Set(Some(amount));
            active.submitted_at = Set(Some(Utc::now()));
        },
    )
    .await?;
    let application = read(&transaction, &row.id).await?;
    transaction.commit().await?;
    Ok(application)
}

pub async fn withdraw(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    id: &str,
) -> AppResult<Application> {
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let row = own_row(&transaction, worker, id).await?;
    let actor = By {
        principal: worker,
        kind: "worker",
    };
    let row = record_step(
        &transaction,
        request,
        &actor,
        &row,
        Step {
            action: Action::Withdraw,
            expected_version: None,
            comment: None,
        },
        |_| {},
    )
    .await?;
    let application = read(&transaction, &row.id).await?;
    transaction.commit().await?;
    Ok(application)
}

/// Filters of the review queue.
#[derive(Debug, Default)]
pub struct QueueFilter {
    pub status: Option<ApplicationStatus>,
    pub program_id: Option<String>,
    pub region: Option<RegionCode>,
}

/// Cases in the reviewer's region, oldest submission first.
pub async fn queue(
    state: &AppState,
    staff: &Principal,
    filter: QueueFilter,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Application>, u64)> {
    access::require_case_worker(staff)?;
    let mut query = application::Entity::find()
        .filter(application::Column::Status.ne(ApplicationStatus::Draft.as_str()))
        .order_by_asc(application::Column::SubmittedAt)
        .order_by_asc(application::Column::CreatedAt);
    if let Some(codes) = access::staff_scope(&state.regions, staff, filter.region)? {
        query = query.filter(application::Column::RegionCode.is_in(codes));
    }
    if let Some(status) = filter.status {
        query = query.filter(application::Column::Status.eq(status.as_str()));
    }
    if let Some(program_id) = filter.program_id {
        query = query.filter(application::Column::ProgramId.eq(program_id));
    }
    page_of(&state.db, query, page, page_size).await
}

/// The applicant as staff see them by default: masked.
#[derive(Debug, Clone)]
pub struct Applicant {
    pub name_masked: Option<String>,
    pub id_number_masked: Option<String>,
    pub phone_masked: Option<String>,
}

async fn case_in_scope(
    db: &impl ConnectionTrait,
    state: &AppState,
    staff: &Principal,
    id: &str,
) -> AppResult<application::Model> {
    access::require_case_worker(staff)?;
    let row = application::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let region = RegionCode::parse(&row.region_code).map_err(|_| not_found())?;
    let draft = row.status == ApplicationStatus::Draft.as_str();
    if !access::reaches_application(&state.regions, staff, region, draft) {
        return Err(not_found());
    }
    Ok(row)
}

/// A case for staff, the applicant masked. A reviewer opening a submitted
/// case starts its review, which the worker sees in the timeline.
pub async fn get_for_staff(
    state: &AppState,
    request: &RequestContext,
    staff: &Principal,
    id: &str,
) -> AppResult<(Application, Applicant, Vec<TimelineEntry>)> {
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let mut row = case_in_scope(&transaction, state, staff, id).await?;
    if staff.has_role(Role::Reviewer) && row.status == ApplicationStatus::Submitted.as_str() {
        let actor = By {
            principal: staff,
            kind: "staff",
        };
        row = record_step(
            &transaction,
            request,
            &actor,
            &row,
            Step {
                action: Action::StartReview,
                expected_version: None,
                comment: None,
            },
            |_| {},
        )
        .await?;
    }
    let person = worker::Entity::find_by_id(row.worker_id.clone())
        .one(&transaction)
        .await?
        .ok_or_else(not_found)?;
    let masked = |field, cipher: &Option<String>| {
        cipher
            .as_deref()
            .and_then(|c| state.protector.decrypt(field, &person.id, c).ok())
    };
    let applicant = Applicant {
        name_masked: person.real_name.as_deref().map(masked_name),
        id_number_masked: masked(Field::WorkerIdNumber, &person.id_number_cipher)
            .and_then(|p| IdNumber::parse(&p).ok())
            .map(|id| id.masked()),
        phone_masked: masked(Field::WorkerPhone, &person.phone_cipher)
            .and_then(|p| PhoneNumber::parse(&p).ok())
            .map(|phone| phone.masked()),
    };
    let events = timeline(&transaction, &row.id).await?;
    let application = read(&transaction, &row.id).await?;
    transaction.commit().await?;
    Ok((application, applicant, events))
}

/// The case whose applicant a staff member may see in clear: a reviewer's,
/// in their region, past its draft. The one rule for revealing the applicant
/// and for fetching the documents they attached (the ID-card image).
pub async fn case_for_personal_data(state: &AppState, staff: &Principal, id: &str) -> AppResult<application::Model> {
    access::require_applicant_reader(staff)?;
    case_in_scope(&state.db, state, staff, id).await
}

/// The applicant's personal data in clear, for a reviewer who must check it;
/// every reveal is audited.
pub async fn reveal(
    state: &AppState,
    request: &RequestContext,
    staff: &Principal,
    id: &str,
) -> AppResult<(Option<String>, Option<String>, Option<String>)> {
    let row = case_for_personal_data(state, staff, id).await?;
    let person = worker::Entity::find_by_id(row.worker_id.clone())
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    let clear = |field, cipher: &Option<String>| {
        cipher
            .as_deref()
            .and_then(|c| state.protector.decrypt(field, &person.id, c).ok())
    };
    audit::record(
        &state.db,
        Some(request),
        Event {
            actor: audit::Actor::Principal(staff),
            action: "personal_data.reveal",
            target: Some(("application", &row.id)),
            region: RegionCode::parse(&row.region_code).ok(),
            outcome: Outcome::Success,
            details: Some(json!({ "worker_id": person.id })),
        },
    )
    .await?;
    Ok((
        person.real_name,
        clear(Field::WorkerIdNumber, &person.id_number_cipher),
        clear(Field::WorkerPhone, &person.phone_cipher),
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    Return,
}

/// What a reviewer decides about a case.
#[derive(Debug, Clone)]
pub struct Review {
    pub decision: Decision,
    pub comment: Option<String>,
    /// The version the reviewer saw: of two reviewers deciding at once, one wins.
    pub expected_version: i32,
    /// Defaults to what the program's rule gives; never more.
    pub approved_amount_fen: Option<i64>,
}

/// A reviewer's decision. Reject and return need a comment; approval commits
/// the amount against the program's budget and quota atomically.
pub async fn review(
    state: &AppState,
    request: &RequestContext,
    reviewer: &Principal,
    id: &str,
    review: Review,
) -> AppResult<Application> {
    let Review {
        decision,
        comment,
        expected_version,
        approved_amount_fen,
    } = review;
    access::require_role(reviewer, Role::Reviewer)?;
    if decision != Decision::Approve && comment.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Err(AppError::invalid_field(
            "comment",
            Localized::fixed(
                "不通过或退回时，请写明原因。",
                "A comment is required to reject or return.",
            ),
        ));
    }
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let row = case_in_scope(&transaction, state, reviewer, id).await?;
    let actor = By {
        principal: reviewer,
        kind: "staff",
    };
    let row = match decision {
        Decision::Reject => {
            record_step(
                &transaction,
                request,
                &actor,
                &row,
                Step {
                    action: Action::Reject,
                    expected_version: Some(expected_version),
                    comment: comment.as_deref(),
                },
                |a| {
                    a.decided_at = Set(Some(Utc::now()));
                },
            )
            .await?
        }
        Decision::Return => {
            record_step(
                &transaction,
                request,
                &actor,
                &row,
                Step {
                    action: Action::Return,
                    expected_version: Some(expected_version),
                    comment: comment.as_deref(),
                },
                |_| {},
            )
            .await?
        }
        Decision::Approve => {
            let program = programs::load(&transaction, &row.program_id).await?;
            let answers: Map<String, Value> = serde_json::from_str(&row.answers).map_err(AppError::internal)?;
            let entitled = program
                .amount_rule
                .amount(&answers)
                .unwrap_or_else(|_| program.amount_rule.ceiling());
            let amount = approved_amount_fen.unwrap_or(entitled);
            if amount <= 0 || amount > entitled {
                return Err(AppError::invalid_field(
                    "approved_amount_fen",
                    Localized::new(
                        format!("核定金额应在1分到{}分之间（按补贴标准）。", entitled),
                        format!("approved_amount_fen must be between 1 and {entitled} under the program's rule."),
                    ),
                ));
            }
            let row = record_step(
                &transaction,
                request,
                &actor,
                &row,
                Step {
                    action: Action::Approve,
                    expected_version: Some(expected_version),
                    comment: comment.as_deref(),
                },
                |a| {
                    a.approved_amount_fen = Set(Some(amount));
                    a.decided_at = Set(Some(Utc::now()));
                },
            )
            .await?;
            commit_budget(&transaction, &program, amount).await?;
            row
        }
    };
    let application = read(&transaction, &row.id).await?;
    transaction.commit().await?;
    Ok(application)
}

/// Takes `amount` and one place from the program's budget and quota, in one
/// conditional update: concurrent approvals cannot overspend.
async fn commit_budget(transaction: &DatabaseTransaction, program: &Program, amount: i64) -> AppResult<()> {
    let mut update = program::Entity::update_many()
        .col_expr(
            program::Column::ApprovedFen,
            Expr::col(program::Column::ApprovedFen).add(amount),
        )
        .col_expr(
            program::Column::ApprovedCount,
            Expr::col(program::Column::ApprovedCount).add(1),
        )
        .filter(program::Column::Id.eq(&program.id));
    if program.budget_fen.is_some() {
        update = update.filter(
            Expr::col(program::Column::ApprovedFen)
                .add(amount)
                .lte(Expr::col(program::Column::BudgetFen)),
        );
    }
    if program.quota.is_some() {
        update = update.filter(
            Expr::col(program::Column::ApprovedCount)
                .add(1)
                .lte(Expr::col(program::Column::Quota)),
        );
    }
    if update.exec(transaction).await?.rows_affected == 0 {
        return Err(AppError::new(ErrorCode::BudgetExhausted));
    }
    Ok(())
}

/// Finance records the payment of an approved application.
pub async fn disburse(
    state: &AppState,
    request: &RequestContext,
    finance: &Principal,
    id: &str,
    amount_fen: i64,
    reference: String,
    expected_version: i32,
) -> AppResult<Application> {
    access::require_role(finance, Role::Finance)?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let row = case_in_scope(&transaction, state, finance, id).await?;
    if row.approved_amount_fen.is_some_and(|approved| amount_fen != approved) {
        return Err(AppError::invalid_field(
            "amount_fen",
            Localized::fixed("发放金额应等于核定金额。", "amount_fen must equal the approved amount."),
        ));
    }
    let actor = By {
        principal: finance,
        kind: "staff",
    };
    let row = record_step(
        &transaction,
        request,
        &actor,
        &row,
        Step {
            action: Action::Disburse,
            expected_version: Some(expected_version),
            comment: None,
        },
        |a| {
            a.disbursed_amount_fen = Set(Some(amount_fen));
            a.disbursement_reference = Set(Some(reference.clone()));
        },
    )
    .await?;
    let application = read(&transaction, &row.id).await?;
    transaction.commit().await?;
    Ok(application)
}
