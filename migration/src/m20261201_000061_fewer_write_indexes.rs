//! Cheaper writes (issue 20): every index is one more entry to write with
//! each row, and the outbox is written with every case's move.
//!
//! Three indexes that migration 000060 left with little to do are dropped:
//! the audit log's (region_code), the leading column of its
//! (region_code, id); the wage reports' (region_code, status, created_at),
//! whose queue reads in (created_at, id) order through the
//! (region_code, created_at, id) and (status, created_at, id) indexes; and
//! their (status, employer_key), as the early warnings' open reports are
//! found through (status, created_at, id) too.
//!
//! The audit log is written in time order and read by time only in ranges
//! (the retention's purge, the log's from and to): on PostgreSQL its time
//! index is a block range (BRIN) index, a few pages updated once per range
//! of the table instead of a B-tree entry per row. SQLite keeps the B-tree.
//!
//! The outbox's (done_at, next_attempt_at) held every message ever sent, and
//! the deliverer's bitmap scan of it visited each delivered message's old
//! row until vacuum came by. The deliverer takes pending messages in id
//! order: an index of the pending ones alone, in that order, is read as a
//! plain index scan, which marks the entries of delivered rows dead as it
//! passes them, and holds only the backlog.
//!
//! The deliverer writes a batch of messages into the inbox, sends them and
//! then records how each send went, in one update of the batch's rows. Packed
//! full, their pages had no room for the new versions, so each update wrote
//! its row elsewhere and every index of the inbox again. On PostgreSQL the
//! inbox now leaves half of each page free for them (a heap-only update,
//! which touches no index); SQLite updates in place.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Name and definition of each index this migration drops.
const DROPPED: [(&str, &str); 4] = [
    ("idx_audit_log_region_code", "audit_log (region_code)"),
    ("idx_wage_report_queue", "wage_report (region_code, status, created_at)"),
    ("idx_wage_report_open", "wage_report (status, employer_key)"),
    ("idx_outbox_due", "outbox (done_at, next_attempt_at)"),
];

const PENDING: &str = "CREATE INDEX idx_outbox_pending ON outbox (id) WHERE done_at IS NULL";

/// The inbox's pages half full, in percent.
const INBOX_FILL: u8 = 50;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _) in DROPPED {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        db.execute_unprepared(PENDING).await?;
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared(&format!("ALTER TABLE notification SET (fillfactor = {INBOX_FILL})"))
                .await?;
            db.execute_unprepared("DROP INDEX idx_audit_log_at").await?;
            db.execute_unprepared("CREATE INDEX idx_audit_log_at ON audit_log USING brin (at)")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared("ALTER TABLE notification RESET (fillfactor)")
                .await?;
            db.execute_unprepared("DROP INDEX idx_audit_log_at").await?;
            db.execute_unprepared("CREATE INDEX idx_audit_log_at ON audit_log (at)")
                .await?;
        }
        db.execute_unprepared("DROP INDEX idx_outbox_pending").await?;
        for (name, definition) in DROPPED {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON {definition}"))
                .await?;
        }
        Ok(())
    }
}
