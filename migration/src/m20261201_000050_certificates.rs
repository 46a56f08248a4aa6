//! Electronic certificates (电子证照): a reference to a certificate the
//! worker authorised us to fetch from the issuing authority's licence
//! service (a vocational certificate, a business licence, the ID card's
//! electronic licence), kept in place of a photograph, and the certificate an
//! application carries. The holder is kept as the keyed hash of their ID
//! number only.

use sea_orm_migration::prelude::*;

use crate::columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Certificate {
    Table,
    Id,
    WorkerId,
    Kind,
    Number,
    Title,
    Level,
    Issuer,
    HolderHash,
    IssuedOn,
    Provider,
    AuthorizedAt,
    FetchedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Application {
    Table,
    CertificateId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let text = |column: Certificate, len: u32| ColumnDef::new(column).string_len(len).not_null().to_owned();
        let instant = |column: Certificate| ColumnDef::new(column).timestamp_with_time_zone().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(Certificate::Table)
                    .col(ColumnDef::new(Certificate::Id).string_len(36).not_null().primary_key())
                    .col(text(Certificate::WorkerId, 36))
                    .col(text(Certificate::Kind, 32))
                    .col(text(Certificate::Number, 64))
                    .col(text(Certificate::Title, 128))
                    .col(ColumnDef::new(Certificate::Level).small_integer().null())
                    .col(text(Certificate::Issuer, 128))
                    .col(text(Certificate::HolderHash, 64))
                    .col(ColumnDef::new(Certificate::IssuedOn).date().null())
                    .col(text(Certificate::Provider, 32))
                    .col(instant(Certificate::AuthorizedAt))
                    .col(instant(Certificate::FetchedAt))
                    .to_owned(),
            )
            .await?;
        // One reference per certificate and worker: fetching it again refreshes it.
        manager
            .create_index(
                Index::create()
                    .name("uq_certificate_worker_number")
                    .table(Certificate::Table)
                    .col(Certificate::WorkerId)
                    .col(Certificate::Kind)
                    .col(Certificate::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        add_columns(
            manager,
            Application::Table,
            vec![ColumnDef::new(Application::CertificateId).string_len(36).to_owned()],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            Application::Table,
            vec![Application::CertificateId.into_iden()],
        )
        .await?;
        manager
            .drop_table(Table::drop().table(Certificate::Table).to_owned())
            .await
    }
}
