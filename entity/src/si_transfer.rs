use sea_orm::entity::prelude::*;

/// A social-insurance transfer case (社保关系转移接续).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "si_transfer")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// e.g. ZJ-320115-20261122-000001
    #[sea_orm(unique)]
    pub transfer_no: String,
    /// pension | medical | unemployment
    pub insurance_type: String,
    pub from_region_code: String,
    pub to_region_code: String,
    /// None while the person has not registered: matched later by the ID hash.
    pub worker_id: Option<String>,
    pub id_number_hash: String,
    /// worker | agency
    pub source: String,
    pub client_id: Option<String>,
    /// in_progress | completed
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When its personal data was removed under the retention policy.
    pub anonymised_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
