//! 好差评 in the figures: the ratings given in a region and period (count,
//! average, how many of each score), how the follow-ups of low ratings were
//! kept (closed on time, late, overdue now) and how complaints and
//! suggestions were answered, for the region and each of its direct
//! subdivisions. Each figure is one grouped query by region code, folded
//! into subdivisions with the region table: rows are never loaded to be
//! counted.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::breakdown::Folder;
use crate::{
    access,
    auth::Principal,
    domain::{RegionCode, china_time::DaySpan},
    error::{AppError, AppResult, ErrorCode},
    services::{calendar, complaints, follow_ups, ratings},
    state::AppState,
};

pub use crate::services::{
    complaints::read::Figures as ComplaintFigures, follow_ups::read::Figures as FollowUpFigures,
};

/// The ratings given in one place and period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RatingFigures {
    /// How many ratings gave 1, 2, 3, 4 and 5 stars.
    pub by_score: [i64; 5],
}

impl RatingFigures {
    pub fn count(&self) -> i64 {
        self.by_score.iter().sum()
    }

    /// The average score to two decimals; none without ratings.
    pub fn average(&self) -> Option<f64> {
        let count = self.count();
        let stars: i64 = (1..=5).zip(self.by_score).map(|(score, n)| score * n).sum();
        (count > 0).then(|| (stars as f64 / count as f64 * 100.0).round() / 100.0)
    }

    fn add(&mut self, score: i32, count: i64) {
        if let Some(slot) = usize::try_from(score - 1).ok().and_then(|i| self.by_score.get_mut(i)) {
            *slot += count;
        }
    }
}

/// Every satisfaction figure of one place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub region_code: String,
    pub name: String,
    pub ratings: RatingFigures,
    pub follow_ups: FollowUpFigures,
    pub complaints: ComplaintFigures,
}

impl Figures {
    fn add(&mut self, other: &Figures) {
        for (mine, theirs) in self.ratings.by_score.iter_mut().zip(other.ratings.by_score) {
            *mine += theirs;
        }
        let (f, g) = (&mut self.follow_ups, &other.follow_ups);
        f.opened += g.opened;
        f.closed_on_time += g.closed_on_time;
        f.closed_late += g.closed_late;
        f.overdue += g.overdue;
        let (c, d) = (&mut self.complaints, &other.complaints);
        c.complaints += d.complaints;
        c.suggestions += d.suggestions;
        c.answered_on_time += d.answered_on_time;
        c.answered_late += d.answered_late;
        c.overdue += d.overdue;
    }
}

#[derive(Debug, Clone)]
pub struct Satisfaction {
    pub region_code: RegionCode,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The whole region.
    pub total: Figures,
    /// Its direct subdivisions in code order, each present even with
    /// nothing to count; what was filed at the region itself first, under
    /// its own code.
    pub subdivisions: Vec<Figures>,
}

/// The figures of ratings, follow-ups and complaints given, opened or filed
/// in the period, in the caller's region (by default all of it).
pub async fn satisfaction(
    state: &AppState,
    staff: &Principal,
    region: Option<RegionCode>,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Satisfaction> {
    access::require_overview_reader(staff)?;
    let span = DaySpan::new(Some(from), Some(to))?;
    let codes = access::staff_scope(&state.regions, staff, region)?;
    let root = region
        .or(staff.region)
        .ok_or_else(|| AppError::new(ErrorCode::OutOfRegionScope))?;
    let db = &state.replica;
    let cutoffs = calendar::load(db)
        .await?
        .overdue_cutoffs(crate::domain::china_time::today());
    let mut by_code: BTreeMap<String, Figures> = BTreeMap::new();
    for (code, score, count) in ratings::read::by_region_and_score(db, span, codes.as_deref()).await? {
        by_code.entry(code).or_default().ratings.add(score, count);
    }
    for (code, figures) in follow_ups::read::figures_by_region(db, span, codes.as_deref(), &cutoffs).await? {
        by_code.entry(code).or_default().follow_ups = figures;
    }
    for (code, figures) in complaints::read::figures_by_region(db, span, codes.as_deref(), &cutoffs).await? {
        by_code.entry(code).or_default().complaints = figures;
    }
    let (total, subdivisions) = fold(&Folder::new(&state.regions, root), root, by_code);
    Ok(Satisfaction {
        region_code: root,
        from,
        to,
        total,
        subdivisions,
    })
}

/// The figures of each region code summed into the root and its subdivisions.
fn fold(folder: &Folder<'_>, root: RegionCode, by_code: BTreeMap<String, Figures>) -> (Figures, Vec<Figures>) {
    let mut rows: BTreeMap<String, Figures> = folder
        .named_subdivisions()
        .into_iter()
        .map(|(region_code, name)| {
            let row = Figures {
                region_code: region_code.clone(),
                name,
                ..Default::default()
            };
            (region_code, row)
        })
        .collect();
    let mut total = Figures {
        region_code: root.as_str().to_owned(),
        name: folder
            .subdivision(root.as_str())
            .map(|(_, name)| name)
            .unwrap_or_default(),
        ..Default::default()
    };
    for (code, figures) in by_code {
        total.add(&figures);
        if let Some((key, name)) = folder.subdivision(&code) {
            rows.entry(key.to_owned())
                .or_insert_with(|| Figures {
                    region_code: key.to_owned(),
                    name,
                    ..Default::default()
                })
                .add(&figures);
        }
    }
    (total, rows.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_average_is_of_the_stars_given_to_two_decimals() {
        let mut figures = RatingFigures::default();
        assert_eq!(figures.average(), None);
        figures.add(2, 1);
        figures.add(5, 2);
        assert_eq!(figures.count(), 3);
        assert_eq!(figures.average(), Some(4.0));
        figures.add(4, 1);
        assert_eq!(figures.average(), Some(4.0));
        figures.add(1, 1);
        assert_eq!(figures.average(), Some(3.4));
        figures.add(3, 1);
        assert_eq!(figures.average(), Some(3.33));
        figures.add(0, 9);
        figures.add(6, 9);
        assert_eq!(figures.count(), 6, "no score outside 1 to 5 is counted");
    }
}
