//! One transfer in progress per person, insurance type and route, whoever
//! opened it: the worker, an agency, or one of each. The database refuses
//! the second, so two openings at once cannot both pass. The person is the
//! case's `id_number_hash`, which an agency's case and a worker's share.
//! This index replaces the one of migration 000022, which only kept a worker
//! from opening the same case twice.
//!
//! Cases already open twice when it runs are kept, all of them in progress
//! and movable by the agencies as before: none is closed on a guess, and no
//! step an agency recorded on either is lost. The earliest of each group
//! stays the open case; each later one gets `duplicate_of` (the earliest
//! one's id) and is left out of the index, so only new openings are
//! refused. Nothing else sets the column: the application does not map it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SiTransfer {
    Table,
    DuplicateOf,
}

/// The earliest case in progress of the same person, insurance and route as
/// the row being updated (itself, when it is the earliest).
const EARLIEST_OF_ITS_GROUP: &str = "SELECT earliest.id FROM si_transfer earliest \
     WHERE earliest.id_number_hash = si_transfer.id_number_hash \
     AND earliest.insurance_type = si_transfer.insurance_type \
     AND earliest.from_region_code = si_transfer.from_region_code \
     AND earliest.to_region_code = si_transfer.to_region_code \
     AND earliest.status = 'in_progress' \
     ORDER BY earliest.created_at, earliest.id LIMIT 1";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SiTransfer::Table)
                    .add_column(ColumnDef::new(SiTransfer::DuplicateOf).string_len(36).null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "UPDATE si_transfer SET duplicate_of = ({EARLIEST_OF_ITS_GROUP}) WHERE status = 'in_progress'"
        ))
        .await?;
        db.execute_unprepared("UPDATE si_transfer SET duplicate_of = NULL WHERE duplicate_of = id")
            .await?;
        db.execute_unprepared("DROP INDEX uq_si_transfer_open_by_worker")
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_si_transfer_open_by_person \
             ON si_transfer (id_number_hash, insurance_type, from_region_code, to_region_code) \
             WHERE status = 'in_progress' AND duplicate_of IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX uq_si_transfer_open_by_person")
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_si_transfer_open_by_worker \
             ON si_transfer (worker_id, insurance_type, from_region_code, to_region_code) \
             WHERE source = 'worker' AND status = 'in_progress'",
        )
        .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SiTransfer::Table)
                    .drop_column(SiTransfer::DuplicateOf)
                    .to_owned(),
            )
            .await
    }
}
