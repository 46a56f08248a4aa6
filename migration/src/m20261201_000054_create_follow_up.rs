//! 回访: the follow-up a rating of 1 or 2 opens for the office of the case
//! rated, due in 3 working days and closed with what was done.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FollowUp {
    Table,
    Id,
    #[sea_orm(iden = "follow_up_no")]
    Number,
    RatingId,
    WorkerId,
    CaseKind,
    CaseId,
    CaseNo,
    RegionCode,
    Score,
    Tags,
    Comment,
    Status,
    Deadline,
    WhatWasDone,
    ClosedBy,
    ClosedAt,
    ClosedLate,
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
                    .table(FollowUp::Table)
                    .col(ColumnDef::new(FollowUp::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(FollowUp::Number).string_len(32).not_null().unique_key())
                    .col(
                        ColumnDef::new(FollowUp::RatingId)
                            .string_len(36)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(FollowUp::WorkerId).string_len(36).not_null())
                    .col(ColumnDef::new(FollowUp::CaseKind).string_len(16).not_null())
                    .col(ColumnDef::new(FollowUp::CaseId).string_len(36).not_null())
                    .col(ColumnDef::new(FollowUp::CaseNo).string_len(40).not_null())
                    .col(ColumnDef::new(FollowUp::RegionCode).string_len(6).not_null())
                    .col(ColumnDef::new(FollowUp::Score).integer().not_null())
                    .col(ColumnDef::new(FollowUp::Tags).string_len(255).not_null())
                    .col(ColumnDef::new(FollowUp::Comment).string_len(500).null())
                    .col(ColumnDef::new(FollowUp::Status).string_len(16).not_null())
                    .col(ColumnDef::new(FollowUp::Deadline).date().not_null())
                    .col(ColumnDef::new(FollowUp::WhatWasDone).string_len(2000).null())
                    .col(ColumnDef::new(FollowUp::ClosedBy).string_len(36).null())
                    .col(ColumnDef::new(FollowUp::ClosedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(FollowUp::ClosedLate).boolean().null())
                    .col(ColumnDef::new(FollowUp::Version).integer().not_null())
                    .col(
                        ColumnDef::new(FollowUp::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FollowUp::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // The queue by region (and kind, status, age), and the overdue ones.
        for (name, columns) in [
            (
                "idx_follow_up_queue",
                vec![FollowUp::RegionCode, FollowUp::Status, FollowUp::CreatedAt],
            ),
            ("idx_follow_up_due", vec![FollowUp::Status, FollowUp::Deadline]),
        ] {
            let mut index = Index::create();
            index.name(name).table(FollowUp::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FollowUp::Table).to_owned())
            .await
    }
}
