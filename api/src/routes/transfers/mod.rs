use poem::web::Data;
use poem_openapi::{
    OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};

use super::{ApiTags, Page, QueuePage, idempotent, queue_window};
use crate::http::params::{IdempotencyKey, PageCursor, PageNumber, PageSize, Paging, RecordId};
use crate::{
    auth::schemes::{StaffAuth, WorkerAuth},
    context::RequestContext,
    domain::RegionCode,
    http::{
        json_body::JsonBody,
        problem::{ApiResult, status},
    },
    services::transfers::{self, Opening, StaffFilter, claims},
    state::AppState,
};

mod agency;
mod agency_views;
mod staff_views;
mod views;

use self::staff_views::{StaffTransferDetail, staff_detail};
use self::views::{ClaimRequest, TransferCreated, TransferOpened, TransferView, transfer_view};
pub use self::{
    agency::TransferIntegrationApi,
    views::{MaterialsAnswer, StepUpdate, TransferRequest},
};

pub struct TransferApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::SiTransfers")]
impl TransferApi {
    /// Ask for a social-insurance transfer
    ///
    /// Needs the ID number in the profile (the agencies match the case by it).
    /// `Idempotency-Key` is required, as for every create. A worker opens at
    /// most `SHIMINHUA_TRANSFERS_PER_DAY` (5) a day, China time (429
    /// `RATE_LIMITED` with `Retry-After`; a replay of the same key does not
    /// count); a second case of the same insurance and route while the first
    /// is in progress is 409 `TRANSFER_ALREADY_OPEN`.
    #[oai(path = "/si-transfers", method = "post", operation_id = "openTransfer")]
    async fn open(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        /// 1 to 255 characters, new for every new request (e.g. a UUID).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<IdempotencyKey>,
        body: JsonBody<TransferRequest>,
    ) -> ApiResult<TransferOpened, { status::BODY | status::CONFLICT | status::UNPROCESSABLE | status::SIGNED_IN }>
    {
        let (once, body) = idempotent("openTransfer", idempotency_key, body);
        let opening = Opening {
            insurance_type: body.insurance_type,
            from: body.from_region_code,
            to: body.to_region_code,
        };
        let created = transfers::open_for_worker(&state, &context, &auth.0, &once.key, once.hash, opening).await?;
        Ok(TransferOpened::Created(Json(TransferCreated {
            id: created.id,
            transfer_no: created.transfer_no,
            status: created.status.as_str().to_owned(),
        })))
    }

