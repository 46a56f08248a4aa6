use sea_orm::entity::prelude::*;

/// A worker found to qualify, or perhaps qualify, for an open program (no
/// criterion fails on what is known), once per worker and program; whether
/// they were told of it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "program_match")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub worker_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub program_id: String,
    pub matched_at: DateTimeUtc,
    pub notified_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
