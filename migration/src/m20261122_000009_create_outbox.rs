//! The outbox of notifications (written in the same transaction as the change
//! they announce) and the worker's in-app inbox they are delivered to.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Topic,
    WorkerId,
    Payload,
    CreatedAt,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    DoneAt,
    LastError,
}

#[derive(DeriveIden)]
enum Notification {
    Table,
    Id,
    OutboxId,
    WorkerId,
    Title,
    Body,
    Link,
    CreatedAt,
    ReadAt,
    WechatStatus,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(
                        ColumnDef::new(Outbox::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Outbox::Topic).string_len(64).not_null())
                    .col(ColumnDef::new(Outbox::WorkerId).string_len(36).not_null())
                    .col(ColumnDef::new(Outbox::Payload).text().not_null())
                    .col(ColumnDef::new(Outbox::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Outbox::Attempts).integer().not_null().default(0))
                    .col(
                        ColumnDef::new(Outbox::NextAttemptAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Outbox::ClaimedUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Outbox::DoneAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Outbox::LastError).string_len(255).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::DoneAt)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notification::Table)
                    .col(ColumnDef::new(Notification::Id).string_len(36).not_null().primary_key())
                    .col(
                        ColumnDef::new(Notification::OutboxId)
                            .big_integer()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Notification::WorkerId).string_len(36).not_null())
                    .col(ColumnDef::new(Notification::Title).string_len(100).not_null())
                    .col(ColumnDef::new(Notification::Body).string_len(500).not_null())
                    .col(ColumnDef::new(Notification::Link).string_len(200).null())
                    .col(
                        ColumnDef::new(Notification::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Notification::ReadAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Notification::WechatStatus).string_len(16).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notification_inbox")
                    .table(Notification::Table)
                    .col(Notification::WorkerId)
                    .col(Notification::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Notification::Table).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(Outbox::Table).to_owned()).await
    }
}
