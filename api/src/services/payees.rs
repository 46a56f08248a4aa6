//! Where a worker's subsidies are paid: a bank card, or the financial
//! account of the social-security card, in the worker's own name, given with
//! consent. The number is kept encrypted; everyone sees it masked but
//! finance, who reveals it (audited) to pay, and the disbursement names the
//! account it paid.

use chrono::{DateTime, Utc};
use entity::{payment_line, worker};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde_json::json;

use crate::{
    auth::Principal,
    context::RequestContext,
    domain::{AccountNumber, BoundedText},
    error::{AppError, AppResult, ErrorCode},
    infra::crypto::Field,
    services::audit::{self, Event},
    state::AppState,
};

/// The text the worker agrees to when giving an account; a new text gets a
/// new version.
pub const PAYEE_CONSENT_VERSION: &str = "payee-2026-11";

crate::text_enum! {
    /// What kind of account subsidies are paid to.
    PayeeKind {
        /// A bank debit card in the worker's name.
        BankCard => "bank_card",
        /// The financial account of the social-security card (社保卡金融账户).
        SocialSecurityCard => "social_security_card",
    }
}

crate::text_enum! {
    /// What the bank answered for a payment of a batch.
    LineOutcome {
        /// Sent, no answer yet.
        Pending => "pending",
        Paid => "paid",
        /// Refused by the bank (closed card, wrong name…), with its reason.
        Returned => "returned",
    }
}

/// The account as it is shown: masked.
#[derive(Debug, Clone)]
pub struct PayeeAccount {
    pub kind: PayeeKind,
    pub bank_name: String,
    /// 622202*********0128
    pub account_masked: String,
    pub consent_version: String,
    pub updated_at: DateTime<Utc>,
}

/// The account as finance pays it.
#[derive(Debug, Clone)]
pub struct PayeeInClear {
    pub holder_name: String,
    pub kind: PayeeKind,
    pub bank_name: String,
    pub account_number: String,
}

pub struct NewPayeeAccount {
    pub kind: PayeeKind,
    pub bank_name: BoundedText<2, 40>,
    pub account_number: AccountNumber,
    /// The consent text version the worker agreed to; must be the current one.
    pub consent_version: String,
}

pub fn stored(row: &worker::Model) -> Option<PayeeAccount> {
    Some(PayeeAccount {
        kind: PayeeKind::parse(row.payee_kind.as_deref()?)?,
        bank_name: row.payee_bank_name.clone()?,
        account_masked: row.payee_account_masked.clone()?,
        consent_version: row.payee_consent_version.clone()?,
        updated_at: row.payee_updated_at?,
    })
}

async fn open_worker(db: &impl ConnectionTrait, worker_id: &str) -> AppResult<worker::Model> {
    worker::Entity::find_by_id(worker_id)
        .one(db)
        .await?
        .filter(|row| row.closed_at.is_none())
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))
}

/// The worker's account, masked; none until they give one.
pub async fn of_worker(db: &impl ConnectionTrait, worker_id: &str) -> AppResult<Option<PayeeAccount>> {
    Ok(stored(&open_worker(db, worker_id).await?))
}

/// Saves (or replaces) the worker's account. The account must be in the
/// name the worker gave in their profile, so the profile comes first; the
/// consent must be to the current text.
pub async fn save(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    new: NewPayeeAccount,
) -> AppResult<PayeeAccount> {
    if new.consent_version != PAYEE_CONSENT_VERSION {
        return Err(
            AppError::new(ErrorCode::ConsentRequired).with_details(json!({ "current_version": PAYEE_CONSENT_VERSION }))
        );
    }
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let row = open_worker(&transaction, &worker.subject).await?;
    if has_pending_payment(&transaction, &worker.subject).await? {
        return Err(AppError::new(ErrorCode::PaymentPending));
    }
    if row.real_name.is_none() || row.id_number_cipher.is_none() {
        return Err(
            AppError::new(ErrorCode::ProfileIncomplete).with_details(json!({ "missing": ["real_name", "id_number"] }))
        );
    }
    let now = Utc::now();
    let mut active = row.into_active_model();
    active.payee_kind = Set(Some(new.kind.as_str().to_owned()));
    active.payee_bank_name = Set(Some(new.bank_name.into_inner()));
    active.payee_account_cipher = Set(Some(state.protector.encrypt(
        Field::WorkerPayeeAccount,
        &worker.subject,
        new.account_number.as_str(),
    )));
    active.payee_account_masked = Set(Some(new.account_number.masked()));
    active.payee_consent_version = Set(Some(new.consent_version));
    active.payee_updated_at = Set(Some(now));
    active.updated_at = Set(now);
    let row = active.update(&transaction).await?;
    let event = Event::success(
        worker,
        "payee_account.save",
        ("worker", &worker.subject),
        None,
        Some(json!({ "kind": new.kind.as_str() })),
    );
    audit::record(&transaction, Some(request), event).await?;
    transaction.commit().await?;
    stored(&row).ok_or_else(|| AppError::internal(anyhow::anyhow!("a saved payee account did not read back")))
}

/// The worker's account in clear, for the one rule that reveals it
/// (`applications::reveal_payee`).
pub async fn in_clear(state: &AppState, worker_id: &str) -> AppResult<PayeeInClear> {
    // A closed account has no payee account left: that, not a missing
    // worker, is what finance must be told.
    let row = worker::Entity::find_by_id(worker_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    clear_account(state, &row)
}

/// The account of a worker row already read, in clear; 409
/// `PAYEE_ACCOUNT_MISSING` when there is none (never given, or removed
/// with the account).
pub fn clear_account(state: &AppState, row: &worker::Model) -> AppResult<PayeeInClear> {
    let missing = || AppError::new(ErrorCode::PayeeAccountMissing);
    let account = stored(row).ok_or_else(missing)?;
    let cipher = row.payee_account_cipher.as_deref().ok_or_else(missing)?;
    let account_number = state
        .protector
        .decrypt(Field::WorkerPayeeAccount, &row.id, cipher)
        .map_err(AppError::internal)?;
    Ok(PayeeInClear {
        holder_name: row.real_name.clone().ok_or_else(missing)?,
        kind: account.kind,
        bank_name: account.bank_name,
        account_number,
    })
}

/// The account a disbursement to `worker_id` pays, masked; a worker who
/// gave none cannot be paid yet.
pub async fn for_disbursement(db: &impl ConnectionTrait, worker_id: &str) -> AppResult<PayeeAccount> {
    of_worker(db, worker_id)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::PayeeAccountMissing))
}

/// Whether a payment to the worker waits for the bank: the account it was
/// sent to cannot change under it.
async fn has_pending_payment(db: &impl ConnectionTrait, worker_id: &str) -> AppResult<bool> {
    Ok(payment_line::Entity::find()
        .filter(payment_line::Column::WorkerId.eq(worker_id))
        .filter(payment_line::Column::Outcome.eq(LineOutcome::Pending.as_str()))
        .one(db)
        .await?
        .is_some())
}
