//! Unpaid-wage reports (欠薪线索), their timeline, and uploads attached to them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WageReport {
    Table,
    Id,
    ReportNo,
    WorkerId,
    EmployerName,
    EmployerKey,
    CreditCode,
    ProjectName,
    RegionCode,
    Sector,
    AmountOwedFen,
    OwedFrom,
    OwedTo,
    WorkersAffected,
    Description,
    ContactPhoneCipher,
    Status,
    AcceptDeadline,
    CloseDeadline,
    Extended,
    AmountRecoveredFen,
    WorkersPaid,
    Outcome,
    Version,
    AcceptedAt,
    ClosedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WageReportEvent {
    Table,
    Id,
    ReportId,
    At,
    ActorType,
    ActorId,
    Action,
    FromStatus,
    ToStatus,
    Comment,
}

#[derive(DeriveIden)]
enum Upload {
    Table,
    WageReportId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WageReport::Table)
                    .col(ColumnDef::new(WageReport::Id).string_len(36).not_null().primary_key())
                    .col(
                        ColumnDef::new(WageReport::ReportNo)
                            .string_len(32)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(WageReport::WorkerId).string_len(36).not_null())
                    .col(ColumnDef::new(WageReport::EmployerName).string_len(200).not_null())
                    .col(ColumnDef::new(WageReport::EmployerKey).string_len(200).not_null())
                    .col(ColumnDef::new(WageReport::CreditCode).string_len(18).null())
                    .col(ColumnDef::new(WageReport::ProjectName).string_len(200).null())
                    .col(ColumnDef::new(WageReport::RegionCode).string_len(6).not_null())
                    .col(ColumnDef::new(WageReport::Sector).string_len(32).not_null())
                    .col(ColumnDef::new(WageReport::AmountOwedFen).big_integer().not_null())
                    .col(ColumnDef::new(WageReport::OwedFrom).date().not_null())
                    .col(ColumnDef::new(WageReport::OwedTo).date().not_null())
                    .col(ColumnDef::new(WageReport::WorkersAffected).integer().not_null())
                    .col(ColumnDef::new(WageReport::Description).string_len(2000).not_null())
                    .col(ColumnDef::new(WageReport::ContactPhoneCipher).string_len(255).null())
                    .col(ColumnDef::new(WageReport::Status).string_len(16).not_null())
                    .col(ColumnDef::new(WageReport::AcceptDeadline).date().not_null())
                    .col(ColumnDef::new(WageReport::CloseDeadline).date().null())
                    .col(ColumnDef::new(WageReport::Extended).boolean().not_null().default(false))
                    .col(ColumnDef::new(WageReport::AmountRecoveredFen).big_integer().null())
                    .col(ColumnDef::new(WageReport::WorkersPaid).integer().null())
                    .col(ColumnDef::new(WageReport::Outcome).string_len(32).null())
                    .col(ColumnDef::new(WageReport::Version).integer().not_null())
                    .col(ColumnDef::new(WageReport::AcceptedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(WageReport::ClosedAt).timestamp_with_time_zone().null())
                    .col(
                        ColumnDef::new(WageReport::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WageReport::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // The queue by region, the worker's list, and the early warnings by employer.
        for (name, columns) in [
            (
                "idx_wage_report_queue",
                vec![WageReport::RegionCode, WageReport::Status, WageReport::CreatedAt],
            ),
            (
                "idx_wage_report_worker",
                vec![WageReport::WorkerId, WageReport::CreatedAt],
            ),
            (
                "idx_wage_report_employer",
                vec![WageReport::EmployerKey, WageReport::CreatedAt],
            ),
            (
                "idx_wage_report_open",
                vec![WageReport::Status, WageReport::EmployerKey],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(WageReport::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(WageReportEvent::Table)
                    .col(
                        ColumnDef::new(WageReportEvent::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(WageReportEvent::ReportId).string_len(36).not_null())
                    .col(
                        ColumnDef::new(WageReportEvent::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(WageReportEvent::ActorType).string_len(16).not_null())
                    .col(ColumnDef::new(WageReportEvent::ActorId).string_len(64).null())
                    .col(ColumnDef::new(WageReportEvent::Action).string_len(32).not_null())
                    .col(ColumnDef::new(WageReportEvent::FromStatus).string_len(16).null())
                    .col(ColumnDef::new(WageReportEvent::ToStatus).string_len(16).not_null())
                    .col(ColumnDef::new(WageReportEvent::Comment).string_len(2000).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_wage_report_event_report")
                    .table(WageReportEvent::Table)
                    .col(WageReportEvent::ReportId)
                    .col(WageReportEvent::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Upload::Table)
                    .add_column(ColumnDef::new(Upload::WageReportId).string_len(36).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Upload::Table)
                    .drop_column(Upload::WageReportId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(WageReportEvent::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WageReport::Table).to_owned())
            .await
    }
}
