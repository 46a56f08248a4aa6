//! 亲情代办: a worker's grants to relatives who act for them. A grant starts
//! as an invitation (a one-time code, kept only as its keyed hash, that
//! expires), becomes active when a relative accepts it with their own
//! account, and ends when the worker (or the relative) revokes it. Rows are
//! kept after revocation: the case histories name the relative through them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RelativeGrant {
    Table,
    Id,
    WorkerId,
    RelativeId,
    Relation,
    Rights,
    MaySeePersonalData,
    CodeHash,
    ExpiresAt,
    CreatedAt,
    AcceptedAt,
    RevokedAt,
    RevokedBy,
}

fn instant(column: RelativeGrant) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RelativeGrant::Table)
                    .col(
                        ColumnDef::new(RelativeGrant::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RelativeGrant::WorkerId).string_len(36).not_null())
                    .col(ColumnDef::new(RelativeGrant::RelativeId).string_len(36).null())
                    .col(ColumnDef::new(RelativeGrant::Relation).string_len(32).not_null())
                    .col(ColumnDef::new(RelativeGrant::Rights).string_len(64).not_null())
                    .col(
                        ColumnDef::new(RelativeGrant::MaySeePersonalData)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(RelativeGrant::CodeHash).string_len(64).null())
                    .col(instant(RelativeGrant::ExpiresAt).not_null())
                    .col(instant(RelativeGrant::CreatedAt).not_null())
                    .col(instant(RelativeGrant::AcceptedAt).null())
                    .col(instant(RelativeGrant::RevokedAt).null())
                    .col(ColumnDef::new(RelativeGrant::RevokedBy).string_len(16).null())
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_relative_grant_worker", RelativeGrant::WorkerId),
            ("idx_relative_grant_relative", RelativeGrant::RelativeId),
            ("idx_relative_grant_code", RelativeGrant::CodeHash),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(RelativeGrant::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RelativeGrant::Table).to_owned())
            .await
    }
}
