//! A program's rules read as a whole: no criterion or form field may admit
//! what the amount rule refuses, and every answer a rule reads must be asked,
//! required, in the form. Otherwise a worker passes the eligibility check
//! and is refused at submission (issue 17: the Jiangsu program admitted a
//! 技师 and paid only levels 3 to 5).

use super::{AmountRule, Criterion, FieldKind, FormField, answer, level_name};
use crate::domain::yuan_text;

/// One contradiction, for the administrator: the field path it is found at,
/// and what is wrong, in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub field: String,
    pub zh: String,
    pub en: String,
}

/// Every contradiction between the amount rule, the criteria and the form;
/// empty when the program holds together.
pub fn conflicts(amount_rule: &AmountRule, criteria: &[Criterion], form: &[FormField]) -> Vec<Conflict> {
    let mut found = Vec::new();
    for (index, criterion) in criteria.iter().enumerate() {
        found.extend(criterion_conflict(index, criterion, form));
    }
    match amount_rule {
        AmountRule::Fixed { .. } => {}
        AmountRule::ByCertificateLevel { amounts_fen } => {
            found.extend(unpaid_levels(criteria, form, |level| {
                amounts_fen.contains_key(&level.to_string())
            }));
        }
        AmountRule::UpTo { max_fen } => found.extend(uncapped_request(*max_fen, form)),
    }
    found
}

/// The form field a rule reads, when the form asks it, required, of the right kind.
fn asked<'a>(form: &'a [FormField], key: &str, kind: FieldKind) -> Result<(usize, &'a FormField), Conflict> {
    let kind_name = match kind {
        FieldKind::Text => "文字（text）",
        FieldKind::Integer => "整数（integer）",
        FieldKind::Date => "日期（date）",
        FieldKind::Boolean => "是否（boolean）",
        FieldKind::Yuan => "金额（yuan）",
    };
    form.iter()
        .enumerate()
        .find(|(_, f)| f.key == key && f.kind == kind && f.required)
        .ok_or_else(|| Conflict {
            field: "form_fields".to_owned(),
            zh: format!("申请表里要有必填的{kind_name}项“{key}”，规则要用它来判断。"),
            en: format!("The rules read the answer {key}: the form must ask it, required, as {kind:?}."),
        })
}

/// A criterion whose answer the form does not ask, or whose threshold no
/// answer the form admits can reach.
fn criterion_conflict(index: usize, criterion: &Criterion, form: &[FormField]) -> Option<Conflict> {
    let (key, kind, least) = match criterion {
        Criterion::ReturningWorker => (answer::RETURNING_WORKER, FieldKind::Boolean, None),
        Criterion::BusinessRegisteredWithinMonths { .. } | Criterion::BusinessRunningAtLeastMonths { .. } => {
            (answer::BUSINESS_REGISTERED_ON, FieldKind::Date, None)
        }
        Criterion::EmployeesAtLeast { count } => (answer::EMPLOYEES, FieldKind::Integer, Some(i64::from(*count))),
        Criterion::SocialInsuranceMonthsAtLeast { months } => (
            answer::SOCIAL_INSURANCE_MONTHS,
            FieldKind::Integer,
            Some(i64::from(*months)),
        ),
        Criterion::CertificateAtLeastLevel { .. } => (answer::CERTIFICATE_LEVEL, FieldKind::Integer, None),
        Criterion::AgeBetween { .. } | Criterion::HukouType { .. } | Criterion::LivesOrWorksInRegion => return None,
    };
    let (position, field) = match asked(form, key, kind) {
        Ok(found) => found,
        Err(missing) => {
            return Some(Conflict {
                field: format!("criteria[{index}]"),
                zh: format!("条件“{}”：{}", criterion.describe(), missing.zh),
                en: missing.en,
            });
        }
    };
    let max = field.max?;
    (least? > max).then(|| Conflict {
        field: format!("form_fields[{position}].max"),
        zh: format!(
            "“{}”最多只能填{max}，达不到条件“{}”，没有人能申请。",
            field.label,
            criterion.describe()
        ),
        en: format!("{key} is at most {max}, below what criteria[{index}] asks."),
    })
}

