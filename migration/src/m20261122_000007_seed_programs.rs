//! Example programs for Jiangsu and Guangxi, open for applications. Their
//! amounts follow the plans and common practice but are marked as examples:
//! each region confirms or changes them before real use.

use sea_orm_migration::prelude::*;
use serde_json::{Value, json};

use crate::m20261122_000006_create_applications::Program;

const SEED_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x2f64_91aa_0c3e_4b1d_8e57_a6c0_93d2_11f4);

pub(crate) struct Seed {
    pub slug: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub region_code: &'static str,
    pub description: &'static str,
    pub amount_rule: Value,
    pub criteria: Value,
    pub documents: Value,
    pub form: Value,
    pub budget_fen: Option<i64>,
    pub quota: Option<i32>,
}

/// A seeded program's id: the same on every installation.
pub(crate) fn seed_id(slug: &str) -> String {
    uuid::Uuid::new_v5(&SEED_NAMESPACE, slug.as_bytes()).to_string()
}

/// Inserts a seeded program, open, its amounts marked as examples.
pub(crate) async fn insert(manager: &SchemaManager<'_>, seed: Seed) -> Result<(), DbErr> {
    let now = sea_orm::prelude::ChronoUtc::now();
    let insert = Query::insert()
        .into_table(Program::Table)
        .columns([
            Program::Id,
            Program::Slug,
            Program::Name,
            Program::Kind,
            Program::RegionCode,
            Program::Description,
            Program::AmountRule,
            Program::Criteria,
            Program::RequiredDocuments,
            Program::FormFields,
            Program::Period,
            Program::BudgetFen,
            Program::Quota,
            Program::ApprovedFen,
            Program::ApprovedCount,
            Program::Status,
            Program::AmountsAreExamples,
            Program::Version,
            Program::CreatedAt,
            Program::UpdatedAt,
        ])
        .values_panic([
            seed_id(seed.slug).into(),
            seed.slug.into(),
            seed.name.into(),
            seed.kind.into(),
            seed.region_code.into(),
            seed.description.into(),
            seed.amount_rule.to_string().into(),
            seed.criteria.to_string().into(),
            seed.documents.to_string().into(),
            seed.form.to_string().into(),
            "2026".into(),
            seed.budget_fen.into(),
            seed.quota.into(),
            0i64.into(),
            0i32.into(),
            "open".into(),
            true.into(),
            1i32.into(),
            now.into(),
            now.into(),
        ])
        .to_owned();
    manager.exec_stmt(insert).await
}

fn seeds() -> Vec<Seed> {
    let id_card = json!({"kind": "id_card", "label": "身份证正反面照片"});
    let lives_or_works = json!({"type": "lives_or_works_in_region"});
    vec![
        Seed {
            slug: "js-training-subsidy",
            name: "江苏省职业技能培训补贴",
            kind: "training_subsidy",
            region_code: "320000",
            description: "参加补贴性职业技能培训并取得职业资格证书或职业技能等级证书的农民工，按证书等级领取培训补贴：五级（初级工）1000元、四级（中级工）1500元、三级（高级工）2000元。金额为示例，以各地公布标准为准。",
            amount_rule: json!({"type": "by_certificate_level", "amounts_fen": {"5": 100000, "4": 150000, "3": 200000}}),
            criteria: json!([{"type": "age_between", "min": 16, "max": 60}, lives_or_works, {"type": "certificate_at_least_level", "level": 5}]),
            documents: json!([id_card, {"kind": "certificate", "label": "职业资格或职业技能等级证书"}]),
            form: json!([
                {"key": "certificate_level", "label": "证书等级（1到5级，5级是初级工）", "kind": "integer", "required": true, "min": 1, "max": 5},
                {"key": "training_institution", "label": "培训机构名称", "kind": "text", "required": true}
            ]),
            budget_fen: Some(5_000_000_000),
            quota: None,
        },
        Seed {
            slug: "gx-startup-subsidy",
            name: "广西返乡创业一次性创业补贴",
            kind: "startup_subsidy",
            region_code: "450000",
            description: "返乡农民工首次创办企业或个体工商户，正常经营6个月以上、带动就业3人以上的，可申领一次性创业补贴5000元。金额为示例，以各地公布标准为准。",
            amount_rule: json!({"type": "fixed", "amount_fen": 500000}),
            criteria: json!([
                {"type": "returning_worker"},
                lives_or_works,
                {"type": "business_running_at_least_months", "months": 6},
                {"type": "employees_at_least", "count": 3}
            ]),
            documents: json!([id_card, {"kind": "business_license", "label": "营业执照照片"}]),
            form: json!([
                {"key": "returning_worker", "label": "是否返乡农民工", "kind": "boolean", "required": true},
                {"key": "business_name", "label": "企业（个体户）名称", "kind": "text", "required": true},
                {"key": "business_registered_on", "label": "登记注册日期", "kind": "date", "required": true},
                {"key": "employees", "label": "带动就业人数（含本人）", "kind": "integer", "required": true, "min": 0, "max": 100000}
            ]),
            budget_fen: Some(1_000_000_000),
            quota: Some(2000),
        },
        Seed {
            slug: "gx-startup-loan-interest",
            name: "广西创业担保贷款贴息",
            kind: "startup_loan_interest",
            region_code: "450000",
            description: "返乡创业农民工个人可申请最高20万元的创业担保贷款，按规定享受财政贴息；按实际发生的利息申请贴息，本示例最高1万元。金额为示例，以经办银行和各地规定为准。",
            amount_rule: json!({"type": "up_to", "max_fen": 1_000_000}),
            criteria: json!([{"type": "returning_worker"}, lives_or_works, {"type": "age_between", "min": 18, "max": 60}]),
            documents: json!([id_card, {"kind": "loan_contract", "label": "创业担保贷款合同"}]),
            form: json!([
                {"key": "returning_worker", "label": "是否返乡农民工", "kind": "boolean", "required": true},
                {"key": "loan_amount_fen", "label": "贷款金额（分，最高20万元即20000000分）", "kind": "integer", "required": true, "min": 1, "max": 20000000},
                {"key": "requested_amount_fen", "label": "申请贴息金额（分）", "kind": "integer", "required": true, "min": 1, "max": 1000000}
            ]),
            budget_fen: None,
            quota: None,
        },
        Seed {
            slug: "js-rent-subsidy",
            name: "江苏省返乡创业场地租金补贴",
            kind: "rent_subsidy",
            region_code: "320000",
            description: "返乡入乡创业、登记注册3年内的企业或个体工商户，租用经营场地的，可按实际租金申请补贴，本示例最高1万元。金额为示例，以各地公布标准为准。",
            amount_rule: json!({"type": "up_to", "max_fen": 1_000_000}),
            criteria: json!([lives_or_works, {"type": "business_registered_within_months", "months": 36}]),
            documents: json!([{"kind": "business_license", "label": "营业执照照片"}, {"kind": "lease_contract", "label": "场地租赁合同"}]),
            form: json!([
                {"key": "business_name", "label": "企业（个体户）名称", "kind": "text", "required": true},
                {"key": "business_registered_on", "label": "登记注册日期", "kind": "date", "required": true},
                {"key": "requested_amount_fen", "label": "申请补贴金额（分）", "kind": "integer", "required": true, "min": 1, "max": 1000000}
            ]),
            budget_fen: Some(500_000_000),
            quota: None,
        },
    ]
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for seed in seeds() {
            insert(manager, seed).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(Program::Table)
                    .and_where(Expr::col(Program::Slug).is_not_null())
                    .to_owned(),
            )
            .await
    }
}
