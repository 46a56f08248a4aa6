use sea_orm::entity::prelude::*;

/// One GB/T 2260 administrative division.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "region")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    /// province | city | county
    pub level: String,
    pub parent_code: Option<String>,
    /// 省, 地级市, 市辖区, 县级市, 县, 自治县, …
    pub kind: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
