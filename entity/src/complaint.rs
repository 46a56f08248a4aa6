use sea_orm::entity::prelude::*;

/// A complaint or a suggestion (投诉建议) to the office of a region.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "complaint")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// e.g. TS-320115-20261201-000001
    #[sea_orm(unique)]
    pub complaint_no: String,
    pub worker_id: String,
    /// complaint | suggestion
    pub kind: String,
    pub region_code: String,
    /// The worker's case it concerns, if any.
    pub case_kind: Option<String>,
    pub case_id: Option<String>,
    pub case_no: Option<String>,
    pub text: String,
    /// open | answered
    pub status: String,
    pub deadline: Date,
    pub reply: Option<String>,
    pub replied_by: Option<String>,
    pub replied_at: Option<DateTimeUtc>,
    /// Answered after a working day had begun past the deadline.
    pub replied_late: Option<bool>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
