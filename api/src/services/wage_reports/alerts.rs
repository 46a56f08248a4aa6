//! Early warnings: an employer reported again and again within 30 days, or
//! owing many workers or a large sum in open reports, draws one warning with
//! its reports.

use std::collections::HashMap;

use chrono::Utc;

use super::read::{self, EmployerFigures, Report};
use crate::{
    access,
    auth::{Principal, Role},
    config::WageAlertThresholds,
    domain::CreditCode,
    error::AppResult,
    state::AppState,
};

/// The employer as early warnings group it: the credit code, or the name with
/// spacing and bracket forms normalised.
pub fn employer_key(name: &str, credit_code: Option<&CreditCode>) -> String {
    match credit_code {
        Some(code) => format!("code:{}", code.as_str()),
        None => {
            let normalised: String = name
                .chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| match c {
                    '（' => '(',
                    '）' => ')',
                    other => other,
                })
                .flat_map(char::to_lowercase)
                .collect();
            format!("name:{normalised}")
        }
    }
}

/// One employer that has drawn an early warning, with its reports.
#[derive(Debug, Clone)]
pub struct Alert {
    pub employer_key: String,
    pub employer_name: String,
    pub reasons: Vec<&'static str>,
    pub reports: Vec<Report>,
}

/// Why an employer's figures draw a warning, in a fixed order.
fn reasons(figures: &EmployerFigures, thresholds: WageAlertThresholds) -> Vec<&'static str> {
    [
        (
            figures.recent_reports >= i64::from(thresholds.reports_in_30_days),
            "repeated_reports",
        ),
        (
            figures.workers_affected >= i64::from(thresholds.workers_affected),
            "many_workers",
        ),
        (figures.amount_owed_fen >= thresholds.amount_owed_fen, "large_amount"),
    ]
    .into_iter()
    .filter_map(|(reached, reason)| reached.then_some(reason))
    .collect()
}

/// One page of the employers, by key, with repeated reports in 30 days, or
/// many workers or a large sum in open reports, inside the inspector's
/// region, and how many there are. One grouped query finds and counts them;
/// only the reports of the page's employers are read.
pub async fn alerts(
    state: &AppState,
    inspector: &Principal,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Alert>, u64)> {
    access::require_role(inspector, Role::Inspector)?;
    let thresholds = state.config.wage_alerts;
    let regions = access::staff_scope(&state.regions, inspector, None)?;
    let regions = regions.as_deref();
    let since = Utc::now() - chrono::Duration::days(30);
    let (flagged, total) = read::flagged_employers(&state.db, regions, since, thresholds, page, page_size).await?;
    let keys: Vec<String> = flagged.iter().map(|f| f.employer_key.clone()).collect();
    let calendars = state.calendars.current(&state.db).await?;
    let mut reports: HashMap<String, Vec<Report>> = HashMap::new();
    for report in read::of_employers(&state.db, &calendars, regions, &keys, since).await? {
        reports.entry(report.employer_key.clone()).or_default().push(report);
    }
    let alerts = flagged
        .into_iter()
        .map(|figures| {
            let reports = reports.remove(&figures.employer_key).unwrap_or_default();
            Alert {
                employer_name: reports.first().map(|r| r.employer_name.clone()).unwrap_or_default(),
                reasons: reasons(&figures, thresholds),
                employer_key: figures.employer_key,
                reports,
            }
        })
        .collect();
    Ok((alerts, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TextType;

    #[test]
    fn employers_without_a_code_group_by_their_normalised_name() {
        assert_eq!(
            employer_key("南京 某某建筑（集团）公司", None),
            employer_key("南京某某建筑(集团)公司", None)
        );
        let code = CreditCode::parse("91350100M000100Y43").ok();
        assert!(code.is_none() || employer_key("x", code.as_ref()).starts_with("code:"));
    }

    #[test]
    fn each_threshold_reached_is_a_reason() {
        let thresholds = WageAlertThresholds {
            reports_in_30_days: 3,
            workers_affected: 30,
            amount_owed_fen: 50_000_000,
        };
        let figures = |recent_reports, workers_affected, amount_owed_fen| EmployerFigures {
            employer_key: "code:x".to_owned(),
            recent_reports,
            workers_affected,
            amount_owed_fen,
        };
        assert_eq!(reasons(&figures(3, 0, 0), thresholds), ["repeated_reports"]);
        assert_eq!(reasons(&figures(2, 30, 0), thresholds), ["many_workers"]);
        assert_eq!(reasons(&figures(0, 0, 50_000_000), thresholds), ["large_amount"]);
        assert_eq!(
            reasons(&figures(5, 40, 60_000_000), thresholds),
            ["repeated_reports", "many_workers", "large_amount"]
        );
        assert!(reasons(&figures(2, 29, 49_999_999), thresholds).is_empty());
    }
}
