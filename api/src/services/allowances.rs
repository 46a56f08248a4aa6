//! A worker's daily allowance of a kind of create (unpaid-wage reports,
//! social-insurance transfers), counted in the store per worker and China
//! day. Taken inside `idempotency::once_checked`'s check, so a replay of the
//! same `Idempotency-Key` never takes a second one; a create that then fails
//! gives its allowance back.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use crate::{
    error::{AppError, AppResult, ErrorCode, Localized},
    infra::store::KeyValueStore,
};

/// How long a day's counter lives in the store: the day, whatever its hour.
const DAY: Duration = Duration::from_secs(86_400);

/// What a refused worker is told to wait before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(3600);

/// One worker's allowance of one kind of create, for today.
pub struct DailyAllowance<'a> {
    store: &'a dyn KeyValueStore,
    counter: String,
    /// Set once this request has taken one, so that a failure gives it back.
    taken: AtomicBool,
}

impl<'a> DailyAllowance<'a> {
    /// `kind` names the counter (`wage_reports`, `si_transfers`).
    pub fn new(store: &'a dyn KeyValueStore, kind: &str, worker_id: &str) -> Self {
        let day = crate::domain::china_time::today();
        Self {
            store,
            counter: format!("{kind}:{worker_id}:{day}"),
            taken: AtomicBool::new(false),
        }
    }

    /// Takes one of today's `limit`; past it, 429 `RATE_LIMITED` with
    /// `Retry-After` and `refusal` as the message.
    pub async fn take(&self, limit: u32, refusal: Localized) -> AppResult<()> {
        let count = self.store.increment(&self.counter, DAY).await?;
        if count > i64::from(limit) {
            return Err(AppError::new(ErrorCode::RateLimited)
                .with_message(refusal)
                .with_retry_after(RETRY_AFTER));
        }
        self.taken.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Gives the allowance back when the create it was taken for failed.
    pub async fn settle<T>(&self, outcome: &AppResult<T>) {
        if outcome.is_err()
            && self.taken.load(Ordering::SeqCst)
            && let Err(err) = self.store.decrement(&self.counter).await
        {
            tracing::warn!(error = %err, counter = %self.counter, "a daily allowance could not be given back");
        }
    }
}
