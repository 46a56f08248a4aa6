use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Policy {
    Table,
    Id,
    Slug,
    ParentId,
    Title,
    Summary,
    Body,
    Category,
    RegionCode,
    Issuer,
    DocNumber,
    IssuedOn,
    EffectiveFrom,
    EffectiveUntil,
    SourceUrl,
    Tags,
    AudienceTags,
    Status,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Policy::Table)
                    .col(ColumnDef::new(Policy::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(Policy::Slug).string_len(64).null().unique_key())
                    .col(ColumnDef::new(Policy::ParentId).string_len(36).null())
                    .col(ColumnDef::new(Policy::Title).string_len(200).not_null())
                    .col(ColumnDef::new(Policy::Summary).string_len(1000).not_null())
                    .col(ColumnDef::new(Policy::Body).text().not_null())
                    .col(ColumnDef::new(Policy::Category).string_len(32).not_null())
                    .col(ColumnDef::new(Policy::RegionCode).string_len(6).not_null())
                    .col(ColumnDef::new(Policy::Issuer).string_len(200).not_null())
                    .col(ColumnDef::new(Policy::DocNumber).string_len(100).null())
                    .col(ColumnDef::new(Policy::IssuedOn).date().null())
                    .col(ColumnDef::new(Policy::EffectiveFrom).date().null())
                    .col(ColumnDef::new(Policy::EffectiveUntil).date().null())
                    .col(ColumnDef::new(Policy::SourceUrl).string_len(500).null())
                    .col(ColumnDef::new(Policy::Tags).text().not_null())
                    .col(ColumnDef::new(Policy::AudienceTags).text().not_null())
                    .col(ColumnDef::new(Policy::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Policy::Version).integer().not_null())
                    .col(ColumnDef::new(Policy::CreatedBy).string_len(36).null())
                    .col(ColumnDef::new(Policy::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Policy::UpdatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Policy::PublishedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Policy::Table, Policy::ParentId)
                            .to(Policy::Table, Policy::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The search index of every instance follows changes by polling `updated_at`.
        for (name, column) in [
            ("idx_policy_updated_at", Policy::UpdatedAt),
            ("idx_policy_region_code", Policy::RegionCode),
            ("idx_policy_status", Policy::Status),
        ] {
            manager
                .create_index(Index::create().name(name).table(Policy::Table).col(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Policy::Table).to_owned()).await
    }
}
