//! The seeded programs made to hold together (issue 17):
//! - Jiangsu's training subsidy admitted certificate levels 1 to 5 and paid
//!   only 3 to 5, so a 技师 passed the eligibility check and was refused at
//!   submission. It now pays every level it admits: the Jiangsu plan (measure
//!   六, 提升技能水平) sets out to 培养一批高技能人才, and 技师 (level 2) and
//!   高级技师 (level 1) are the top of the high-skill grades, so narrowing
//!   the program to levels 3 to 5 would turn away the very people the plan
//!   aims at. The two new amounts continue the seeded ladder and, like it,
//!   are examples each region confirms.
//! - The loan-interest and rent forms asked the worker for fen; they ask for
//!   yuan now (`*_yuan`, at most two decimals), converted to fen once by the
//!   service. Answers already given are rewritten to match.
//! - Guangxi gets a training program from its plan (桂人社发〔2023〕32号).

use sea_orm_migration::prelude::*;
use serde_json::{Map, Value, json};

use crate::{
    m20261122_000006_create_applications::{Application, Program},
    m20261122_000007_seed_programs::{self as seeded, Seed},
};

const JIANGSU_TRAINING: &str = "js-training-subsidy";
const GUANGXI_LOAN_INTEREST: &str = "gx-startup-loan-interest";
const JIANGSU_RENT: &str = "js-rent-subsidy";
const GUANGXI_TRAINING: &str = "gx-training-subsidy";

/// The answers asked in fen before, and their keys in yuan now.
const RENAMED_ANSWERS: [(&str, &str); 2] = [
    ("loan_amount_fen", "loan_amount_yuan"),
    ("requested_amount_fen", "requested_amount_yuan"),
];

/// Certificate levels and their example amounts in fen, from 初级工 (5) to
/// 高级技师 (1).
fn every_level() -> Value {
    json!({"type": "by_certificate_level", "amounts_fen": {"5": 100000, "4": 150000, "3": 200000, "2": 300000, "1": 350000}})
}

/// A program's terms as this migration leaves them (`up`) or found them (`down`).
struct Terms {
    slug: &'static str,
    description: &'static str,
    amount_rule: Value,
    form: Value,
}

fn coherent() -> Vec<Terms> {
    vec![
        Terms {
            slug: JIANGSU_TRAINING,
            description: "参加补贴性职业技能培训并取得职业资格证书或职业技能等级证书的农民工，按证书等级领取培训补贴：五级（初级工）1000元、四级（中级工）1500元、三级（高级工）2000元、二级（技师）3000元、一级（高级技师）3500元。金额为示例，以各地公布标准为准。",
            amount_rule: every_level(),
            form: json!([
                {"key": "certificate_level", "label": "证书等级（1到5级，5级是初级工）", "kind": "integer", "required": true, "min": 1, "max": 5},
                {"key": "training_institution", "label": "培训机构名称", "kind": "text", "required": true}
            ]),
        },
        Terms {
            slug: GUANGXI_LOAN_INTEREST,
            description: "返乡创业农民工个人可申请最高20万元的创业担保贷款，按规定享受财政贴息；按实际发生的利息申请贴息，本示例最高1万元。金额为示例，以经办银行和各地规定为准。",
            amount_rule: json!({"type": "up_to", "max_fen": 1_000_000}),
            form: json!([
                {"key": "returning_worker", "label": "是否返乡农民工", "kind": "boolean", "required": true},
                {"key": "loan_amount_yuan", "label": "贷款金额（元，最高20万元）", "kind": "yuan", "required": true, "max": 200000},
                {"key": "requested_amount_yuan", "label": "申请贴息金额（元）", "kind": "yuan", "required": true, "max": 10000}
            ]),
        },
        Terms {
            slug: JIANGSU_RENT,
            description: "返乡入乡创业、登记注册3年内的企业或个体工商户，租用经营场地的，可按实际租金申请补贴，本示例最高1万元。金额为示例，以各地公布标准为准。",
            amount_rule: json!({"type": "up_to", "max_fen": 1_000_000}),
            form: json!([
                {"key": "business_name", "label": "企业（个体户）名称", "kind": "text", "required": true},
                {"key": "business_registered_on", "label": "登记注册日期", "kind": "date", "required": true},
                {"key": "requested_amount_yuan", "label": "申请补贴金额（元）", "kind": "yuan", "required": true, "max": 10000}
            ]),
        },
    ]
}

/// The terms of m20261122_000007, for `down`.
fn as_seeded() -> Vec<Terms> {
    let mut terms = coherent();
    terms[0].description = "参加补贴性职业技能培训并取得职业资格证书或职业技能等级证书的农民工，按证书等级领取培训补贴：五级（初级工）1000元、四级（中级工）1500元、三级（高级工）2000元。金额为示例，以各地公布标准为准。";
    terms[0].amount_rule =
        json!({"type": "by_certificate_level", "amounts_fen": {"5": 100000, "4": 150000, "3": 200000}});
    terms[1].form = json!([
        {"key": "returning_worker", "label": "是否返乡农民工", "kind": "boolean", "required": true},
        {"key": "loan_amount_fen", "label": "贷款金额（分，最高20万元即20000000分）", "kind": "integer", "required": true, "min": 1, "max": 20000000},
        {"key": "requested_amount_fen", "label": "申请贴息金额（分）", "kind": "integer", "required": true, "min": 1, "max": 1000000}
    ]);
    terms[2].form = json!([
        {"key": "business_name", "label": "企业（个体户）名称", "kind": "text", "required": true},
        {"key": "business_registered_on", "label": "登记注册日期", "kind": "date", "required": true},
        {"key": "requested_amount_fen", "label": "申请补贴金额（分）", "kind": "integer", "required": true, "min": 1, "max": 1000000}
    ]);
    terms
}

