use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Upload {
    Table,
    Id,
    WorkerId,
    Purpose,
    ContentType,
    SizeBytes,
    Sha256,
    StorageKey,
    ApplicationId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Upload::Table)
                    .col(ColumnDef::new(Upload::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(Upload::WorkerId).string_len(36).not_null())
                    .col(ColumnDef::new(Upload::Purpose).string_len(32).not_null())
                    .col(ColumnDef::new(Upload::ContentType).string_len(32).not_null())
                    .col(ColumnDef::new(Upload::SizeBytes).big_integer().not_null())
                    .col(ColumnDef::new(Upload::Sha256).string_len(64).not_null())
                    .col(ColumnDef::new(Upload::StorageKey).string_len(128).not_null())
                    .col(ColumnDef::new(Upload::ApplicationId).string_len(36).null())
                    .col(ColumnDef::new(Upload::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        // The clean-up of unattached uploads, and an application's documents.
        for (name, columns) in [
            ("idx_upload_unattached", vec![Upload::ApplicationId, Upload::CreatedAt]),
            ("idx_upload_worker", vec![Upload::WorkerId]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Upload::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Upload::Table).to_owned()).await
    }
}
