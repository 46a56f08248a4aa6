use sea_orm::entity::prelude::*;

/// One legal step of a transfer, with its deadline.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "si_transfer_step")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub transfer_id: String,
    pub position: i32,
    pub step: String,
    /// Which office acts: from | to
    pub office: String,
    /// pending | done | materials_needed | refused | cancelled
    pub status: String,
    pub due_on: Option<Date>,
    pub occurred_at: Option<DateTimeUtc>,
    /// The office's note; for an outcome other than done, its reason or the materials needed.
    pub note: Option<String>,
    /// The person's answer to a request for materials.
    pub answer: Option<String>,
    pub answered_at: Option<DateTimeUtc>,
    pub recorded_by: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
