//! Seeds the State Council's holiday schedules of `seeds/holidays.rs`, so
//! that legal deadlines count working days right from the start. A day an
//! administrator has already recorded is kept as they recorded it.

use sea_orm::prelude::ChronoDate;
use sea_orm_migration::prelude::*;

use crate::seeds::holidays::{SCHEDULES, Schedule};

#[derive(DeriveIden)]
enum CalendarDay {
    Table,
    Day,
    Kind,
    Name,
}

fn date(year: i32, month_day: &str) -> ChronoDate {
    ChronoDate::parse_from_str(&format!("{year}-{month_day}"), "%Y-%m-%d").expect("the seed's dates are valid")
}

/// Every day a schedule records: (day, kind, name with the notice number).
fn days(schedule: &Schedule) -> Vec<(ChronoDate, &'static str, String)> {
    let mut days = Vec::new();
    for (name, first, last) in schedule.holidays {
        let (first, last) = (date(schedule.year, first), date(schedule.year, last));
        for day in first.iter_days().take_while(|day| *day <= last) {
            days.push((day, "holiday", format!("{name}（{}）", schedule.notice)));
        }
    }
    for (day, holiday) in schedule.workdays {
        days.push((
            date(schedule.year, day),
            "workday",
            format!("{holiday}调休上班（{}）", schedule.notice),
        ));
    }
    days
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for schedule in SCHEDULES {
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
        for schedule in SCHEDULES {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schedule_lists_its_runs_and_make_up_days_on_the_right_weekdays() {
        use sea_orm::sea_query::prelude::chrono::Datelike;
        let year_2024 = days(&SCHEDULES[0]);
        let holidays = year_2024.iter().filter(|(_, kind, _)| *kind == "holiday").count();
        // 1 + 8 + 3 + 5 + 1 + 3 + 7 days of the notice.
        assert_eq!(holidays, 28);
        for schedule in SCHEDULES {
            for (day, kind, name) in days(schedule) {
                assert!(name.contains(schedule.notice));
                if kind == "workday" {
                    assert!(day.weekday().number_from_monday() >= 6, "{day} is not a weekend");
                }
            }
        }
        let spring_2025 = days(&SCHEDULES[1]);
        assert!(
            spring_2025
                .iter()
                .any(|(day, kind, _)| *day == date(2025, "02-04") && *kind == "holiday")
        );
    }
}
