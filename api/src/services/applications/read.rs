//! Every query of applications and the decoding of their rows. Nothing
//! outside this file sees an `application` row: the commands get a `Case`,
//! the pages an `Application`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{application, application_event, program, worker};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, sea_query::Expr,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::status::{Action, ApplicationStatus};
use crate::{
    domain::{IdNumber, PhoneNumber, RegionCode, TextType, masked_name},
    error::{AppError, AppResult, ErrorCode},
    infra::crypto::{DataProtector, Field},
    services::{
        case_log::{CaseKind, CaseRef},
        keyset::{Cut, Keyset, Window},
        relatives::labels,
    },
};

#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: String,
    pub purpose: String,
    pub content_type: String,
    pub size: i64,
}

/// An application as its pages show it.
#[derive(Debug, Clone)]
pub struct Application {
    pub id: String,
    pub application_no: String,
    pub program_id: String,
    pub program_name: String,
    /// Empty while a case filed at a service window waits for its worker.
    pub worker_id: Option<String>,
    pub region_code: RegionCode,
    pub status: ApplicationStatus,
    pub answers: Map<String, Value>,
    pub attachments: Vec<Attachment>,
    /// The electronic certificate the application carries.
    pub certificate_id: Option<String>,
    pub requested_amount_fen: Option<i64>,
    pub approved_amount_fen: Option<i64>,
    pub disbursed_amount_fen: Option<i64>,
    pub disbursement_reference: Option<String>,
    /// The account the payment went to, masked, and its bank.
    pub paid_to: Option<PaidTo>,
    pub version: i32,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The account a disbursement paid, as everyone but finance sees it.
#[derive(Debug, Clone)]
pub struct PaidTo {
    pub account_masked: String,
    pub bank_name: String,
}

#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub action: String,
    pub description: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// Who acted, as the worker may see it: 本人, 工作人员, 系统, or a
    /// relative who acted for the worker (`亲友代办（妻子 王*）`).
    pub by: String,
    pub comment: Option<String>,
}

/// The applicant as staff see them by default: masked.
#[derive(Debug, Clone)]
pub struct Applicant {
    pub name_masked: Option<String>,
    pub id_number_masked: Option<String>,
    pub phone_masked: Option<String>,
}

/// The applicant's personal data in clear.
#[derive(Debug, Clone)]
pub struct ApplicantInClear {
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

/// What the commands need to know of a case to decide on it.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub application_no: String,
    /// Empty while a case filed at a service window waits for its worker.
    pub worker_id: Option<String>,
    pub program_id: String,
    pub region: RegionCode,
    pub status: ApplicationStatus,
    pub version: i32,
    pub answers: Map<String, Value>,
    /// What the amount rule gave the answers at submission.
    pub requested_amount_fen: Option<i64>,
    pub approved_amount_fen: Option<i64>,
    /// The electronic certificate the application carries.
    pub certificate_id: Option<String>,
}

impl Case {
    fn of(row: application::Model) -> AppResult<Case> {
        let corrupt = |what: &str| malformed(&row.id, what);
        Ok(Case {
            status: ApplicationStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?,
            region: RegionCode::parse(&row.region_code).map_err(|_| corrupt("region"))?,
            answers: serde_json::from_str(&row.answers).map_err(|_| corrupt("answer set"))?,
            id: row.id,
            application_no: row.application_no,
            worker_id: row.worker_id,
            program_id: row.program_id,
            version: row.version,
            requested_amount_fen: row.requested_amount_fen,
            approved_amount_fen: row.approved_amount_fen,
            certificate_id: row.certificate_id,
        })
    }

    /// The case as its history, the worker's messages and the audit log name it.
    pub fn reference(&self) -> CaseRef<'_> {
        CaseRef {
            kind: CaseKind::Application,
            id: &self.id,
            number: &self.application_no,
            worker_id: self.worker_id.as_deref(),
            region: Some(self.region),
        }
    }
}

fn not_found() -> AppError {
    AppError::new(ErrorCode::NotFound)
}

fn malformed(id: &str, what: &str) -> AppError {
    AppError::internal(anyhow::anyhow!("application {id} has malformed {what}"))
}

/// The case `id`, if there is one.
pub async fn case(db: &impl ConnectionTrait, id: &str) -> AppResult<Option<Case>> {
    application::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .map(Case::of)
        .transpose()
}

