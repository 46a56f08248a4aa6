use sea_orm::entity::prelude::*;

/// A third-party system (social-insurance agency, county platform) using the
/// client-credentials grant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integrator_client")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub client_id: String,
    pub name: String,
    /// SHA-256 (hex) of the secret: the secret is 256 random bits, shown once.
    pub secret_hash: String,
    /// Space-separated scopes.
    pub scopes: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    /// Where events are POSTed, signed with the webhook secret.
    pub webhook_url: Option<String>,
    /// The HMAC key of webhook signatures, encrypted like personal data.
    pub webhook_secret: Option<String>,
    /// The region it serves (GB/T 2260; `000000` national): it reaches the
    /// transfers with either end there, and is managed by the administrators
    /// whose region covers it.
    pub region_code: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
