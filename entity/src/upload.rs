use sea_orm::entity::prelude::*;

/// A document a worker uploaded (a photo or PDF), attached to an application
/// once the application names it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "upload")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The worker who uploaded it; empty for a staff member's upload.
    pub worker_id: Option<String>,
    /// The document kind it stands for, e.g. `id_card`, `business_license`.
    pub purpose: String,
    /// image/jpeg | image/png | application/pdf, judged from the content.
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub application_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub wage_report_id: Option<String>,
    /// The staff member who uploaded it at a service window.
    pub staff_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
