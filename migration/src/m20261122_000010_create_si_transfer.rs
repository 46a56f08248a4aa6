//! Social-insurance transfers with their legal steps, the change feed the
//! agencies read, and the working-day calendar the deadlines count in.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CalendarDay {
    Table,
    Day,
    Kind,
    Name,
}

#[derive(DeriveIden)]
enum SiTransfer {
    Table,
    Id,
    TransferNo,
    InsuranceType,
    FromRegionCode,
    ToRegionCode,
    WorkerId,
    IdNumberHash,
    Source,
    ClientId,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SiTransferStep {
    Table,
    Id,
    TransferId,
    Position,
    Step,
    Office,
    Status,
    LimitDays,
    DueOn,
    OccurredAt,
    Note,
    RecordedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SiTransferChange {
    Table,
    Seq,
    TransferId,
    TransferNo,
    Kind,
    Step,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CalendarDay::Table)
                    .col(ColumnDef::new(CalendarDay::Day).date().not_null().primary_key())
                    .col(ColumnDef::new(CalendarDay::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(CalendarDay::Name).string_len(64).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SiTransfer::Table)
                    .col(ColumnDef::new(SiTransfer::Id).string_len(36).not_null().primary_key())
                    .col(
                        ColumnDef::new(SiTransfer::TransferNo)
                            .string_len(32)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(SiTransfer::InsuranceType).string_len(16).not_null())
                    .col(ColumnDef::new(SiTransfer::FromRegionCode).string_len(6).not_null())
                    .col(ColumnDef::new(SiTransfer::ToRegionCode).string_len(6).not_null())
                    .col(ColumnDef::new(SiTransfer::WorkerId).string_len(36).null())
                    .col(ColumnDef::new(SiTransfer::IdNumberHash).string_len(64).not_null())
                    .col(ColumnDef::new(SiTransfer::Source).string_len(16).not_null())
                    .col(ColumnDef::new(SiTransfer::ClientId).string_len(64).null())
                    .col(ColumnDef::new(SiTransfer::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(SiTransfer::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SiTransfer::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("idx_si_transfer_worker", vec![SiTransfer::WorkerId]),
            ("idx_si_transfer_id_hash", vec![SiTransfer::IdNumberHash]),
            ("idx_si_transfer_to", vec![SiTransfer::ToRegionCode, SiTransfer::Status]),
            (
                "idx_si_transfer_from",
                vec![SiTransfer::FromRegionCode, SiTransfer::Status],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(SiTransfer::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(SiTransferStep::Table)
                    .col(
                        ColumnDef::new(SiTransferStep::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SiTransferStep::TransferId).string_len(36).not_null())
                    .col(ColumnDef::new(SiTransferStep::Position).integer().not_null())
                    .col(ColumnDef::new(SiTransferStep::Step).string_len(32).not_null())
                    .col(ColumnDef::new(SiTransferStep::Office).string_len(8).not_null())
                    .col(ColumnDef::new(SiTransferStep::Status).string_len(16).not_null())
                    .col(ColumnDef::new(SiTransferStep::LimitDays).integer().null())
                    .col(ColumnDef::new(SiTransferStep::DueOn).date().null())
                    .col(
                        ColumnDef::new(SiTransferStep::OccurredAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(SiTransferStep::Note).string_len(500).null())
                    .col(ColumnDef::new(SiTransferStep::RecordedBy).string_len(64).null())
                    .col(
                        ColumnDef::new(SiTransferStep::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .index(
                        Index::create()
                            .name("uq_si_transfer_step")
                            .unique()
                            .col(SiTransferStep::TransferId)
                            .col(SiTransferStep::Step),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SiTransferChange::Table)
                    .col(
                        ColumnDef::new(SiTransferChange::Seq)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SiTransferChange::TransferId).string_len(36).not_null())
                    .col(ColumnDef::new(SiTransferChange::TransferNo).string_len(32).not_null())
                    .col(ColumnDef::new(SiTransferChange::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(SiTransferChange::Step).string_len(32).null())
                    .col(
                        ColumnDef::new(SiTransferChange::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SiTransferChange::Table.into_iden(),
            SiTransferStep::Table.into_iden(),
            SiTransfer::Table.into_iden(),
            CalendarDay::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
