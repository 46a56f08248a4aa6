//! Sign-in attempts are counted in the key-value store now, per username
//! (real or not) and client network, before the password is checked; the
//! account's own counters go. Failed sign-ins recorded so far named the
//! typed username, where people sometimes type their password: those names
//! are removed from the audit trail, the one update it is ever given.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StaffAccount {
    Table,
    FailedAttempts,
    LockedUntil,
}

const FORGET_TYPED_USERNAMES: &str =
    "UPDATE audit_log SET actor_id = NULL WHERE action = 'staff.login' AND actor_type = 'anonymous'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [StaffAccount::FailedAttempts, StaffAccount::LockedUntil] {
            manager
                .alter_table(Table::alter().table(StaffAccount::Table).drop_column(column).to_owned())
                .await?;
        }
        // One batch, so that it runs on one connection of the pool: the
        // trigger is back before anything else can write to the table.
        let batch = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => format!(
                "DROP TRIGGER audit_log_no_update; {FORGET_TYPED_USERNAMES}; \
                 CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
                 BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            ),
            // Run by the database owner (see the README): the service's own
            // role may not disable the trigger.
            sea_orm::DatabaseBackend::Postgres => format!(
                "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update; {FORGET_TYPED_USERNAMES}; \
                 ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update"
            ),
            other => return Err(DbErr::Migration(format!("unsupported database backend {other:?}"))),
        };
        manager.get_connection().execute_unprepared(&batch).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(StaffAccount::FailedAttempts)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(StaffAccount::LockedUntil)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(Table::alter().table(StaffAccount::Table).add_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
