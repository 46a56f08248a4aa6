//! Who acted, when a relative acted for the worker: each case history names
//! the grant (so the timeline shows the relative, masked, and the relation),
//! and the worker reads every act from the audit log (`relative.act` rows,
//! targeted at the worker), newest first, through a partial index.

use sea_orm_migration::prelude::*;

use crate::columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ApplicationEvent {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum WageReportEvent {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum SiTransferChange {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum History {
    RelativeGrantId,
}

const ACTS_INDEX: &str = "idx_audit_log_relative_acts";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = || vec![ColumnDef::new(History::RelativeGrantId).string_len(36).to_owned()];
        add_columns(manager, ApplicationEvent::Table, column()).await?;
        add_columns(manager, WageReportEvent::Table, column()).await?;
        add_columns(manager, SiTransferChange::Table, column()).await?;
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {ACTS_INDEX} ON audit_log (target_id, id) WHERE action = 'relative.act'"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP INDEX {ACTS_INDEX}"))
            .await?;
        let column = || vec![History::RelativeGrantId.into_iden()];
        drop_columns(manager, ApplicationEvent::Table, column()).await?;
        drop_columns(manager, WageReportEvent::Table, column()).await?;
        drop_columns(manager, SiTransferChange::Table, column()).await?;
        Ok(())
    }
}
