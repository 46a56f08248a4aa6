//! A program's rules as data, and the one engine that applies them:
//! eligibility criteria (each explained in Chinese), the amount rule, and the
//! form a worker fills in.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::{HukouType, RegionCode, fen_from_yuan};

mod checks;
mod coherence;
mod prefill;

pub use checks::evaluate;
pub use coherence::{Conflict, conflicts};
pub use prefill::{PROFILE_ANSWERS, ProfileAnswers, auto_offer_conflicts, prefill};

/// Answers of the form that criteria and amount rules read.
pub mod answer {
    pub const RETURNING_WORKER: &str = "returning_worker";
    pub const BUSINESS_REGISTERED_ON: &str = "business_registered_on";
    pub const EMPLOYEES: &str = "employees";
    pub const SOCIAL_INSURANCE_MONTHS: &str = "social_insurance_months";
    pub const CERTIFICATE_LEVEL: &str = "certificate_level";
    /// In yuan, as the worker types it; converted to fen once, by the amount rule.
    pub const REQUESTED_AMOUNT_YUAN: &str = "requested_amount_yuan";
}

/// One eligibility rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Criterion {
    /// Age, from the birth date in the ID number.
    AgeBetween {
        min: u8,
        max: u8,
    },
    HukouType {
        allowed: Vec<HukouType>,
    },
    /// Residence or work region inside the program's region.
    LivesOrWorksInRegion,
    /// A migrant worker who came back home (answer `returning_worker`).
    ReturningWorker,
    /// Business registered at most `months` ago (answer `business_registered_on`).
    BusinessRegisteredWithinMonths {
        months: u32,
    },
    /// Business running for at least `months` (answer `business_registered_on`).
    BusinessRunningAtLeastMonths {
        months: u32,
    },
    /// At least `count` employees (answer `employees`).
    EmployeesAtLeast {
        count: u32,
    },
    /// Social insurance paid for at least `months` (answer `social_insurance_months`).
    SocialInsuranceMonthsAtLeast {
        months: u32,
    },
    /// A vocational certificate of `level` or higher: 1 (高级技师) is the
    /// highest, 5 (初级工) the lowest (answer `certificate_level`).
    CertificateAtLeastLevel {
        level: u8,
    },
}

/// How much a successful application is worth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AmountRule {
    Fixed {
        amount_fen: i64,
    },
    /// By certificate level (answer `certificate_level`), e.g. {"5": 100000, "4": 150000, "3": 200000}.
    ByCertificateLevel {
        amounts_fen: BTreeMap<String, i64>,
    },
    /// What the worker asks for (answer `requested_amount_yuan`, in yuan), at most `max_fen`.
    UpTo {
        max_fen: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Integer,
    Date,
    Boolean,
    /// An amount of money in yuan, more than 0 with at most two decimals
    /// (`3456.78`); `min` and `max` are in yuan too.
    Yuan,
}

/// One question of a program's form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    pub key: String,
    /// The question as the worker reads it.
    pub label: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
}

impl FormField {
    /// Whether a whole number is inside the field's bounds.
    fn admits(&self, n: i64) -> bool {
        self.min.is_none_or(|min| n >= min) && self.max.is_none_or(|max| n <= max)
    }

    /// Whether an amount in fen is inside the field's bounds in yuan.
    fn admits_fen(&self, fen: i64) -> bool {
        self.min.is_none_or(|min| fen >= min.saturating_mul(100))
            && self.max.is_none_or(|max| fen <= max.saturating_mul(100))
    }
}

/// A document the application must carry (upload `purpose`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentRequirement {
    pub kind: String,
    pub label: String,
}

/// What is known of the worker when the rules are applied.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    pub birth_date: Option<NaiveDate>,
    pub hukou_type: Option<HukouType>,
    pub residence: Option<RegionCode>,
    pub work: Option<RegionCode>,
    /// `None` before the worker has filled the form (eligibility preview).
    pub answers: Option<&'a Map<String, Value>>,
    /// The vocational certificate the application carries, fetched from
    /// the licence service (电子证照): its level is read from it, never
    /// from what was typed.
    pub certificate: Option<CertifiedLevel>,
}

/// A certificate level as the licence service answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiedLevel {
    /// 1 (高级技师) to 5 (初级工).
    pub level: u8,
    pub issuer: String,
}

impl CertifiedLevel {
    /// The level's name, e.g. 四级（中级工）.
    pub fn name(&self) -> &'static str {
        level_name(self.level)
    }
}

