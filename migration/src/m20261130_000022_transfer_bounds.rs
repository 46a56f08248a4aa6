//! Two indexes for the bounds on social-insurance transfers:
//! - one case in progress per worker, insurance type and route, among the
//!   cases workers open themselves: the database refuses the second, so two
//!   requests at once cannot both open it (agency cases are left out: an
//!   agency may open one for a person who also asked);
//! - the pending steps by due day, so the staff list's `overdue` filter reads
//!   the steps past their day instead of every step.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_si_transfer_open_by_worker \
             ON si_transfer (worker_id, insurance_type, from_region_code, to_region_code) \
             WHERE source = 'worker' AND status = 'in_progress'",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_si_transfer_step_pending_due ON si_transfer_step (due_on, transfer_id) \
             WHERE status = 'pending'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX idx_si_transfer_step_pending_due")
            .await?;
        db.execute_unprepared("DROP INDEX uq_si_transfer_open_by_worker")
            .await?;
        Ok(())
    }
}
