use chrono::Utc;
use poem::web::Data;
use poem_openapi::{
    OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};

use super::{ApiTags, Page, QueuePage, idempotent, personal_data::RevealBody, queue_window};
use crate::http::params::{IdempotencyKey, PageCursor, PageNumber, PageSize, Paging, RecordId};
use crate::{
    auth::schemes::{StaffAuth, WorkerAuth},
    context::RequestContext,
    domain::{BoundedText, RegionCode},
    http::{
        json_body::JsonBody,
        problem::{ApiResult, status},
    },
    services::applications::{
        self, ApplicationEdit, NewApplication, Payment, QueueFilter, Review,
        status::{Action, ApplicationStatus},
    },
    state::AppState,
};

pub mod views;

pub(crate) use self::views::application_view;
pub use self::views::{
    ApplicantView, ApplicationCreate, ApplicationCreated, ApplicationDetail, ApplicationUpdate, ApplicationView,
    AttachmentView, CreatedResponse, DecisionName, DisburseBody, QueueItem, Revealed, ReviewBody,
    StaffApplicationDetail, StartReviewBody, TimelineView,
};
use self::views::{answers, queue_item, timeline_view};

pub struct ApplicationApi;

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
        let new = NewApplication::from(body);
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
        let edit = ApplicationEdit {
            expected_version: body.expected_version.get(),
            answers: answers(body.answers),
            attachment_ids: BoundedText::into_strings(body.attachment_ids),
            certificate_id: body.certificate_id.map(RecordId::into_inner),
        };
        let application = applications::edit(&state, &context, &auth.0, &id.0, edit).await?;
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
    /// with their age (whole days since submission); `min_age_days` keeps
    /// those waiting at least so many days. Oldest submission first, the
    /// id breaking ties. Pages by number (`page`, within the first 10,000
    /// cases), or by `cursor`: pass the `next_cursor` of a page to get the
    /// next, at any depth for the cost of the first; `page` is then ignored.
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
        #[oai(validator(maximum(value = "3650")))] min_age_days: Query<Option<u32>>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
        /// The `next_cursor` of the page before (opaque); `page` is then ignored.
        cursor: Query<Option<PageCursor>>,
    ) -> ApiResult<Json<QueuePage<QueueItem>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let window = queue_window(page.0, page_size.0, cursor.0)?;
        let filter = QueueFilter {
            status: status.0,
            program_id: program_id.0.map(RecordId::into_inner),
            region: region_code.0,
            min_age_days: min_age_days.0,
        };
        let cut = applications::queue(&state, &auth.0, filter, window).await?;
        let now = Utc::now();
        Ok(Json(QueuePage::of(cut, |a| queue_item(a, now))))
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
        Ok(Json(applications::get_for_staff(&state, &auth.0, &id.0).await?.into()))
    }

    /// Reveal the applicant's personal data
    ///
    /// For a reviewer who must check it against the documents. The reason
    /// they give (`reason`, required) is kept in the `personal_data.reveal`
    /// audit row; without one it is 400 and nothing is shown.
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
        body: JsonBody<RevealBody>,
    ) -> ApiResult<Json<Revealed>, { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN }> {
        let reason = body.0.reason.into_inner();
        let applicant = applications::reveal(&state, &context, &auth.0, &id.0, &reason).await?;
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
