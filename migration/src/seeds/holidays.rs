//! The State Council's holiday and adjusted-workday schedules
//! (国务院办公厅关于部分节假日安排的通知), one per year, each with its notice
//! number. Only years whose notice number and dates can be cited are here:
//! a year missing from this list is entered by a national administrator and,
//! until then, flagged by `/readyz` and the statistics, never guessed.
//!
//! Every day of a holiday run is listed as a holiday, weekends inside it
//! included, as the notice states the run; the adjusted working days
//! (调休上班) are the weekends the notice names.

/// One year's schedule as the notice gives it.
pub struct Schedule {
    pub year: i32,
    /// The notice's number, e.g. 国办发明电〔2023〕7号.
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
];
