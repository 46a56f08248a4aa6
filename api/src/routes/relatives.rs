//! 亲情代办: a worker's relatives, and the workers a relative acts for.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde::Deserialize;

use super::{ApiTags, Page};
use crate::{
    auth::{Right, schemes::WorkerAuth},
    body_example,
    context::RequestContext,
    domain::BoundedText,
    http::{
        json_body::JsonBody,
        params::{PageNumber, PageSize, Paging, RecordId},
        problem::{ApiResult, status},
    },
    services::relatives::{
        self, ActingFor, Invitation, NewInvitation, Relative, accept,
        acting::{self, Act},
    },
    state::AppState,
};

pub struct RelativeApi;

/// What the worker lets a relative do for them.
#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct InvitationRequest {
    /// What you call the relative: 妻子, 儿子, 女儿, 老乡…
    pub relation: BoundedText<1, 16>,
    /// The kinds of case the relative may file and follow for you: at least one.
    #[oai(validator(min_items = 1, max_items = 3, unique_items))]
    pub rights: Vec<Right>,
    /// Whether the relative may see your personal data in clear (your full
    /// name and phone, the documents you uploaded); by default they see it
    /// masked, and documents not at all.
    #[serde(default)]
    #[oai(default)]
    pub may_see_personal_data: bool,
}

body_example!(InvitationRequest, {
    "relation": "妻子",
    "rights": ["wage_reports", "transfers"],
    "may_see_personal_data": false
});

/// A relative who acts for the worker, or an invitation waiting for its code.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RelativeView {
    /// The grant's id: what the relative sends as `X-Acting-For`.
    pub id: String,
    pub relation: String,
    pub rights: Vec<Right>,
    pub may_see_personal_data: bool,
    /// `pending` (invited, the code not yet used) or `active`.
    pub status: String,
    /// The relative's name, masked (王*); none while pending.
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// A pending invitation's code works until then.
    pub expires_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
}

impl From<Relative> for RelativeView {
    fn from(relative: Relative) -> Self {
        RelativeView {
            id: relative.id,
            relation: relative.relation,
            rights: relative.rights,
            may_see_personal_data: relative.may_see_personal_data,
            status: relative.status.as_str().to_owned(),
            name: relative.name_masked,
            created_at: relative.created_at,
            expires_at: relative.expires_at,
            accepted_at: relative.accepted_at,
        }
    }
}

/// A new invitation. The code is shown this once: send it to the relative.
#[derive(Debug, Object)]
pub struct InvitationCreated {
    #[oai(flatten)]
    pub relative: RelativeView,
    /// The one-time code, e.g. `K7M2-Q9XP-4HTD`: works once, for 72 hours.
    pub code: String,
}

impl From<Invitation> for InvitationCreated {
    fn from(invitation: Invitation) -> Self {
        InvitationCreated {
            relative: invitation.relative.into(),
            code: invitation.code,
        }
    }
}

#[derive(ApiResponse)]
pub enum InvitationIssued {
    /// Invited; the code is in the answer and nowhere else.
    #[oai(status = 201)]
    Created(Json<InvitationCreated>),
}

/// An invitation code, as the relative types it.
#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct InvitationAcceptance {
    pub code: BoundedText<1, 32>,
}

body_example!(InvitationAcceptance, { "code": "K7M2-Q9XP-4HTD" });

/// A worker the relative may act for. Name and phone are masked unless the
/// worker lets the relative see their personal data.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ActingForView {
    /// Send it as `X-Acting-For` to act for this worker.
    pub grant_id: String,
    /// What the worker calls you.
    pub relation: String,
    pub rights: Vec<Right>,
    pub may_see_personal_data: bool,
    pub worker_name: Option<String>,
    pub worker_phone: Option<String>,
    pub accepted_at: Option<DateTime<Utc>>,
}

impl From<ActingFor> for ActingForView {
    fn from(grant: ActingFor) -> Self {
        ActingForView {
            grant_id: grant.grant_id,
            relation: grant.relation,
            rights: grant.rights,
            may_see_personal_data: grant.may_see_personal_data,
            worker_name: grant.worker_name,
            worker_phone: grant.worker_phone,
            accepted_at: grant.accepted_at,
        }
    }
}

/// One request a relative made for the worker, answered or refused.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ActView {
    pub at: DateTime<Utc>,
    pub grant_id: Option<String>,
    /// Who acted: the relation and the relative's name, masked (妻子 王*).
    pub by: String,
    /// What it was, in plain Chinese (提交欠薪线索).
    pub what: Option<String>,
    /// The operation's id in this document (`fileWageReport`).
    pub operation: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    /// The HTTP status it was answered with.
    pub status: Option<i64>,
    /// `success`, `denied` (beyond the grant, or after revocation) or `failure`.
    pub outcome: String,
    /// A refusal's problem code.
    pub reason: Option<String>,
}

impl From<Act> for ActView {
    fn from(act: Act) -> Self {
        ActView {
            at: act.at,
            grant_id: act.grant_id,
            by: act.by,
            what: act.what,
            operation: act.operation,
            method: act.method,
            path: act.path,
            status: act.status,
            outcome: act.outcome,
            reason: act.reason,
        }
    }
}

