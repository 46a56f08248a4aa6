use sea_orm::entity::prelude::*;

/// A reference to an electronic certificate (电子证照) fetched, with the
/// worker's authorisation, from the issuing authority's licence service.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certificate")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub worker_id: String,
    /// `vocational`, `business_licence` or `id_card`.
    pub kind: String,
    pub number: String,
    pub title: String,
    /// A vocational certificate's level, 1 (高级技师) to 5 (初级工).
    pub level: Option<i16>,
    pub issuer: String,
    /// The keyed hash of the holder's ID number.
    pub holder_hash: String,
    pub issued_on: Option<Date>,
    /// Which provider answered (`sandbox`, …).
    pub provider: String,
    pub authorized_at: DateTimeUtc,
    pub fetched_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
