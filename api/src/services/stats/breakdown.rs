//! The 工作台's drill-down: a region's figures split by its subdivisions (a
//! province by city, a city by county), and its applications by month. Each
//! figure is one grouped query by region code, folded into subdivisions here
//! with the region table: rows are never loaded to be counted.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Months, NaiveDate};
use entity::application;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use super::count;
use crate::{
    access,
    auth::Principal,
    domain::{RegionCode, china_time::DaySpan},
    error::{AppError, AppResult, ErrorCode, Localized},
    regions::{Region, RegionDirectory},
    services::{calendar, transfers, wage_reports},
    state::AppState,
};

/// The longest period split by month: two years of bars stay readable.
const MAX_MONTHS: usize = 24;

/// What is waiting in one subdivision. Applications count those filed in
/// the period; the rest is the state now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subdivision {
    pub region_code: String,
    pub name: String,
    pub applications: i64,
    /// Submitted or under review now.
    pub applications_waiting: i64,
    pub wage_reports_open: i64,
    pub wage_reports_overdue: i64,
    /// Cases with an end in the subdivision (a case between two of them
    /// counts in both).
    pub transfers_in_progress: i64,
    pub transfers_overdue: i64,
}

#[derive(Debug, Clone)]
pub struct MonthFigures {
    /// `2026-03`.
    pub month: String,
    pub by_status: Vec<(String, i64)>,
}

#[derive(Debug, Clone)]
pub struct Breakdown {
    pub region_code: RegionCode,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub months: Vec<MonthFigures>,
    /// In region-code order; cases filed at the region itself (not below it)
    /// come first under its own code.
    pub subdivisions: Vec<Subdivision>,
}

pub async fn breakdown(
    state: &AppState,
    staff: &Principal,
    region: Option<RegionCode>,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Breakdown> {
    access::require_overview_reader(staff)?;
    let span = DaySpan::new(Some(from), Some(to))?;
    let months = month_spans(from, to)?;
    let codes = access::staff_scope(&state.regions, staff, region)?;
    let root = match region.or(staff.region) {
        Some(root) => root,
        None => return Err(AppError::new(ErrorCode::OutOfRegionScope)),
    };
    let db = &state.replica;
    let mut by_month = Vec::with_capacity(months.len());
    for (month, span) in months {
        let by_status = applications_by(db, span, codes.as_deref(), application::Column::Status).await?;
        by_month.push(MonthFigures { month, by_status });
    }

    let folder = Folder::new(&state.regions, root);
    let mut rows = folder.empty_rows();
    for (code, filed) in applications_by(db, span, codes.as_deref(), application::Column::RegionCode).await? {
        folder.add(&mut rows, &code, |row| row.applications += filed);
    }
    for (code, waiting) in waiting_applications(db, codes.as_deref()).await? {
        folder.add(&mut rows, &code, |row| row.applications_waiting += waiting);
    }
    let cutoffs = calendar::load(db)
        .await?
        .overdue_cutoffs(crate::domain::china_time::today());
    let reports = wage_reports::read::open_by_region(db, codes.as_deref(), &cutoffs).await?;
    for (code, open, overdue) in reports {
        folder.add(&mut rows, &code, |row| {
            row.wage_reports_open += open;
            row.wage_reports_overdue += overdue;
        });
    }
    for (ends, in_progress, overdue) in transfers::in_progress_by_ends(db, codes.as_deref(), &cutoffs).await? {
        folder.add_once(&mut rows, &ends, |row| {
            row.transfers_in_progress += in_progress;
            row.transfers_overdue += overdue;
        });
    }
    Ok(Breakdown {
        region_code: root,
        from,
        to,
        months: by_month,
        subdivisions: folder.into_list(rows),
    })
}

/// Each calendar month the period touches, cut to the period.
fn month_spans(from: NaiveDate, to: NaiveDate) -> AppResult<Vec<(String, DaySpan)>> {
    let mut spans = Vec::new();
    let mut start = from.with_day(1).unwrap_or(from);
    while start <= to {
        if spans.len() == MAX_MONTHS {
            return Err(AppError::invalid_field(
                "to",
                Localized::fixed(
                    "按月统计最多 24 个月，请缩短统计期间。",
                    "A breakdown by month covers at most 24 months.",
                ),
            ));
        }
        // The last month the calendar has ends the period rather than overflow.
        let next = start.checked_add_months(Months::new(1));
        let last = next.and_then(|next| next.pred_opt()).map_or(to, |last| last.min(to));
        let span = DaySpan::new(Some(start.max(from)), Some(last))?;
        spans.push((start.format("%Y-%m").to_string(), span));
        match next {
            Some(next) => start = next,
            None => break,
        }
    }
    Ok(spans)
}

/// Applications filed in the period, counted by one column.
async fn applications_by(
    db: &DatabaseConnection,
    span: DaySpan,
    codes: Option<&[String]>,
    column: application::Column,
) -> AppResult<Vec<(String, i64)>> {
    let mut query = application::Entity::find()
        .select_only()
        .column(column)
        .column_as(count(), "count")
        .filter(span.condition(application::Column::CreatedAt))
        .group_by(column);
    if let Some(codes) = codes {
        query = query.filter(application::Column::RegionCode.is_in(codes.iter().map(String::as_str)));
    }
    Ok(query.into_tuple().all(db).await?)
}

/// Applications a reviewer has still to decide, whenever filed, by region.
async fn waiting_applications(db: &DatabaseConnection, codes: Option<&[String]>) -> AppResult<Vec<(String, i64)>> {
    let mut query = application::Entity::find()
        .select_only()
        .column(application::Column::RegionCode)
        .column_as(count(), "count")
        .filter(application::Column::Status.is_in(["submitted", "under_review"]))
        .group_by(application::Column::RegionCode);
    if let Some(codes) = codes {
        query = query.filter(application::Column::RegionCode.is_in(codes.iter().map(String::as_str)));
    }
    Ok(query.into_tuple().all(db).await?)
}

/// The regions directly below `root`: the provinces below the national code.
fn subdivisions(regions: &RegionDirectory, root: RegionCode) -> Vec<&Region> {
    let parent = (!root.is_national()).then_some(root);
    regions.children(parent).unwrap_or_default()
}

/// Which subdivision of the root each region code falls in.
pub(super) struct Folder<'a> {
    regions: &'a RegionDirectory,
    root: RegionCode,
    subdivision_of: HashMap<String, String>,
}

