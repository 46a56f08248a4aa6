//! Working days: weekends are off, except the adjusted working weekends
//! (调休) a national administrator records; public holidays recorded are off too.
//! Legal time limits (15 working days for a pension contact letter, 5 for an
//! unpaid-wage report's acceptance, …) count in these days.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate, Weekday};
use entity::calendar_day;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::OnConflict,
};
use serde_json::json;

use crate::{
    access,
    auth::{Principal, Role},
    context::RequestContext,
    error::AppResult,
    infra::db::begin_write,
    services::audit::{self, Event, Outcome},
};

crate::text_enum! {
    /// What a recorded day is, against the weekday rule.
    DayKind {
        /// A public holiday (法定节假日), even on a weekday.
        Holiday => "holiday",
        /// An adjusted working day (调休上班), even on a weekend.
        Workday => "workday",
    }
}

/// The recorded exceptions; every other day follows the weekday rule.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    exceptions: HashMap<NaiveDate, DayKind>,
}

impl Calendar {
    pub fn new(exceptions: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Self {
        Self {
            exceptions: exceptions.into_iter().collect(),
        }
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        match self.exceptions.get(&day) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    fn next_working_day(&self, mut day: NaiveDate) -> NaiveDate {
        loop {
            day = day.succ_opt().expect("dates stay far from the calendar's end");
            if self.is_working_day(day) {
                return day;
            }
        }
    }

    /// The last day of a limit of `days` working days counted from the day
    /// after `start`.
    pub fn add_working_days(&self, start: NaiveDate, days: u32) -> NaiveDate {
        (0..days).fold(start, |day, _| self.next_working_day(day))
    }

    /// Overdue once a working day has begun after the due day: a step due on
    /// a Friday is not overdue on the weekend after, but is on Monday.
    pub fn is_overdue(&self, due: NaiveDate, today: NaiveDate) -> bool {
        self.next_working_day(due) <= today
    }

    /// The latest working day on or before `today`: a due day before it is
    /// overdue (the same rule as [`Calendar::is_overdue`], for a query).
    pub fn overdue_before(&self, today: NaiveDate) -> NaiveDate {
        let mut day = today;
        while !self.is_working_day(day) {
            day = day.pred_opt().expect("dates stay far from the calendar's start");
        }
        day
    }
}

pub async fn load(db: &impl ConnectionTrait) -> AppResult<Calendar> {
    let rows = calendar_day::Entity::find().all(db).await?;
    Ok(Calendar::new(
        rows.into_iter()
            .filter_map(|r| DayKind::parse(&r.kind).map(|kind| (r.day, kind))),
    ))
}

/// How far ahead legal deadlines reach: the longest limit, 60 working days
/// (a wage report's close), with the longest holiday runs, stays inside 120
/// days. Within that reach of the year's end, next year's schedule is needed.
const DEADLINE_REACH_DAYS: u64 = 120;

/// The years whose deadlines are counted now: today's, and the next once
/// deadlines reach into it.
pub fn years_in_use(today: NaiveDate) -> Vec<i32> {
    let reach = today
        .checked_add_days(chrono::Days::new(DEADLINE_REACH_DAYS))
        .unwrap_or(today);
    (today.year()..=reach.year()).collect()
}

/// Of `years` (ascending), those with no official holiday recorded: their
/// schedule has not been entered, and deadlines across them count every
/// weekday as working. They are flagged (readiness, statistics), never
/// guessed. One query: the holidays of the span, a few dozen a year.
pub async fn missing_years(db: &impl ConnectionTrait, years: &[i32]) -> AppResult<Vec<i32>> {
    let (Some(first), Some(last)) = (years.first(), years.last()) else {
        return Ok(Vec::new());
    };
    let holidays: Vec<NaiveDate> = calendar_day::Entity::find()
        .select_only()
        .column(calendar_day::Column::Day)
        .filter(calendar_day::Column::Day.between(year_bounds(*first).0, year_bounds(*last).1))
        .filter(calendar_day::Column::Kind.eq(DayKind::Holiday.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    let entered: HashSet<i32> = holidays.iter().map(NaiveDate::year).collect();
    Ok(years.iter().copied().filter(|year| !entered.contains(year)).collect())
}

fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("a valid year");
    let last = NaiveDate::from_ymd_opt(year, 12, 31).expect("a valid year");
    (first, last)
}

/// A recorded exception to the weekday rule.
#[derive(Debug, Clone)]
pub struct CalendarDay {
    pub day: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

/// One page of the recorded days, of `year` when one is given, by day, with
/// how many match: the database filters, counts and cuts the page.
pub async fn list_days(
    db: &impl ConnectionTrait,
    admin: &Principal,
    year: Option<i32>,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<CalendarDay>, u64)> {
    access::require_role(admin, Role::Admin)?;
    let mut query = calendar_day::Entity::find().order_by_asc(calendar_day::Column::Day);
    if let Some(year) = year {
        let (first, last) = year_bounds(year);
        query = query.filter(calendar_day::Column::Day.between(first, last));
    }
    let paginator = query.paginate(db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    let days = rows
        .into_iter()
        .filter_map(|row| {
            DayKind::parse(&row.kind).map(|kind| CalendarDay {
                day: row.day,
                kind,
                name: row.name,
            })
        })
        .collect();
    Ok((days, total))
}

/// Records (or replaces) an exception. It moves every deadline that spans
/// the day, so it is audited with the change.
pub async fn set_day(
    db: &DatabaseConnection,
    request: &RequestContext,
    admin: &Principal,
    day: NaiveDate,
    kind: DayKind,
    name: &str,
) -> AppResult<()> {
    access::require_calendar_keeper(admin)?;
    let transaction = begin_write(db).await?;
    calendar_day::Entity::insert(calendar_day::ActiveModel {
        day: Set(day),
        kind: Set(kind.as_str().to_owned()),
        name: Set(name.to_owned()),
    })
    .on_conflict(
        OnConflict::column(calendar_day::Column::Day)
            .update_columns([calendar_day::Column::Kind, calendar_day::Column::Name])
            .to_owned(),
    )
    .exec_without_returning(&transaction)
    .await?;
    record(
        &transaction,
        request,
        admin,
        "calendar.set",
        day,
        Some(json!({ "kind": kind.as_str(), "name": name })),
    )
    .await?;
    transaction.commit().await?;
    Ok(())
}

/// Removes an exception: the day follows the weekday rule again.
pub async fn clear_day(
    db: &DatabaseConnection,
    request: &RequestContext,
    admin: &Principal,
    day: NaiveDate,
) -> AppResult<bool> {
    access::require_calendar_keeper(admin)?;
    let transaction = begin_write(db).await?;
    let removed = calendar_day::Entity::delete_by_id(day)
        .exec(&transaction)
        .await?
        .rows_affected
        > 0;
    if removed {
        record(&transaction, request, admin, "calendar.clear", day, None).await?;
    }
    transaction.commit().await?;
    Ok(removed)
}

async fn record(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    admin: &Principal,
    action: &'static str,
    day: NaiveDate,
    details: Option<serde_json::Value>,
) -> AppResult<()> {
    let day = day.to_string();
    audit::record(
        transaction,
        Some(request),
        Event {
            actor: audit::Actor::Principal(admin),
            action,
            target: Some(("calendar_day", &day)),
            region: None,
            outcome: Outcome::Success,
            details,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn next_years_schedule_is_needed_once_deadlines_reach_into_it() {
        assert_eq!(years_in_use(day("2026-03-01")), [2026]);
        assert_eq!(years_in_use(day("2026-08-01")), [2026]);
        assert_eq!(years_in_use(day("2026-11-30")), [2026, 2027]);
    }

    #[test]
    fn a_friday_deadline_is_not_overdue_on_the_weekend() {
        let calendar = Calendar::default();
        let friday = day("2026-11-20");
        assert!(!calendar.is_overdue(friday, day("2026-11-20")));
        assert!(!calendar.is_overdue(friday, day("2026-11-21")));
        assert!(!calendar.is_overdue(friday, day("2026-11-22")));
        assert!(calendar.is_overdue(friday, day("2026-11-23")));
    }

    #[test]
    fn the_query_cutoff_agrees_with_is_overdue() {
        let calendar = Calendar::new([
            (day("2026-10-01"), DayKind::Holiday),
            (day("2026-10-02"), DayKind::Holiday),
            (day("2026-10-10"), DayKind::Workday),
        ]);
        let days: Vec<NaiveDate> = day("2026-09-20").iter_days().take(40).collect();
        for today in &days {
            let cutoff = calendar.overdue_before(*today);
            for due in &days {
                assert_eq!(
                    calendar.is_overdue(*due, *today),
                    *due < cutoff,
                    "due {due}, today {today}"
                );
            }
        }
    }

    #[test]
    fn holidays_and_adjusted_weekends_count_as_recorded() {
        let calendar = Calendar::new([
            (day("2026-10-01"), DayKind::Holiday),
            (day("2026-10-02"), DayKind::Holiday),
            (day("2026-10-10"), DayKind::Workday),
        ]);
        assert_eq!(
            Calendar::default().add_working_days(day("2026-11-20"), 5),
            day("2026-11-27")
        );
        assert_eq!(calendar.add_working_days(day("2026-09-30"), 1), day("2026-10-05"));
        assert!(calendar.is_working_day(day("2026-10-10")));
        assert_eq!(calendar.add_working_days(day("2026-10-09"), 1), day("2026-10-10"));
    }
}
