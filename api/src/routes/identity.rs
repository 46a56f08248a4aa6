use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, types::Example};
use serde::Deserialize;

use super::ApiTags;
use crate::{
    auth::schemes::StaffAuth,
    context::RequestContext,
    domain::{BoundedText, IdNumber, TextType},
    http::{
        json_body::JsonBody,
        problem::{ApiResult, status},
    },
    services::workers::{self, Release},
    state::AppState,
};

pub struct IdentityAdminApi;

/// An ID number to take away from the account that holds it.
#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct IdNumberRelease {
    /// The number the owner showed on their ID card.
    pub id_number: IdNumber,
    /// Why, for the audit trail (e.g. the owner came with their ID card).
    pub reason: BoundedText<1, 200>,
}

impl Example for IdNumberRelease {
    fn example() -> Self {
        IdNumberRelease {
            id_number: IdNumber::parse("450103199002022342").expect("a valid example"),
            reason: BoundedText::parse("本人持身份证到窗口申请，号码被他人账号占用").expect("a valid example"),
        }
    }
}

#[derive(ApiResponse)]
pub enum IdNumberReleased {
    /// Released: the account that held it has no ID number now.
    #[oai(status = 204)]
    Done,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Administration")]
impl IdentityAdminApi {
    /// Release an ID number held by an account that never proved it
    ///
    /// When a worker's own ID number is refused with `ID_NUMBER_IN_USE`, the
    /// owner brings their ID card to the office. An administrator whose
    /// region covers where the number was issued (its first six digits)
    /// takes the number off the account that holds it, with a reason; the
    /// owner can then set it. The holder keeps their cases. Audited as
    /// `worker.id_number.release`. No account holds it: 404; its holder
    /// proved it (a case linked with an agency's code or phone): 409
    /// `ID_NUMBER_PROVEN`.
    #[oai(
        path = "/admin/id-number-releases",
        method = "post",
        operation_id = "releaseIdNumber"
    )]
    async fn release(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        body: JsonBody<IdNumberRelease>,
    ) -> ApiResult<
        IdNumberReleased,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let release = Release {
            id_number: body.0.id_number,
            reason: body.0.reason.into_inner(),
        };
        workers::release_id_number(&state, &context, &auth.0, release).await?;
        Ok(IdNumberReleased::Done)
    }
}
