//! Named counters for readable numbers (SB-450100-20261122-000123): one
//! atomic upsert, so concurrent requests never draw the same number.

use entity::counter;
use sea_orm::{
    ConnectionTrait,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

use crate::error::{AppError, AppResult};

/// Adds one to the counter `name` (created at 1) and returns the new value.
pub async fn next(db: &impl ConnectionTrait, name: &str) -> AppResult<i64> {
    let statement = Query::insert()
        .into_table(counter::Entity)
        .columns([counter::Column::Name, counter::Column::Value])
        .values_panic([name.into(), 1i64.into()])
        .on_conflict(
            OnConflict::column(counter::Column::Name)
                .value(
                    counter::Column::Value,
                    Expr::col((counter::Entity, counter::Column::Value)).add(1),
                )
                .to_owned(),
        )
        .returning_col(counter::Column::Value)
        .to_owned();
    let row = db
        .query_one(&statement)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the counter upsert returned no row")))?;
    Ok(row.try_get::<i64>("", "value")?)
}

/// `{prefix}-{region}-{yyyymmdd}-{sequence:06}`, the sequence counted per prefix, region and day.
pub async fn readable_number(db: &impl ConnectionTrait, prefix: &str, region: &str) -> AppResult<String> {
    let day = crate::domain::china_time::today().format("%Y%m%d");
    let sequence = next(db, &format!("{prefix}-{region}-{day}")).await?;
    Ok(format!("{prefix}-{region}-{day}-{sequence:06}"))
}
