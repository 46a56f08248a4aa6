//! Seeds the State Council's holiday schedules of `seeds/holidays.rs`, so
//! that legal deadlines count working days right from the start. A day an
//! administrator has already recorded is kept as they recorded it.

use sea_orm_migration::prelude::*;

use crate::seeds::holidays::{SCHEDULES, Schedule, days};

#[derive(DeriveIden)]
enum CalendarDay {
    Table,
    Day,
    Kind,
    Name,
}

/// The years this migration seeded; later years have migrations of their own.
const YEARS: [i32; 2] = [2024, 2025];

fn schedules() -> impl Iterator<Item = &'static Schedule> {
    SCHEDULES.iter().filter(|schedule| YEARS.contains(&schedule.year))
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for schedule in schedules() {
            let mut insert = Query::insert();
            insert
                .into_table(CalendarDay::Table)
                .columns([CalendarDay::Day, CalendarDay::Kind, CalendarDay::Name])
                .on_conflict(OnConflict::column(CalendarDay::Day).do_nothing().to_owned());
            for (day, kind, name) in days(schedule) {
                insert.values_panic([day.into(), kind.into(), name.into()]);
            }
            manager.exec_stmt(insert).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for schedule in schedules() {
            for (day, kind, name) in days(schedule) {
                let delete = Query::delete()
                    .from_table(CalendarDay::Table)
                    .and_where(Expr::col(CalendarDay::Day).eq(day))
                    .and_where(Expr::col(CalendarDay::Kind).eq(kind))
                    .and_where(Expr::col(CalendarDay::Name).eq(name))
                    .to_owned();
                manager.exec_stmt(delete).await?;
            }
        }
        Ok(())
    }
}
