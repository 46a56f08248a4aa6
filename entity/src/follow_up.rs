use sea_orm::entity::prelude::*;

/// A follow-up (回访) of a low rating, for the office of the case rated.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "follow_up")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// e.g. HF-320115-20261201-000001
    #[sea_orm(unique)]
    pub follow_up_no: String,
    #[sea_orm(unique)]
    pub rating_id: String,
    pub worker_id: String,
    pub case_kind: String,
    pub case_id: String,
    pub case_no: String,
    pub region_code: String,
    /// The rating as it was when the follow-up opened.
    pub score: i32,
    pub tags: String,
    pub comment: Option<String>,
    /// open | closed
    pub status: String,
    pub deadline: Date,
    pub what_was_done: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTimeUtc>,
    /// Closed after a working day had begun past the deadline.
    pub closed_late: Option<bool>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