/// The answers as the rules read them: the certified level in place of a
/// typed `certificate_level` (where the form asks one), and a typed level
/// that contradicts the certificate refused with both named in Chinese.
pub fn with_certified_level(
    fields: &[FormField],
    answers: &Map<String, Value>,
    certified: &CertifiedLevel,
) -> Result<Map<String, Value>, String> {
    let mut read = answers.clone();
    if let Some(typed) = answers.get(answer::CERTIFICATE_LEVEL)
        && typed.as_i64() != Some(i64::from(certified.level))
    {
        let typed = typed
            .as_i64()
            .filter(|level| (1..=5).contains(level))
            .map_or_else(|| typed.to_string(), |level| level_name(level as u8).to_owned());
        return Err(format!(
            "填写的证书等级是{typed}，电子证照上是{}（{}），以电子证照为准。",
            certified.name(),
            certified.issuer
        ));
    }
    if fields.iter().any(|f| f.key == answer::CERTIFICATE_LEVEL) {
        read.insert(answer::CERTIFICATE_LEVEL.to_owned(), Value::from(certified.level));
    }
    Ok(read)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub criterion: &'static str,
    pub passed: bool,
    /// The fact is asked in the application form and not known yet.
    pub pending: bool,
    /// The fact is the profile's and the worker has not given it yet: not
    /// passed, but not failed either (政策找人 lists it as still unknown).
    pub missing: bool,
    /// In Chinese, for the worker.
    pub detail: String,
}

fn months_between(from: NaiveDate, to: NaiveDate) -> i64 {
    let months = i64::from(to.year() - from.year()) * 12 + i64::from(to.month()) - i64::from(from.month());
    if to.day() < from.day() { months - 1 } else { months }
}

fn age_on(birth: NaiveDate, today: NaiveDate) -> i64 {
    months_between(birth, today).div_euclid(12)
}

impl Criterion {
    pub fn key(&self) -> &'static str {
        match self {
            Criterion::AgeBetween { .. } => "age_between",
            Criterion::HukouType { .. } => "hukou_type",
            Criterion::LivesOrWorksInRegion => "lives_or_works_in_region",
            Criterion::ReturningWorker => "returning_worker",
            Criterion::BusinessRegisteredWithinMonths { .. } => "business_registered_within_months",
            Criterion::BusinessRunningAtLeastMonths { .. } => "business_running_at_least_months",
            Criterion::EmployeesAtLeast { .. } => "employees_at_least",
            Criterion::SocialInsuranceMonthsAtLeast { .. } => "social_insurance_months_at_least",
            Criterion::CertificateAtLeastLevel { .. } => "certificate_at_least_level",
        }
    }

    /// The rule in words, as the program page shows it.
    pub fn describe(&self) -> String {
        match self {
            Criterion::AgeBetween { min, max } => format!("年龄在{min}到{max}周岁之间"),
            Criterion::HukouType { allowed } => format!("户口性质为{}", hukou_names(allowed)),
            Criterion::LivesOrWorksInRegion => "在本地居住或工作".to_owned(),
            Criterion::ReturningWorker => "是返乡农民工".to_owned(),
            Criterion::BusinessRegisteredWithinMonths { months } => format!("企业（个体户）登记注册不超过{months}个月"),
            Criterion::BusinessRunningAtLeastMonths { months } => format!("企业（个体户）已正常经营{months}个月以上"),
            Criterion::EmployeesAtLeast { count } => format!("带动就业{count}人以上"),
            Criterion::SocialInsuranceMonthsAtLeast { months } => format!("已缴纳社会保险{months}个月以上"),
            Criterion::CertificateAtLeastLevel { level } => {
                format!("取得{}或以上职业资格（技能等级）证书", level_name(*level))
            }
        }
    }
}

fn hukou_names(allowed: &[HukouType]) -> String {
    allowed
        .iter()
        .map(|h| match h {
            HukouType::Agricultural => "农业户口",
            HukouType::NonAgricultural => "非农业户口",
            HukouType::Resident => "居民户口",
        })
        .collect::<Vec<_>>()
        .join("或")
}

fn level_name(level: u8) -> &'static str {
    match level {
        1 => "一级（高级技师）",
        2 => "二级（技师）",
        3 => "三级（高级工）",
        4 => "四级（中级工）",
        _ => "五级（初级工）",
    }
}

fn integer(answers: &Map<String, Value>, key: &str) -> Option<i64> {
    answers.get(key).and_then(Value::as_i64)
}

