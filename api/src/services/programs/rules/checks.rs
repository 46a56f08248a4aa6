//! Checking a worker against a program's criteria, one `Check` each.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::{
    CertifiedLevel, Check, Criterion, Facts, age_on, answer, date, hukou_names, integer, level_name, months_between,
};
use crate::{domain::RegionCode, regions::RegionDirectory};

/// Applies every criterion; a program is open to the worker when none fails.
pub fn evaluate(
    criteria: &[Criterion],
    program_region: RegionCode,
    facts: &Facts<'_>,
    regions: &RegionDirectory,
    today: NaiveDate,
) -> Vec<Check> {
    criteria
        .iter()
        .map(|criterion| check(criterion, program_region, facts, regions, today))
        .collect()
}

/// Writes the checks of one criterion.
struct Judge<'a> {
    criterion: &'a Criterion,
    /// Whether the form has been filled: before it has, what it asks is pending.
    answered: bool,
}

impl Judge<'_> {
    fn verdict(&self, passed: bool, detail: String) -> Check {
        Check {
            criterion: self.criterion.key(),
            passed,
            pending: false,
            missing: false,
            detail,
        }
    }

    fn missing(&self, what: &str) -> Check {
        Check {
            missing: true,
            ..self.verdict(false, format!("还不知道您的{what}，请先在“我的资料”里填写。"))
        }
    }

    fn asked(&self, question: &str) -> Option<Check> {
        (!self.answered).then(|| Check {
            criterion: self.criterion.key(),
            passed: false,
            pending: true,
            missing: false,
            detail: format!("申请时需要填写：{question}。"),
        })
    }

    fn unanswered(&self, question: &str) -> Check {
        self.verdict(false, format!("请在申请表里填写：{question}。"))
    }
}

fn check(
    criterion: &Criterion,
    program_region: RegionCode,
    facts: &Facts<'_>,
    regions: &RegionDirectory,
    today: NaiveDate,
) -> Check {
    let judge = Judge {
        criterion,
        answered: facts.answers.is_some(),
    };
    match criterion {
        Criterion::AgeBetween { .. } | Criterion::HukouType { .. } | Criterion::LivesOrWorksInRegion => {
            check_profile(&judge, program_region, facts, regions, today)
        }
        _ => check_answers(
            &judge,
            facts.answers.cloned().unwrap_or_default(),
            facts.certificate.as_ref(),
            today,
        ),
    }
}

/// The criteria the worker's profile answers.
fn check_profile(
    judge: &Judge<'_>,
    program_region: RegionCode,
    facts: &Facts<'_>,
    regions: &RegionDirectory,
    today: NaiveDate,
) -> Check {
    match judge.criterion {
        Criterion::AgeBetween { min, max } => match facts.birth_date {
            None => judge.missing("身份证号（用来确定年龄）"),
            Some(birth) => {
                let age = age_on(birth, today);
                let passed = (i64::from(*min)..=i64::from(*max)).contains(&age);
                let detail = if passed {
                    format!("您{age}岁，符合{min}到{max}周岁的要求。")
                } else {
                    format!("您{age}岁，不在{min}到{max}周岁的范围内。")
                };
                judge.verdict(passed, detail)
            }
        },
        Criterion::HukouType { allowed } => match facts.hukou_type {
            None => judge.missing("户口性质"),
            Some(hukou) if allowed.contains(&hukou) => {
                judge.verdict(true, format!("户口性质符合（{}）。", hukou_names(&[hukou])))
            }
            Some(hukou) => judge.verdict(
                false,
                format!("要求{}，您是{}。", hukou_names(allowed), hukou_names(&[hukou])),
            ),
        },
        Criterion::LivesOrWorksInRegion => {
            if facts.residence.is_none() && facts.work.is_none() {
                return judge.missing("居住地或工作地");
            }
            let inside = [facts.residence, facts.work]
                .into_iter()
                .flatten()
                .any(|r| regions.covers(program_region, r));
            let place = regions.get(program_region).map_or("本地", |r| r.name.as_str());
            if inside {
                judge.verdict(true, format!("您在{place}居住或工作，符合要求。"))
            } else {
                judge.verdict(false, format!("这项补贴只面向在{place}居住或工作的人。"))
            }
        }
        _ => unreachable!("only the profile's criteria are checked here"),
    }
}

