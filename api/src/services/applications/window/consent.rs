//! The worker's consent to a filing made for them at a service window: a
//! signed form the staff member scanned (an upload of their own, attached to
//! the case), or a code the worker reads out from their own account.
//!
//! There is no SMS gateway in the project, so the code goes where the
//! phone's owner already reads the service's messages: the in-app inbox of
//! every account whose WeChat-verified phone (`POST /me/phone`) is the one
//! given. Reading it out at the window shows that the person present holds
//! that account. A code lives ten minutes in the store (Redis), is bound to
//! the phone and to the staff member who sent it, works once, and dies after
//! five wrong tries.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::worker;
use rand::Rng;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    access,
    auth::{Principal, Role},
    context::RequestContext,
    domain::PhoneNumber,
    error::{AppError, AppResult, ErrorCode},
    infra::crypto::Purpose,
    services::{
        audit::{self, Actor, Event, Outcome},
        notifications::{self, Message},
    },
    state::AppState,
};

pub const CODE_LIFETIME: Duration = Duration::from_secs(600);
const MAX_WRONG_CODES: i64 = 5;
/// The event the code's message is, for its own subscribe template.
pub const TOPIC: &str = "window.consent_code";

/// How the worker consented, as the filing records it.
#[derive(Debug, Clone)]
pub enum Consent {
    /// The signed form, scanned by the staff member (`POST /staff/window/uploads`).
    SignedForm { upload_id: String },
    /// The code sent to the worker's account, read out at the window.
    PhoneCode { code: String },
}

impl Consent {
    pub fn kind(&self) -> &'static str {
        match self {
            Consent::SignedForm { .. } => "signed_form",
            Consent::PhoneCode { .. } => "phone_code",
        }
    }
}

/// Where a code went.
#[derive(Debug, Clone)]
pub struct Sent {
    pub phone_masked: String,
    pub accounts: usize,
    pub expires_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, PartialEq)]
struct Pending {
    code_hash: String,
    staff_id: String,
}

fn code_key(state: &AppState, phone: &PhoneNumber) -> String {
    format!(
        "window_consent:{}",
        state.protector.lookup_hash(Purpose::Phone, phone.as_str())
    )
}

fn tries_key(state: &AppState, phone: &PhoneNumber) -> String {
    format!("{}:tries", code_key(state, phone))
}

fn code_hash(state: &AppState, phone: &PhoneNumber, code: &str) -> String {
    let bound = format!("{}:{code}", phone.as_str());
    state.protector.lookup_hash(Purpose::ConsentCode, &bound)
}

/// Sends a fresh code to every account that bound `phone`, in place of any
/// code sent before; 409 `CONSENT_PHONE_NOT_BOUND` when none did. Audited
/// as `window.consent_code.send`.
pub async fn send_code(
    state: &AppState,
    request: &RequestContext,
    staff: &Principal,
    phone: &PhoneNumber,
) -> AppResult<Sent> {
    access::require_role(staff, Role::ServiceWindow)?;
    let hashes = state.protector.lookup_hashes(Purpose::Phone, phone.as_str());
    let accounts: Vec<String> = worker::Entity::find()
        .filter(worker::Column::PhoneHash.is_in(hashes))
        .filter(worker::Column::ClosedAt.is_null())
        .all(&state.db)
        .await?
        .into_iter()
        .map(|account| account.id)
        .collect();
    if accounts.is_empty() {
        return Err(AppError::new(ErrorCode::ConsentPhoneNotBound));
    }
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let pending = Pending {
        code_hash: code_hash(state, phone, &code),
        staff_id: staff.subject.clone(),
    };
    let pending = serde_json::to_string(&pending).map_err(AppError::internal)?;
    state
        .store
        .set(&code_key(state, phone), &pending, CODE_LIFETIME)
        .await?;
    state.store.delete(&tries_key(state, phone)).await?;
    let message = Message {
        title: "窗口代办确认码".to_owned(),
        body: format!(
            "人社服务窗口的工作人员正在为您代办补贴申请。确认码：{code}，10分钟内有效，请当面告诉窗口工作人员。如果您没有在窗口办理，请不要把确认码告诉任何人。"
        ),
        link: None,
        news: None,
    };
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    for account in &accounts {
        notifications::enqueue(&transaction, account, TOPIC, &message).await?;
        let sent = Event::success(
            staff,
            "window.consent_code.send",
            ("worker", account),
            staff.region,
            None,
        );
        audit::record(&transaction, Some(request), sent).await?;
    }
    transaction.commit().await?;
    Ok(Sent {
        phone_masked: phone.masked(),
        accounts: accounts.len(),
        expires_at: Utc::now() + CODE_LIFETIME,
    })
}

/// Uses the code sent for `phone` by this staff member: it works once. A
/// wrong, used, expired or another staff member's code is 400
/// `CONSENT_CODE_INVALID` (audit it with `refused`, once the filing's
/// transaction is given up); after five wrong tries the code is gone.
pub async fn use_code(state: &AppState, staff: &Principal, phone: &PhoneNumber, code: &str) -> AppResult<()> {
    let key = code_key(state, phone);
    let tries = state.store.increment(&tries_key(state, phone), CODE_LIFETIME).await?;
    let expected = Pending {
        code_hash: code_hash(state, phone, code.trim()),
        staff_id: staff.subject.clone(),
    };
    let stored = state.store.get(&key).await?;
    let matches = stored
        .as_deref()
        .and_then(|text| serde_json::from_str::<Pending>(text).ok())
        .is_some_and(|pending| pending == expected);
    let used = match (&stored, matches && tries <= MAX_WRONG_CODES) {
        (Some(stored), true) => state.store.delete_if_equals(&key, stored).await?,
        _ => false,
    };
    if !used {
        if tries >= MAX_WRONG_CODES {
            state.store.delete(&key).await?;
        }
        return Err(AppError::new(ErrorCode::ConsentCodeInvalid).with_details(json!({ "tries": tries })));
    }
    state.store.delete(&tries_key(state, phone)).await?;
    Ok(())
}

/// Audits a code `use_code` refused.
pub async fn refused(state: &AppState, request: &RequestContext, staff: &Principal, error: AppError) -> AppError {
    let refused = Event {
        actor: Actor::Principal(staff),
        action: "window.consent_code.use",
        target: None,
        region: staff.region,
        outcome: Outcome::Denied,
        details: error.details.clone(),
    };
    match audit::record(&state.db, Some(request), refused).await {
        Ok(()) => error,
        Err(failed) => failed,
    }
}
