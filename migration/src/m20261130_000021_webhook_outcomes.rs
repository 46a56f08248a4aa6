//! The delivery log keeps a word from a small public vocabulary for the last
//! attempt (`delivered`, `http_error`, `timeout`, …) instead of free error
//! text, which could carry internal detail to the integrator; the detail goes
//! to the server log only. Rows already attempted get the word that fits.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookDelivery {
    Table,
    LastError,
    LastOutcome,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookDelivery::Table)
                    .rename_column(WebhookDelivery::LastError, WebhookDelivery::LastOutcome)
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE webhook_delivery SET last_outcome = CASE \
                   WHEN delivered_at IS NOT NULL THEN 'delivered' \
                   WHEN last_status IS NOT NULL THEN 'http_error' \
                   WHEN last_outcome = 'timed out' THEN 'timeout' \
                   WHEN last_outcome = 'unreachable' THEN 'connect_failed' \
                   ELSE 'internal_error' END \
                 WHERE attempts > 0",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookDelivery::Table)
                    .rename_column(WebhookDelivery::LastOutcome, WebhookDelivery::LastError)
                    .to_owned(),
            )
            .await
    }
}
