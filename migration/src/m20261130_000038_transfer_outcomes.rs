//! A step's outcome beyond `done` (refused, materials needed, cancelled):
//! the person's answer to a request for materials on the step, and who made
//! each change and why on the change feed, which staff read as the case's
//! timeline.

use sea_orm_migration::prelude::*;

use crate::columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum SiTransferStep {
    Table,
    Answer,
    AnsweredAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SiTransferChange {
    Table,
    Kind,
    ActorType,
    Note,
}

/// The feed's kinds grow past 16 characters (`materials_answered`).
/// SQLite does not enforce a `varchar` length, and cannot alter a column.
async fn widen_kind(manager: &SchemaManager<'_>, length: u32) -> Result<(), DbErr> {
    if manager.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        return Ok(());
    }
    manager
        .alter_table(
            Table::alter()
                .table(SiTransferChange::Table)
                .modify_column(ColumnDef::new(SiTransferChange::Kind).string_len(length).not_null())
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            SiTransferStep::Table,
            vec![
                ColumnDef::new(SiTransferStep::Answer).text().to_owned(),
                ColumnDef::new(SiTransferStep::AnsweredAt)
                    .timestamp_with_time_zone()
                    .to_owned(),
            ],
        )
        .await?;
        add_columns(
            manager,
            SiTransferChange::Table,
            vec![
                ColumnDef::new(SiTransferChange::ActorType).string_len(16).to_owned(),
                ColumnDef::new(SiTransferChange::Note).text().to_owned(),
            ],
        )
        .await?;
        widen_kind(manager, 32).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        widen_kind(manager, 16).await?;
        drop_columns(
            manager,
            SiTransferChange::Table,
            vec![
                SiTransferChange::ActorType.into_iden(),
                SiTransferChange::Note.into_iden(),
            ],
        )
        .await?;
        drop_columns(
            manager,
            SiTransferStep::Table,
            vec![
                SiTransferStep::Answer.into_iden(),
                SiTransferStep::AnsweredAt.into_iden(),
            ],
        )
        .await
    }
}