/// Certificate levels the criteria and the form admit and the amount rule
/// does not pay.
fn unpaid_levels(criteria: &[Criterion], form: &[FormField], paid: impl Fn(u8) -> bool) -> Option<Conflict> {
    let (position, field) = match asked(form, answer::CERTIFICATE_LEVEL, FieldKind::Integer) {
        Ok(found) => found,
        Err(missing) => {
            return Some(Conflict {
                zh: format!("补贴金额按证书等级计算：{}", missing.zh),
                ..missing
            });
        }
    };
    let admitted = (1..=5u8).filter(|level| {
        field.admits(i64::from(*level))
            && criteria.iter().all(|c| match c {
                Criterion::CertificateAtLeastLevel { level: lowest } => level <= lowest,
                _ => true,
            })
    });
    let unpaid: Vec<u8> = admitted.filter(|level| !paid(*level)).collect();
    if unpaid.is_empty() {
        return None;
    }
    let names: Vec<&str> = unpaid.iter().map(|level| level_name(*level)).collect();
    let levels: Vec<String> = unpaid.iter().map(u8::to_string).collect();
    Some(Conflict {
        field: "amount_rule.amounts_fen".to_owned(),
        zh: format!(
            "申请条件和申请表第{}项“{}”允许{}的证书，补贴金额却没有这些等级：请补上它们的金额，或把条件和申请表改为只允许有金额的等级。",
            position + 1,
            field.label,
            names.join("、")
        ),
        en: format!(
            "Certificate levels {} are admitted by the criteria and form_fields[{position}] but have no amount.",
            levels.join(", ")
        ),
    })
}

