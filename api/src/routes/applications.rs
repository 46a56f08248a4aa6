use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ApiTags, Page, idempotent};
use crate::http::params::{IdempotencyKey, PageNumber, PageSize, Paging, RecordId, Version};
use crate::{
    auth::schemes::{StaffAuth, WorkerAuth},
    context::RequestContext,
    domain::{BoundedText, RegionCode, yuan_text},
    http::{
        json_body::{JsonBody, present},
        problem::{ApiResult, status},
    },
    services::applications::{
        self, Application, Decision, NewApplication, Payment, QueueFilter, Review, TimelineEntry,
        status::{Action, ApplicationStatus},
    },
    state::AppState,
};

pub struct ApplicationApi;

#[derive(Debug, Object)]
pub struct AttachmentView {
    pub id: String,
    /// The document kind, e.g. `id_card`.
    pub purpose: String,
    pub content_type: String,
    pub size: i64,
}

/// An application.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ApplicationView {
    pub id: String,
    /// e.g. SB-450100-20261122-000123: quote it when calling the office.
    pub application_no: String,
    pub program_id: String,
    pub program_name: String,
    pub status: ApplicationStatus,
    /// Where the case is reviewed.
    pub region_code: RegionCode,
    pub answers: BTreeMap<String, Value>,
    pub attachments: Vec<AttachmentView>,
    /// For integrators; the worker reads `requested_amount_yuan`.
    pub requested_amount_fen: Option<i64>,
    pub approved_amount_fen: Option<i64>,
    pub disbursed_amount_fen: Option<i64>,
    /// The amount the rule gives the answers, in yuan (`2000.00`): what the worker asked.
    pub requested_amount_yuan: Option<String>,
    /// The amount approved, in yuan.
    pub approved_amount_yuan: Option<String>,
    /// The amount paid, in yuan.
    pub disbursed_amount_yuan: Option<String>,
    /// Send it back as `expected_version` when changing the application.
    pub version: i32,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn application_view(application: Application) -> ApplicationView {
    ApplicationView {
        id: application.id,
        application_no: application.application_no,
        program_id: application.program_id,
        program_name: application.program_name,
        status: application.status,
        region_code: application.region_code,
        answers: application.answers.into_iter().collect(),
        attachments: application
            .attachments
            .into_iter()
            .map(|a| AttachmentView {
                id: a.id,
                purpose: a.purpose,
                content_type: a.content_type,
                size: a.size,
            })
            .collect(),
        requested_amount_fen: application.requested_amount_fen,
        approved_amount_fen: application.approved_amount_fen,
        disbursed_amount_fen: application.disbursed_amount_fen,
        requested_amount_yuan: application.requested_amount_fen.map(yuan_text),
        approved_amount_yuan: application.approved_amount_fen.map(yuan_text),
        disbursed_amount_yuan: application.disbursed_amount_fen.map(yuan_text),
        version: application.version,
        submitted_at: application.submitted_at,
        decided_at: application.decided_at,
        created_at: application.created_at,
        updated_at: application.updated_at,
    }
}

/// One step of the timeline. Staff appear as 工作人员, never by name.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TimelineView {
    pub at: DateTime<Utc>,
    pub action: String,
    /// What happened, in plain Chinese.
    pub description: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// 本人, 工作人员 or 系统.
    pub by: String,
    pub comment: Option<String>,
}

fn timeline_view(entries: Vec<TimelineEntry>) -> Vec<TimelineView> {
    entries
        .into_iter()
        .map(|e| TimelineView {
            at: e.at,
            action: e.action,
            description: e.description,
            from_status: e.from_status,
            to_status: e.to_status,
            by: e.by.to_owned(),
            comment: e.comment,
        })
        .collect()
}

#[derive(Debug, Object)]
pub struct ApplicationDetail {
    #[oai(flatten)]
    pub application: ApplicationView,
    pub timeline: Vec<TimelineView>,
}

