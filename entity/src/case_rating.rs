use sea_orm::entity::prelude::*;

/// A worker's rating of one of their closed cases (好差评).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_rating")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub worker_id: String,
    /// application | wage_report | transfer
    pub case_kind: String,
    pub case_id: String,
    /// The case's readable number (SB-…, QX-…, ZJ-…).
    pub case_no: String,
    /// The region the case is worked in.
    pub region_code: String,
    /// 1 to 5.
    pub score: i32,
    /// The chosen tags, comma-separated codes.
    pub tags: String,
    pub comment: Option<String>,
    /// The follow-up a score of 1 or 2 opened, if any.
    pub follow_up_id: Option<String>,
    pub version: i32,
    /// When first given: changes are taken for 7 days from here.
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
