//! Paying an approved application: finance reads the applicant's payee
//! account in clear (audited) to pay it, and records the payment, which
//! names the account it went to.

use entity::application;
use sea_orm::ActiveValue::Set;
use serde_json::json;

use super::{Application, Step, review::case_in_scope, staff_step, status, status::Action, take};
use crate::{
    access,
    auth::Principal,
    context::RequestContext,
    error::{AppError, AppResult, ErrorCode},
    services::{
        audit::{self, Event},
        payees::{self, PayeeInClear},
    },
    state::AppState,
};

/// What finance records of a payment.
#[derive(Debug, Clone)]
pub struct Payment {
    pub amount_fen: i64,
    /// The payment's reference in the finance system.
    pub reference: String,
    pub expected_version: i32,
}

/// Finance records the payment of an approved application to the account
/// the applicant gave; an applicant who gave none cannot be paid yet.
pub async fn disburse(
    state: &AppState,
    request: &RequestContext,
    finance: &Principal,
    id: &str,
    payment: Payment,
) -> AppResult<Application> {
    staff_step(state, finance, id, Action::Disburse, async |transaction, case| {
        status::check_disbursement(case.approved_amount_fen, payment.amount_fen)?;
        let applicant = case
            .worker_id
            .as_deref()
            .ok_or_else(|| AppError::new(ErrorCode::PayeeAccountMissing))?;
        let payee = payees::for_disbursement(transaction, applicant).await?;
        let step =
            Step::by_staff(finance, Action::Disburse, payment.expected_version, None).settling(payment.amount_fen);
        let paid = application::ActiveModel {
            disbursed_amount_fen: Set(Some(payment.amount_fen)),
            disbursement_reference: Set(Some(payment.reference.clone())),
            payee_account_masked: Set(Some(payee.account_masked)),
            payee_bank_name: Set(Some(payee.bank_name)),
            ..Default::default()
        };
        take(transaction, request, &case, step, paid).await
    })
    .await
}

/// The applicant's payee account in clear, for finance of the case's
/// region, who must pay it; every reveal is audited.
pub async fn reveal_payee(
    state: &AppState,
    request: &RequestContext,
    finance: &Principal,
    id: &str,
    reason: &str,
) -> AppResult<PayeeInClear> {
    access::require_payee_reader(finance)?;
    let case = case_in_scope(&state.db, state, finance, id).await?;
    let applicant = case
        .worker_id
        .as_deref()
        .ok_or_else(|| AppError::new(ErrorCode::PayeeAccountMissing))?;
    let account = payees::in_clear(state, applicant).await?;
    let details = json!({ "worker_id": case.worker_id, "revealed": "payee_account" });
    let reveal = Event::reveal(finance, ("application", &case.id), case.region, details, reason);
    audit::record(&state.db, Some(request), reveal).await?;
    Ok(account)
}
