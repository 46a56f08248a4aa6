//! Dates as the programme counts them: in China Standard Time (UTC+8),
//! whatever time zone the server runs in.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Today in China.
pub fn today() -> NaiveDate {
    date_of(Utc::now())
}

/// The date in China of an instant.
pub fn date_of(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&china()).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_evening_utc_is_the_next_day_in_china() {
        let instant = DateTime::parse_from_rfc3339("2026-11-22T17:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(date_of(instant), NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
    }
}
