use sea_orm::entity::prelude::*;

/// A worker's consent to 政策找人 (being matched against the programs of
/// their regions and told of them), its own and revocable: the version of
/// the text agreed to (`None` once revoked), and when the worker was last
/// told of a match, so that they are told at most once a week.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recommendation_consent")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub worker_id: String,
    pub consent_version: Option<String>,
    pub consented_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_notified_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::worker::Entity",
        from = "Column::WorkerId",
        to = "super::worker::Column::Id"
    )]
    Worker,
}

impl ActiveModelBehavior for ActiveModel {}
