//! The exports running on this instance: a few at a time, and one at a time
//! per staff member. Apart from `exports` so that the shared state holds it
//! without depending on the export queries.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{AppError, AppResult, ErrorCode};

/// What a refused caller is told to wait before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(30);

/// The exports running on this instance. Each holds a task, a few batches of
/// rows and, while it reads, a database connection, for as long as its
/// client takes to download: a few at a time per instance, and one at a
/// time per staff member.
#[derive(Clone)]
pub struct ExportSlots {
    instance: Arc<Semaphore>,
    /// The staff members with an export running.
    staff: Arc<Mutex<HashSet<String>>>,
}

/// One running export's place; dropped when its download ends, however it ends.
pub struct ExportSlot {
    _permit: OwnedSemaphorePermit,
    staff: Arc<Mutex<HashSet<String>>>,
    subject: String,
}

impl ExportSlots {
    pub fn new(per_instance: usize) -> Self {
        Self {
            instance: Arc::new(Semaphore::new(per_instance)),
            staff: Arc::default(),
        }
    }

    /// A place for the export of `staff` (a staff id): 429
    /// `EXPORT_IN_PROGRESS` while they have one running, 503 `EXPORTS_BUSY`
    /// while the instance is full.
    pub fn take(&self, staff: &str) -> AppResult<ExportSlot> {
        let running = || self.staff.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !running().insert(staff.to_owned()) {
            return Err(AppError::new(ErrorCode::ExportInProgress).with_retry_after(RETRY_AFTER));
        }
        let Ok(permit) = self.instance.clone().try_acquire_owned() else {
            running().remove(staff);
            return Err(AppError::new(ErrorCode::ExportsBusy).with_retry_after(RETRY_AFTER));
        };
        Ok(ExportSlot {
            _permit: permit,
            staff: self.staff.clone(),
            subject: staff.to_owned(),
        })
    }
}

impl Drop for ExportSlot {
    fn drop(&mut self) {
        self.staff
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&self.subject);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(slots: &ExportSlots, staff: &str) -> ErrorCode {
        slots.take(staff).err().expect("refused").code
    }

    #[test]
    fn one_export_per_staff_member_and_a_few_per_instance() {
        let slots = ExportSlots::new(2);
        let first = slots.take("a").unwrap();
        assert_eq!(refusal(&slots, "a"), ErrorCode::ExportInProgress);
        let second = slots.take("b").unwrap();
        assert_eq!(refusal(&slots, "c"), ErrorCode::ExportsBusy);
        drop(first);
        let third = slots.take("a").unwrap();
        assert_eq!(refusal(&slots, "b"), ErrorCode::ExportInProgress);
        drop((second, third));
        assert!(slots.take("c").is_ok(), "a refusal for a full instance leaves no trace");
    }
}