#[derive(Debug, Object, Deserialize, Serialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct ApplicationCreate {
    pub program_id: RecordId,
    /// Answers to the program's form, by field key.
    #[serde(default)]
    #[oai(default)]
    pub answers: BTreeMap<String, Value>,
    /// Uploads (`POST /api/v1/uploads`) to attach.
    #[serde(default)]
    #[oai(default, validator(max_items = 20))]
    pub attachment_ids: Vec<BoundedText<1, 36>>,
    /// Submit at once (checked in full) instead of saving a draft.
    #[serde(default)]
    #[oai(default)]
    pub submit: bool,
}

#[derive(Debug, Object, Serialize, Deserialize)]
pub struct ApplicationCreated {
    pub id: String,
    pub application_no: String,
    pub status: ApplicationStatus,
}

#[derive(ApiResponse)]
pub enum CreatedResponse {
    /// Created; the same Idempotency-Key and body replay this answer.
    #[oai(status = 201)]
    Created(Json<ApplicationCreated>),
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct ApplicationUpdate {
    pub expected_version: Version,
    #[serde(default)]
    #[oai(default)]
    pub answers: BTreeMap<String, Value>,
    #[serde(default)]
    #[oai(default, validator(max_items = 20))]
    pub attachment_ids: Vec<BoundedText<1, 36>>,
}

/// A case in the review queue.
#[derive(Debug, Object)]
pub struct QueueItem {
    #[oai(flatten)]
    pub application: ApplicationView,
    /// Whole days since it was submitted.
    pub age_days: i64,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ApplicantView {
    /// Masked, e.g. 张*.
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Object)]
pub struct StaffApplicationDetail {
    #[oai(flatten)]
    pub application: ApplicationView,
    pub applicant: ApplicantView,
    pub timeline: Vec<TimelineView>,
}

/// The applicant's personal data in clear. Each reveal is audited.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Revealed {
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Copy, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DecisionName {
    Approve,
    Reject,
    Return,
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct ReviewBody {
    pub decision: DecisionName,
    /// Required to reject or return: the worker reads it.
    #[serde(default, deserialize_with = "present")]
    pub comment: Option<BoundedText<1, 1000>>,
    /// The version the reviewer saw; a stale one gets 409.
    pub expected_version: Version,
    /// Defaults to the amount the program's rule gives; never more.
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(minimum(value = "1"), maximum(value = "100000000000")))]
    pub approved_amount_fen: Option<i64>,
}

