use sea_orm::entity::prelude::*;

/// A message in a worker's in-app inbox.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// One inbox message per outbox row, however often delivery is retried.
    #[sea_orm(unique)]
    pub outbox_id: i64,
    pub worker_id: String,
    pub title: String,
    pub body: String,
    /// A mini-program page to open.
    pub link: Option<String>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    /// pending | sent | refused | failed | skipped
    pub wechat_status: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