fn date(answers: &Map<String, Value>, key: &str) -> Option<NaiveDate> {
    answers
        .get(key)
        .and_then(Value::as_str)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

impl AmountRule {
    /// The amount an application is worth under the rule, in fen, or why it
    /// cannot be worked out (in Chinese).
    pub fn amount(&self, answers: &Map<String, Value>) -> Result<i64, String> {
        match self {
            AmountRule::Fixed { amount_fen } => Ok(*amount_fen),
            AmountRule::ByCertificateLevel { amounts_fen } => {
                let level = integer(answers, answer::CERTIFICATE_LEVEL).ok_or("请填写证书等级。")?;
                amounts_fen
                    .get(&level.to_string())
                    .copied()
                    .ok_or_else(|| format!("{}的证书不在补贴范围内。", level_name(level.clamp(1, 5) as u8)))
            }
            AmountRule::UpTo { max_fen } => {
                let asked = answers
                    .get(answer::REQUESTED_AMOUNT_YUAN)
                    .and_then(fen_from_yuan)
                    .ok_or("请填写申请金额（元），要大于0，最多两位小数。")?;
                Ok(asked.min(*max_fen))
            }
        }
    }

    /// Whether the rule can pay anything: positive amounts, levels 1 to 5.
    pub fn is_sound(&self) -> bool {
        match self {
            AmountRule::Fixed { amount_fen } => *amount_fen > 0,
            AmountRule::ByCertificateLevel { amounts_fen } => {
                !amounts_fen.is_empty()
                    && amounts_fen
                        .iter()
                        .all(|(level, fen)| matches!(level.as_str(), "1" | "2" | "3" | "4" | "5") && *fen > 0)
            }
            AmountRule::UpTo { max_fen } => *max_fen > 0,
        }
    }

    /// The most any application can be worth.
    pub fn ceiling(&self) -> i64 {
        match self {
            AmountRule::Fixed { amount_fen } => *amount_fen,
            AmountRule::ByCertificateLevel { amounts_fen } => amounts_fen.values().copied().max().unwrap_or(0),
            AmountRule::UpTo { max_fen } => *max_fen,
        }
    }

    pub fn describe(&self) -> String {
        let yuan = |fen: i64| format!("{}元", fen / 100);
        match self {
            AmountRule::Fixed { amount_fen } => format!("每人{}", yuan(*amount_fen)),
            AmountRule::ByCertificateLevel { amounts_fen } => amounts_fen
                .iter()
                .rev()
                .map(|(level, fen)| format!("{}{}", level_name(level.parse().unwrap_or(5)), yuan(*fen)))
                .collect::<Vec<_>>()
                .join("，"),
            AmountRule::UpTo { max_fen } => format!("按实际申请，最高{}", yuan(*max_fen)),
        }
    }
}

/// Checks answers against the form: known keys, right kinds, bounds, and (when
/// `complete`) every required field present. Returns the first problem as
/// (field, Chinese reason).
pub fn validate_answers(
    fields: &[FormField],
    answers: &Map<String, Value>,
    complete: bool,
) -> Result<(), (String, String)> {
    for (key, value) in answers {
        let Some(field) = fields.iter().find(|f| &f.key == key) else {
            return Err((format!("answers.{key}"), "这一项不在申请表里。".to_owned()));
        };
        let fits = match field.kind {
            FieldKind::Text => value
                .as_str()
                .is_some_and(|t| !t.trim().is_empty() && t.chars().count() <= 500),
            FieldKind::Boolean => value.is_boolean(),
            FieldKind::Date => value
                .as_str()
                .is_some_and(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok()),
            FieldKind::Integer => value.as_i64().is_some_and(|n| field.admits(n)),
            FieldKind::Yuan => fen_from_yuan(value).is_some_and(|fen| field.admits_fen(fen)),
        };
        if !fits {
            let expected = match field.kind {
                FieldKind::Text => "请填写文字（不超过500字）".to_owned(),
                FieldKind::Boolean => "请选择“是”或“否”".to_owned(),
                FieldKind::Date => "请填写日期，格式如 2026-01-31".to_owned(),
                FieldKind::Integer => match (field.min, field.max) {
                    (Some(min), Some(max)) => format!("请填写{min}到{max}之间的整数"),
                    _ => "请填写整数".to_owned(),
                },
                FieldKind::Yuan => match field.max {
                    Some(max) => format!("请填写不超过{max}元的金额，要大于0，最多两位小数"),
                    None => "请填写金额（元），要大于0，最多两位小数".to_owned(),
                },
            };
            return Err((
                format!("answers.{key}"),
                format!("“{}”填写有误：{expected}。", field.label),
            ));
        }
    }
    if complete && let Some(field) = fields.iter().find(|f| f.required && !answers.contains_key(&f.key)) {
        return Err((format!("answers.{}", field.key), format!("请填写“{}”。", field.label)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{domain::TextType, regions::RegionDirectory};

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// The checks of a Guangxi program's `criteria` on 2026-11-22.
    fn guangxi_checks(criteria: &[Criterion], facts: &Facts<'_>) -> Vec<Check> {
        let guangxi = RegionCode::parse("450000").unwrap();
        evaluate(criteria, guangxi, facts, &RegionDirectory::default(), day("2026-11-22"))
    }

    #[test]
    fn ages_and_months_count_whole_units() {
        assert_eq!(age_on(day("1990-11-23"), day("2026-11-22")), 35);
        assert_eq!(age_on(day("1990-11-22"), day("2026-11-22")), 36);
        assert_eq!(months_between(day("2026-05-23"), day("2026-11-22")), 5);
        assert_eq!(months_between(day("2026-05-22"), day("2026-11-22")), 6);
    }

    #[test]
    fn a_returning_entrepreneur_passes_every_criterion_with_chinese_reasons() {
        let criteria: Vec<Criterion> = serde_json::from_value(json!([
            {"type": "returning_worker"},
            {"type": "business_running_at_least_months", "months": 6},
            {"type": "employees_at_least", "count": 3},
            {"type": "age_between", "min": 16, "max": 60}
        ]))
        .unwrap();
        let answers = json!({"returning_worker": true, "business_registered_on": "2026-01-10", "employees": 3});
        let facts = Facts {
            birth_date: Some(day("1988-03-01")),
            answers: answers.as_object(),
            ..Default::default()
        };
        let checks = guangxi_checks(&criteria, &facts);
        assert!(checks.iter().all(|c| c.passed), "{checks:?}");
        assert!(checks[3].detail.contains("38岁"));

        let short = json!({"returning_worker": true, "business_registered_on": "2026-08-01", "employees": 2});
        let facts = Facts {
            answers: short.as_object(),
            ..facts
        };
        let checks = guangxi_checks(&criteria, &facts);
        assert_eq!(checks.iter().filter(|c| !c.passed).count(), 2);
    }

    #[test]
    fn without_answers_form_questions_are_pending() {
        let checks = evaluate(
            &[Criterion::EmployeesAtLeast { count: 3 }],
            RegionCode::NATIONAL,
            &Facts::default(),
            &RegionDirectory::default(),
            day("2026-11-22"),
        );
        assert!(checks[0].pending && !checks[0].passed);
    }

    #[test]
    fn amounts_follow_the_rule() {
        let by_level: AmountRule = serde_json::from_value(
            json!({"type": "by_certificate_level", "amounts_fen": {"5": 100000, "4": 150000, "3": 200000}}),
        )
        .unwrap();
        let answers = json!({"certificate_level": 4});
        assert_eq!(by_level.amount(answers.as_object().unwrap()), Ok(150_000));
        assert!(
            by_level
                .amount(json!({"certificate_level": 1}).as_object().unwrap())
                .is_err()
        );
        assert_eq!(by_level.ceiling(), 200_000);
        let capped = AmountRule::UpTo { max_fen: 1_000_000 };
        assert_eq!(
            capped.amount(json!({"requested_amount_yuan": 50_000}).as_object().unwrap()),
            Ok(1_000_000)
        );
        assert_eq!(
            capped.amount(json!({"requested_amount_yuan": 3456.78}).as_object().unwrap()),
            Ok(345_678)
        );
        assert!(
            capped
                .amount(json!({"requested_amount_yuan": 0}).as_object().unwrap())
                .is_err()
        );
    }

    #[test]
    fn answers_are_checked_against_the_form() {
        let fields = vec![
            FormField {
                key: "employees".into(),
                label: "员工人数".into(),
                kind: FieldKind::Integer,
                required: true,
                min: Some(0),
                max: Some(10_000),
            },
            FormField {
                key: "note".into(),
                label: "说明".into(),
                kind: FieldKind::Text,
                required: false,
                min: None,
                max: None,
            },
        ];
        assert!(validate_answers(&fields, json!({"employees": 3}).as_object().unwrap(), true).is_ok());
        assert_eq!(
            validate_answers(&fields, json!({"employees": -1}).as_object().unwrap(), true)
                .unwrap_err()
                .0,
            "answers.employees"
        );
        assert_eq!(
            validate_answers(&fields, json!({"other": 1}).as_object().unwrap(), false)
                .unwrap_err()
                .0,
            "answers.other"
        );
        assert!(validate_answers(&fields, json!({}).as_object().unwrap(), false).is_ok());
        assert!(validate_answers(&fields, json!({}).as_object().unwrap(), true).is_err());
    }
}