#[derive(ApiResponse)]
pub enum Ended {
    /// Ended at once: the relative's next request under it is refused (403 `ACTING_REVOKED`).
    #[oai(status = 204)]
    Done,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Relatives")]
impl RelativeApi {
    /// Invite a relative to act for me
    ///
    /// 亲情代办: a one-time code (shown this once, valid 72 hours) for a
    /// relative to accept with their own WeChat account; they may then file
    /// and follow the kinds of case in `rights` for me. At most 8 relatives
    /// and open invitations at once (409 `RELATIVES_LIMIT_REACHED`).
    #[oai(path = "/me/relatives/invitations", method = "post", operation_id = "inviteRelative")]
    async fn invite(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        body: JsonBody<InvitationRequest>,
    ) -> ApiResult<InvitationIssued, { status::BODY | status::CONFLICT | status::SIGNED_IN }> {
        let body = body.0;
        let new = NewInvitation {
            relation: body.relation.into_inner(),
            rights: body.rights,
            may_see_personal_data: body.may_see_personal_data,
        };
        let invitation = relatives::invite(&state, &context, &auth.0, new).await?;
        Ok(InvitationIssued::Created(Json(invitation.into())))
    }

    /// My relatives
    ///
    /// The relatives who act for me and the invitations still open, oldest first.
    #[oai(path = "/me/relatives", method = "get", operation_id = "listMyRelatives")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
    ) -> ApiResult<Json<Vec<RelativeView>>, { status::SIGNED_IN }> {
        let relatives = relatives::list(&state, &auth.0).await?;
        Ok(Json(relatives.into_iter().map(RelativeView::from).collect()))
    }

    /// Revoke a relative
    ///
    /// Ends the relative's right to act for me (or withdraws an invitation)
    /// at once: their very next request for me is refused. What they did
    /// stays on my cases' timelines and in my list of acts.
    #[oai(path = "/me/relatives/:id", method = "delete", operation_id = "revokeRelative")]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        id: Path<RecordId>,
    ) -> ApiResult<Ended, { status::BAD_REQUEST | status::NOT_FOUND | status::SIGNED_IN }> {
        relatives::revoke(&state, &context, &auth.0, &id.0).await?;
        Ok(Ended::Done)
    }

    /// What my relatives did for me
    ///
    /// Every request a relative made for me, answered or refused, newest first.
    #[oai(path = "/me/relatives/acts", method = "get", operation_id = "listRelativeActs")]
    async fn acts(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<ActView>>, { status::BAD_REQUEST | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let (acts, total) = acting::acts(&state, &auth.0, None, paging.page, paging.page_size).await?;
        Ok(Json(Page::of(acts, total, paging, ActView::from)))
    }

    /// What one relative did for me
    ///
    /// Every request the relative of this grant made for me, newest first.
    #[oai(path = "/me/relatives/:id/acts", method = "get", operation_id = "listActsOfRelative")]
    async fn acts_of(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        id: Path<RecordId>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<ActView>>, { status::BAD_REQUEST | status::NOT_FOUND | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let (acts, total) = acting::acts(&state, &auth.0, Some(&id.0), paging.page, paging.page_size).await?;
        Ok(Json(Page::of(acts, total, paging, ActView::from)))
    }

    /// Accept an invitation to act for someone
    ///
    /// With the code a worker sent me, signed in with my own WeChat. Then
    /// `X-Acting-For: <grant_id>` on their case operations acts for them.
    /// Refused: a wrong code (404), one expired, used or withdrawn, or
    /// already acting for them (409), my own (400), ten wrong codes a day (429).
    #[oai(
        path = "/me/relatives/accept",
        method = "post",
        operation_id = "acceptRelativeInvitation"
    )]
    async fn accept(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        body: JsonBody<InvitationAcceptance>,
    ) -> ApiResult<Json<ActingForView>, { status::BODY | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN }>
    {
        let grant = accept::accept(&state, &context, &auth.0, body.0.code.as_str()).await?;
        Ok(Json(grant.into()))
    }

    /// Whom I act for
    ///
    /// The workers whose invitations I accepted and who have not revoked them.
    #[oai(path = "/me/acting-for", method = "get", operation_id = "listWhomIActFor")]
    async fn acting_for(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
    ) -> ApiResult<Json<Vec<ActingForView>>, { status::SIGNED_IN }> {
        let grants = relatives::acting_for(&state, &auth.0).await?;
        Ok(Json(grants.into_iter().map(ActingForView::from).collect()))
    }

    /// Stop acting for someone
    ///
    /// Gives up a grant I hold, at once.
    #[oai(path = "/me/acting-for/:id", method = "delete", operation_id = "stopActingFor")]
    async fn stop(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        id: Path<RecordId>,
    ) -> ApiResult<Ended, { status::BAD_REQUEST | status::NOT_FOUND | status::SIGNED_IN }> {
        relatives::give_up(&state, &context, &auth.0, &id.0).await?;
        Ok(Ended::Done)
    }
}
