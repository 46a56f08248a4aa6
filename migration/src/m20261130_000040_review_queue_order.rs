//! The review queue in its own order, whatever the region: a reviewer's
//! queue is read oldest submission first, filtered by status or only past
//! the draft. The queue index of migration 000006 starts with the region, so
//! a queue over many regions (a province's, the nation's) had to read and
//! sort every matching row to show twenty: about 7 s a page over 200,000
//! applications (`scripts/bench.sh`, scenario `review_queue`). With these
//! the database walks the cases in queue order and stops at the page.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX idx_application_review_by_status ON application (status, submitted_at, created_at)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_application_review ON application (submitted_at, created_at) WHERE status <> 'draft'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX idx_application_review").await?;
        db.execute_unprepared("DROP INDEX idx_application_review_by_status")
            .await?;
        Ok(())
    }
}