impl<'a> Folder<'a> {
    pub(super) fn new(regions: &'a RegionDirectory, root: RegionCode) -> Self {
        let mut subdivision_of = HashMap::from([(root.as_str().to_owned(), root.as_str().to_owned())]);
        for child in subdivisions(regions, root) {
            let key = child.code.as_str().to_owned();
            for below in regions.descendants(child.code) {
                subdivision_of.insert(below.code.as_str().to_owned(), key.clone());
            }
            subdivision_of.insert(key.clone(), key);
        }
        Folder {
            regions,
            root,
            subdivision_of,
        }
    }

    /// The subdivision `code` falls in (the root's own code for the root
    /// itself), with its name; none outside the root.
    pub(super) fn subdivision(&self, code: &str) -> Option<(&str, String)> {
        let key = self.subdivision_of.get(code)?;
        Some((key, self.regions.full_name(key)))
    }

    /// Every direct subdivision's code and name, in code order.
    pub(super) fn named_subdivisions(&self) -> Vec<(String, String)> {
        subdivisions(self.regions, self.root)
            .into_iter()
            .map(|child| (child.code.as_str().to_owned(), child.name.clone()))
            .collect()
    }

    /// A row for every subdivision, so that one with nothing shows as zero.
    fn empty_rows(&self) -> BTreeMap<String, Subdivision> {
        subdivisions(self.regions, self.root)
            .into_iter()
            .map(|child| {
                let row = Subdivision {
                    region_code: child.code.as_str().to_owned(),
                    name: child.name.clone(),
                    ..Default::default()
                };
                (row.region_code.clone(), row)
            })
            .collect()
    }

    fn row<'r>(&self, rows: &'r mut BTreeMap<String, Subdivision>, code: &str) -> Option<&'r mut Subdivision> {
        let key = self.subdivision_of.get(code)?;
        Some(rows.entry(key.clone()).or_insert_with(|| Subdivision {
            region_code: key.clone(),
            name: self.regions.full_name(key),
            ..Default::default()
        }))
    }

    fn add(&self, rows: &mut BTreeMap<String, Subdivision>, code: &str, change: impl FnOnce(&mut Subdivision)) {
        if let Some(row) = self.row(rows, code) {
            change(row);
        }
    }

    /// Adds to the subdivision of each of two ends, once when they share one.
    fn add_once(
        &self,
        rows: &mut BTreeMap<String, Subdivision>,
        (from, to): &(String, String),
        change: impl Fn(&mut Subdivision),
    ) {
        let (first, second) = (self.subdivision_of.get(from), self.subdivision_of.get(to));
        self.add(rows, from, &change);
        if second.is_some() && second != first {
            self.add(rows, to, &change);
        }
    }

    fn into_list(self, rows: BTreeMap<String, Subdivision>) -> Vec<Subdivision> {
        rows.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_period_is_cut_into_the_months_it_touches() {
        let spans = month_spans(day("2026-01-15"), day("2026-03-02")).unwrap();
        let months: Vec<_> = spans
            .iter()
            .map(|(month, span)| (month.as_str(), span.from, span.to))
            .collect();
        assert_eq!(
            months,
            [
                ("2026-01", Some(day("2026-01-15")), Some(day("2026-01-31"))),
                ("2026-02", Some(day("2026-02-01")), Some(day("2026-02-28"))),
                ("2026-03", Some(day("2026-03-01")), Some(day("2026-03-02"))),
            ]
        );
    }

    #[test]
    fn the_calendars_last_month_ends_the_period_without_overflow() {
        let spans = month_spans(NaiveDate::MAX - chrono::Days::new(40), NaiveDate::MAX).unwrap();
        assert_eq!(spans.last().unwrap().1.to, Some(NaiveDate::MAX));
        assert_eq!(spans.len(), 2);
    }

    #[test]
    fn more_than_two_years_by_month_is_refused() {
        assert_eq!(month_spans(day("2025-01-01"), day("2026-12-31")).unwrap().len(), 24);
        assert!(month_spans(day("2025-01-01"), day("2027-01-01")).is_err());
    }
}