/// The criteria the application form answers.
fn check_answers(
    judge: &Judge<'_>,
    answers: Map<String, Value>,
    certificate: Option<&CertifiedLevel>,
    today: NaiveDate,
) -> Check {
    match judge.criterion {
        Criterion::ReturningWorker => judge.asked("是否返乡农民工").unwrap_or_else(|| {
            match answers.get(answer::RETURNING_WORKER).and_then(Value::as_bool) {
                Some(true) => judge.verdict(true, "您是返乡农民工，符合要求。".to_owned()),
                Some(false) => judge.verdict(false, "这项补贴只面向返乡农民工。".to_owned()),
                None => judge.unanswered("是否返乡农民工"),
            }
        }),
        Criterion::BusinessRegisteredWithinMonths { months } => {
            judge.asked("企业（个体户）登记日期").unwrap_or_else(|| {
                match date(&answers, answer::BUSINESS_REGISTERED_ON) {
                    Some(on) if on > today => judge.verdict(false, "登记日期不能晚于今天。".to_owned()),
                    Some(on) => {
                        let age = months_between(on, today);
                        let passed = age <= i64::from(*months);
                        judge.verdict(passed, format!("登记已满{age}个月，要求不超过{months}个月。"))
                    }
                    None => judge.unanswered("企业（个体户）登记日期"),
                }
            })
        }
        Criterion::BusinessRunningAtLeastMonths { months } => {
            judge.asked("企业（个体户）登记日期").unwrap_or_else(|| {
                match date(&answers, answer::BUSINESS_REGISTERED_ON) {
                    Some(on) => {
                        let age = months_between(on, today);
                        let passed = age >= i64::from(*months);
                        judge.verdict(passed, format!("已经营{}个月，要求至少{months}个月。", age.max(0)))
                    }
                    None => judge.unanswered("企业（个体户）登记日期"),
                }
            })
        }
        Criterion::EmployeesAtLeast { count } => {
            judge
                .asked("带动就业人数")
                .unwrap_or_else(|| match integer(&answers, answer::EMPLOYEES) {
                    Some(n) => judge.verdict(n >= i64::from(*count), format!("带动就业{n}人，要求至少{count}人。")),
                    None => judge.unanswered("带动就业人数"),
                })
        }
        Criterion::SocialInsuranceMonthsAtLeast { months } => judge.asked("社会保险缴费月数").unwrap_or_else(|| {
            match integer(&answers, answer::SOCIAL_INSURANCE_MONTHS) {
                Some(n) => judge.verdict(
                    n >= i64::from(*months),
                    format!("已缴社保{n}个月，要求至少{months}个月。"),
                ),
                None => judge.unanswered("社会保险缴费月数"),
            }
        }),
        Criterion::CertificateAtLeastLevel { level } => check_level(judge, *level, &answers, certificate),
        _ => unreachable!("only the form's criteria are checked here"),
    }
}

/// `certificate_at_least_level`: the level of the electronic certificate
/// the application carries, else the level typed in the form.
fn check_level(
    judge: &Judge<'_>,
    level: u8,
    answers: &Map<String, Value>,
    certificate: Option<&CertifiedLevel>,
) -> Check {
    if let Some(certified) = certificate {
        return judge.verdict(
            certified.level <= level,
            format!(
                "电子证照核验：您的证书是{}（发证机关：{}），要求{}或以上。",
                certified.name(),
                certified.issuer,
                level_name(level)
            ),
        );
    }
    judge
        .asked("证书等级")
        .unwrap_or_else(|| match integer(answers, answer::CERTIFICATE_LEVEL) {
            Some(held @ 1..=5) => judge.verdict(
                held <= i64::from(level),
                format!(
                    "您的证书是{}，要求{}或以上。",
                    level_name(held as u8),
                    level_name(level)
                ),
            ),
            _ => judge.unanswered("证书等级（1到5级）"),
        })
}
