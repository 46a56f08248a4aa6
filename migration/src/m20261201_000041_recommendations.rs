//! 政策找人: a worker's consent to be matched (its own, versioned and
//! revocable, with when they were last told of a match), the matches found
//! (one per worker and program, with whether the worker was told), and the
//! durable matching jobs that opening a program records for a background
//! task to run.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RecommendationConsent {
    Table,
    WorkerId,
    ConsentVersion,
    ConsentedAt,
    RevokedAt,
    LastNotifiedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProgramMatch {
    Table,
    WorkerId,
    ProgramId,
    MatchedAt,
    NotifiedAt,
}

#[derive(DeriveIden)]
enum MatchingJob {
    Table,
    Id,
    ProgramId,
    CreatedAt,
    ClaimedUntil,
    Attempts,
    StartedAt,
    FinishedAt,
    Evaluated,
    Matched,
    Offered,
    Notified,
    LastError,
}

fn instant(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RecommendationConsent::Table)
                    .col(
                        ColumnDef::new(RecommendationConsent::WorkerId)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RecommendationConsent::ConsentVersion)
                            .string_len(32)
                            .null(),
                    )
                    .col(instant(RecommendationConsent::ConsentedAt).null())
                    .col(instant(RecommendationConsent::RevokedAt).null())
                    .col(instant(RecommendationConsent::LastNotifiedAt).null())
                    .col(instant(RecommendationConsent::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProgramMatch::Table)
                    .col(ColumnDef::new(ProgramMatch::WorkerId).string_len(36).not_null())
                    .col(ColumnDef::new(ProgramMatch::ProgramId).string_len(36).not_null())
                    .col(instant(ProgramMatch::MatchedAt).not_null())
                    .col(instant(ProgramMatch::NotifiedAt).null())
                    .primary_key(Index::create().col(ProgramMatch::WorkerId).col(ProgramMatch::ProgramId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_program_match_program")
                    .table(ProgramMatch::Table)
                    .col(ProgramMatch::ProgramId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MatchingJob::Table)
                    .col(
                        ColumnDef::new(MatchingJob::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(MatchingJob::ProgramId).string_len(36).not_null())
                    .col(instant(MatchingJob::CreatedAt).not_null())
                    .col(instant(MatchingJob::ClaimedUntil).null())
                    .col(ColumnDef::new(MatchingJob::Attempts).integer().not_null().default(0))
                    .col(instant(MatchingJob::StartedAt).null())
                    .col(instant(MatchingJob::FinishedAt).null())
                    .col(ColumnDef::new(MatchingJob::Evaluated).big_integer().null())
                    .col(ColumnDef::new(MatchingJob::Matched).big_integer().null())
                    .col(ColumnDef::new(MatchingJob::Offered).big_integer().null())
                    .col(ColumnDef::new(MatchingJob::Notified).big_integer().null())
                    .col(ColumnDef::new(MatchingJob::LastError).string_len(255).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_matching_job_due")
                    .table(MatchingJob::Table)
                    .col(MatchingJob::FinishedAt)
                    .col(MatchingJob::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MatchingJob::Table.into_iden(),
            ProgramMatch::Table.into_iden(),
            RecommendationConsent::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
