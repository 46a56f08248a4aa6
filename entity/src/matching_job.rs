use sea_orm::entity::prelude::*;

/// Matching every consenting worker of a program's regions against it,
/// recorded when the program opens and run by a background task (claimed
/// for a while at a time, so that one instance runs it), with what it found.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "matching_job")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub program_id: String,
    pub created_at: DateTimeUtc,
    pub claimed_until: Option<DateTimeUtc>,
    pub attempts: i32,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    /// Consenting workers of the program's regions read.
    pub evaluated: Option<i64>,
    /// Of them, those no criterion fails for.
    pub matched: Option<i64>,
    /// New 免申即享 offers made.
    pub offered: Option<i64>,
    /// Workers told (at most one notice a week each).
    pub notified: Option<i64>,
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
