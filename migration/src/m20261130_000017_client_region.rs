//! The region an integrator client belongs to: it sees, changes and hears of
//! the transfers with either end in that region, and only administrators
//! covering the region manage it. Clients created before regions existed
//! become national (`000000`), which is what they could reach until now.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IntegratorClient {
    Table,
    RegionCode,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IntegratorClient::Table)
                    .add_column(
                        ColumnDef::new(IntegratorClient::RegionCode)
                            .string_len(6)
                            .not_null()
                            .default("000000"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IntegratorClient::Table)
                    .drop_column(IntegratorClient::RegionCode)
                    .to_owned(),
            )
            .await
    }
}
