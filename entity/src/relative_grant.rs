use sea_orm::entity::prelude::*;

/// 亲情代办: what a worker lets a relative do for them. An invitation until
/// a relative accepts its one-time code (only its keyed hash is kept), then
/// active until revoked.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "relative_grant")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The worker acted for.
    pub worker_id: String,
    /// The relative's own worker account; none until the code is accepted.
    pub relative_id: Option<String>,
    /// What the worker calls the relative: 妻子, 儿子…
    pub relation: String,
    /// Comma-separated: applications, wage_reports, transfers.
    pub rights: String,
    pub may_see_personal_data: bool,
    pub code_hash: Option<String>,
    /// The invitation's code works until then.
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// worker | relative | closure
    pub revoked_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
