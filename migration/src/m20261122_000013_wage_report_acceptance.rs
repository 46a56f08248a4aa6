//! Whether a report was accepted after its deadline, recorded when it is
//! accepted, so that deadline compliance is a plain count.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WageReport {
    Table,
    AcceptedLate,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WageReport::Table)
                    .add_column(ColumnDef::new(WageReport::AcceptedLate).boolean().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WageReport::Table)
                    .drop_column(WageReport::AcceptedLate)
                    .to_owned(),
            )
            .await
    }
}