impl From<ReviewBody> for Review {
    fn from(body: ReviewBody) -> Self {
        Review {
            decision: match body.decision {
                DecisionName::Approve => Decision::Approve,
                DecisionName::Reject => Decision::Reject,
                DecisionName::Return => Decision::Return,
            },
            comment: body.comment.map(BoundedText::into_inner),
            expected_version: body.expected_version.get(),
            approved_amount_fen: body.approved_amount_fen,
        }
    }
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct StartReviewBody {
    /// The version the reviewer saw; a stale one gets 409.
    pub expected_version: Version,
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct DisburseBody {
    /// The approved amount.
    #[oai(validator(minimum(value = "1"), maximum(value = "100000000000")))]
    pub amount_fen: i64,
    /// The payment's reference in the finance system.
    pub reference: BoundedText<1, 64>,
    pub expected_version: Version,
}

fn queue_item(application: Application, now: DateTime<Utc>) -> QueueItem {
    QueueItem {
        age_days: application.submitted_at.map_or(0, |at| (now - at).num_days()),
        application: application_view(application),
    }
}

fn answers(map: BTreeMap<String, Value>) -> Map<String, Value> {
    map.into_iter().collect()
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Applications")]
impl ApplicationApi {
    /// Apply for a subsidy
    ///
    /// Saves a draft, or submits at once with `submit: true` (then the form
    /// must be complete, every criterion met and every document attached).
    /// `Idempotency-Key` is required: a retry with the same key and body gets
    /// the first answer and creates nothing; the same key with another body
    /// is 422; while the first is still running, 409.
    #[oai(path = "/applications", method = "post", operation_id = "createApplication")]
    async fn create(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        /// 1 to 255 characters, new for every new application (e.g. a UUID).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<IdempotencyKey>,
        body: JsonBody<ApplicationCreate>,
    ) -> ApiResult<CreatedResponse, { status::BODY | status::CONFLICT | status::UNPROCESSABLE | status::SIGNED_IN }>
    {
        let (once, body) = idempotent("createApplication", idempotency_key, body);
        let new = NewApplication {
            program_id: body.program_id.into_inner(),
            answers: answers(body.answers),
            attachment_ids: BoundedText::into_strings(body.attachment_ids),
            submit: body.submit,
        };
        let created = applications::create(&state, &context, &auth.0, &once.key, once.hash, new).await?;
        Ok(CreatedResponse::Created(Json(ApplicationCreated {
            id: created.id,
            application_no: created.application_no,
            status: created.status,
        })))
    }

    /// List my applications
    ///
    /// The signed-in worker's applications, newest first, a page at a time.
    #[oai(path = "/applications", method = "get", operation_id = "listMyApplications")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<ApplicationView>>, { status::BAD_REQUEST | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let (items, total) = applications::list_own(&state, &auth.0, paging.page, paging.page_size).await?;
        Ok(Json(Page::new(
            items.into_iter().map(application_view).collect(),
            total,
            paging,
        )))
    }

    /// Get my application with its timeline
    ///
    /// The application with every change in order; another worker's is 404.
    #[oai(path = "/applications/:id", method = "get", operation_id = "getMyApplication")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        id: Path<RecordId>,
    ) -> ApiResult<Json<ApplicationDetail>, { status::BAD_REQUEST | status::NOT_FOUND | status::SIGNED_IN }> {
        let (application, timeline) = applications::get_own(&state, &auth.0, &id.0).await?;
        Ok(Json(ApplicationDetail {
            application: application_view(application),
            timeline: timeline_view(timeline),
        }))
    }

    /// Change my draft or returned application
    ///
    /// Replaces the answers and documents. Only a draft or a returned
    /// application changes (409 `INVALID_STATE` otherwise); a stale
    /// `expected_version` is 409 `VERSION_CONFLICT`.
    #[oai(path = "/applications/:id", method = "put", operation_id = "updateMyApplication")]
    async fn update(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        id: Path<RecordId>,
        body: JsonBody<ApplicationUpdate>,
    ) -> ApiResult<Json<ApplicationView>, { status::BODY | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN }>
    {
        let body = body.0;
        let application = applications::edit(
            &state,
            &context,
            &auth.0,
            &id.0,
            body.expected_version.get(),
            answers(body.answers),
            BoundedText::into_strings(body.attachment_ids),
        )
        .await?;
        Ok(Json(application_view(application)))
    }

    /// Submit my application
    ///
    /// Sends a draft or a returned application to review once its answers
    /// and documents are complete (422 naming what is missing).
    #[oai(
        path = "/applications/:id/submit",
        method = "post",
        operation_id = "submitMyApplication"
    )]
    async fn submit(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        id: Path<RecordId>,
    ) -> ApiResult<
        Json<ApplicationView>,
        { status::BAD_REQUEST | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        Ok(Json(application_view(
            applications::worker_action(&state, &context, &auth.0, &id.0, Action::Submit).await?,
        )))
    }

    /// Withdraw my application
    ///
    /// Takes the application back before a decision; a decided one is 409
    /// `INVALID_STATE`.
    #[oai(
        path = "/applications/:id/withdraw",
        method = "post",
        operation_id = "withdrawMyApplication"
    )]
    async fn withdraw(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        id: Path<RecordId>,
    ) -> ApiResult<
        Json<ApplicationView>,
        { status::BAD_REQUEST | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        Ok(Json(application_view(
            applications::worker_action(&state, &context, &auth.0, &id.0, Action::Withdraw).await?,
        )))
    }

    /// The review queue
    ///
    /// Submitted cases of the reviewer's region and below, oldest first,
    /// with their age.
    #[oai(
        path = "/staff/applications",
        method = "get",
        operation_id = "listApplicationsForReview"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn queue(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        status: Query<Option<ApplicationStatus>>,
        program_id: Query<Option<RecordId>>,
        region_code: Query<Option<RegionCode>>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<QueueItem>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let filter = QueueFilter {
            status: status.0,
            program_id: program_id.0.map(RecordId::into_inner),
            region: region_code.0,
        };
        let (items, total) = applications::queue(&state, &auth.0, filter, paging.page, paging.page_size).await?;
        let now = Utc::now();
        let items = items.into_iter().map(|a| queue_item(a, now)).collect();
        Ok(Json(Page::new(items, total, paging)))
    }

    /// A case, for staff
    ///
    /// For reviewers and finance (403 `ROLE_REQUIRED` otherwise), inside
    /// their region. The applicant's personal data is masked. Reading a
    /// case never changes it: a reviewer takes it up with
    /// `POST /staff/applications/{id}/start-review`.
    #[oai(
        path = "/staff/applications/:id",
        method = "get",
        operation_id = "getApplicationForReview"
    )]
    async fn staff_get(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<RecordId>,
    ) -> ApiResult<
        Json<StaffApplicationDetail>,
        { status::BAD_REQUEST | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN },
    > {
        let (application, applicant, timeline) = applications::get_for_staff(&state, &auth.0, &id.0).await?;
        Ok(Json(StaffApplicationDetail {
            application: application_view(application),
            applicant: ApplicantView {
                name: applicant.name_masked,
                id_number: applicant.id_number_masked,
                phone: applicant.phone_masked,
            },
            timeline: timeline_view(timeline),
        }))
    }

    /// Reveal the applicant's personal data
    ///
    /// For a reviewer who must check it against the documents; audited.
    #[oai(
        path = "/staff/applications/:id/reveal",
        method = "post",
        operation_id = "revealApplicant"
    )]
    async fn reveal(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
    ) -> ApiResult<Json<Revealed>, { status::BAD_REQUEST | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN }>
    {
        let applicant = applications::reveal(&state, &context, &auth.0, &id.0).await?;
        Ok(Json(Revealed {
            name: applicant.name,
            id_number: applicant.id_number,
            phone: applicant.phone,
        }))
    }

    /// Take a case up for review
    ///
    /// For reviewers: a submitted case becomes `under_review`, and the
    /// worker's timeline says that someone is on it. Opening a case does not
    /// do this; taking it up is a decision of its own. A stale
    /// `expected_version` gets 409, as does a case that is not `submitted`.
    #[oai(
        path = "/staff/applications/:id/start-review",
        method = "post",
        operation_id = "startApplicationReview"
    )]
    async fn start_review(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<StartReviewBody>,
    ) -> ApiResult<
        Json<ApplicationView>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let application =
            applications::start_review(&state, &context, &auth.0, &id.0, body.0.expected_version.get()).await?;
        Ok(Json(application_view(application)))
    }

    /// Decide a case
    ///
    /// `approve`, `reject` or `return` (the last two need a comment). A stale
    /// `expected_version` gets 409, so two reviewers cannot overwrite each
    /// other; approval takes the amount from the program's budget atomically
    /// (409 `BUDGET_EXHAUSTED` when it is used up).
    #[oai(
        path = "/staff/applications/:id/review",
        method = "post",
        operation_id = "reviewApplication"
    )]
    async fn review(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<ReviewBody>,
    ) -> ApiResult<
        Json<ApplicationView>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let application = applications::review(&state, &context, &auth.0, &id.0, Review::from(body.0)).await?;
        Ok(Json(application_view(application)))
    }

    /// Record the payment of an approved case
    ///
    /// For finance of the case's region. The amount and the bank's
    /// reference are recorded, and the worker is told.
    #[oai(
        path = "/staff/applications/:id/disburse",
        method = "post",
        operation_id = "disburseApplication"
    )]
    async fn disburse(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<DisburseBody>,
    ) -> ApiResult<
        Json<ApplicationView>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let payment = Payment {
            amount_fen: body.0.amount_fen,
            reference: body.0.reference.into_inner(),
            expected_version: body.0.expected_version.get(),
        };
        let application = applications::disburse(&state, &context, &auth.0, &id.0, payment).await?;
        Ok(Json(application_view(application)))
    }
}
