//! What a worker is told about a change of their case: the inbox's title and
//! sentence, and the facts a WeChat subscribe message shows field by field
//! (the case, its new status, the next step), so that the phone says what
//! happened rather than a cut-off sentence.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::infra::subscribe_message::{Facts, Templates};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    pub title: String,
    pub body: String,
    /// A mini-program page, e.g. `pages/applications/detail?id=…`.
    pub link: Option<String>,
    /// The facts for the template's fields; messages written before
    /// templates per event have none and reach the inbox only.
    #[serde(default)]
    pub news: Option<CaseNews>,
}

/// One change of a case, as the worker reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseNews {
    /// 补贴申请, 欠薪线索 or 社保转移接续.
    pub case_kind: String,
    pub case_no: String,
    /// The new status in five characters at most (a `phrase` field).
    pub status: String,
    /// What happens next or what the worker must do.
    pub next_step: String,
    /// The amount approved or paid, for the events that carry one.
    pub amount_fen: Option<i64>,
    pub changed_at: DateTime<Utc>,
}

impl CaseNews {
    pub fn facts(&self) -> Facts<'_> {
        Facts {
            case_kind: &self.case_kind,
            case_no: &self.case_no,
            status: &self.status,
            next_step: &self.next_step,
            changed_at: self.changed_at,
            amount_fen: self.amount_fen,
        }
    }
}

impl Message {
    /// The message of a change: `您的补贴申请SB-…：审核通过。等待发放补贴。`
    pub fn about(news: CaseNews, link: String) -> Message {
        let amount = news
            .amount_fen
            .map(|fen| format!("（{}.{:02}元）", fen / 100, fen % 100))
            .unwrap_or_default();
        Message {
            title: format!("{}进度", news.case_kind),
            body: format!(
                "您的{}{}：{}{}。{}。",
                news.case_kind, news.case_no, news.status, amount, news.next_step
            ),
            link: Some(link),
            news: Some(news),
        }
    }
}

/// An event a lifecycle raises for its worker, e.g. `application.approve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: String,
    /// Whether its messages carry an amount, for an `amount` field.
    pub carries_amount: bool,
}

/// Each configured template against the events there are: a name that is
/// neither an event nor a lifecycle would never be used, and an amount field
/// on an event without an amount would never be sent.
pub fn check_templates(templates: &Templates, events: &[Event]) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for (name, template) in templates.entries() {
        let covered: Vec<&Event> = events
            .iter()
            .filter(|event| event.name == name || event.name.split_once('.').is_some_and(|(of, _)| of == name))
            .collect();
        if covered.is_empty() {
            let known: Vec<&str> = events.iter().map(|event| event.name.as_str()).collect();
            problems.push(format!("{name} is not an event ({})", known.join(", ")));
        } else if template.needs_amount() && covered.iter().any(|event| !event.carries_amount) {
            problems.push(format!(
                "{name}: an amount field, but not every event it covers carries an amount"
            ));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::infra::subscribe_message::parse_templates;

    fn events() -> Vec<Event> {
        [("application.approve", true), ("application.reject", false)]
            .into_iter()
            .map(|(name, carries_amount)| Event {
                name: name.to_owned(),
                carries_amount,
            })
            .collect()
    }

    #[test]
    fn a_message_names_the_case_its_status_and_the_next_step() {
        let news = CaseNews {
            case_kind: "补贴申请".to_owned(),
            case_no: "SB-450102-20261130-0001".to_owned(),
            status: "审核通过".to_owned(),
            next_step: "等待发放补贴".to_owned(),
            amount_fen: Some(150_000),
            changed_at: Utc.with_ymd_and_hms(2026, 11, 30, 6, 5, 0).unwrap(),
        };
        let message = Message::about(news, "pages/x".to_owned());
        assert_eq!(message.title, "补贴申请进度");
        assert_eq!(
            message.body,
            "您的补贴申请SB-450102-20261130-0001：审核通过（1500.00元）。等待发放补贴。"
        );
    }

    #[test]
    fn templates_must_name_events_and_amounts_only_where_there_are_some() {
        let check = |text: &str| check_templates(&parse_templates(text).unwrap(), &events());
        assert!(check(r#"{"application.approve": {"template_id": "T", "fields": {"amount1": "amount"}}}"#).is_ok());
        assert!(check(r#"{"application": {"template_id": "T", "fields": {"phrase1": "status"}}}"#).is_ok());
        assert!(check(r#"{"application": {"template_id": "T", "fields": {"amount1": "amount"}}}"#).is_err());
        assert!(check(r#"{"application.approved": {"template_id": "T", "fields": {"phrase1": "status"}}}"#).is_err());
        assert!(check(r#"{"wage_report": {"template_id": "T", "fields": {"phrase1": "status"}}}"#).is_err());
    }
}
