//! Dates as the programme counts them: in China Standard Time (UTC+8),
//! whatever time zone the server runs in.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use sea_orm::{ColumnTrait, Condition};

use crate::error::{AppError, AppResult, Localized};

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Today in China.
pub fn today() -> NaiveDate {
    date_of(Utc::now())
}

/// Midnight in China at the start of `day`, as an instant.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_local_timezone(china())
        .single()
        .expect("a fixed offset has no gaps")
        .with_timezone(&Utc)
}

/// Whole China days from `from` to `to`, both included; a missing end is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySpan {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl DaySpan {
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> AppResult<Self> {
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(AppError::invalid_field(
                "to",
                Localized::fixed("结束日期不能早于开始日期。", "to is before from."),
            ));
        }
        Ok(Self { from, to })
    }

    /// The instants of the span, for a timestamp column.
    pub fn condition(self, column: impl ColumnTrait) -> Condition {
        let mut condition = Condition::all();
        if let Some(from) = self.from {
            condition = condition.add(column.gte(start_of(from)));
        }
        if let Some(to) = self.to.and_then(|to| to.succ_opt()) {
            condition = condition.add(column.lt(start_of(to)));
        }
        condition
    }
}

/// An instant on China's clock.
pub fn local(instant: DateTime<Utc>) -> DateTime<FixedOffset> {
    instant.with_timezone(&china())
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

    #[test]
    fn a_china_day_starts_at_four_in_the_afternoon_utc() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(start_of(day).to_rfc3339(), "2026-11-22T16:00:00+00:00");
    }

    #[test]
    fn a_span_ending_before_it_starts_is_refused() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        assert!(DaySpan::new(Some(day(2)), Some(day(1))).is_err());
        assert!(DaySpan::new(Some(day(1)), Some(day(1))).is_ok());
        assert!(DaySpan::new(None, Some(day(1))).is_ok());
    }
}
