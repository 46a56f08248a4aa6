//! Seeds the State Council's 2026 schedule of `seeds/holidays.rs` into the
//! national calendar (`000000`), published after the first schedules were
//! seeded. A day an administrator has already recorded is kept as they
//! recorded it.

use sea_orm_migration::prelude::*;

use crate::seeds::holidays::{SCHEDULES, Schedule, days};

#[derive(DeriveIden)]
enum CalendarDay {
    Table,
    Day,
    RegionCode,
    Kind,
    Name,
}

const NATIONAL: &str = "000000";
const YEAR: i32 = 2026;

fn schedule() -> &'static Schedule {
    SCHEDULES
        .iter()
        .find(|schedule| schedule.year == YEAR)
        .expect("the seed has the year")
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut insert = Query::insert();
        insert
            .into_table(CalendarDay::Table)
            .columns([
                CalendarDay::Day,
                CalendarDay::RegionCode,
                CalendarDay::Kind,
                CalendarDay::Name,
            ])
            .on_conflict(
                OnConflict::columns([CalendarDay::Day, CalendarDay::RegionCode])
                    .do_nothing()
                    .to_owned(),
            );
        for (day, kind, name) in days(schedule()) {
            insert.values_panic([day.into(), NATIONAL.into(), kind.into(), name.into()]);
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (day, kind, name) in days(schedule()) {
            let delete = Query::delete()
                .from_table(CalendarDay::Table)
                .and_where(Expr::col(CalendarDay::Day).eq(day))
                .and_where(Expr::col(CalendarDay::RegionCode).eq(NATIONAL))
                .and_where(Expr::col(CalendarDay::Kind).eq(kind))
                .and_where(Expr::col(CalendarDay::Name).eq(name))
                .to_owned();
            manager.exec_stmt(delete).await?;
        }
        Ok(())
    }
}
