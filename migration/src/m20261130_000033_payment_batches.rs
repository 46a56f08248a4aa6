//! Finance's payment batches: one file to the bank a batch, one line a
//! case, each line with the account it was sent to (masked; the file reads
//! the number from the worker's encrypted account, which cannot change while
//! a line waits for the bank) and the bank's answer.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PaymentBatch {
    Table,
    Id,
    BatchNo,
    RegionCode,
    CreatedBy,
    CreatedAt,
    LineCount,
    TotalFen,
}

#[derive(DeriveIden)]
enum PaymentLine {
    Table,
    Id,
    BatchId,
    LineNo,
    ApplicationId,
    WorkerId,
    AmountFen,
    AccountMasked,
    BankName,
    Outcome,
    Reason,
    BankReference,
    RecordedAt,
    RecordedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PaymentBatch::Table)
                    .col(ColumnDef::new(PaymentBatch::Id).string_len(36).not_null().primary_key())
                    .col(
                        ColumnDef::new(PaymentBatch::BatchNo)
                            .string_len(40)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(PaymentBatch::RegionCode).string_len(6).not_null())
                    .col(ColumnDef::new(PaymentBatch::CreatedBy).string_len(36).not_null())
                    .col(
                        ColumnDef::new(PaymentBatch::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PaymentBatch::LineCount).integer().not_null())
                    .col(ColumnDef::new(PaymentBatch::TotalFen).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaymentLine::Table)
                    .col(ColumnDef::new(PaymentLine::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(PaymentLine::BatchId).string_len(36).not_null())
                    .col(ColumnDef::new(PaymentLine::LineNo).integer().not_null())
                    .col(ColumnDef::new(PaymentLine::ApplicationId).string_len(36).not_null())
                    .col(ColumnDef::new(PaymentLine::WorkerId).string_len(36).not_null())
                    .col(ColumnDef::new(PaymentLine::AmountFen).big_integer().not_null())
                    .col(ColumnDef::new(PaymentLine::AccountMasked).string_len(32).not_null())
                    .col(ColumnDef::new(PaymentLine::BankName).string_len(64).not_null())
                    .col(ColumnDef::new(PaymentLine::Outcome).string_len(16).not_null())
                    .col(ColumnDef::new(PaymentLine::Reason).string_len(200))
                    .col(ColumnDef::new(PaymentLine::BankReference).string_len(64))
                    .col(ColumnDef::new(PaymentLine::RecordedAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(PaymentLine::RecordedBy).string_len(36))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PaymentLine::Table, PaymentLine::BatchId)
                            .to(PaymentBatch::Table, PaymentBatch::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_payment_line_batch")
                    .table(PaymentLine::Table)
                    .col(PaymentLine::BatchId)
                    .col(PaymentLine::LineNo)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_payment_line_application")
                    .table(PaymentLine::Table)
                    .col(PaymentLine::ApplicationId)
                    .to_owned(),
            )
            .await?;
        // A case waits for the bank in one line at most: two officers
        // batching at once cannot send it twice.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_payment_line_pending ON payment_line (application_id) \
                 WHERE outcome = 'pending'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PaymentLine::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PaymentBatch::Table).to_owned())
            .await
    }
}
