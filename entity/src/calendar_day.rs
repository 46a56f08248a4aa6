use sea_orm::entity::prelude::*;

/// A day that breaks the weekday rule: a holiday, or an adjusted working
/// weekend, of the national schedule or of one province's own.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_day")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// The province whose day it is (e.g. 450000), or 000000 for the
    /// national schedule: a code, never NULL, so that (day, region_code)
    /// is a key on every database.
    #[sea_orm(primary_key, auto_increment = false)]
    pub region_code: String,
    /// holiday | workday
    pub kind: String,
    pub name: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
