//! Keyset paging (issue 20): a staff queue's page after a cursor reads "the
//! rows after this sort key" in the queue's total order, the id breaking
//! ties. These indexes hold each queue in that order, with and without its
//! usual status filter, so the page is a range of an index whatever its
//! depth, on SQLite and PostgreSQL alike. The review queue's indexes of
//! migration 000040 are replaced by ones with the id; the others are new. Region-scoped queues
//! also read the (region_code, …) indexes of their tables.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Name, table and columns of each index this migration adds.
const INDEXES: [(&str, &str, &str); 12] = [
    ("idx_follow_up_order", "follow_up", "created_at, id"),
    ("idx_follow_up_status_order", "follow_up", "status, created_at, id"),
    ("idx_complaint_order", "complaint", "created_at, id"),
    ("idx_complaint_status_order", "complaint", "status, created_at, id"),
    ("idx_si_transfer_order", "si_transfer", "created_at, id"),
    ("idx_si_transfer_status_order", "si_transfer", "status, created_at, id"),
    ("idx_wage_report_status_order", "wage_report", "status, created_at, id"),
    ("idx_program_offer_order", "program_offer", "program_id, created_at, id"),
    (
        "idx_program_offer_status_order",
        "program_offer",
        "program_id, status, created_at, id",
    ),
    ("idx_payment_batch_order", "payment_batch", "created_at, batch_no"),
    ("idx_audit_log_region_order", "audit_log", "region_code, id"),
    (
        "idx_application_review_keyset_by_status",
        "application",
        "status, submitted_at, created_at, id",
    ),
];

/// The review queue past drafts, now with the id.
const REVIEW: &str = "CREATE INDEX idx_application_review_keyset ON application (submitted_at, created_at, id) \
                      WHERE status <> 'draft'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_application_review")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS idx_application_review_by_status")
            .await?;
        db.execute_unprepared(REVIEW).await?;
        for (name, table, columns) in INDEXES {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON {table} ({columns})"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        db.execute_unprepared("DROP INDEX idx_application_review_keyset")
            .await?;
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
}
