//! Electronic certificates (电子证照): the worker fetches one, with their
//! authorisation, from the licence service and references it in an
//! application instead of photographing it.

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use serde::Deserialize;

use super::ApiTags;
use crate::{
    auth::schemes::WorkerAuth,
    context::RequestContext,
    domain::BoundedText,
    http::{
        json_body::{JsonBody, present},
        problem::{ApiResult, status},
    },
    services::certificates::{self, Certificate, CertificateKind, FetchRequest},
    state::AppState,
};

pub struct CertificateApi;

/// What the worker asks the licence service for.
#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct CertificateFetch {
    pub kind: CertificateKind,
    /// The certificate's number, to fetch one of several; without it, the
    /// service answers the certificate of this kind held by the ID number
    /// in the profile.
    #[serde(default, deserialize_with = "present")]
    pub number: Option<BoundedText<1, 64>>,
    /// The version of 《电子证照授权查询说明》 the worker accepted just now:
    /// `certificate-2026-12`.
    pub authorization_version: BoundedText<1, 32>,
}

/// A certificate referenced from the licence service.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CertificateView {
    pub id: String,
    pub kind: CertificateKind,
    pub number: String,
    pub title: String,
    /// A vocational certificate's level: 1 (高级技师) to 5 (初级工).
    pub level: Option<u8>,
    pub issuer: String,
    pub issued_on: Option<NaiveDate>,
    /// Always `电子证照`: read from the licence service, not typed.
    pub verified_by: String,
    /// The licence service that answered (`sandbox` in development).
    pub provider: String,
    pub fetched_at: DateTime<Utc>,
}

impl From<Certificate> for CertificateView {
    fn from(certificate: Certificate) -> Self {
        CertificateView {
            id: certificate.id,
            kind: certificate.kind,
            number: certificate.number,
            title: certificate.title,
            level: certificate.level,
            issuer: certificate.issuer,
            issued_on: certificate.issued_on,
            verified_by: "电子证照".to_owned(),
            provider: certificate.provider,
            fetched_at: certificate.fetched_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct CertificateList {
    pub items: Vec<CertificateView>,
}

#[derive(ApiResponse)]
pub enum CertificateFetched {
    /// Fetched and referenced (again, when the worker had it already).
    #[oai(status = 201)]
    Created(Json<CertificateView>),
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Me")]
impl CertificateApi {
    /// Fetch one of my electronic certificates
    ///
    /// Asks the licence service, with the worker's authorisation
    /// (`authorization_version`), for a vocational certificate, a business
    /// licence or the ID card's electronic licence of the ID number in the
    /// profile, and keeps a reference. 404 `CERTIFICATE_NOT_FOUND` when the
    /// service has none; 400 `CERTIFICATE_NOT_HOLDER` for a number of
    /// someone else's; 503 when no licence service is configured.
    #[oai(path = "/me/certificates", method = "post", operation_id = "fetchMyCertificate")]
    async fn fetch(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        body: JsonBody<CertificateFetch>,
    ) -> ApiResult<CertificateFetched, { status::BODY | status::NOT_FOUND | status::SIGNED_IN }> {
        let asked = FetchRequest {
            kind: body.0.kind,
            number: body.0.number.map(BoundedText::into_inner),
            authorization_version: body.0.authorization_version.into_inner(),
        };
        let certificate = certificates::fetch(&state, &context, &auth.0, asked).await?;
        Ok(CertificateFetched::Created(Json(certificate.into())))
    }

    /// My electronic certificates
    ///
    /// The references the worker fetched, newest first.
    #[oai(path = "/me/certificates", method = "get", operation_id = "listMyCertificates")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
    ) -> ApiResult<Json<CertificateList>, { status::SIGNED_IN }> {
        let items = certificates::list_own(&state, &auth.0).await?;
        Ok(Json(CertificateList {
            items: items.into_iter().map(CertificateView::from).collect(),
        }))
    }
}