/// Guangxi's plan (桂人社发〔2023〕32号): 深入实施“技能广西行动”, 大规模开展
/// 农民工职业技能培训, in 2023 开展各类补贴性职业技能培训20万人次 and
/// 培养一批高技能人才和乡村工匠. The quota is that target; the plan names no
/// budget, so none is set. Levels 1 to 5 are admitted and each is paid, the
/// high-skill grades included as the plan asks; the amounts are examples.
fn guangxi_training() -> Seed {
    Seed {
        slug: GUANGXI_TRAINING,
        name: "广西农民工职业技能培训补贴",
        kind: "training_subsidy",
        region_code: "450000",
        description: "自治区深入实施“技能广西行动”，大规模开展农民工职业技能培训，2023年开展各类补贴性职业技能培训20万人次，培养一批高技能人才和乡村工匠（桂人社发〔2023〕32号）。参加补贴性职业技能培训并取得职业资格证书或职业技能等级证书的农民工，按证书等级领取培训补贴：五级（初级工）1000元、四级（中级工）1500元、三级（高级工）2000元、二级（技师）3000元、一级（高级技师）3500元。名额按20万人次设定；金额为示例，以各地公布标准为准。",
        amount_rule: every_level(),
        criteria: json!([
            {"type": "age_between", "min": 16, "max": 60},
            {"type": "lives_or_works_in_region"},
            {"type": "certificate_at_least_level", "level": 5}
        ]),
        documents: json!([
            {"kind": "id_card", "label": "身份证正反面照片"},
            {"kind": "certificate", "label": "职业资格或职业技能等级证书"}
        ]),
        form: json!([
            {"key": "certificate_level", "label": "证书等级（1到5级，5级是初级工）", "kind": "integer", "required": true, "min": 1, "max": 5},
            {"key": "training_institution", "label": "培训机构名称", "kind": "text", "required": true}
        ]),
        budget_fen: None,
        quota: Some(200_000),
    }
}

async fn write_terms(manager: &SchemaManager<'_>, terms: Vec<Terms>) -> Result<(), DbErr> {
    for change in terms {
        let update = Query::update()
            .table(Program::Table)
            .value(Program::Description, change.description)
            .value(Program::AmountRule, change.amount_rule.to_string())
            .value(Program::FormFields, change.form.to_string())
            .value(Program::Version, Expr::col(Program::Version).add(1))
            .value(Program::UpdatedAt, sea_orm::prelude::ChronoUtc::now())
            .and_where(Expr::col(Program::Slug).eq(change.slug))
            .to_owned();
        manager.exec_stmt(update).await?;
    }
    Ok(())
}

/// An amount answer in fen as yuan (`123456` → `1234.56`), or the reverse.
fn converted(value: &Value, to_yuan: bool) -> Value {
    match (to_yuan, value.as_i64(), value.as_f64()) {
        (true, Some(fen), _) if fen % 100 == 0 => json!(fen / 100),
        (true, Some(fen), _) => json!(fen as f64 / 100.0),
        (false, _, Some(yuan)) => json!((yuan * 100.0).round() as i64),
        _ => value.clone(),
    }
}

/// Renames the amount answers of the applications to the loan and rent
/// programs, converting their values.
async fn rewrite_answers(manager: &SchemaManager<'_>, to_yuan: bool) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let programs = [GUANGXI_LOAN_INTEREST, JIANGSU_RENT].map(seeded::seed_id);
    let select = Query::select()
        .columns([Application::Id, Application::Answers])
        .from(Application::Table)
        .and_where(Expr::col(Application::ProgramId).is_in(programs))
        .to_owned();
    for row in db.query_all(&select).await? {
        let id: String = row.try_get("", "id")?;
        let text: String = row.try_get("", "answers")?;
        let Ok(mut answers) = serde_json::from_str::<Map<String, Value>>(&text) else {
            continue;
        };
        for (fen_key, yuan_key) in RENAMED_ANSWERS {
            let (from, to) = if to_yuan {
                (fen_key, yuan_key)
            } else {
                (yuan_key, fen_key)
            };
            if let Some(value) = answers.remove(from) {
                answers.insert(to.to_owned(), converted(&value, to_yuan));
            }
        }
        let update = Query::update()
            .table(Application::Table)
            .value(Application::Answers, Value::Object(answers).to_string())
            .and_where(Expr::col(Application::Id).eq(id))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(())
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        write_terms(manager, coherent()).await?;
        rewrite_answers(manager, true).await?;
        seeded::insert(manager, guangxi_training()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(Program::Table)
                    .and_where(Expr::col(Program::Slug).eq(GUANGXI_TRAINING))
                    .to_owned(),
            )
            .await?;
        rewrite_answers(manager, false).await?;
        write_terms(manager, as_seeded()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_given_in_fen_read_back_in_yuan_and_back() {
        assert_eq!(converted(&json!(345_678), true), json!(3456.78));
        assert_eq!(converted(&json!(1_000_000), true), json!(10_000));
        assert_eq!(converted(&json!(3456.78), false), json!(345_678));
        assert_eq!(converted(&json!(10_000), false), json!(1_000_000));
        assert_eq!(converted(&json!("x"), true), json!("x"));
    }

    #[test]
    fn the_seeded_training_programs_pay_every_level_their_form_admits() {
        let levels = every_level();
        for level in 1..=5 {
            assert!(levels["amounts_fen"][level.to_string()].as_i64().unwrap() > 0);
        }
        assert_eq!(coherent()[0].form[0]["min"], 1);
        assert_eq!(guangxi_training().form[0]["max"], 5);
    }
}
