//! Filing at a service window (窗口代办): the staff member's scans, the
//! consent code sent to the worker's account, and the filing itself; and
//! the worker's side, claiming the case with the receipt's code or linking
//! it on their evidence.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use serde::Deserialize;
use serde_json::Value;

use super::{
    ApiTags,
    applications::{ApplicationView, application_view},
    uploads::{UploadForm, UploadView},
};
use crate::{
    auth::schemes::{StaffAuth, WorkerAuth},
    context::RequestContext,
    domain::{BoundedText, HukouType, IdNumber, PhoneNumber, RegionCode},
    error::AppError,
    http::{
        json_body::{JsonBody, present},
        params::RecordId,
        problem::{ApiResult, status},
    },
    services::applications::{
        status::ApplicationStatus,
        window::{self, IdentityCheckMethod, Person, WindowFiling},
    },
    state::AppState,
};

pub struct WindowApi;

/// The person present, as read from their ID card and asked.
#[derive(Debug, Object, Deserialize)]
#[oai(skip_serializing_if_is_none)]
pub struct WindowApplicant {
    pub name: BoundedText<1, 32>,
    /// Validated (check digit, birth date); stored encrypted.
    pub id_number: IdNumber,
    /// The person's phone; stored encrypted. The consent code goes to the
    /// account that bound it, and the account it is bound to joins the case.
    pub phone: PhoneNumber,
    #[serde(default, deserialize_with = "present")]
    pub hukou_type: Option<HukouType>,
    #[serde(default, deserialize_with = "present")]
    pub residence_region_code: Option<RegionCode>,
    #[serde(default, deserialize_with = "present")]
    pub work_region_code: Option<RegionCode>,
}

/// The worker's consent: exactly one of the two.
#[derive(Debug, Object, Deserialize)]
#[oai(skip_serializing_if_is_none)]
pub struct WindowConsent {
    /// The scan of the signed 《代办授权同意书》 (`POST /api/v1/staff/window/uploads`).
    #[serde(default, deserialize_with = "present")]
    pub signed_form_upload_id: Option<RecordId>,
    /// The code sent to the worker's account (`POST /api/v1/staff/window/consent-codes`).
    #[serde(default, deserialize_with = "present")]
    pub code: Option<BoundedText<6, 6>>,
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct WindowFilingCreate {
    /// The window, as the receipt and the worker's timeline name it.
    pub window_name: BoundedText<2, 64>,
    pub applicant: WindowApplicant,
    pub identity_check: IdentityCheckMethod,
    pub consent: WindowConsent,
    pub program_id: RecordId,
    /// Answers to the program's form, by field key.
    #[serde(default)]
    #[oai(default)]
    pub answers: BTreeMap<String, Value>,
    /// The staff member's scans (`POST /api/v1/staff/window/uploads`).
    #[serde(default)]
    #[oai(default, validator(max_items = 20))]
    pub attachment_ids: Vec<BoundedText<1, 36>>,
}

/// The window's receipt.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WindowReceipt {
    pub id: String,
    pub application_no: String,
    pub status: ApplicationStatus,
    /// Print it on the receipt: the worker enters it in the mini-program
    /// (`POST /api/v1/applications/claim`). Shown once; absent when the case
    /// joined the worker's account at once.
    pub claim_code: Option<String>,
    pub claim_expires_at: Option<DateTime<Utc>>,
    /// The holder of the ID number had proven it: the case is in their list already.
    pub linked: bool,
}

#[derive(ApiResponse)]
pub enum WindowFiled {
    /// Filed and submitted for review.
    #[oai(status = 201)]
    Created(Json<WindowReceipt>),
}

#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct ConsentCodeRequest {
    /// The phone the worker bound in the mini-program.
    pub phone: PhoneNumber,
}

#[derive(Debug, Object)]
pub struct ConsentCodeSent {
    /// Masked, e.g. `138****5678`.
    pub phone: String,
    /// The accounts that bound it; each got the code in its inbox.
    pub accounts: u32,
    pub expires_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
pub enum CodeSent {
    /// Sent to the worker's in-app inbox.
    #[oai(status = 201)]
    Created(Json<ConsentCodeSent>),
}

#[derive(ApiResponse)]
pub enum ScanStored {
    /// Stored; file it with an application within 24 hours.
    #[oai(status = 201)]
    Created(Json<UploadView>),
}

#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct ApplicationClaim {
    /// The code printed on the window's receipt, e.g. `K7M2-Q9XP-4HTD`.
    pub code: BoundedText<1, 32>,
}

