use sea_orm::entity::prelude::*;

/// One entry of the policy library.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policy")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Seeded entries' stable name; editors' entries have none.
    #[sea_orm(unique)]
    pub slug: Option<String>,
    pub parent_id: Option<String>,
    pub title: String,
    pub summary: String,
    /// Markdown.
    pub body: String,
    pub category: String,
    /// `000000` means national.
    pub region_code: String,
    pub issuer: String,
    pub doc_number: Option<String>,
    pub issued_on: Option<Date>,
    pub effective_from: Option<Date>,
    pub effective_until: Option<Date>,
    pub source_url: Option<String>,
    /// JSON array of strings.
    pub tags: String,
    /// JSON array of strings.
    pub audience_tags: String,
    /// draft | published | archived
    pub status: String,
    pub version: i32,
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
