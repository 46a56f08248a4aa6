use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Region {
    Table,
    Code,
    Name,
    Level,
    ParentCode,
    Kind,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Region::Table)
                    .col(ColumnDef::new(Region::Code).string_len(6).not_null().primary_key())
                    .col(ColumnDef::new(Region::Name).string_len(64).not_null())
                    .col(ColumnDef::new(Region::Level).string_len(16).not_null())
                    .col(ColumnDef::new(Region::ParentCode).string_len(6).null())
                    .col(ColumnDef::new(Region::Kind).string_len(16).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Region::Table, Region::ParentCode)
                            .to(Region::Table, Region::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_region_parent_code")
                    .table(Region::Table)
                    .col(Region::ParentCode)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Region::Table).to_owned()).await
    }
}
