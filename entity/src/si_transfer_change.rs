use sea_orm::entity::prelude::*;

/// One entry of the change feed agencies read; `seq` has no gaps.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "si_transfer_change")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub transfer_id: String,
    pub transfer_no: String,
    /// created | step | refused | materials_needed | materials_answered | cancelled
    pub kind: String,
    pub step: Option<String>,
    pub at: DateTimeUtc,
    /// worker | staff | agency; none on entries older than the column.
    pub actor_type: Option<String>,
    /// Why: a refusal's or cancellation's reason, the materials asked for, the answer.
    pub note: Option<String>,
    /// When a relative acted for the worker: the grant they acted under (亲情代办).
    pub relative_grant_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
