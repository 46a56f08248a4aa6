use sea_orm::entity::prelude::*;

/// One security-relevant event. Rows are only ever inserted; the database
/// refuses updates (see the identity migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// worker | staff | integrator | anonymous | system | relative (a
    /// worker acting for another, named in `details.on_behalf_of`)
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// The region the event concerns (GB/T 2260), if any; it decides which
    /// administrators see the row.
    pub region_code: Option<String>,
    /// success | failure | denied
    pub outcome: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    /// JSON with facts of the event; never personal data in clear.
    pub details: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
