//! When a closed case's personal data was removed under the retention
//! policy; `shiminhua purge` skips cases that have it, so runs repeat safely.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Application {
    Table,
}

#[derive(DeriveIden)]
enum WageReport {
    Table,
}

#[derive(DeriveIden)]
enum SiTransfer {
    Table,
}

#[derive(DeriveIden)]
enum Case {
    AnonymisedAt,
}

fn tables() -> [DynIden; 3] {
    [
        Application::Table.into_iden(),
        WageReport::Table.into_iden(),
        SiTransfer::Table.into_iden(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(ColumnDef::new(Case::AnonymisedAt).timestamp_with_time_zone().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager
                .alter_table(Table::alter().table(table).drop_column(Case::AnonymisedAt).to_owned())
                .await?;
        }
        Ok(())
    }
}
