use sea_orm::entity::prelude::*;

/// 免申即享: an offer of an `auto_offer` program to a worker who meets every
/// criterion. `proposed` by matching, `confirmed` by a reviewer of its
/// region, then `accepted` (naming the application it became) or
/// `declined` by the worker, or `withdrawn` when the worker no longer
/// qualifies or stopped being matched.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "program_offer")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub program_id: String,
    pub worker_id: String,
    /// Where it is confirmed: the worker's work or residence region inside
    /// the program's, as an application of theirs would be reviewed.
    pub region_code: String,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    /// The reviewer who confirmed it.
    pub confirmed_by: Option<String>,
    /// When the worker accepted or declined it.
    pub decided_at: Option<DateTimeUtc>,
    pub application_id: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
