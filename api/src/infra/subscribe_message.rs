//! WeChat subscribe-message templates (订阅消息): which template an event is
//! sent with, and what goes in each of its fields. A field's type is the
//! prefix of its key (`thing3`, `phrase1`, …) and WeChat refuses a message
//! whose value breaks the type's rule, so every value is cut to the type's
//! length here, and only facts that fit a type may be mapped to it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::domain::china_time;

/// The field types a template of this service may use, with WeChat's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Up to 20 characters of text.
    Thing,
    /// Up to 5 Chinese characters: a status.
    Phrase,
    /// Up to 32 letters, digits and symbols: a case number.
    CharacterString,
    /// A moment: `2026年11月30日 14:05`.
    Time,
    /// A day: `2026年11月30日`.
    Date,
    /// Money: `1500.00元`.
    Amount,
}

impl FieldKind {
    /// The type named by a field key such as `character_string2`.
    fn of_key(key: &str) -> Option<FieldKind> {
        let name = key.trim_end_matches(|c: char| c.is_ascii_digit());
        if name.len() == key.len() {
            return None;
        }
        Some(match name {
            "thing" => FieldKind::Thing,
            "phrase" => FieldKind::Phrase,
            "character_string" => FieldKind::CharacterString,
            "time" => FieldKind::Time,
            "date" => FieldKind::Date,
            "amount" => FieldKind::Amount,
            _ => return None,
        })
    }

    /// The most characters WeChat takes, for the text types.
    fn max_chars(self) -> Option<usize> {
        match self {
            FieldKind::Thing => Some(20),
            FieldKind::Phrase => Some(5),
            FieldKind::CharacterString => Some(32),
            FieldKind::Time | FieldKind::Date | FieldKind::Amount => None,
        }
    }
}

/// A fact of a case change that a field may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// What kind of case: 补贴申请, 欠薪线索, 社保转移接续.
    CaseKind,
    /// The case's number, e.g. `SB-450102-20261130-0001`.
    CaseNo,
    /// The new status, e.g. 审核通过 (five characters at most).
    Status,
    /// What happens next or what the worker must do.
    NextStep,
    /// When the change was made.
    ChangedAt,
    /// The amount approved or paid; only for the events that carry one.
    Amount,
}

impl Source {
    fn fits(self, kind: FieldKind) -> bool {
        match kind {
            FieldKind::Thing => matches!(
                self,
                Source::CaseKind | Source::CaseNo | Source::Status | Source::NextStep
            ),
            FieldKind::Phrase => self == Source::Status,
            FieldKind::CharacterString => self == Source::CaseNo,
            FieldKind::Time | FieldKind::Date => self == Source::ChangedAt,
            FieldKind::Amount => self == Source::Amount,
        }
    }
}

/// One field of a template: its key, its type and the fact it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateField {
    pub key: String,
    pub kind: FieldKind,
    pub source: Source,
}

/// The facts of one change, as the fields show them.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub case_kind: &'a str,
    pub case_no: &'a str,
    pub status: &'a str,
    pub next_step: &'a str,
    pub changed_at: DateTime<Utc>,
    pub amount_fen: Option<i64>,
}

/// A template and its fields, as configured for an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub template_id: String,
    pub fields: Vec<TemplateField>,
}

impl Template {
    pub fn needs_amount(&self) -> bool {
        self.fields.iter().any(|field| field.source == Source::Amount)
    }

    /// The `data` of the send request. `None` when a field's fact is
    /// missing (an amount the change does not carry): such a message would
    /// be refused by WeChat.
    pub fn render(&self, facts: &Facts<'_>) -> Option<Value> {
        let mut data = Map::new();
        for field in &self.fields {
            let value = render_field(field.kind, field.source, facts)?;
            data.insert(field.key.clone(), json!({ "value": value }));
        }
        Some(Value::Object(data))
    }
}

fn render_field(kind: FieldKind, source: Source, facts: &Facts<'_>) -> Option<String> {
    let text = match source {
        Source::CaseKind => facts.case_kind.to_owned(),
        Source::CaseNo => facts.case_no.to_owned(),
        Source::Status => facts.status.to_owned(),
        Source::NextStep => facts.next_step.to_owned(),
        Source::ChangedAt => {
            let local = china_time::local(facts.changed_at);
            let format = if kind == FieldKind::Date {
                "%Y年%m月%d日"
            } else {
                "%Y年%m月%d日 %H:%M"
            };
            return Some(local.format(format).to_string());
        }
        Source::Amount => {
            let fen = facts.amount_fen?;
            return Some(format!("{}.{:02}元", fen / 100, fen % 100));
        }
    };
    Some(match kind.max_chars() {
        Some(max) => cut(&text, max),
        None => text,
    })
}

/// `text` in at most `max` characters; a cut one ends with an ellipsis so
/// that the reader knows there is more in the app.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(max - 1).collect();
    kept.push('…');
    kept
}

/// The templates by event (`application.approve`) or by lifecycle
/// (`application`, for each of its events that has none of its own).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Templates(BTreeMap<String, Template>);

impl Templates {
    pub fn for_event(&self, event: &str) -> Option<&Template> {
        let lifecycle = event.split_once('.').map_or(event, |(lifecycle, _)| lifecycle);
        self.0.get(event).or_else(|| self.0.get(lifecycle))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The configured names with their templates, to be checked against
    /// the events there are.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Template)> {
        self.0.iter().map(|(name, template)| (name.as_str(), template))
    }
}

