//! Working days: weekends are off, except the adjusted working weekends
//! (调休) recorded; public holidays recorded are off too. The national
//! schedule holds for the whole country; a province adds days of its own
//! (Guangxi's 壮族三月三), which hold for the cases in that province only.
//! Legal time limits (15 working days for a pension contact letter, 5 for an
//! unpaid-wage report's acceptance, …) count in the days of the province
//! whose office the limit binds.

mod days;

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{Datelike, NaiveDate, Weekday};
use entity::calendar_day;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

pub use self::days::{CalendarDay, DayList, clear_day, list_days, set_day};
use crate::{
    domain::{RegionCode, TextType},
    error::AppResult,
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

/// The recorded exceptions of one place; every other day follows the
/// weekday rule.
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

/// The calendar of every province: the national days, and over them each
/// province's own days where it recorded any. Loaded once for a request, and
/// asked per case ([`Calendars::of`]).
#[derive(Debug, Clone)]
pub struct Calendars {
    national: Calendar,
    /// The provinces with days of their own, each merged over the national ones.
    provinces: HashMap<RegionCode, Calendar>,
}

impl Calendars {
    /// From the recorded days, each of the nation (`000000`) or of a province.
    pub fn new(days: impl IntoIterator<Item = (RegionCode, NaiveDate, DayKind)>) -> Self {
        let mut national = HashMap::new();
        let mut own: HashMap<RegionCode, Vec<(NaiveDate, DayKind)>> = HashMap::new();
        for (region, day, kind) in days {
            if region.is_national() {
                national.insert(day, kind);
            } else {
                own.entry(region.province()).or_default().push((day, kind));
            }
        }
        // A province's own day comes after the national one, and replaces it.
        let provinces = own
            .into_iter()
            .map(|(province, days)| {
                let merged = national.iter().map(|(day, kind)| (*day, *kind)).chain(days);
                (province, Calendar::new(merged))
            })
            .collect();
        Calendars {
            national: Calendar::new(national),
            provinces,
        }
    }

    /// The days a case in `region` counts in: its province's own days over
    /// the national ones (the national days alone where the province
    /// recorded none).
    pub fn of(&self, region: RegionCode) -> &Calendar {
        self.provinces.get(&region.province()).unwrap_or(&self.national)
    }

    /// Today's overdue cutoff in every province, for a query.
    pub fn overdue_cutoffs(&self, today: NaiveDate) -> OverdueCutoffs {
        let national = self.national.overdue_before(today);
        let mut provinces: Vec<(RegionCode, NaiveDate)> = self
            .provinces
            .iter()
            .map(|(province, calendar)| (*province, calendar.overdue_before(today)))
            .filter(|(_, cutoff)| *cutoff != national)
            .collect();
        provinces.sort_unstable();
        OverdueCutoffs { national, provinces }
    }
}

/// The query form of [`Calendar::is_overdue`] across provinces: a due day
/// before its province's cutoff ([`Calendar::overdue_before`] today) is
/// overdue. Most provinces share the national cutoff; the few whose own
/// days move it are listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueCutoffs {
    national: NaiveDate,
    provinces: Vec<(RegionCode, NaiveDate)>,
}

impl OverdueCutoffs {
    /// The rows overdue in their province: `due_before(cutoff)` with each
    /// listed province's cutoff for the rows `in_province(prefix)` selects
    /// (the province's codes start with `prefix`), and with the national
    /// cutoff for every other row.
    pub fn condition(
        &self,
        in_province: impl Fn(&str) -> Condition,
        due_before: impl Fn(NaiveDate) -> Condition,
    ) -> Condition {
        let mut overdue = Condition::any();
        let mut elsewhere = Condition::all();
        for (province, cutoff) in &self.provinces {
            let prefix = province.province_prefix();
            overdue = overdue.add(Condition::all().add(in_province(prefix)).add(due_before(*cutoff)));
            elsewhere = elsewhere.add(in_province(prefix).not());
        }
        overdue.add(elsewhere.add(due_before(self.national)))
    }
}

/// Every recorded day, national and provincial, in one query.
pub async fn load(db: &impl ConnectionTrait) -> AppResult<Calendars> {
    let rows = calendar_day::Entity::find().all(db).await?;
    Ok(Calendars::new(rows.into_iter().filter_map(|row| {
        let region = RegionCode::parse(&row.region_code).ok()?;
        DayKind::parse(&row.kind).map(|kind| (region, row.day, kind))
    })))
}

/// How long calendars read by one instance are used before they are read
/// again: an edit made through another instance shows within this.
const KEPT_FOR: Duration = Duration::from_secs(1);

/// The calendars as this instance last read them. Filing a case, moving it
/// and reading a queue all count deadlines; reading every recorded day for
/// each would cost a statement a request for a table that changes a few
/// times a year. An edit through this instance is seen by the next request.
#[derive(Default)]
pub struct CalendarCache {
    held: RwLock<Option<(Instant, Arc<Calendars>)>>,
    /// Edits through this instance so far: days read while one was made are
    /// used for that request, never kept.
    edits: AtomicU64,
}

