use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, types::Example};
use serde::Deserialize;

use super::{ApiTags, personal_data::MyData};
use crate::{
    auth::schemes::WorkerAuth,
    context::RequestContext,
    domain::{BoundedText, HukouType, IdNumber, RegionCode},
    http::{
        json_body::{JsonBody, present},
        problem::{ApiResult, status},
    },
    services::{
        accounts, recommendations,
        workers::{self, CONSENT_VERSION, Profile, ProfileChange},
    },
    state::AppState,
};

pub struct MeApi;

/// A worker's own profile. ID and phone numbers are masked.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WorkerProfile {
    pub id: String,
    pub real_name: Option<String>,
    /// Masked, e.g. `3201**********123X`.
    pub id_number: Option<String>,
    /// Masked, e.g. `138****5678`.
    pub phone: Option<String>,
    /// Where the household registration (户口) is.
    pub hukou_region_code: Option<RegionCode>,
    pub hukou_type: Option<HukouType>,
    /// Where the worker lives now.
    pub residence_region_code: Option<RegionCode>,
    /// Where the worker works now.
    pub work_region_code: Option<RegionCode>,
    /// The version of the personal-data notice the worker accepted.
    pub consent_version: Option<String>,
    /// The notice's current version: ask the worker to accept it when it differs.
    pub current_consent_version: String,
    /// The ID number was proven (an identity check, or a case claimed with
    /// an agency's code or phone): it can no longer be changed here.
    pub id_number_proven: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<Profile> for WorkerProfile {
    fn from(profile: Profile) -> Self {
        WorkerProfile {
            id: profile.id,
            real_name: profile.real_name,
            id_number: profile.id_number_masked,
            phone: profile.phone_masked,
            hukou_region_code: profile.hukou_region_code,
            hukou_type: profile.hukou_type,
            residence_region_code: profile.residence_region_code,
            work_region_code: profile.work_region_code,
            consent_version: profile.consent_version,
            current_consent_version: CONSENT_VERSION.to_owned(),
            id_number_proven: profile.id_number_proven,
            created_at: profile.created_at,
        }
    }
}

/// The profile fields to set; fields left out keep their value.
#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct ProfileUpdate {
    #[serde(default, deserialize_with = "present")]
    pub real_name: Option<BoundedText<1, 32>>,
    /// Stored encrypted; needs `consent_version` (now or before) at its current value.
    #[serde(default, deserialize_with = "present")]
    pub id_number: Option<IdNumber>,
    #[serde(default, deserialize_with = "present")]
    pub hukou_region_code: Option<RegionCode>,
    #[serde(default, deserialize_with = "present")]
    pub hukou_type: Option<HukouType>,
    #[serde(default, deserialize_with = "present")]
    pub residence_region_code: Option<RegionCode>,
    #[serde(default, deserialize_with = "present")]
    pub work_region_code: Option<RegionCode>,
    /// The version of the personal-data notice the worker has just accepted.
    #[serde(default, deserialize_with = "present")]
    pub consent_version: Option<BoundedText<1, 32>>,
}

/// A `getPhoneNumber` button code.
#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct PhoneBinding {
    pub code: BoundedText<1, 128>,
}

/// The result of an identity check run in the mini-program.
#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct IdentityCheck {
    /// The provider's result token (e.g. `verifyResult` of
    /// `wx.startFacialRecognitionVerify`); in the sandbox, `sandbox-pass`.
    pub result_token: BoundedText<1, 512>,
}

impl Example for IdentityCheck {
    fn example() -> Self {
        IdentityCheck {
            result_token: BoundedText::parse("sandbox-pass").expect("a valid example"),
        }
    }
}

/// What closing the account kept and removed.
#[derive(Debug, Object)]
pub struct AccountClosed {
    pub closed_at: chrono::DateTime<chrono::Utc>,
    /// Applications, wage reports and transfers still open: the offices
    /// keep what they need to finish them; their personal data goes once
    /// they close and the retention period has passed.
    pub open_cases_kept: u64,
    /// Closed cases whose personal data was removed now.
    pub closed_cases_anonymised: u64,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Me")]
impl MeApi {
    /// Prove my identity (人脸核身 / 实名核验)
    ///
    /// After the mini-program ran the identity check, the server asks the
    /// provider whether it confirms the name and ID number in the profile.
    /// Confirmed: the number is proven, so every transfer an agency opens
    /// for it joins the account (`linkMyTransfers` links the earlier ones)
    /// and the number can no longer be changed or released. Not confirmed:
    /// 400 `IDENTITY_CHECK_FAILED`; checks switched off: 503
    /// `IDENTITY_CHECK_UNAVAILABLE`. Audited either way.
    #[oai(path = "/me/identity-check", method = "post", operation_id = "verifyMyIdentity")]
    async fn verify_identity(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        body: JsonBody<IdentityCheck>,
    ) -> ApiResult<Json<WorkerProfile>, { status::BODY | status::SIGNED_IN }> {
        Ok(Json(
            workers::verify_identity(&state, &context, &auth.0, body.0.result_token.as_str())
                .await?
                .into(),
        ))
    }