/// An `up_to` rule whose form lets the worker ask more than it pays.
fn uncapped_request(max_fen: i64, form: &[FormField]) -> Option<Conflict> {
    let (position, field) = match asked(form, answer::REQUESTED_AMOUNT_YUAN, FieldKind::Yuan) {
        Ok(found) => found,
        Err(missing) => {
            return Some(Conflict {
                zh: format!("补贴按申请金额计算（最高{}元）：{}", yuan_text(max_fen), missing.zh),
                ..missing
            });
        }
    };
    match field.max {
        Some(max) if max.saturating_mul(100) <= max_fen => None,
        asked_max => Some(Conflict {
            field: format!("form_fields[{position}].max"),
            zh: match asked_max {
                Some(max) => format!(
                    "“{}”允许申请到{max}元，补贴最高只有{}元：请把上限改为不超过{}元。",
                    field.label,
                    yuan_text(max_fen),
                    yuan_text(max_fen)
                ),
                None => format!(
                    "“{}”没有上限，补贴最高只有{}元：请设上限，不超过{}元。",
                    field.label,
                    yuan_text(max_fen),
                    yuan_text(max_fen)
                ),
            },
            en: format!("{} may ask more than the rule's max_fen {max_fen}.", field.key),
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn form(fields: serde_json::Value) -> Vec<FormField> {
        serde_json::from_value(fields).unwrap()
    }

    fn levels(amounts: serde_json::Value) -> AmountRule {
        serde_json::from_value(json!({"type": "by_certificate_level", "amounts_fen": amounts})).unwrap()
    }

    fn level_field(min: i64, max: i64) -> Vec<FormField> {
        form(
            json!([{"key": "certificate_level", "label": "证书等级", "kind": "integer", "required": true, "min": min, "max": max}]),
        )
    }

    const THREE_TO_FIVE: fn() -> serde_json::Value = || json!({"5": 100000, "4": 150000, "3": 200000});

    #[test]
    fn a_form_admitting_levels_the_amount_does_not_pay_is_a_conflict() {
        let found = conflicts(&levels(THREE_TO_FIVE()), &[], &level_field(1, 5));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "amount_rule.amounts_fen");
        assert!(
            found[0].zh.contains("一级（高级技师）、二级（技师）"),
            "{}",
            found[0].zh
        );
        assert!(conflicts(&levels(THREE_TO_FIVE()), &[], &level_field(3, 5)).is_empty());
    }

    #[test]
    fn a_criterion_narrows_what_the_form_admits() {
        let at_least_three = [Criterion::CertificateAtLeastLevel { level: 3 }];
        let paid_one_to_three = levels(json!({"1": 300000, "2": 250000, "3": 200000}));
        assert!(conflicts(&paid_one_to_three, &at_least_three, &level_field(1, 5)).is_empty());
        let any_level = [Criterion::CertificateAtLeastLevel { level: 5 }];
        let found = conflicts(&paid_one_to_three, &any_level, &level_field(1, 5));
        assert!(found[0].zh.contains("四级（中级工）、五级（初级工）"), "{found:?}");
    }

    #[test]
    fn an_amount_by_level_needs_the_level_asked_and_required() {
        let optional = form(json!([{"key": "certificate_level", "label": "证书等级", "kind": "integer"}]));
        let found = conflicts(&levels(THREE_TO_FIVE()), &[], &optional);
        assert_eq!(found[0].field, "form_fields");
        assert!(found[0].zh.contains("certificate_level"));
    }

    #[test]
    fn an_up_to_rule_needs_a_requested_amount_no_higher_than_it() {
        let rule = AmountRule::UpTo { max_fen: 1_000_000 };
        let asked = |max: serde_json::Value| {
            form(
                json!([{"key": "requested_amount_yuan", "label": "申请贴息金额（元）", "kind": "yuan", "required": true, "max": max}]),
            )
        };
        assert!(conflicts(&rule, &[], &asked(json!(10_000))).is_empty());
        let found = conflicts(&rule, &[], &asked(json!(20_000)));
        assert_eq!(found[0].field, "form_fields[0].max");
        assert!(found[0].zh.contains("最高只有10000.00元"), "{}", found[0].zh);
        let in_fen = form(
            json!([{"key": "requested_amount_fen", "label": "申请金额（分）", "kind": "integer", "required": true}]),
        );
        assert_eq!(conflicts(&rule, &[], &in_fen)[0].field, "form_fields");
        let unbounded =
            form(json!([{"key": "requested_amount_yuan", "label": "申请金额", "kind": "yuan", "required": true}]));
        assert_eq!(conflicts(&rule, &[], &unbounded)[0].field, "form_fields[0].max");
    }

    #[test]
    fn a_criterion_needs_its_answer_asked_and_reachable() {
        let criteria = [Criterion::ReturningWorker, Criterion::EmployeesAtLeast { count: 3 }];
        let found = conflicts(&AmountRule::Fixed { amount_fen: 500_000 }, &criteria, &[]);
        assert_eq!(
            found.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
            ["criteria[0]", "criteria[1]"]
        );
        assert!(found[0].zh.contains("是返乡农民工"), "{}", found[0].zh);
        let too_few = form(json!([
            {"key": "returning_worker", "label": "是否返乡农民工", "kind": "boolean", "required": true},
            {"key": "employees", "label": "带动就业人数", "kind": "integer", "required": true, "min": 0, "max": 2}
        ]));
        let found = conflicts(&AmountRule::Fixed { amount_fen: 500_000 }, &criteria, &too_few);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "form_fields[1].max");
    }

    #[test]
    fn profile_criteria_and_fixed_amounts_need_no_form() {
        let criteria = [
            Criterion::LivesOrWorksInRegion,
            Criterion::AgeBetween { min: 16, max: 60 },
        ];
        assert!(conflicts(&AmountRule::Fixed { amount_fen: 80_000 }, &criteria, &[]).is_empty());
    }
}
