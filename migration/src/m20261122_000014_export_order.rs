//! Exports read cases region by region in creation order, a batch at a time
//! after the last (created_at, id) seen; these indexes make each batch a
//! range scan instead of a sort of the region's cases. The second serves
//! exports with a national scope, which have no region to start from.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Application {
    Table,
    RegionCode,
    CreatedAt,
    Id,
}

#[derive(DeriveIden)]
enum WageReport {
    Table,
    RegionCode,
    CreatedAt,
    Id,
}

const APPLICATION_INDEXES: [&str; 2] = ["idx_application_region_created", "idx_application_created"];
const WAGE_REPORT_INDEXES: [&str; 2] = ["idx_wage_report_region_created", "idx_wage_report_created"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, by_region) in APPLICATION_INDEXES.into_iter().zip([true, false]) {
            let mut index = Index::create();
            index.name(name).table(Application::Table);
            if by_region {
                index.col(Application::RegionCode);
            }
            manager
                .create_index(index.col(Application::CreatedAt).col(Application::Id).to_owned())
                .await?;
        }
        for (name, by_region) in WAGE_REPORT_INDEXES.into_iter().zip([true, false]) {
            let mut index = Index::create();
            index.name(name).table(WageReport::Table);
            if by_region {
                index.col(WageReport::RegionCode);
            }
            manager
                .create_index(index.col(WageReport::CreatedAt).col(WageReport::Id).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in WAGE_REPORT_INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(WageReport::Table).to_owned())
                .await?;
        }
        for name in APPLICATION_INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Application::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
