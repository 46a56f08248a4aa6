use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use serde::{Deserialize, Serialize};

use super::{ApiTags, Page, QueuePage, idempotent, queue_window};
use crate::{
    auth::schemes::{StaffAuth, WorkerAuth},
    context::RequestContext,
    domain::{BoundedText, CaseType, RegionCode},
    http::{
        json_body::{JsonBody, present},
        params::{IdempotencyKey, PageCursor, PageNumber, PageSize, Paging, RecordId},
        problem::{ApiResult, status},
    },
    services::complaints::{self, Complaint, ComplaintKind, ComplaintStatus, NewComplaint, QueueQuery},
    state::AppState,
};

pub struct ComplaintApi;

/// One of the worker's cases.
#[derive(Debug, Object, Deserialize, Serialize)]
pub struct CaseReference {
    pub kind: CaseType,
    pub id: BoundedText<1, 36>,
}

#[derive(Debug, Object, Deserialize, Serialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct ComplaintCreate {
    /// `complaint` (answered within 15 working days) or `suggestion` (20).
    pub kind: ComplaintKind,
    /// The office it is addressed to.
    pub region_code: RegionCode,
    /// The worker's own case it concerns, if any (another's is 404).
    #[serde(default, deserialize_with = "present")]
    pub case: Option<CaseReference>,
    pub text: BoundedText<1, 2000>,
}

impl From<ComplaintCreate> for NewComplaint {
    fn from(body: ComplaintCreate) -> Self {
        NewComplaint {
            kind: body.kind,
            region: body.region_code,
            case: body.case.map(|case| (case.kind, case.id.into_inner())),
            text: body.text.into_inner(),
        }
    }
}

/// The case a complaint concerns.
#[derive(Debug, Object)]
pub struct ComplaintCase {
    pub kind: CaseType,
    pub id: String,
    pub case_no: String,
}

/// A complaint or suggestion with its answer, as its worker and the office see it.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ComplaintView {
    pub id: String,
    /// e.g. TS-450102-20261201-000001.
    pub complaint_no: String,
    pub kind: ComplaintKind,
    pub region_code: RegionCode,
    pub case: Option<ComplaintCase>,
    pub text: String,
    pub status: ComplaintStatus,
    /// The office answers by this day.
    pub deadline: NaiveDate,
    /// Open, and a working day has begun after the deadline.
    pub overdue: bool,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    /// Answered after a working day had begun past the deadline.
    pub replied_late: Option<bool>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

impl From<Complaint> for ComplaintView {
    fn from(complaint: Complaint) -> Self {
        ComplaintView {
            id: complaint.id,
            complaint_no: complaint.complaint_no,
            kind: complaint.kind,
            region_code: complaint.region,
            case: complaint.case.map(|case| ComplaintCase {
                kind: case.kind,
                id: case.id,
                case_no: case.number,
            }),
            text: complaint.text,
            status: complaint.status,
            deadline: complaint.deadline,
            overdue: complaint.overdue,
            reply: complaint.reply,
            replied_at: complaint.replied_at,
            replied_late: complaint.replied_late,
            version: complaint.version,
            created_at: complaint.created_at,
        }
    }
}

#[derive(ApiResponse)]
pub enum ComplaintFiled {
    /// Filed; the same Idempotency-Key and body replay this answer.
    #[oai(status = 201)]
    Created(Json<ComplaintView>),
}

#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct ComplaintReply {
    /// The office's answer, which the worker reads.
    pub reply: BoundedText<1, 2000>,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Feedback")]
impl ComplaintApi {
    /// File a complaint or a suggestion (投诉建议)
    ///
    /// To the office of a region, perhaps about one of the worker's own
    /// cases. A complaint is answered within 15 working days, a suggestion
    /// within 20. `Idempotency-Key` is required.
    #[oai(path = "/me/complaints", method = "post", operation_id = "fileMyComplaint")]
    async fn file(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        /// 1 to 255 characters, new for every new complaint (e.g. a UUID).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<IdempotencyKey>,
        body: JsonBody<ComplaintCreate>,
    ) -> ApiResult<
        ComplaintFiled,
        { status::BODY | status::NOT_FOUND | status::CONFLICT | status::UNPROCESSABLE | status::SIGNED_IN },
    > {
        let (once, body) = idempotent("fileMyComplaint", idempotency_key, body);
        let new = NewComplaint::from(body);
        let filed = complaints::file(&state, &context, &auth.0, &once.key, once.hash, new).await?;
        Ok(ComplaintFiled::Created(Json(filed.into())))
    }

    /// My complaints and suggestions
    ///
    /// Newest first, a page at a time, each with its answer once given.
    #[oai(path = "/me/complaints", method = "get", operation_id = "listMyComplaints")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<ComplaintView>>, { status::BAD_REQUEST | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let (items, total) = complaints::list_own(&state, &auth.0, paging.page, paging.page_size).await?;
        Ok(Json(Page::of(items, total, paging, ComplaintView::from)))
    }

    /// One of my complaints with its answer
    ///
    /// Another worker's is 404.
    #[oai(path = "/me/complaints/:id", method = "get", operation_id = "getMyComplaint")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        id: Path<RecordId>,
    ) -> ApiResult<Json<ComplaintView>, { status::BAD_REQUEST | status::NOT_FOUND | status::SIGNED_IN }> {
        Ok(Json(complaints::get_own(&state, &auth.0, &id.0).await?.into()))
    }

    /// The complaint queue
    ///
    /// Complaints and suggestions addressed to the administrator's region and
    /// below, oldest first (403 `ROLE_REQUIRED` for other roles); `overdue`
    /// keeps those unanswered past their deadline.
    ///
    /// Pages by number, or by `cursor`: the `next_cursor` of the page
    /// before, at any depth for the cost of the first (`page` is then
    /// ignored).
    #[oai(path = "/staff/complaints", method = "get", operation_id = "listComplaints")]
    #[allow(clippy::too_many_arguments)]
    async fn queue(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        kind: Query<Option<ComplaintKind>>,
        status: Query<Option<ComplaintStatus>>,
        region_code: Query<Option<RegionCode>>,
        #[oai(default)] overdue: Query<bool>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
        /// The `next_cursor` of the page before (opaque); `page` is then ignored.
        cursor: Query<Option<PageCursor>>,
    ) -> ApiResult<Json<QueuePage<ComplaintView>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }>
    {
        let window = queue_window(page.0, page_size.0, cursor.0)?;
        let query = QueueQuery {
            kind: kind.0,
            status: status.0,
            region: region_code.0,
            overdue_only: overdue.0,
        };
        let cut = complaints::queue(&state, &auth.0, query, window).await?;
        Ok(Json(QueuePage::of(cut, ComplaintView::from)))
    }

    /// Answer a complaint or suggestion
    ///
    /// Once, by an administrator whose region covers the office it is
    /// addressed to (404 for others); the worker is told and reads the
    /// answer. Audited.
    #[oai(
        path = "/staff/complaints/:id/reply",
        method = "post",
        operation_id = "replyToComplaint"
    )]
    async fn reply(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<ComplaintReply>,
    ) -> ApiResult<
        Json<ComplaintView>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let text = body.0.reply;
        Ok(Json(
            complaints::reply(&state, &context, &auth.0, &id.0, text.as_str())
                .await?
                .into(),
        ))
    }
}
