//! 好差评: one rating per closed case (an application, a wage report or a
//! transfer), by the worker whose case it is.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseRating {
    Table,
    Id,
    WorkerId,
    CaseKind,
    CaseId,
    CaseNo,
    RegionCode,
    Score,
    Tags,
    Comment,
    FollowUpId,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CaseRating::Table)
                    .col(ColumnDef::new(CaseRating::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(CaseRating::WorkerId).string_len(36).not_null())
                    .col(ColumnDef::new(CaseRating::CaseKind).string_len(16).not_null())
                    .col(ColumnDef::new(CaseRating::CaseId).string_len(36).not_null())
                    .col(ColumnDef::new(CaseRating::CaseNo).string_len(40).not_null())
                    .col(ColumnDef::new(CaseRating::RegionCode).string_len(6).not_null())
                    .col(ColumnDef::new(CaseRating::Score).integer().not_null())
                    .col(ColumnDef::new(CaseRating::Tags).string_len(255).not_null())
                    .col(ColumnDef::new(CaseRating::Comment).string_len(500).null())
                    .col(ColumnDef::new(CaseRating::FollowUpId).string_len(36).null())
                    .col(ColumnDef::new(CaseRating::Version).integer().not_null())
                    .col(
                        ColumnDef::new(CaseRating::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CaseRating::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // One rating per case, whatever two requests at once try.
        manager
            .create_index(
                Index::create()
                    .name("uq_case_rating_case")
                    .table(CaseRating::Table)
                    .col(CaseRating::CaseKind)
                    .col(CaseRating::CaseId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The figures by region and period.
        manager
            .create_index(
                Index::create()
                    .name("idx_case_rating_region")
                    .table(CaseRating::Table)
                    .col(CaseRating::RegionCode)
                    .col(CaseRating::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_case_rating_worker")
                    .table(CaseRating::Table)
                    .col(CaseRating::WorkerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CaseRating::Table).to_owned())
            .await
    }
}
