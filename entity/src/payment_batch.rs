use sea_orm::entity::prelude::*;

/// A file of payments finance sends to the bank: one line per approved case.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_batch")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// e.g. ZF-450100-20261130-000001
    #[sea_orm(unique)]
    pub batch_no: String,
    /// The finance officer's region: the batch holds its cases only.
    pub region_code: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub line_count: i32,
    pub total_fen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
