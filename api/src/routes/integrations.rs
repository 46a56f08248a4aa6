use poem_openapi::{Object, OpenApi, payload::Json};

use super::ApiTags;
use crate::{
    auth::{Scope, schemes::IntegratorAuth},
    domain::RegionCode,
    http::problem::{ApiResult, status},
};

pub struct IntegrationsApi;

/// The calling client, as its token presents it.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ClientIdentity {
    pub client_id: String,
    /// The scopes this token carries.
    pub scopes: Vec<Scope>,
    /// The region the client serves (`000000`: national): it reads, changes
    /// and hears of the transfers with either end there.
    pub region_code: Option<RegionCode>,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Integrations")]
impl IntegrationsApi {
    /// Who am I (check integrator credentials)
    ///
    /// Answers with the client id, scopes and region of the token: a first
    /// call for an integrator to check its set-up.
    #[oai(path = "/integrations/whoami", method = "get", operation_id = "integratorWhoami")]
    async fn whoami(&self, auth: IntegratorAuth) -> ApiResult<Json<ClientIdentity>, { status::SIGNED_IN }> {
        Ok(Json(ClientIdentity {
            client_id: auth.0.subject,
            scopes: auth.0.scopes,
            region_code: auth.0.region,
        }))
    }
}