/// How an operator writes one template in `SHIMINHUA_WECHAT_TEMPLATES`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateText {
    template_id: String,
    fields: BTreeMap<String, Source>,
}

/// Reads `{"event": {"template_id": "…", "fields": {"thing1": "case_kind", …}}, …}`.
/// Every problem is named, so that the operator fixes them in one round.
pub fn parse_templates(text: &str) -> Result<Templates, Vec<String>> {
    let written: BTreeMap<String, TemplateText> =
        serde_json::from_str(text).map_err(|err| vec![format!("is not valid JSON of templates ({err})")])?;
    let mut problems = Vec::new();
    let mut templates = BTreeMap::new();
    for (event, template) in written {
        if template.template_id.trim().is_empty() {
            problems.push(format!("{event}: template_id is empty"));
        }
        if template.fields.is_empty() {
            problems.push(format!("{event}: no fields"));
        }
        let mut fields = Vec::new();
        for (key, source) in template.fields {
            match FieldKind::of_key(&key) {
                None => problems.push(format!(
                    "{event}: field {key} is not a supported type (thing, phrase, character_string, time, date, amount followed by its number)"
                )),
                Some(kind) if !source.fits(kind) => {
                    problems.push(format!("{event}: field {key} cannot show {source:?}"));
                }
                Some(kind) => fields.push(TemplateField { key, kind, source }),
            }
        }
        templates.insert(
            event,
            Template {
                template_id: template.template_id,
                fields,
            },
        );
    }
    if problems.is_empty() {
        Ok(Templates(templates))
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn facts(amount_fen: Option<i64>) -> Facts<'static> {
        Facts {
            case_kind: "补贴申请",
            case_no: "SB-450102-20261130-0001",
            status: "审核通过",
            next_step: "等待财务发放补贴，到账后会再通知您，请留意银行卡",
            changed_at: Utc.with_ymd_and_hms(2026, 11, 30, 6, 5, 0).unwrap(),
            amount_fen,
        }
    }

    fn template(fields: &str) -> Template {
        let text = format!(r#"{{"application.approve": {{"template_id": "T", "fields": {fields}}}}}"#);
        parse_templates(&text)
            .unwrap()
            .for_event("application.approve")
            .unwrap()
            .clone()
    }

    #[test]
    fn each_field_type_gets_a_value_it_accepts() {
        let template = template(
            r#"{"character_string1": "case_no", "phrase2": "status", "thing3": "next_step",
                "time4": "changed_at", "date5": "changed_at", "amount6": "amount", "thing7": "case_kind"}"#,
        );
        let data = template.render(&facts(Some(150_050))).unwrap();
        assert_eq!(data["character_string1"]["value"], "SB-450102-20261130-0001");
        assert_eq!(data["phrase2"]["value"], "审核通过");
        assert_eq!(data["thing3"]["value"], "等待财务发放补贴，到账后会再通知您，请…");
        assert_eq!(data["thing3"]["value"].as_str().unwrap().chars().count(), 20);
        assert_eq!(data["time4"]["value"], "2026年11月30日 14:05", "in China time");
        assert_eq!(data["date5"]["value"], "2026年11月30日");
        assert_eq!(data["amount6"]["value"], "1500.50元");
        assert_eq!(data["thing7"]["value"], "补贴申请");
    }

    #[test]
    fn a_message_without_the_amount_its_template_shows_is_not_rendered() {
        let template = template(r#"{"amount1": "amount"}"#);
        assert!(template.needs_amount());
        assert!(template.render(&facts(None)).is_none());
    }

    #[test]
    fn an_event_without_a_template_of_its_own_takes_its_lifecycles() {
        let templates = parse_templates(
            r#"{"application": {"template_id": "ALL", "fields": {"thing1": "status"}},
                "application.disburse": {"template_id": "PAID", "fields": {"amount1": "amount"}}}"#,
        )
        .unwrap();
        assert_eq!(templates.for_event("application.approve").unwrap().template_id, "ALL");
        assert_eq!(templates.for_event("application.disburse").unwrap().template_id, "PAID");
        assert!(templates.for_event("wage_report.accept").is_none());
    }

    #[test]
    fn a_fact_is_refused_where_its_type_cannot_show_it() {
        let problems = parse_templates(
            r#"{"x": {"template_id": "T", "fields": {"phrase1": "next_step", "amount2": "case_no", "time3": "status"}}}"#,
        )
        .unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn unknown_types_keys_without_a_number_and_empty_templates_are_refused() {
        for text in [
            r#"{"x": {"template_id": "T", "fields": {"number1": "case_no"}}}"#,
            r#"{"x": {"template_id": "T", "fields": {"thing": "case_no"}}}"#,
            r#"{"x": {"template_id": "", "fields": {"thing1": "case_no"}}}"#,
            r#"{"x": {"template_id": "T", "fields": {}}}"#,
            r#"{"x": {"template_id": "T", "fields": {"thing1": "salary"}}}"#,
            r#"{"x": {"template_id": "T", "fields": {"thing1": "case_no"}, "page": "p"}}"#,
            "[]",
        ] {
            assert!(parse_templates(text).is_err(), "{text}");
        }
    }
}