    /// List my transfers
    ///
    /// The cases the worker opened and those they linked (`claimTransfer`,
    /// `linkMyTransfers`), newest first, a page at a time; a typed ID number
    /// alone brings none.
    #[oai(path = "/si-transfers", method = "get", operation_id = "listMyTransfers")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<TransferView>>, { status::BAD_REQUEST | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let (transfers, total) = transfers::list_for_worker(&state, &auth.0, paging.page, paging.page_size).await?;
        Ok(Json(Page::of(transfers, total, paging, transfer_view)))
    }

    /// Claim a transfer with the agency's code
    ///
    /// The social-insurance agency that opened the case gave the worker a
    /// one-time code. The case joins the worker's account when the code is
    /// right, unused and unexpired and the profile holds the case's ID
    /// number; that number then counts as proven. Anything else is 404
    /// `CLAIM_CODE_INVALID`, which says nothing about whose number has cases.
    /// Five wrong codes a day, then 429 `CLAIM_TRIES_EXHAUSTED`.
    #[oai(path = "/si-transfers/claim", method = "post", operation_id = "claimTransfer")]
    async fn claim(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        body: JsonBody<ClaimRequest>,
    ) -> ApiResult<Json<TransferView>, { status::BODY | status::NOT_FOUND | status::SIGNED_IN }> {
        let transfer = claims::claim(&state, &context, &auth.0, body.0.code.as_str()).await?;
        Ok(Json(transfer_view(transfer)))
    }

    /// Link the transfers agencies opened for me
    ///
    /// Links the cases agencies opened for the ID number in the profile that
    /// the worker's evidence covers: every one once the number is proven
    /// (an identity check, or a case claimed with a code), otherwise those
    /// for which the agency recorded the phone WeChat verified for the
    /// worker (`POST /me/phone`). Answers the cases linked now (perhaps none).
    /// With neither evidence: 409 `IDENTITY_NOT_PROVEN`.
    #[oai(path = "/si-transfers/link", method = "post", operation_id = "linkMyTransfers")]
    async fn link(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
    ) -> ApiResult<Json<Vec<TransferView>>, { status::BAD_REQUEST | status::CONFLICT | status::SIGNED_IN }> {
        let transfers = claims::link(&state, &context, &auth.0).await?;
        Ok(Json(transfers.into_iter().map(transfer_view).collect()))
    }

    /// Get my transfer with its steps and deadlines
    ///
    /// Each step with its legal limit in working days, its due day and
    /// whether it is overdue; another worker's case is 404.
    #[oai(path = "/si-transfers/:id", method = "get", operation_id = "getMyTransfer")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        id: Path<RecordId>,
    ) -> ApiResult<Json<TransferView>, { status::BAD_REQUEST | status::NOT_FOUND | status::SIGNED_IN }> {
        let transfer = transfers::get_for_worker(&state, &auth.0, &id.0).await?;
        Ok(Json(transfer_view(transfer)))
    }

    /// Transfers of my region
    ///
    /// For administrators, reviewers and inspectors (403 `ROLE_REQUIRED`
    /// otherwise). Cases whose old or new place is in the staff member's
    /// region, oldest first, a page at a time; filter by `status`
    /// (`in_progress`, `completed`, `refused`, `cancelled`), `overdue` and
    /// `region_code`.
    ///
    /// Pages by number, or by `cursor`: the `next_cursor` of the page
    /// before, at any depth for the cost of the first (`page` is then
    /// ignored).
    #[oai(path = "/staff/si-transfers", method = "get", operation_id = "listTransfersForStaff")]
    #[allow(clippy::too_many_arguments)]
    async fn staff_list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// `in_progress`, `completed`, `refused` or `cancelled`.
        status: Query<Option<transfers::status::TransferStatus>>,
        #[oai(default)] overdue: Query<bool>,
        /// Only cases whose old or new place is in this region (inside the staff member's).
        region_code: Query<Option<RegionCode>>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
        /// The `next_cursor` of the page before (opaque); `page` is then ignored.
        cursor: Query<Option<PageCursor>>,
    ) -> ApiResult<Json<QueuePage<TransferView>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let window = queue_window(page.0, page_size.0, cursor.0)?;
        let filter = StaffFilter {
            region: region_code.0,
            status: status.0,
            overdue_only: overdue.0,
        };
        let cut = transfers::list_for_staff(&state, &auth.0, filter, window).await?;
        Ok(Json(QueuePage::of(cut, transfer_view)))
    }

    /// Answer an office's request for materials
    ///
    /// When a step is `materials_needed`, its `note` says what the office
    /// needs. The worker answers (what they give and how); the step waits
    /// on the office again, due within its full limit from now, and the
    /// agencies are told (`si_transfer.materials_answered`). A step that is
    /// not waiting for materials is 409 `NO_MATERIALS_REQUESTED`; another
    /// worker's case is 404.
    #[oai(
        path = "/si-transfers/:id/steps/:step/answer",
        method = "post",
        operation_id = "answerTransferMaterials"
    )]
    async fn answer(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        id: Path<RecordId>,
        #[oai(validator(max_length = 32))] step: Path<String>,
        body: JsonBody<MaterialsAnswer>,
    ) -> ApiResult<Json<TransferView>, { status::BODY | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN }>
    {
        let answer = body.0.answer;
        let transfer = transfers::answer_materials(&state, &context, &auth.0, &id.0, &step.0, answer.as_str()).await?;
        Ok(Json(transfer_view(transfer)))
    }

    /// Get a transfer of my region
    ///
    /// For administrators, reviewers and inspectors (403 `ROLE_REQUIRED`
    /// otherwise); a case with neither end in the staff member's region is
    /// 404. The case with its steps and deadlines, the person (name, ID
    /// number and phone masked, with how each was verified), and its
    /// history: who acted
    /// (本人, 工作人员 or 经办机构, never a name), the reasons, the materials
    /// asked for and the person's answers.
    #[oai(
        path = "/staff/si-transfers/:id",
        method = "get",
        operation_id = "getTransferForStaff"
    )]
    async fn staff_get(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<RecordId>,
    ) -> ApiResult<
        Json<StaffTransferDetail>,
        { status::BAD_REQUEST | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN },
    > {
        let read = transfers::get_for_staff(&state, &auth.0, &id.0).await?;
        Ok(Json(staff_detail(read)))
    }

    /// Record a step for an office
    ///
    /// For an office whose system does not report to Shiminhua, its staff
    /// record the step: administrators (403 `ROLE_REQUIRED` otherwise) of
    /// the region of the office that acts on the step (403
    /// `OUT_OF_REGION_SCOPE` for the other office's step; 404 for a case
    /// with neither end in the region). The same outcomes and rules as
    /// `agencyRecordStep`; the history names 工作人员.
    #[oai(
        path = "/staff/si-transfers/:id/steps/:step",
        method = "put",
        operation_id = "staffRecordTransferStep"
    )]
    async fn staff_record_step(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        #[oai(validator(max_length = 32))] step: Path<String>,
        body: JsonBody<StepUpdate>,
    ) -> ApiResult<
        Json<TransferView>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let report = body.0.into_report();
        let transfer = transfers::record_step_as_staff(&state, &context, &auth.0, &id.0, &step.0, report).await?;
        Ok(Json(transfer_view(transfer)))
    }
}