impl CalendarCache {
    /// The calendars, read through `db` when what is held is older than
    /// [`KEPT_FOR`] or was forgotten.
    pub async fn current(&self, db: &impl ConnectionTrait) -> AppResult<Arc<Calendars>> {
        if let Some((read_at, calendars)) = self.held.read().expect("calendar cache lock").as_ref()
            && read_at.elapsed() < KEPT_FOR
        {
            return Ok(calendars.clone());
        }
        let edits = self.edits.load(Ordering::Acquire);
        let read_at = Instant::now();
        let calendars = Arc::new(load(db).await?);
        let mut held = self.held.write().expect("calendar cache lock");
        if self.edits.load(Ordering::Acquire) == edits {
            *held = Some((read_at, calendars.clone()));
        }
        Ok(calendars)
    }

    /// Drops what is held, after an edit: the next request reads the days again.
    pub fn forget(&self) {
        let mut held = self.held.write().expect("calendar cache lock");
        self.edits.fetch_add(1, Ordering::AcqRel);
        *held = None;
    }
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

/// Of `years` (ascending), those with no official holiday in the national
/// schedule: it has not been entered, and deadlines across them count every
/// weekday as working (a province's own days are no schedule). They are
/// flagged (readiness, statistics), never guessed. One query: the national
/// holidays of the span, a few dozen a year.
pub async fn missing_years(db: &impl ConnectionTrait, years: &[i32]) -> AppResult<Vec<i32>> {
    let (Some(first), Some(last)) = (years.first(), years.last()) else {
        return Ok(Vec::new());
    };
    let holidays: Vec<NaiveDate> = calendar_day::Entity::find()
        .select_only()
        .column(calendar_day::Column::Day)
        .filter(calendar_day::Column::Day.between(year_bounds(*first).0, year_bounds(*last).1))
        .filter(calendar_day::Column::Kind.eq(DayKind::Holiday.as_str()))
        .filter(calendar_day::Column::RegionCode.eq(RegionCode::NATIONAL.as_str()))
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

    fn region(text: &str) -> RegionCode {
        RegionCode::parse(text).unwrap()
    }

    /// National Day, and Guangxi's 壮族三月三 with one of National Day's
    /// days made a working day there.
    fn national_and_guangxi() -> Calendars {
        let national = RegionCode::NATIONAL;
        let guangxi = region("450000");
        Calendars::new([
            (national, day("2026-10-01"), DayKind::Holiday),
            (national, day("2026-10-02"), DayKind::Holiday),
            (national, day("2026-10-10"), DayKind::Workday),
            (guangxi, day("2026-04-20"), DayKind::Holiday),
            (guangxi, day("2026-04-21"), DayKind::Holiday),
            (guangxi, day("2026-10-02"), DayKind::Workday),
        ])
    }

    #[test]
    fn a_province_counts_its_own_days_over_the_national_ones() {
        let calendars = national_and_guangxi();
        for guangxi in ["450000", "450100", "450103"] {
            let calendar = calendars.of(region(guangxi));
            assert!(!calendar.is_working_day(day("2026-04-20")), "三月三 in {guangxi}");
            assert!(!calendar.is_working_day(day("2026-10-01")), "National Day in {guangxi}");
            assert!(calendar.is_working_day(day("2026-10-02")), "overridden in {guangxi}");
            assert!(
                calendar.is_working_day(day("2026-10-10")),
                "national workday in {guangxi}"
            );
        }
        for elsewhere in ["320115", "320000", "000000"] {
            let calendar = calendars.of(region(elsewhere));
            assert!(calendar.is_working_day(day("2026-04-20")), "no 三月三 in {elsewhere}");
            assert!(
                !calendar.is_working_day(day("2026-10-02")),
                "National Day in {elsewhere}"
            );
        }
        // Five working days from Friday 17 April: two of them are 三月三 in Guangxi.
        let friday = day("2026-04-17");
        assert_eq!(
            calendars.of(region("450103")).add_working_days(friday, 5),
            day("2026-04-28")
        );
        assert_eq!(
            calendars.of(region("320115")).add_working_days(friday, 5),
            day("2026-04-24")
        );
    }

    /// The cutoff a query applies to a row in `region`.
    fn cutoff_in(cutoffs: &OverdueCutoffs, region: RegionCode) -> NaiveDate {
        cutoffs
            .provinces
            .iter()
            .find(|(province, _)| *province == region.province())
            .map_or(cutoffs.national, |(_, cutoff)| *cutoff)
    }

    #[test]
    fn the_query_cutoffs_agree_with_each_provinces_is_overdue() {
        let calendars = national_and_guangxi();
        let regions = [region("450103"), region("320115")];
        let mut days: Vec<NaiveDate> = day("2026-04-10").iter_days().take(20).collect();
        days.extend(day("2026-09-25").iter_days().take(20));
        for today in &days {
            let cutoffs = calendars.overdue_cutoffs(*today);
            assert!(
                cutoffs.provinces.iter().all(|(_, cutoff)| *cutoff != cutoffs.national),
                "only the provinces whose days move the cutoff are listed"
            );
            for region in regions {
                for due in &days {
                    assert_eq!(
                        calendars.of(region).is_overdue(*due, *today),
                        *due < cutoff_in(&cutoffs, region),
                        "due {due}, today {today}, in {region}"
                    );
                }
            }
        }
        let on_sanyuesan = calendars.overdue_cutoffs(day("2026-04-21"));
        assert_eq!(on_sanyuesan.national, day("2026-04-21"));
        assert_eq!(on_sanyuesan.provinces, [(region("450000"), day("2026-04-17"))]);
    }
}
