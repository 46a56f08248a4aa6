use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use serde::Deserialize;

use super::{ApiTags, personal_data::RevealBody};
use crate::{
    auth::schemes::{StaffAuth, WorkerAuth},
    context::RequestContext,
    domain::{AccountNumber, BoundedText},
    http::{
        json_body::JsonBody,
        params::RecordId,
        problem::{ApiResult, status},
    },
    services::{
        applications,
        payees::{self, NewPayeeAccount, PayeeAccount, PayeeInClear, PayeeKind},
    },
    state::AppState,
};

pub struct PayeeApi;

/// The account subsidies are paid to, in the worker's own name.
#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct PayeeAccountWrite {
    pub kind: PayeeKind,
    /// The bank that issued the card, e.g. 中国工商银行.
    pub bank_name: BoundedText<2, 40>,
    /// The card number (for a social-security card, its financial account
    /// number); checked with its Luhn digit, stored encrypted.
    pub account_number: AccountNumber,
    /// The version of the payee-account consent the worker has just
    /// agreed to: `payee-2026-11`.
    pub consent_version: BoundedText<1, 32>,
}

/// The worker's payee account, masked.
#[derive(Debug, Object)]
pub struct PayeeAccountView {
    pub kind: PayeeKind,
    pub bank_name: String,
    /// e.g. `622202*********0128`.
    pub account_number: String,
    pub consent_version: String,
    pub updated_at: DateTime<Utc>,
}

impl From<PayeeAccount> for PayeeAccountView {
    fn from(account: PayeeAccount) -> Self {
        PayeeAccountView {
            kind: account.kind,
            bank_name: account.bank_name,
            account_number: account.account_masked,
            consent_version: account.consent_version,
            updated_at: account.updated_at,
        }
    }
}

/// The applicant's payee account in clear, for finance to pay it.
#[derive(Debug, Object)]
pub struct RevealedPayee {
    /// The account holder: the applicant's real name.
    pub holder_name: String,
    pub kind: PayeeKind,
    pub bank_name: String,
    pub account_number: String,
}

impl From<PayeeInClear> for RevealedPayee {
    fn from(account: PayeeInClear) -> Self {
        RevealedPayee {
            holder_name: account.holder_name,
            kind: account.kind,
            bank_name: account.bank_name,
            account_number: account.account_number,
        }
    }
}

#[derive(ApiResponse)]
pub enum MaybePayee {
    /// The account, masked.
    #[oai(status = 200)]
    Given(Json<PayeeAccountView>),
    /// No account given yet.
    #[oai(status = 204)]
    NotGiven,
}

#[OpenApi(prefix_path = "/api/v1")]
impl PayeeApi {
    /// Give or change my payee account
    ///
    /// Where my subsidies are paid: a bank card or my social-security card's
    /// financial account, in the name of my profile (so the real name and ID
    /// number come first: 400 `PROFILE_INCOMPLETE`), with my consent to the
    /// current text (`consent_version` `payee-2026-11`, else 400
    /// `CONSENT_REQUIRED`). A card number whose check digit is wrong is 400
    /// naming `account_number`. Stored encrypted; answered masked.
    #[oai(
        path = "/me/payee-account",
        method = "put",
        operation_id = "saveMyPayeeAccount",
        tag = "ApiTags::Me"
    )]
    async fn save(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        body: JsonBody<PayeeAccountWrite>,
    ) -> ApiResult<Json<PayeeAccountView>, { status::BODY | status::SIGNED_IN }> {
        let body = body.0;
        let new = NewPayeeAccount {
            kind: body.kind,
            bank_name: body.bank_name,
            account_number: body.account_number,
            consent_version: body.consent_version.into_inner(),
        };
        Ok(Json(payees::save(&state, &context, &auth.0, new).await?.into()))
    }

    /// My payee account
    ///
    /// Masked; 204 until I give one.
    #[oai(
        path = "/me/payee-account",
        method = "get",
        operation_id = "getMyPayeeAccount",
        tag = "ApiTags::Me"
    )]
    async fn get(&self, state: Data<&AppState>, auth: WorkerAuth) -> ApiResult<MaybePayee, { status::SIGNED_IN }> {
        Ok(match payees::of_worker(&state.db, &auth.0.subject).await? {
            Some(account) => MaybePayee::Given(Json(account.into())),
            None => MaybePayee::NotGiven,
        })
    }

    /// Reveal the applicant's payee account
    ///
    /// For finance of the case's region, who must pay it (403 for other
    /// roles, 404 outside the region); every reveal is audited with the
    /// reason given (`reason`, required: 400 without one). 409
    /// `PAYEE_ACCOUNT_MISSING` while the applicant has given none.
    #[oai(
        path = "/staff/applications/:id/payee/reveal",
        method = "post",
        operation_id = "revealApplicantPayee",
        tag = "ApiTags::Applications"
    )]
    async fn reveal(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<RevealBody>,
    ) -> ApiResult<
        Json<RevealedPayee>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        Ok(Json(
            applications::reveal_payee(&state, &context, &auth.0, &id.0, &body.0.reason.into_inner())
                .await?
                .into(),
        ))
    }
}
