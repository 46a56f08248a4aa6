//! Filing at the service window (窗口代办): a staff member files an
//! application for a worker present in person. Until the worker's account
//! joins it, the case has no worker, so `application.worker_id` may be
//! empty; the documents the staff member scanned (the signed consent form,
//! the ID card) are the staff member's uploads, so `upload.worker_id` may be
//! empty too and `upload.staff_id` names who made them.
//!
//! `window_filing` keeps, beside each such case, how it was filed: the
//! window, the staff member, how identity was checked and how the worker
//! consented, and the person as the window recorded them (name, ID number
//! and phone, encrypted, with keyed hashes to join the worker's account), and
//! the one-time claim code of the receipt (its keyed hash only).

use sea_orm_migration::prelude::*;

use crate::columns::{add_columns, drop_columns, drop_not_null, set_not_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Upload {
    Table,
    StaffId,
}

#[derive(DeriveIden, Clone, Copy)]
enum WindowFiling {
    Table,
    ApplicationId,
    StaffId,
    WindowName,
    RegionCode,
    IdentityCheck,
    ConsentKind,
    ConsentUploadId,
    ApplicantName,
    IdNumberCipher,
    IdNumberHash,
    PhoneCipher,
    PhoneHash,
    HukouType,
    ResidenceRegionCode,
    WorkRegionCode,
    ClaimCodeHash,
    ClaimExpiresAt,
    LinkedAt,
    LinkEvidence,
    CreatedAt,
}

fn text(column: WindowFiling, len: u32) -> ColumnDef {
    ColumnDef::new(column).string_len(len).not_null().to_owned()
}

fn optional(column: WindowFiling, len: u32) -> ColumnDef {
    ColumnDef::new(column).string_len(len).null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too: the tables rebuilt to drop NOT NULL are
    /// copied, dropped and renamed together or not at all.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_not_null(manager, "application", "worker_id").await?;
        drop_not_null(manager, "upload", "worker_id").await?;
        add_columns(
            manager,
            Upload::Table,
            vec![ColumnDef::new(Upload::StaffId).string_len(36).to_owned()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(WindowFiling::Table)
                    .col(
                        ColumnDef::new(WindowFiling::ApplicationId)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(WindowFiling::StaffId, 36))
                    .col(text(WindowFiling::WindowName, 64))
                    .col(text(WindowFiling::RegionCode, 6))
                    .col(text(WindowFiling::IdentityCheck, 32))
                    .col(text(WindowFiling::ConsentKind, 32))
                    .col(optional(WindowFiling::ConsentUploadId, 36))
                    .col(optional(WindowFiling::ApplicantName, 64))
                    .col(ColumnDef::new(WindowFiling::IdNumberCipher).text().null())
                    .col(text(WindowFiling::IdNumberHash, 64))
                    .col(ColumnDef::new(WindowFiling::PhoneCipher).text().null())
                    .col(optional(WindowFiling::PhoneHash, 64))
                    .col(optional(WindowFiling::HukouType, 32))
                    .col(optional(WindowFiling::ResidenceRegionCode, 6))
                    .col(optional(WindowFiling::WorkRegionCode, 6))
                    .col(optional(WindowFiling::ClaimCodeHash, 64))
                    .col(
                        ColumnDef::new(WindowFiling::ClaimExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(WindowFiling::LinkedAt).timestamp_with_time_zone().null())
                    .col(optional(WindowFiling::LinkEvidence, 32))
                    .col(
                        ColumnDef::new(WindowFiling::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // The cases waiting for their person, found by the person's number.
        db.execute_unprepared(
            "CREATE INDEX idx_window_filing_waiting ON window_filing (id_number_hash) WHERE linked_at IS NULL",
        )
        .await?;
        db.execute_unprepared("CREATE UNIQUE INDEX uq_window_filing_claim ON window_filing (claim_code_hash)")
            .await?;
        db.execute_unprepared("CREATE INDEX idx_window_filing_created ON window_filing (created_at)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WindowFiling::Table).to_owned())
            .await?;
        drop_columns(manager, Upload::Table, vec![Upload::StaffId.into_iden()]).await?;
        let db = manager.get_connection();
        db.execute_unprepared("DELETE FROM upload WHERE worker_id IS NULL")
            .await?;
        db.execute_unprepared("DELETE FROM application WHERE worker_id IS NULL")
            .await?;
        set_not_null(manager, "upload", "worker_id").await?;
        set_not_null(manager, "application", "worker_id").await
    }
}
