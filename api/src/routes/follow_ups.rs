use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde::Deserialize;

use super::{ApiTags, QueuePage, queue_window};
use crate::{
    auth::schemes::StaffAuth,
    context::RequestContext,
    domain::{BoundedText, CaseType, RegionCode},
    http::{
        json_body::JsonBody,
        params::{PageCursor, PageNumber, PageSize, RecordId},
        problem::{ApiResult, status},
    },
    services::{
        follow_ups::{self, FollowUp, FollowUpStatus, QueueQuery},
        ratings::RatingTag,
    },
    state::AppState,
};

pub struct FollowUpApi;

/// A follow-up (回访) of a rating of 1 or 2, as the office works it.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct FollowUpView {
    pub id: String,
    /// e.g. HF-450102-20261201-000001.
    pub follow_up_no: String,
    pub case_kind: CaseType,
    pub case_id: String,
    pub case_no: String,
    /// The office that worked the case.
    pub region_code: RegionCode,
    /// The rating as given when the follow-up opened.
    pub score: i32,
    pub tags: Vec<RatingTag>,
    pub comment: Option<String>,
    pub status: FollowUpStatus,
    /// 3 working days after the rating.
    pub deadline: NaiveDate,
    /// Open, and a working day has begun after the deadline.
    pub overdue: bool,
    pub what_was_done: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Closed after a working day had begun past the deadline.
    pub closed_late: Option<bool>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

impl From<FollowUp> for FollowUpView {
    fn from(follow_up: FollowUp) -> Self {
        FollowUpView {
            id: follow_up.id,
            follow_up_no: follow_up.follow_up_no,
            case_kind: follow_up.case_kind,
            case_id: follow_up.case_id,
            case_no: follow_up.case_no,
            region_code: follow_up.region,
            score: follow_up.score,
            tags: follow_up.tags,
            comment: follow_up.comment,
            status: follow_up.status,
            deadline: follow_up.deadline,
            overdue: follow_up.overdue,
            what_was_done: follow_up.what_was_done,
            closed_at: follow_up.closed_at,
            closed_late: follow_up.closed_late,
            version: follow_up.version,
            created_at: follow_up.created_at,
        }
    }
}

#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct FollowUpClose {
    /// What the office did: whom it called, what it found, what it changed.
    pub what_was_done: BoundedText<1, 2000>,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Feedback")]
impl FollowUpApi {
    /// The follow-up queue
    ///
    /// Follow-ups of ratings of 1 or 2 in the caller's region and below,
    /// oldest first, of the kinds of case the caller works: reviewers see
    /// applications', inspectors wage reports', administrators transfers'
    /// (403 `ROLE_REQUIRED` for other roles). `overdue` keeps those open past
    /// their deadline. Pages by number, or by `cursor` (the `next_cursor` of
    /// the page before; `page` is then ignored) at any depth.
    #[oai(path = "/staff/follow-ups", method = "get", operation_id = "listFollowUps")]
    #[allow(clippy::too_many_arguments)]
    async fn queue(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        status: Query<Option<FollowUpStatus>>,
        region_code: Query<Option<RegionCode>>,
        #[oai(default)] overdue: Query<bool>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
        /// The `next_cursor` of the page before (opaque); `page` is then ignored.
        cursor: Query<Option<PageCursor>>,
    ) -> ApiResult<Json<QueuePage<FollowUpView>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let window = queue_window(page.0, page_size.0, cursor.0)?;
        let query = QueueQuery {
            status: status.0,
            region: region_code.0,
            overdue_only: overdue.0,
        };
        let cut = follow_ups::queue(&state, &auth.0, query, window).await?;
        Ok(Json(QueuePage::of(cut, FollowUpView::from)))
    }

    /// Close a follow-up with what was done
    ///
    /// For the staff who work the case's kind in a region covering its office
    /// (404 for others); the worker is told. A closed one is 409
    /// `INVALID_STATE`. Audited.
    #[oai(
        path = "/staff/follow-ups/:id/close",
        method = "post",
        operation_id = "closeFollowUp"
    )]
    async fn close(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<FollowUpClose>,
    ) -> ApiResult<
        Json<FollowUpView>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let what = body.0.what_was_done;
        let closed = follow_ups::close(&state, &context, &auth.0, &id.0, what.as_str()).await?;
        Ok(Json(closed.into()))
    }
}
