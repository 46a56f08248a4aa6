use sea_orm::entity::prelude::*;

/// A social-insurance transfer case (社保关系转移接续).
///
/// One case in progress per person (`id_number_hash`), insurance type and
/// route (the unique index `uq_si_transfer_open_by_person`). The table also
/// has `duplicate_of`, left unmapped: migration 000036 set it on the cases
/// already open twice when the rule came, to keep them out of the index.
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
    /// None until the person links the case with evidence stronger than a
    /// typed ID number (a verified phone, a claim code, an identity check).
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
    /// The phone the agency recorded when it opened the case, encrypted.
    pub phone_cipher: Option<String>,
    /// Keyed hash of that phone: a worker whose WeChat-verified phone has
    /// the same hash may link the case.
    pub phone_hash: Option<String>,
    /// Keyed hash of the one-time claim code the agency handed the person;
    /// cleared once the case is claimed.
    #[sea_orm(unique)]
    pub claim_code_hash: Option<String>,
    pub claim_expires_at: Option<DateTimeUtc>,
    /// Raised by every change; a change made on an older view is refused.
    pub version: i32,
    /// The version of the step table (`transfers::process`) the case was
    /// opened under, which gives its working-day limits.
    pub process_version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
