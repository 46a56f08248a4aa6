//! Workers, staff accounts, integrator clients and the append-only audit log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Worker {
    Table,
    Id,
    Openid,
    Unionid,
    RealName,
    IdNumberCipher,
    IdNumberHash,
    PhoneCipher,
    PhoneHash,
    HukouRegionCode,
    HukouType,
    ResidenceRegionCode,
    WorkRegionCode,
    ConsentVersion,
    ConsentedAt,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum StaffAccount {
    Table,
    Id,
    Username,
    DisplayName,
    PasswordHash,
    Roles,
    RegionCode,
    Disabled,
    FailedAttempts,
    LockedUntil,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IntegratorClient {
    Table,
    Id,
    ClientId,
    Name,
    SecretHash,
    Scopes,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorType,
    ActorId,
    Action,
    TargetType,
    TargetId,
    Outcome,
    Ip,
    RequestId,
    Details,
}

fn id(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .string_len(36)
        .not_null()
        .primary_key()
        .to_owned()
}

fn instant(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().not_null().to_owned()
}

fn optional_instant(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().null().to_owned()
}

fn region(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).string_len(6).null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Worker::Table)
                    .col(id(Worker::Id))
                    .col(ColumnDef::new(Worker::Openid).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(Worker::Unionid).string_len(64).null())
                    .col(ColumnDef::new(Worker::RealName).string_len(64).null())
                    .col(ColumnDef::new(Worker::IdNumberCipher).string_len(255).null())
                    .col(ColumnDef::new(Worker::IdNumberHash).string_len(64).null().unique_key())
                    .col(ColumnDef::new(Worker::PhoneCipher).string_len(255).null())
                    .col(ColumnDef::new(Worker::PhoneHash).string_len(64).null())
                    .col(region(Worker::HukouRegionCode))
                    .col(ColumnDef::new(Worker::HukouType).string_len(32).null())
                    .col(region(Worker::ResidenceRegionCode))
                    .col(region(Worker::WorkRegionCode))
                    .col(ColumnDef::new(Worker::ConsentVersion).string_len(32).null())
                    .col(optional_instant(Worker::ConsentedAt))
                    .col(instant(Worker::CreatedAt))
                    .col(instant(Worker::UpdatedAt))
                    .col(optional_instant(Worker::LastLoginAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_worker_phone_hash")
                    .table(Worker::Table)
                    .col(Worker::PhoneHash)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StaffAccount::Table)
                    .col(id(StaffAccount::Id))
                    .col(
                        ColumnDef::new(StaffAccount::Username)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(StaffAccount::DisplayName).string_len(64).not_null())
                    .col(ColumnDef::new(StaffAccount::PasswordHash).string_len(255).not_null())
                    .col(ColumnDef::new(StaffAccount::Roles).string_len(255).not_null())
                    .col(ColumnDef::new(StaffAccount::RegionCode).string_len(6).not_null())
                    .col(
                        ColumnDef::new(StaffAccount::Disabled)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(StaffAccount::FailedAttempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(optional_instant(StaffAccount::LockedUntil))
                    .col(instant(StaffAccount::CreatedAt))
                    .col(instant(StaffAccount::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IntegratorClient::Table)
                    .col(id(IntegratorClient::Id))
                    .col(
                        ColumnDef::new(IntegratorClient::ClientId)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(IntegratorClient::Name).string_len(128).not_null())
                    .col(ColumnDef::new(IntegratorClient::SecretHash).string_len(64).not_null())
                    .col(ColumnDef::new(IntegratorClient::Scopes).string_len(255).not_null())
                    .col(ColumnDef::new(IntegratorClient::CreatedBy).string_len(36).not_null())
                    .col(instant(IntegratorClient::CreatedAt))
                    .col(optional_instant(IntegratorClient::RevokedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(
                        ColumnDef::new(AuditLog::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(instant(AuditLog::At))
                    .col(ColumnDef::new(AuditLog::ActorType).string_len(16).not_null())
                    .col(ColumnDef::new(AuditLog::ActorId).string_len(64).null())
                    .col(ColumnDef::new(AuditLog::Action).string_len(64).not_null())
                    .col(ColumnDef::new(AuditLog::TargetType).string_len(32).null())
                    .col(ColumnDef::new(AuditLog::TargetId).string_len(64).null())
                    .col(ColumnDef::new(AuditLog::Outcome).string_len(16).not_null())
                    .col(ColumnDef::new(AuditLog::Ip).string_len(45).null())
                    .col(ColumnDef::new(AuditLog::RequestId).string_len(128).null())
                    .col(ColumnDef::new(AuditLog::Details).text().null())
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("idx_audit_log_at", vec![AuditLog::At]),
            ("idx_audit_log_actor", vec![AuditLog::ActorId, AuditLog::At]),
            ("idx_audit_log_action", vec![AuditLog::Action, AuditLog::At]),
        ] {
            let mut index = Index::create();
            index.name(name).table(AuditLog::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        append_only_audit_log(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            IntegratorClient::Table.into_iden(),
            StaffAccount::Table.into_iden(),
            Worker::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

/// The database itself refuses to change an audit row, or to delete one
/// younger than the 180 days the retention policy keeps, whatever code asks.
async fn append_only_audit_log(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let connection = manager.get_connection();
    match manager.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            connection
                .execute_unprepared(
                    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
                     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
                )
                .await?;
            connection
                .execute_unprepared(
                    "CREATE TRIGGER audit_log_keeps_180_days BEFORE DELETE ON audit_log \
                     WHEN julianday(old.at) > julianday('now', '-180 days') \
                     BEGIN SELECT RAISE(ABORT, 'audit rows are kept 180 days'); END",
                )
                .await?;
        }
        sea_orm::DatabaseBackend::Postgres => {
            connection
                .execute_unprepared(
                    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
                )
                .await?;
            connection
                .execute_unprepared(
                    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
                     FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
                )
                .await?;
            connection
                .execute_unprepared(
                    "CREATE TRIGGER audit_log_keeps_180_days BEFORE DELETE ON audit_log \
                     FOR EACH ROW WHEN (OLD.at > now() - interval '180 days') \
                     EXECUTE FUNCTION audit_log_append_only()",
                )
                .await?;
        }
        other => return Err(DbErr::Migration(format!("unsupported database backend {other:?}"))),
    }
    Ok(())
}
