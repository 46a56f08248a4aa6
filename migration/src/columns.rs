//! Adding and dropping nullable columns the way both databases accept.

use sea_orm_migration::prelude::*;

/// One nullable column at a time: SQLite adds no more in one statement.
pub async fn add_columns(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + Copy,
    columns: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    for mut column in columns {
        manager
            .alter_table(Table::alter().table(table).add_column(column.null()).to_owned())
            .await?;
    }
    Ok(())
}

pub async fn drop_columns(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + Copy,
    columns: Vec<DynIden>,
) -> Result<(), DbErr> {
    for column in columns {
        manager
            .alter_table(Table::alter().table(table).drop_column(column).to_owned())
            .await?;
    }
    Ok(())
}
