//! Provincial days: the calendar holds, beside the national schedule, each
//! province's own days (Guangxi's 壮族三月三), so a day is keyed by the day
//! and the province (`000000` for the national schedule, a code rather than
//! NULL so that the key holds on SQLite and PostgreSQL alike). SQLite cannot
//! change a primary key in place, so the table is rebuilt on both: the days
//! recorded so far are copied as national ones.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CalendarDay {
    Table,
    Day,
    RegionCode,
    Kind,
    Name,
}

/// The table while it is rebuilt, before it takes the calendar's name.
#[derive(DeriveIden)]
enum CalendarDayRebuilt {
    Table,
}

const NATIONAL: &str = "000000";

fn day_column() -> ColumnDef {
    ColumnDef::new(CalendarDay::Day).date().not_null().to_owned()
}

fn kind_and_name() -> [ColumnDef; 2] {
    [
        ColumnDef::new(CalendarDay::Kind).string_len(16).not_null().to_owned(),
        ColumnDef::new(CalendarDay::Name).string_len(64).not_null().to_owned(),
    ]
}

/// Moves the rebuilt table into the calendar's place.
async fn replace_calendar(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .drop_table(Table::drop().table(CalendarDay::Table).to_owned())
        .await?;
    manager
        .rename_table(
            Table::rename()
                .table(CalendarDayRebuilt::Table, CalendarDay::Table)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too (PostgreSQL has one anyway): the copy,
    /// the drop and the rename happen together on one connection, or not at
    /// all, and no other connection of the pool looks at a table half gone.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let [kind, name] = kind_and_name();
        manager
            .create_table(
                Table::create()
                    .table(CalendarDayRebuilt::Table)
                    .col(day_column())
                    .col(ColumnDef::new(CalendarDay::RegionCode).string_len(6).not_null())
                    .col(kind)
                    .col(name)
                    .primary_key(Index::create().col(CalendarDay::Day).col(CalendarDay::RegionCode))
                    .to_owned(),
            )
            .await?;
        let national_days = Query::select()
            .column(CalendarDay::Day)
            .expr(Expr::val(NATIONAL))
            .column(CalendarDay::Kind)
            .column(CalendarDay::Name)
            .from(CalendarDay::Table)
            .to_owned();
        let copy = Query::insert()
            .into_table(CalendarDayRebuilt::Table)
            .columns([
                CalendarDay::Day,
                CalendarDay::RegionCode,
                CalendarDay::Kind,
                CalendarDay::Name,
            ])
            .select_from(national_days)
            .map_err(|err| DbErr::Migration(err.to_string()))?
            .to_owned();
        manager.exec_stmt(copy).await?;
        replace_calendar(manager).await
    }

    /// Back to the national schedule alone: the provinces' days are dropped.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let [kind, name] = kind_and_name();
        manager
            .create_table(
                Table::create()
                    .table(CalendarDayRebuilt::Table)
                    .col(day_column().primary_key())
                    .col(kind)
                    .col(name)
                    .to_owned(),
            )
            .await?;
        let national_days = Query::select()
            .columns([CalendarDay::Day, CalendarDay::Kind, CalendarDay::Name])
            .from(CalendarDay::Table)
            .and_where(Expr::col(CalendarDay::RegionCode).eq(NATIONAL))
            .to_owned();
        let copy = Query::insert()
            .into_table(CalendarDayRebuilt::Table)
            .columns([CalendarDay::Day, CalendarDay::Kind, CalendarDay::Name])
            .select_from(national_days)
            .map_err(|err| DbErr::Migration(err.to_string()))?
            .to_owned();
        manager.exec_stmt(copy).await?;
        replace_calendar(manager).await
    }
}
