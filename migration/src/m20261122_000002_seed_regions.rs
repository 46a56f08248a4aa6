//! Loads the GB/T 2260 table shipped in `data/regions.csv` (see data/README.md
//! for its source and licence).

use sea_orm_migration::prelude::*;

use crate::m20261122_000001_create_region::Region;

const REGIONS_CSV: &str = include_str!("../data/regions.csv");
/// Rows per INSERT: well under SQLite's limit of bound parameters.
const ROWS_PER_STATEMENT: usize = 500;

#[derive(DeriveMigrationName)]
pub struct Migration;

struct Row<'a> {
    code: &'a str,
    name: &'a str,
    level: &'a str,
    parent_code: Option<&'a str>,
    kind: &'a str,
}

fn rows() -> Result<Vec<Row<'static>>, DbErr> {
    REGIONS_CSV
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            match fields.as_slice() {
                [code, name, level, parent_code, kind] => Ok(Row {
                    code,
                    name,
                    level,
                    parent_code: Some(*parent_code).filter(|p| !p.is_empty()),
                    kind,
                }),
                _ => Err(DbErr::Migration(format!("regions.csv: malformed line {line:?}"))),
            }
        })
        .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut rows = rows()?;
        // Parents before children, so the self-referencing foreign key holds
        // after every statement.
        let depth = |level: &str| match level {
            "province" => 0,
            "city" => 1,
            _ => 2,
        };
        rows.sort_by_key(|row| depth(row.level));
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut insert = Query::insert();
            insert.into_table(Region::Table).columns([
                Region::Code,
                Region::Name,
                Region::Level,
                Region::ParentCode,
                Region::Kind,
            ]);
            for row in chunk {
                insert.values_panic([
                    row.code.into(),
                    row.name.into(),
                    row.level.into(),
                    row.parent_code.into(),
                    row.kind.into(),
                ]);
            }
            manager.exec_stmt(insert).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(Query::delete().from_table(Region::Table).to_owned())
            .await
    }
}
