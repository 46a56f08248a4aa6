//! 免申即享 (no application, the subsidy is simply given): what a program
//! must be for a confirmed offer to become an application with one tap, and
//! the answers the worker's profile gives its form. The amount is fixed,
//! every criterion is one the profile answers, no document is to be
//! uploaded, and every required question of the form is one the profile
//! answers (the fields keyed like the profile's: `real_name`, `hukou_type`,
//! `hukou_region_code`, `residence_region_code`, `work_region_code`, of
//! kind `text`).

use serde_json::{Map, Value};

use super::{AmountRule, Conflict, Criterion, DocumentRequirement, FieldKind, FormField};

/// The form keys the profile answers.
pub const PROFILE_ANSWERS: [&str; 5] = [
    "real_name",
    "hukou_type",
    "hukou_region_code",
    "residence_region_code",
    "work_region_code",
];

/// What the profile says, as a reviewer reads it in the answers (the hukou
/// type and regions by name).
#[derive(Debug, Clone, Default)]
pub struct ProfileAnswers {
    pub real_name: Option<String>,
    pub hukou_type: Option<String>,
    pub hukou_region_code: Option<String>,
    pub residence_region_code: Option<String>,
    pub work_region_code: Option<String>,
}

impl ProfileAnswers {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "real_name" => self.real_name.as_deref(),
            "hukou_type" => self.hukou_type.as_deref(),
            "hukou_region_code" => self.hukou_region_code.as_deref(),
            "residence_region_code" => self.residence_region_code.as_deref(),
            "work_region_code" => self.work_region_code.as_deref(),
            _ => None,
        }
    }
}

/// The answers the profile gives the form: each text field keyed like a
/// profile fact the worker has given. Whether they complete the form is
/// `validate_answers`' to say.
pub fn prefill(form: &[FormField], profile: &ProfileAnswers) -> Map<String, Value> {
    form.iter()
        .filter(|field| field.kind == FieldKind::Text)
        .filter_map(|field| {
            let value = profile.get(&field.key)?.trim();
            (!value.is_empty()).then(|| (field.key.clone(), Value::String(value.to_owned())))
        })
        .collect()
}

/// Why a program marked 免申即享 could not give its subsidy without an
/// application: each as a conflict at the path it is found at; empty when
/// it can.
pub fn auto_offer_conflicts(
    amount_rule: &AmountRule,
    criteria: &[Criterion],
    documents: &[DocumentRequirement],
    form: &[FormField],
) -> Vec<Conflict> {
    let mut found = Vec::new();
    if !matches!(amount_rule, AmountRule::Fixed { .. }) {
        found.push(Conflict {
            field: "amount_rule".to_owned(),
            zh: "免申即享的补贴金额要固定（fixed），不能按申请人填写的内容计算。".to_owned(),
            en: "An auto_offer program pays a fixed amount.".to_owned(),
        });
    }
    for (index, criterion) in criteria.iter().enumerate() {
        let from_profile = matches!(
            criterion,
            Criterion::AgeBetween { .. } | Criterion::HukouType { .. } | Criterion::LivesOrWorksInRegion
        );
        if !from_profile {
            found.push(Conflict {
                field: format!("criteria[{index}]"),
                zh: format!(
                    "条件“{}”要申请人填表才能判断，免申即享只能用个人资料就能判断的条件（年龄、户口性质、居住或工作地）。",
                    criterion.describe()
                ),
                en: "An auto_offer program's criteria must be decided from the profile alone.".to_owned(),
            });
        }
    }
    if !documents.is_empty() {
        found.push(Conflict {
            field: "required_documents".to_owned(),
            zh: "免申即享不能要求申请人上传材料。".to_owned(),
            en: "An auto_offer program asks for no document.".to_owned(),
        });
    }
    for (index, field) in form.iter().enumerate() {
        let answered = field.kind == FieldKind::Text && PROFILE_ANSWERS.contains(&field.key.as_str());
        if field.required && !answered {
            found.push(Conflict {
                field: format!("form_fields[{index}]"),
                zh: format!(
                    "必填项“{}”要申请人自己填写；免申即享的必填项只能是个人资料里有的（{}，文字）。",
                    field.label,
                    PROFILE_ANSWERS.join("、")
                ),
                en: format!(
                    "A required field of an auto_offer program must be one the profile answers ({}, text).",
                    PROFILE_ANSWERS.join(", ")
                ),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field(key: &str, kind: FieldKind, required: bool) -> FormField {
        FormField {
            key: key.to_owned(),
            label: key.to_owned(),
            kind,
            required,
            min: None,
            max: None,
        }
    }

    #[test]
    fn a_fixed_profile_only_program_can_be_given_without_an_application() {
        let form = [
            field("real_name", FieldKind::Text, true),
            field("note", FieldKind::Text, false),
        ];
        let criteria = [
            Criterion::AgeBetween { min: 16, max: 60 },
            Criterion::LivesOrWorksInRegion,
        ];
        let fixed = AmountRule::Fixed { amount_fen: 80_000 };
        assert!(auto_offer_conflicts(&fixed, &criteria, &[], &form).is_empty());
        let profile = ProfileAnswers {
            real_name: Some("韦小宝".to_owned()),
            ..Default::default()
        };
        assert_eq!(Value::Object(prefill(&form, &profile)), json!({"real_name": "韦小宝"}));
    }

    #[test]
    fn what_the_worker_must_fill_or_upload_is_refused_with_its_path() {
        let form = [field("employees", FieldKind::Integer, true)];
        let criteria = [Criterion::EmployeesAtLeast { count: 3 }];
        let documents = [DocumentRequirement {
            kind: "id_card".to_owned(),
            label: "身份证".to_owned(),
        }];
        let up_to = AmountRule::UpTo { max_fen: 100 };
        let fields: Vec<String> = auto_offer_conflicts(&up_to, &criteria, &documents, &form)
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert_eq!(
            fields,
            ["amount_rule", "criteria[0]", "required_documents", "form_fields[0]"]
        );
    }
}
