//! Transfers join the shape of the other cases:
//! - a `version` that every change raises, so two agencies reporting at once
//!   cannot both move the same case (the second gets 409);
//! - the `process_version` of the step table the case was opened under: its
//!   working-day limits are read from that table, so a case keeps what it was
//!   promised when the law changes, and the limits are no longer copied into
//!   every step row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SiTransfer {
    Table,
    Version,
    ProcessVersion,
}

#[derive(DeriveIden)]
enum SiTransferStep {
    Table,
    LimitDays,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [SiTransfer::Version, SiTransfer::ProcessVersion] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SiTransfer::Table)
                        .add_column(ColumnDef::new(column).integer().not_null().default(1))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(SiTransferStep::Table)
                    .drop_column(SiTransferStep::LimitDays)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SiTransferStep::Table)
                    .add_column(ColumnDef::new(SiTransferStep::LimitDays).integer().null())
                    .to_owned(),
            )
            .await?;
        for column in [SiTransfer::ProcessVersion, SiTransfer::Version] {
            manager
                .alter_table(Table::alter().table(SiTransfer::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
