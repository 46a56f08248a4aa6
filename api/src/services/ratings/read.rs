//! Every query of ratings and their decoding into [`Rating`]: the rows never
//! leave this file.

use chrono::{DateTime, Utc};
use entity::case_rating;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, Func},
};

use super::rules::{self, Given};
use crate::{
    domain::{CaseType, RegionCode, TextType, china_time::DaySpan},
    error::{AppError, AppResult},
};

/// A rating as the worker and the figures know it.
#[derive(Debug, Clone)]
pub struct Rating {
    pub id: String,
    pub worker_id: String,
    pub case_kind: CaseType,
    pub case_id: String,
    pub case_no: String,
    pub region: RegionCode,
    pub given: Given,
    pub follow_up_id: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn decode(row: case_rating::Model) -> AppResult<Rating> {
    let malformed = |what: &str| AppError::internal(anyhow::anyhow!("rating {} has a malformed {what}", row.id));
    Ok(Rating {
        case_kind: CaseType::parse(&row.case_kind).ok_or_else(|| malformed("case kind"))?,
        region: RegionCode::parse(&row.region_code).map_err(|_| malformed("region"))?,
        given: Given {
            score: row.score,
            tags: rules::tags_of(&row.tags),
            comment: row.comment,
        },
        id: row.id,
        worker_id: row.worker_id,
        case_id: row.case_id,
        case_no: row.case_no,
        follow_up_id: row.follow_up_id,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// The rating of case `id` of `kind`, if it has one.
pub async fn of_case(db: &impl ConnectionTrait, kind: CaseType, id: &str) -> AppResult<Option<Rating>> {
    case_rating::Entity::find()
        .filter(case_rating::Column::CaseKind.eq(kind.as_str()))
        .filter(case_rating::Column::CaseId.eq(id))
        .one(db)
        .await?
        .map(decode)
        .transpose()
}

/// The rating `id`.
pub async fn load(db: &impl ConnectionTrait, id: &str) -> AppResult<Rating> {
    let row = case_rating::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("rating {id} vanished inside its transaction")))?;
    decode(row)
}

/// Ratings first given in `span` in `regions`, counted by region and score:
/// `(region, score, count)`, from one grouped query.
pub async fn by_region_and_score(
    db: &impl ConnectionTrait,
    span: DaySpan,
    regions: Option<&[String]>,
) -> AppResult<Vec<(String, i32, i64)>> {
    let mut query = case_rating::Entity::find()
        .select_only()
        .column(case_rating::Column::RegionCode)
        .column(case_rating::Column::Score)
        .column_as(Expr::expr(Func::count(Expr::cust("*"))), "count")
        .filter(span.condition(case_rating::Column::CreatedAt))
        .group_by(case_rating::Column::RegionCode)
        .group_by(case_rating::Column::Score);
    if let Some(codes) = regions {
        query = query.filter(case_rating::Column::RegionCode.is_in(codes.iter().map(String::as_str)));
    }
    Ok(query.into_tuple().all(db).await?)
}