fn filing_of(body: WindowFilingCreate) -> Result<WindowFiling, AppError> {
    let applicant = body.applicant;
    Ok(WindowFiling {
        window_name: body.window_name.into_inner(),
        person: Person {
            name: applicant.name.into_inner(),
            id_number: applicant.id_number,
            phone: applicant.phone,
            hukou_type: applicant.hukou_type,
            residence: applicant.residence_region_code,
            work: applicant.work_region_code,
        },
        identity_check: body.identity_check,
        consent: window::consent_from(
            body.consent.signed_form_upload_id.map(RecordId::into_inner),
            body.consent.code.map(BoundedText::into_inner),
        )?,
        program_id: body.program_id.into_inner(),
        answers: body.answers.into_iter().collect(),
        attachment_ids: BoundedText::into_strings(body.attachment_ids),
    })
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::ServiceWindow")]
impl WindowApi {
    /// Scan a document at the window
    ///
    /// For staff with the `service_window` role: the signed consent form,
    /// the ID card, a certificate, as `multipart/form-data` with `file` and
    /// `purpose` (as `POST /api/v1/uploads`). It belongs to the staff member
    /// until a filing takes it.
    #[oai(
        path = "/staff/window/uploads",
        method = "post",
        operation_id = "uploadWindowDocument"
    )]
    async fn upload(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        form: UploadForm,
    ) -> ApiResult<
        ScanStored,
        {
            status::BAD_REQUEST
                | status::FORBIDDEN
                | status::PAYLOAD_TOO_LARGE
                | status::UNSUPPORTED_MEDIA_TYPE
                | status::SIGNED_IN
        },
    > {
        let (purpose, bytes) = form.into_parts().await?;
        let stored = window::store_scan(&state, &auth.0, &purpose, bytes).await?;
        Ok(ScanStored::Created(Json(UploadView::from(stored))))
    }

    /// Send a consent code to the worker's account
    ///
    /// For staff with the `service_window` role. A six-digit code, valid 10
    /// minutes, goes to the in-app inbox of every account that bound this
    /// phone through WeChat (there is no SMS gateway); the worker reads it
    /// out. A phone no account bound is 409 `CONSENT_PHONE_NOT_BOUND`.
    #[oai(
        path = "/staff/window/consent-codes",
        method = "post",
        operation_id = "sendWindowConsentCode"
    )]
    async fn consent_code(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        body: JsonBody<ConsentCodeRequest>,
    ) -> ApiResult<CodeSent, { status::BODY | status::FORBIDDEN | status::CONFLICT | status::SIGNED_IN }> {
        let sent = window::send_code(&state, &context, &auth.0, &body.0.phone).await?;
        Ok(CodeSent::Created(Json(ConsentCodeSent {
            phone: sent.phone_masked,
            accounts: u32::try_from(sent.accounts).unwrap_or(u32::MAX),
            expires_at: sent.expires_at,
        })))
    }

    /// File an application at the window
    ///
    /// For staff with the `service_window` role, in their region, for a
    /// worker present in person: how identity was checked, the worker's
    /// consent (a signed form's scan or the code), and the application,
    /// checked as the worker's own submission. The receipt's claim code
    /// joins it to the worker's account. Audited; on the timeline as
    /// `window_filed` with the window's name.
    #[oai(path = "/staff/window/applications", method = "post", operation_id = "fileAtWindow")]
    async fn file(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        body: JsonBody<WindowFilingCreate>,
    ) -> ApiResult<WindowFiled, { status::BODY | status::FORBIDDEN | status::CONFLICT | status::SIGNED_IN }> {
        let filed = window::file(&state, &context, &auth.0, filing_of(body.0)?).await?;
        Ok(WindowFiled::Created(Json(WindowReceipt {
            id: filed.created.id,
            application_no: filed.created.application_no,
            status: filed.created.status,
            claim_code: filed.claim_code,
            claim_expires_at: filed.claim_expires_at,
            linked: filed.linked,
        })))
    }

    /// Claim an application filed for me at a window
    ///
    /// With the code on the window's receipt and the case's ID number in the
    /// profile. A wrong, used, expired or another person's code is 404
    /// `CLAIM_CODE_INVALID`; five wrong codes a day, then 429.
    #[oai(path = "/applications/claim", method = "post", operation_id = "claimApplication")]
    async fn claim(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        body: JsonBody<ApplicationClaim>,
    ) -> ApiResult<Json<ApplicationView>, { status::BODY | status::NOT_FOUND | status::SIGNED_IN }> {
        let application = window::claim(&state, &context, &auth.0, body.0.code.as_str()).await?;
        Ok(Json(application_view(application)))
    }

    /// Link the applications windows filed for me
    ///
    /// Every case filed for the profile's ID number that the worker's
    /// evidence covers: all once the number is proven, else those whose
    /// recorded phone is the one bound through WeChat (409
    /// `IDENTITY_NOT_PROVEN` with neither). Sign-in does the same.
    #[oai(path = "/applications/link", method = "post", operation_id = "linkMyApplications")]
    async fn link(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
    ) -> ApiResult<Json<Vec<ApplicationView>>, { status::BAD_REQUEST | status::CONFLICT | status::SIGNED_IN }> {
        let linked = window::link(&state, &context, &auth.0).await?;
        Ok(Json(linked.into_iter().map(application_view).collect()))
    }
}

/// The largest request `POST /staff/window/uploads` takes, as `/uploads`.
pub const MAX_SCAN_REQUEST_BYTES: usize = super::uploads::MAX_UPLOAD_REQUEST_BYTES;
