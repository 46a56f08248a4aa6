use sea_orm::entity::prelude::*;

/// One payment of a batch: the case, the amount, the account it is sent to
/// (masked) and what the bank answered.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_line")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub batch_id: String,
    /// 1, 2, … as in the batch file.
    pub line_no: i32,
    pub application_id: String,
    pub worker_id: String,
    pub amount_fen: i64,
    pub account_masked: String,
    pub bank_name: String,
    /// pending | paid | returned
    pub outcome: String,
    /// Why the bank returned it.
    pub reason: Option<String>,
    pub bank_reference: Option<String>,
    pub recorded_at: Option<DateTimeUtc>,
    pub recorded_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
