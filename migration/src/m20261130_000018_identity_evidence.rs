//! Evidence stronger than a typed ID number: the phone an agency recorded
//! when it opened a case and a one-time claim code it handed the person
//! (only its keyed hash, with an expiry), a worker's verified identity, and
//! when a worker closed their account.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SiTransfer {
    Table,
    PhoneCipher,
    PhoneHash,
    ClaimCodeHash,
    ClaimExpiresAt,
}

#[derive(DeriveIden)]
enum Worker {
    Table,
    IdVerifiedAt,
    ClosedAt,
}

const CLAIM_INDEX: &str = "idx_si_transfer_claim_code_hash";

/// One column per statement: SQLite alters a table one change at a time.
fn columns() -> Vec<(DynIden, ColumnDef)> {
    let instant = |column: DynIden| ColumnDef::new(column).timestamp_with_time_zone().null().to_owned();
    vec![
        (
            SiTransfer::Table.into_iden(),
            ColumnDef::new(SiTransfer::PhoneCipher)
                .string_len(255)
                .null()
                .to_owned(),
        ),
        (
            SiTransfer::Table.into_iden(),
            ColumnDef::new(SiTransfer::PhoneHash).string_len(64).null().to_owned(),
        ),
        (
            SiTransfer::Table.into_iden(),
            ColumnDef::new(SiTransfer::ClaimCodeHash)
                .string_len(64)
                .null()
                .to_owned(),
        ),
        (
            SiTransfer::Table.into_iden(),
            instant(SiTransfer::ClaimExpiresAt.into_iden()),
        ),
        (Worker::Table.into_iden(), instant(Worker::IdVerifiedAt.into_iden())),
        (Worker::Table.into_iden(), instant(Worker::ClosedAt.into_iden())),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, mut column) in columns() {
            manager
                .alter_table(Table::alter().table(table).add_column(&mut column).to_owned())
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(CLAIM_INDEX)
                    .table(SiTransfer::Table)
                    .col(SiTransfer::ClaimCodeHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(CLAIM_INDEX).table(SiTransfer::Table).to_owned())
            .await?;
        for (table, column) in columns().into_iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(Alias::new(column.get_column_name()))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
