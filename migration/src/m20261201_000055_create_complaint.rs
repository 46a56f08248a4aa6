//! 投诉建议: a worker's complaint or suggestion to the office of a region,
//! perhaps about one of their cases, answered by a deadline in working days.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Complaint {
    Table,
    Id,
    #[sea_orm(iden = "complaint_no")]
    Number,
    WorkerId,
    Kind,
    RegionCode,
    CaseKind,
    CaseId,
    CaseNo,
    Text,
    Status,
    Deadline,
    Reply,
    RepliedBy,
    RepliedAt,
    RepliedLate,
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
                    .table(Complaint::Table)
                    .col(ColumnDef::new(Complaint::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(Complaint::Number).string_len(32).not_null().unique_key())
                    .col(ColumnDef::new(Complaint::WorkerId).string_len(36).not_null())
                    .col(ColumnDef::new(Complaint::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Complaint::RegionCode).string_len(6).not_null())
                    .col(ColumnDef::new(Complaint::CaseKind).string_len(16).null())
                    .col(ColumnDef::new(Complaint::CaseId).string_len(36).null())
                    .col(ColumnDef::new(Complaint::CaseNo).string_len(40).null())
                    .col(ColumnDef::new(Complaint::Text).string_len(2000).not_null())
                    .col(ColumnDef::new(Complaint::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Complaint::Deadline).date().not_null())
                    .col(ColumnDef::new(Complaint::Reply).string_len(2000).null())
                    .col(ColumnDef::new(Complaint::RepliedBy).string_len(36).null())
                    .col(ColumnDef::new(Complaint::RepliedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Complaint::RepliedLate).boolean().null())
                    .col(ColumnDef::new(Complaint::Version).integer().not_null())
                    .col(
                        ColumnDef::new(Complaint::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Complaint::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // The queue by region, the overdue ones, and the worker's list.
        for (name, columns) in [
            (
                "idx_complaint_queue",
                vec![Complaint::RegionCode, Complaint::Status, Complaint::CreatedAt],
            ),
            ("idx_complaint_due", vec![Complaint::Status, Complaint::Deadline]),
            ("idx_complaint_worker", vec![Complaint::WorkerId, Complaint::CreatedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Complaint::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Complaint::Table).to_owned())
            .await
    }
}
