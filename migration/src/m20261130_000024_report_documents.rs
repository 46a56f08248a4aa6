//! The documents of a wage report, read by the inspection view of every
//! report: an index on `upload.wage_report_id`, as the applications' documents
//! have one on `application_id`, so that reading them does not scan every
//! upload.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Upload {
    Table,
    WageReportId,
    CreatedAt,
}

const INDEX: &str = "idx_upload_wage_report";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Upload::Table)
                    .col(Upload::WageReportId)
                    .col(Upload::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Upload::Table).to_owned())
            .await
    }
}
