//! Working days: weekends are off, except the adjusted working weekends
//! (调休) a national administrator records; public holidays recorded are off too.
//! Legal time limits (15 working days for a pension contact letter, 5 for an
//! unpaid-wage report's acceptance, …) count in these days.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, Weekday};
use entity::calendar_day;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, sea_query::OnConflict,
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

/// A recorded exception to the weekday rule.
#[derive(Debug, Clone)]
pub struct CalendarDay {
    pub day: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

pub async fn list_year(db: &impl ConnectionTrait, admin: &Principal, year: i32) -> AppResult<Vec<CalendarDay>> {
    access::require_role(admin, Role::Admin)?;
    let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("a valid year");
    let last = NaiveDate::from_ymd_opt(year, 12, 31).expect("a valid year");
    let rows = calendar_day::Entity::find()
        .filter(calendar_day::Column::Day.between(first, last))
        .order_by_asc(calendar_day::Column::Day)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            DayKind::parse(&row.kind).map(|kind| CalendarDay {
                day: row.day,
                kind,
                name: row.name,
            })
        })
        .collect())
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