    /// Everything held about me
    ///
    /// A copy, as JSON, of all the personal data the service holds about
    /// the signed-in worker (PIPL Art. 45), personal data in clear: the
    /// profile, the consents, applications with their answers, documents'
    /// descriptions (each file is at `GET /uploads/{id}`), social-insurance
    /// transfers with their steps, wage reports, notifications and sign-in
    /// records. Each copy is audited.
    #[oai(path = "/me/data", method = "get", operation_id = "exportMyData")]
    async fn my_data(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
    ) -> ApiResult<Json<MyData>, { status::SIGNED_IN }> {
        Ok(Json(accounts::export(&state, &context, &auth.0).await?.into()))
    }

    /// Close my account
    ///
    /// 注销 (PIPL Art. 47): every session ends at once; the profile's
    /// personal data, the inbox, documents not attached to a case and the
    /// personal data of closed cases are removed now; cases still open keep
    /// what the offices need until they close. The WeChat account is free
    /// again: signing in later makes a new, empty account. Cannot be undone.
    #[oai(path = "/me", method = "delete", operation_id = "closeMyAccount")]
    async fn close(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
    ) -> ApiResult<Json<AccountClosed>, { status::SIGNED_IN }> {
        let closure = accounts::close(&state, &context, &auth.0).await?;
        Ok(Json(AccountClosed {
            closed_at: closure.closed_at,
            open_cases_kept: closure.open_cases_kept,
            closed_cases_anonymised: closure.closed_cases_anonymised,
        }))
    }

    /// Get my profile
    ///
    /// The signed-in worker's profile: regions, the ID number and phone
    /// masked, whether the ID number is proven, and the personal-data
    /// notice's version to accept.
    #[oai(path = "/me", method = "get", operation_id = "getMe")]
    async fn me(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
    ) -> ApiResult<Json<WorkerProfile>, { status::SIGNED_IN }> {
        Ok(Json(workers::profile(&state, &auth.0.subject).await?.into()))
    }

    /// Update my profile
    ///
    /// Real name, ID number (checked: GB 11643 check digit and birth date),
    /// household registration, residence and work regions. An ID number is
    /// kept only with the worker's consent to the current personal-data notice.
    #[oai(path = "/me/profile", method = "put", operation_id = "updateMyProfile")]
    async fn update_profile(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        body: JsonBody<ProfileUpdate>,
    ) -> ApiResult<Json<WorkerProfile>, { status::BODY | status::CONFLICT | status::SIGNED_IN }> {
        let update = body.0;
        let change = ProfileChange {
            real_name: update.real_name.map(BoundedText::into_inner),
            id_number: update.id_number,
            hukou_region_code: update.hukou_region_code,
            hukou_type: update.hukou_type,
            residence_region_code: update.residence_region_code,
            work_region_code: update.work_region_code,
            consent_version: update.consent_version.map(BoundedText::into_inner),
        };
        Ok(Json(
            recommendations::update_profile(&state, &context, &auth.0, change)
                .await?
                .into(),
        ))
    }

    /// Bind my phone number through WeChat
    ///
    /// Takes the code of the mini-program's `getPhoneNumber` button and asks
    /// WeChat (getuserphonenumber) for the number, which is stored encrypted.
    #[oai(path = "/me/phone", method = "post", operation_id = "bindMyPhone")]
    async fn bind_phone(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        body: JsonBody<PhoneBinding>,
    ) -> ApiResult<Json<WorkerProfile>, { status::BODY | status::SIGNED_IN }> {
        Ok(Json(
            workers::bind_phone(&state, &context, &auth.0, body.0.code.as_str())
                .await?
                .into(),
        ))
    }
}
