//! Paying a subsidy to a stated account: the worker's payee account (on the
//! worker, the number encrypted) and the account a disbursement paid (on the
//! application, masked).

use sea_orm_migration::prelude::*;

use crate::columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Worker {
    Table,
    PayeeKind,
    PayeeBankName,
    PayeeAccountCipher,
    PayeeAccountMasked,
    PayeeConsentVersion,
    PayeeUpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Application {
    Table,
    PayeeAccountMasked,
    PayeeBankName,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            Worker::Table,
            vec![
                ColumnDef::new(Worker::PayeeKind).string_len(32).to_owned(),
                ColumnDef::new(Worker::PayeeBankName).string_len(64).to_owned(),
                ColumnDef::new(Worker::PayeeAccountCipher).text().to_owned(),
                ColumnDef::new(Worker::PayeeAccountMasked).string_len(32).to_owned(),
                ColumnDef::new(Worker::PayeeConsentVersion).string_len(32).to_owned(),
                ColumnDef::new(Worker::PayeeUpdatedAt)
                    .timestamp_with_time_zone()
                    .to_owned(),
            ],
        )
        .await?;
        add_columns(
            manager,
            Application::Table,
            vec![
                ColumnDef::new(Application::PayeeAccountMasked)
                    .string_len(32)
                    .to_owned(),
                ColumnDef::new(Application::PayeeBankName).string_len(64).to_owned(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            Application::Table,
            vec![
                Application::PayeeAccountMasked.into_iden(),
                Application::PayeeBankName.into_iden(),
            ],
        )
        .await?;
        drop_columns(
            manager,
            Worker::Table,
            vec![
                Worker::PayeeKind.into_iden(),
                Worker::PayeeBankName.into_iden(),
                Worker::PayeeAccountCipher.into_iden(),
                Worker::PayeeAccountMasked.into_iden(),
                Worker::PayeeConsentVersion.into_iden(),
                Worker::PayeeUpdatedAt.into_iden(),
            ],
        )
        .await
    }
}