/// The worker's own case; another's is "not found", so that its existence
/// does not leak.
pub async fn own_case(db: &impl ConnectionTrait, worker_id: &str, id: &str) -> AppResult<Case> {
    case(db, id)
        .await?
        .filter(|case| case.worker_id.as_deref() == Some(worker_id))
        .ok_or_else(not_found)
}

/// An application as its pages show it, read again (inside the caller's
/// transaction, after a change).
pub async fn application(db: &impl ConnectionTrait, id: &str) -> AppResult<Application> {
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

/// Which applications a list shows.
#[derive(Debug, Default)]
pub struct Listing {
    /// Only this worker's.
    pub worker_id: Option<String>,
    /// Only those past their draft (the staff queue, read with
    /// [`queue_page`] in its own order); otherwise newest first.
    pub submitted_only: bool,
    /// Only cases reviewed in one of these regions.
    pub regions: Option<Vec<String>>,
    pub status: Option<ApplicationStatus>,
    pub program_id: Option<String>,
    /// Only those submitted before this instant (waiting at least so long).
    pub submitted_before: Option<DateTime<Utc>>,
}

impl Listing {
    fn select(self) -> Select<application::Entity> {
        let mut query = application::Entity::find();
        query = if self.submitted_only {
            query.filter(application::Column::Status.ne(ApplicationStatus::Draft.as_str()))
        } else {
            query.order_by_desc(application::Column::CreatedAt)
        };
        if let Some(worker_id) = self.worker_id {
            query = query.filter(application::Column::WorkerId.eq(worker_id));
        }
        if let Some(codes) = self.regions {
            query = query.filter(application::Column::RegionCode.is_in(codes));
        }
        if let Some(status) = self.status {
            query = query.filter(application::Column::Status.eq(status.as_str()));
        }
        if let Some(program_id) = self.program_id {
            query = query.filter(application::Column::ProgramId.eq(program_id));
        }
        if let Some(before) = self.submitted_before {
            query = query.filter(application::Column::SubmittedAt.lte(before));
        }
        query
    }
}

/// A page of the listed applications with their programs' names and
/// documents, and how many there are in all.
pub async fn page(
    db: &impl ConnectionTrait,
    listing: Listing,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Application>, u64)> {
    let select = listing.select();
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

/// A page of the review queue (`listing` past drafts), oldest submission
/// first and the id breaking ties, which the queue indexes of migration
/// 000060 hold in order; and how many match in all. `scope` is what selects
/// the cases, for the cursor to be good under the same only.
pub async fn queue_page(
    db: &impl ConnectionTrait,
    protector: &DataProtector,
    listing: Listing,
    scope: &impl std::fmt::Debug,
    window: Window,
) -> AppResult<Cut<Application>> {
    use application::Column::{CreatedAt, Id, SubmittedAt};
    let keyset = Keyset::open(
        protector,
        "applications.review",
        scope,
        (vec![SubmittedAt, CreatedAt, Id], false),
        window,
    )?;
    let select = listing.select();
    let total = select.clone().count(db).await?;
    let rows = with_program_and_documents(keyset.cut(select), db.get_database_backend())
        .into_model::<WithDocuments>()
        .all(db)
        .await?;
    keyset
        .page(rows, total, |row| {
            let case = &row.application;
            // Past its draft, a case has its submission time.
            let submitted = case.submitted_at.unwrap_or(case.created_at);
            vec![submitted.into(), case.created_at.into(), case.id.as_str().into()]
        })
        .try_map(WithDocuments::into_application)
}

pub async fn timeline(db: &impl ConnectionTrait, application_id: &str) -> AppResult<Vec<TimelineEntry>> {
    let events = application_event::Entity::find()
        .filter(application_event::Column::ApplicationId.eq(application_id))
        .order_by_asc(application_event::Column::Id)
        .all(db)
        .await?;
    let relatives = labels::of_history(db, events.iter().map(|e| e.relative_grant_id.as_ref())).await?;
    Ok(events
        .into_iter()
        .map(|e| {
            let facts = EventFacts {
                at: e.at,
                actor_type: e.actor_type,
                action: e.action,
                from_status: e.from_status,
                to_status: e.to_status,
                comment: e.comment,
                relative_grant_id: e.relative_grant_id,
            };
            timeline_entry(facts, &relatives)
        })
        .collect())
}

/// The worker's own application with its timeline: the most read page of
/// all, so the row, its program's name, its documents and its timeline come
/// in one statement.
pub async fn own_with_timeline(
    db: &impl ConnectionTrait,
    worker_id: &str,
    id: &str,
) -> AppResult<(Application, Vec<TimelineEntry>)> {
    let backend = db.get_database_backend();
    let events = rows_as_json(
        backend,
        "application_event",
        &[
            "at",
            "actor_type",
            "action",
            "from_status",
            "to_status",
            "comment",
            "relative_grant_id",
        ],
        "id",
    );
    let found = with_program_and_documents(application::Entity::find_by_id(id.to_owned()), backend)
        .column_as(Expr::cust(events), "events")
        .into_model::<WithDetail>()
        .one(db)
        .await?;
    let WithDetail { found, events } = found
        .filter(|f| f.found.application.worker_id.as_deref() == Some(worker_id))
        .ok_or_else(not_found)?;
    let events: Vec<EventFacts> = serde_json::from_str(&events).map_err(|_| malformed(id, "timeline"))?;
    let relatives = labels::of_history(db, events.iter().map(|e| e.relative_grant_id.as_ref())).await?;
    Ok((
        found.into_application()?,
        events.into_iter().map(|e| timeline_entry(e, &relatives)).collect(),
    ))
}

/// The applicant's name, ID number and phone, decrypted; `None` where the
/// profile has none.
pub async fn applicant_in_clear(
    db: &impl ConnectionTrait,
    protector: &DataProtector,
    worker_id: &str,
) -> AppResult<ApplicantInClear> {
    let person = worker::Entity::find_by_id(worker_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let clear = |field, cipher: &Option<String>| {
        cipher
            .as_deref()
            .and_then(|c| protector.decrypt(field, &person.id, c).ok())
    };
    Ok(ApplicantInClear {
        id_number: clear(Field::WorkerIdNumber, &person.id_number_cipher),
        phone: clear(Field::WorkerPhone, &person.phone_cipher),
        name: person.real_name,
    })
}

impl ApplicantInClear {
    pub fn masked(&self) -> Applicant {
        Applicant {
            name_masked: self.name.as_deref().map(masked_name),
            id_number_masked: self
                .id_number
                .as_deref()
                .and_then(|p| IdNumber::parse(p).ok())
                .map(|id| id.masked()),
            phone_masked: self
                .phone
                .as_deref()
                .and_then(|p| PhoneNumber::parse(p).ok())
                .map(|phone| phone.masked()),
        }
    }
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
        certificate_id: row.certificate_id,
        requested_amount_fen: row.requested_amount_fen,
        approved_amount_fen: row.approved_amount_fen,
        disbursed_amount_fen: row.disbursed_amount_fen,
        disbursement_reference: row.disbursement_reference,
        paid_to: row
            .payee_account_masked
            .zip(row.payee_bank_name)
            .map(|(account_masked, bank_name)| PaidTo {
                account_masked,
                bank_name,
            }),
        version: row.version,
        submitted_at: row.submitted_at,
        decided_at: row.decided_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
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
    /// A relative acted for the worker under this grant (亲情代办).
    #[serde(default)]
    relative_grant_id: Option<String>,
}

fn timeline_entry(event: EventFacts, relatives: &HashMap<String, String>) -> TimelineEntry {
    let description = match event.action.as_str() {
        "create" => "创建了申请".to_owned(),
        "window_filed" => "工作人员在服务窗口代为填写了申请".to_owned(),
        "link" => "申请已关联到您的账号".to_owned(),
        "edit" => "修改了申请内容".to_owned(),
        other => Action::parse(other).map_or_else(|| other.to_owned(), |action| action.describe().to_owned()),
    };
    TimelineEntry {
        at: event.at,
        action: event.action,
        description,
        from_status: event.from_status,
        to_status: event.to_status,
        by: match event.actor_type.as_str() {
            "worker" => labels::acted_by("本人", event.relative_grant_id.as_ref(), relatives),
            "staff" => "工作人员".to_owned(),
            _ => "系统".to_owned(),
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
fn with_program_and_documents(select: Select<application::Entity>, backend: DbBackend) -> Select<application::Entity> {
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
