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

/// Lets `column` of `table` hold NULL. PostgreSQL alters the column; SQLite
/// cannot, so the table is rebuilt from its own definition with the column's
/// `NOT NULL` removed: created under another name, filled, the old one
/// dropped and the new one renamed, its indexes and triggers created again.
/// Run it inside the migration's transaction.
pub async fn drop_not_null(manager: &SchemaManager<'_>, table: &str, column: &str) -> Result<(), DbErr> {
    change_nullability(manager, table, column, true).await
}

/// The way back of `drop_not_null`.
pub async fn set_not_null(manager: &SchemaManager<'_>, table: &str, column: &str) -> Result<(), DbErr> {
    change_nullability(manager, table, column, false).await
}

async fn change_nullability(
    manager: &SchemaManager<'_>,
    table: &str,
    column: &str,
    nullable: bool,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if db.get_database_backend() != sea_orm::DbBackend::Sqlite {
        let change = if nullable { "DROP" } else { "SET" };
        return db
            .execute_unprepared(&format!(
                "ALTER TABLE \"{table}\" ALTER COLUMN \"{column}\" {change} NOT NULL"
            ))
            .await
            .map(|_| ());
    }
    let schema = |kind: &str| {
        sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE type = ? AND tbl_name = ? AND sql IS NOT NULL",
            [kind.into(), table.into()],
        )
    };
    let definitions = |rows: Vec<sea_orm::QueryResult>| -> Result<Vec<String>, DbErr> {
        rows.iter().map(|row| row.try_get::<String>("", "sql")).collect()
    };
    let created = definitions(db.query_all_raw(schema("table")).await?)?;
    let created = created
        .first()
        .ok_or_else(|| DbErr::Custom(format!("no table {table}")))?;
    let indexes = definitions(db.query_all_raw(schema("index")).await?)?;
    let triggers = definitions(db.query_all_raw(schema("trigger")).await?)?;
    let quoted = format!("\"{column}\"");
    let start = created
        .find(&quoted)
        .ok_or_else(|| DbErr::Custom(format!("no column {column} in {table}")))?;
    // The column's definition ends at the first comma outside parentheses.
    let mut depth = 0;
    let mut end = created.len();
    for (at, c) in created[start..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => {
                end = start + at;
                break;
            }
            ')' => depth -= 1,
            ',' if depth == 0 => {
                end = start + at;
                break;
            }
            _ => {}
        }
    }
    let definition = &created[start..end];
    let changed = if nullable {
        definition.replace(" NOT NULL", "")
    } else {
        format!("{definition} NOT NULL")
    };
    let rebuilt_name = format!("{table}_rebuilt");
    let rebuilt = format!("{}{}{}", &created[..start], changed, &created[end..]).replacen(
        &format!("\"{table}\""),
        &format!("\"{rebuilt_name}\""),
        1,
    );
    if !rebuilt.contains(&rebuilt_name) {
        return Err(DbErr::Custom(format!("cannot rename {table} in its definition")));
    }
    db.execute_unprepared(&rebuilt).await?;
    db.execute_unprepared(&format!("INSERT INTO \"{rebuilt_name}\" SELECT * FROM \"{table}\""))
        .await?;
    db.execute_unprepared(&format!("DROP TABLE \"{table}\"")).await?;
    db.execute_unprepared(&format!("ALTER TABLE \"{rebuilt_name}\" RENAME TO \"{table}\""))
        .await?;
    for statement in indexes.iter().chain(&triggers) {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}
