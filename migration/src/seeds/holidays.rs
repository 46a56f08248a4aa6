//! The State Council's holiday and adjusted-workday schedules
//! (国务院办公厅关于部分节假日安排的通知), one per year, each with its notice
//! number (or, where the published text gives none, its title and date).
//! Only years whose notice and dates can be cited are here:
//! a year missing from this list is entered by a national administrator and,
//! until then, flagged by `/readyz` and the statistics, never guessed.
//!
//! Every day of a holiday run is listed as a holiday, weekends inside it
//! included, as the notice states the run; the adjusted working days
//! (调休上班) are the weekends the notice names.

use sea_orm_migration::sea_orm::prelude::ChronoDate;

/// One year's schedule as the notice gives it.
pub struct Schedule {
    pub year: i32,
    /// The notice's number, e.g. 国办发明电〔2023〕7号; where the published
    /// text gives none, its title and date as published.
    pub notice: &'static str,
    /// Holiday runs: name, first day, last day (inclusive), as `MM-DD`.
    pub holidays: &'static [(&'static str, &'static str, &'static str)],
    /// Adjusted working days, as `MM-DD`, with the holiday they make up for.
    pub workdays: &'static [(&'static str, &'static str)],
}

pub const SCHEDULES: &[Schedule] = &[
    Schedule {
        year: 2024,
        notice: "国办发明电〔2023〕7号",
        holidays: &[
            ("元旦", "01-01", "01-01"),
            ("春节", "02-10", "02-17"),
            ("清明节", "04-04", "04-06"),
            ("劳动节", "05-01", "05-05"),
            ("端午节", "06-10", "06-10"),
            ("中秋节", "09-15", "09-17"),
            ("国庆节", "10-01", "10-07"),
        ],
        workdays: &[
            ("02-04", "春节"),
            ("02-18", "春节"),
            ("04-07", "清明节"),
            ("04-28", "劳动节"),
            ("05-11", "劳动节"),
            ("09-14", "中秋节"),
            ("09-29", "国庆节"),
            ("10-12", "国庆节"),
        ],
    },
    Schedule {
        year: 2025,
        notice: "国办发明电〔2024〕12号",
        holidays: &[
            ("元旦", "01-01", "01-01"),
            ("春节", "01-28", "02-04"),
            ("清明节", "04-04", "04-06"),
            ("劳动节", "05-01", "05-05"),
            ("端午节", "05-31", "06-02"),
            ("国庆节、中秋节", "10-01", "10-08"),
        ],
        workdays: &[
            ("01-26", "春节"),
            ("02-08", "春节"),
            ("04-27", "劳动节"),
            ("09-28", "国庆节、中秋节"),
            ("10-11", "国庆节、中秋节"),
        ],
    },
    Schedule {
        year: 2026,
        notice: "国务院办公厅关于2026年部分节假日安排的通知，2025年11月4日，新华社北京11月4日电",
        holidays: &[
            ("元旦", "01-01", "01-03"),
            ("春节", "02-15", "02-23"),
            ("清明节", "04-04", "04-06"),
            ("劳动节", "05-01", "05-05"),
            ("端午节", "06-19", "06-21"),
            ("中秋节", "09-25", "09-27"),
            ("国庆节", "10-01", "10-07"),
        ],
        workdays: &[
            ("01-04", "元旦"),
            ("02-14", "春节"),
            ("02-28", "春节"),
            ("05-09", "劳动节"),
            ("09-20", "国庆节"),
            ("10-10", "国庆节"),
        ],
    },
];

pub fn date(year: i32, month_day: &str) -> ChronoDate {
    ChronoDate::parse_from_str(&format!("{year}-{month_day}"), "%Y-%m-%d").expect("the seed's dates are valid")
}

/// Every day a schedule records: (day, kind, name with the notice number).
pub fn days(schedule: &Schedule) -> Vec<(ChronoDate, &'static str, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schedule_lists_its_runs_and_make_up_days_on_the_right_weekdays() {
        use sea_orm_migration::sea_orm::sea_query::prelude::chrono::Datelike;
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
        let new_year_2026 = days(&SCHEDULES[2]);
        assert!(new_year_2026.contains(&(
            date(2026, "01-04"),
            "workday",
            format!("元旦调休上班（{}）", SCHEDULES[2].notice)
        )));
        let spring_2025 = days(&SCHEDULES[1]);
        assert!(
            spring_2025
                .iter()
                .any(|(day, kind, _)| *day == date(2025, "02-04") && *kind == "holiday")
        );
    }
}
