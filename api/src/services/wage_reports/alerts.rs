//! Early warnings: an employer reported again and again within 30 days, or
//! owing many workers or a large sum in open reports, draws one warning with
//! its reports.

use std::collections::BTreeMap;

use chrono::Utc;

use super::read::{self, Report};
use crate::{
    access,
    auth::{Principal, Role},
    domain::CreditCode,
    error::AppResult,
    services::calendar,
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

/// Employers with repeated reports in 30 days, or many workers or a large sum
/// in open reports, inside the inspector's region. Two grouped queries on
/// indexes find them; only their reports are read.
pub async fn alerts(state: &AppState, inspector: &Principal) -> AppResult<Vec<Alert>> {
    access::require_role(inspector, Role::Inspector)?;
    let thresholds = state.config.wage_alerts;
    let regions = access::staff_scope(&state.regions, inspector, None)?;
    let regions = regions.as_deref();
    let since = Utc::now() - chrono::Duration::days(30);
    let mut flagged: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    for key in read::employers_reported_since(&state.db, regions, since, thresholds.reports_in_30_days).await? {
        flagged.entry(key).or_default().push("repeated_reports");
    }
    for totals in read::open_totals(&state.db, regions).await? {
        if totals.workers_affected >= i64::from(thresholds.workers_affected) {
            flagged
                .entry(totals.employer_key.clone())
                .or_default()
                .push("many_workers");
        }
        if totals.amount_owed_fen >= thresholds.amount_owed_fen {
            flagged.entry(totals.employer_key).or_default().push("large_amount");
        }
    }
    let calendar = calendar::load(&state.db).await?;
    let mut alerts = Vec::new();
    for (key, reasons) in flagged {
        let reports = read::of_employer(&state.db, &calendar, regions, &key, since).await?;
        alerts.push(Alert {
            employer_name: reports.first().map(|r| r.employer_name.clone()).unwrap_or_default(),
            employer_key: key,
            reasons,
            reports,
        });
    }
    Ok(alerts)
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
}
