use sea_orm::entity::prelude::*;

/// A reviewer, inspector, editor, finance officer or administrator, scoped to a region.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_account")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub username: String,
    pub display_name: String,
    /// argon2id, PHC string format.
    pub password_hash: String,
    /// Comma-separated role names.
    pub roles: String,
    pub region_code: String,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
