//! Subsidy programs, applications with their timeline, idempotency records
//! and the daily counters behind readable numbers.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Program {
    Table,
    Id,
    Slug,
    Name,
    Kind,
    RegionCode,
    Description,
    PolicyId,
    AmountRule,
    Criteria,
    RequiredDocuments,
    FormFields,
    OpensOn,
    ClosesOn,
    Period,
    BudgetFen,
    Quota,
    ApprovedFen,
    ApprovedCount,
    Status,
    AmountsAreExamples,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Application {
    Table,
    Id,
    #[sea_orm(iden = "application_no")]
    Number,
    ProgramId,
    WorkerId,
    Period,
    RegionCode,
    Status,
    Answers,
    RequestedAmountFen,
    ApprovedAmountFen,
    DisbursedAmountFen,
    DisbursementReference,
    Version,
    SubmittedAt,
    DecidedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApplicationEvent {
    Table,
    Id,
    ApplicationId,
    At,
    ActorType,
    ActorId,
    Action,
    FromStatus,
    ToStatus,
    Comment,
}

#[derive(DeriveIden)]
enum IdempotencyRecord {
    Table,
    Principal,
    IdempotencyKey,
    RequestHash,
    State,
    ResponseStatus,
    ResponseBody,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Counter {
    Table,
    Name,
    Value,
}

fn instant(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().not_null().to_owned()
}

fn optional_instant(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Program::Table)
                    .col(ColumnDef::new(Program::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(Program::Slug).string_len(64).null().unique_key())
                    .col(ColumnDef::new(Program::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Program::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Program::RegionCode).string_len(6).not_null())
                    .col(ColumnDef::new(Program::Description).text().not_null())
                    .col(ColumnDef::new(Program::PolicyId).string_len(36).null())
                    .col(ColumnDef::new(Program::AmountRule).text().not_null())
                    .col(ColumnDef::new(Program::Criteria).text().not_null())
                    .col(ColumnDef::new(Program::RequiredDocuments).text().not_null())
                    .col(ColumnDef::new(Program::FormFields).text().not_null())
                    .col(ColumnDef::new(Program::OpensOn).date().null())
                    .col(ColumnDef::new(Program::ClosesOn).date().null())
                    .col(ColumnDef::new(Program::Period).string_len(16).not_null())
                    .col(ColumnDef::new(Program::BudgetFen).big_integer().null())
                    .col(ColumnDef::new(Program::Quota).integer().null())
                    .col(ColumnDef::new(Program::ApprovedFen).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Program::ApprovedCount).integer().not_null().default(0))
                    .col(ColumnDef::new(Program::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Program::AmountsAreExamples)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(Program::Version).integer().not_null())
                    .col(instant(Program::CreatedAt))
                    .col(instant(Program::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Application::Table)
                    .col(ColumnDef::new(Application::Id).string_len(36).not_null().primary_key())
                    .col(
                        ColumnDef::new(Application::Number)
                            .string_len(32)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Application::ProgramId).string_len(36).not_null())
                    .col(ColumnDef::new(Application::WorkerId).string_len(36).not_null())
                    .col(ColumnDef::new(Application::Period).string_len(16).not_null())
                    .col(ColumnDef::new(Application::RegionCode).string_len(6).not_null())
                    .col(ColumnDef::new(Application::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Application::Answers).text().not_null())
                    .col(ColumnDef::new(Application::RequestedAmountFen).big_integer().null())
                    .col(ColumnDef::new(Application::ApprovedAmountFen).big_integer().null())
                    .col(ColumnDef::new(Application::DisbursedAmountFen).big_integer().null())
                    .col(ColumnDef::new(Application::DisbursementReference).string_len(64).null())
                    .col(ColumnDef::new(Application::Version).integer().not_null())
                    .col(optional_instant(Application::SubmittedAt))
                    .col(optional_instant(Application::DecidedAt))
                    .col(instant(Application::CreatedAt))
                    .col(instant(Application::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Application::Table, Application::ProgramId)
                            .to(Program::Table, Program::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_application_worker",
                vec![Application::WorkerId, Application::CreatedAt],
            ),
            (
                "idx_application_queue",
                vec![Application::RegionCode, Application::Status, Application::SubmittedAt],
            ),
            (
                "idx_application_program",
                vec![Application::ProgramId, Application::Status],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Application::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        // One live application per person, program and period: the database
        // enforces it, so no race between two requests can break it.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_application_one_per_period ON application (program_id, worker_id, period) \
                 WHERE status NOT IN ('withdrawn', 'rejected')",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApplicationEvent::Table)
                    .col(
                        ColumnDef::new(ApplicationEvent::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ApplicationEvent::ApplicationId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(instant(ApplicationEvent::At))
                    .col(ColumnDef::new(ApplicationEvent::ActorType).string_len(16).not_null())
                    .col(ColumnDef::new(ApplicationEvent::ActorId).string_len(64).null())
                    .col(ColumnDef::new(ApplicationEvent::Action).string_len(32).not_null())
                    .col(ColumnDef::new(ApplicationEvent::FromStatus).string_len(16).null())
                    .col(ColumnDef::new(ApplicationEvent::ToStatus).string_len(16).not_null())
                    .col(ColumnDef::new(ApplicationEvent::Comment).string_len(1000).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_application_event_application")
                    .table(ApplicationEvent::Table)
                    .col(ApplicationEvent::ApplicationId)
                    .col(ApplicationEvent::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyRecord::Table)
                    .col(ColumnDef::new(IdempotencyRecord::Principal).string_len(80).not_null())
                    .col(
                        ColumnDef::new(IdempotencyRecord::IdempotencyKey)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(IdempotencyRecord::RequestHash).string_len(64).not_null())
                    .col(ColumnDef::new(IdempotencyRecord::State).string_len(16).not_null())
                    .col(ColumnDef::new(IdempotencyRecord::ResponseStatus).integer().null())
                    .col(ColumnDef::new(IdempotencyRecord::ResponseBody).text().null())
                    .col(instant(IdempotencyRecord::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyRecord::Principal)
                            .col(IdempotencyRecord::IdempotencyKey),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Counter::Table)
                    .col(ColumnDef::new(Counter::Name).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(Counter::Value).big_integer().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Counter::Table.into_iden(),
            IdempotencyRecord::Table.into_iden(),
            ApplicationEvent::Table.into_iden(),
            Application::Table.into_iden(),
            Program::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
