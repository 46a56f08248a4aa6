//! 免申即享: a program may be marked `auto_offer`; the workers it matches
//! with every criterion met get an offer, which reviewers confirm in
//! batches and the worker accepts with one tap (the offer then names the
//! application it became). One offer per worker and program.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Program {
    Table,
    AutoOffer,
}

#[derive(DeriveIden)]
enum ProgramOffer {
    Table,
    Id,
    ProgramId,
    WorkerId,
    RegionCode,
    Status,
    CreatedAt,
    ConfirmedAt,
    ConfirmedBy,
    DecidedAt,
    ApplicationId,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Program::Table)
                    .add_column(ColumnDef::new(Program::AutoOffer).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await?;
        let instant = |column: ProgramOffer| ColumnDef::new(column).timestamp_with_time_zone().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(ProgramOffer::Table)
                    .col(ColumnDef::new(ProgramOffer::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(ProgramOffer::ProgramId).string_len(36).not_null())
                    .col(ColumnDef::new(ProgramOffer::WorkerId).string_len(36).not_null())
                    .col(ColumnDef::new(ProgramOffer::RegionCode).string_len(6).not_null())
                    .col(ColumnDef::new(ProgramOffer::Status).string_len(16).not_null())
                    .col(instant(ProgramOffer::CreatedAt).not_null())
                    .col(instant(ProgramOffer::ConfirmedAt).null())
                    .col(ColumnDef::new(ProgramOffer::ConfirmedBy).string_len(36).null())
                    .col(instant(ProgramOffer::DecidedAt).null())
                    .col(ColumnDef::new(ProgramOffer::ApplicationId).string_len(36).null())
                    .col(instant(ProgramOffer::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_program_offer_once")
                    .table(ProgramOffer::Table)
                    .col(ProgramOffer::ProgramId)
                    .col(ProgramOffer::WorkerId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_program_offer_queue")
                    .table(ProgramOffer::Table)
                    .col(ProgramOffer::ProgramId)
                    .col(ProgramOffer::Status)
                    .col(ProgramOffer::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_program_offer_worker")
                    .table(ProgramOffer::Table)
                    .col(ProgramOffer::WorkerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProgramOffer::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Program::Table)
                    .drop_column(Program::AutoOffer)
                    .to_owned(),
            )
            .await
    }
}
