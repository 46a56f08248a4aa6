use sea_orm::entity::prelude::*;

/// A subsidy program a region runs: its rules are data (amount rule,
/// eligibility criteria, required documents, form fields), as JSON.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "program")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub slug: Option<String>,
    pub name: String,
    pub kind: String,
    pub region_code: String,
    pub description: String,
    pub policy_id: Option<String>,
    pub amount_rule: String,
    pub criteria: String,
    pub required_documents: String,
    pub form_fields: String,
    pub opens_on: Option<Date>,
    pub closes_on: Option<Date>,
    /// One application per person per program and period (e.g. `2026`).
    pub period: String,
    pub budget_fen: Option<i64>,
    pub quota: Option<i32>,
    /// Committed by approvals, against the budget and the quota.
    pub approved_fen: i64,
    pub approved_count: i32,
    /// draft | open | closed
    pub status: String,
    /// Seeded amounts are examples each region must confirm.
    pub amounts_are_examples: bool,
    /// 免申即享: workers who meet every criterion get an offer to confirm.
    pub auto_offer: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
