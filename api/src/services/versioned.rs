//! Optimistic concurrency for every record people edit (cases, programs,
//! policies): each carries a version that every change raises, a change says
//! which version it was prepared on, and the database applies it only if
//! that is still the version. Of two people acting on the same view, the
//! second gets 409 `VERSION_CONFLICT` with the current version.

use entity::{application, case_rating, complaint, follow_up, policy, program, si_transfer, wage_report};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr,
};
use serde_json::json;

use crate::error::{AppError, AppResult, ErrorCode};

/// A table of versioned records: an id, and a version every change raises.
pub trait Versioned: EntityTrait {
    const ID: Self::Column;
    const VERSION: Self::Column;
}

macro_rules! versioned {
    ($($table:ident),*) => {$(
        impl Versioned for $table::Entity {
            const ID: Self::Column = $table::Column::Id;
            const VERSION: Self::Column = $table::Column::Version;
        }
    )*};
}

versioned!(
    application,
    wage_report,
    si_transfer,
    program,
    policy,
    case_rating,
    follow_up,
    complaint
);

/// Writes `changes` to the record `id` if its version is still `seen`, and
/// raises the version; 409 with the current version otherwise.
pub async fn update<E: Versioned>(
    transaction: &DatabaseTransaction,
    id: &str,
    seen: i32,
    changes: E::ActiveModel,
) -> AppResult<()>
where
    E::ActiveModel: ActiveModelTrait<Entity = E>,
{
    let updated = E::update_many()
        .set(changes)
        .col_expr(E::VERSION, Expr::value(seen + 1))
        .filter(E::ID.eq(id))
        .filter(E::VERSION.eq(seen))
        .exec(transaction)
        .await?;
    if updated.rows_affected == 0 {
        let current: Option<i32> = E::find()
            .select_only()
            .column(E::VERSION)
            .filter(E::ID.eq(id))
            .into_tuple()
            .one(transaction)
            .await?;
        return Err(current.map_or_else(|| AppError::new(ErrorCode::NotFound), stale));
    }
    Ok(())
}

/// 409 for a change made on a view older than the record.
pub fn stale(current_version: i32) -> AppError {
    AppError::new(ErrorCode::VersionConflict).with_details(json!({ "current_version": current_version }))
}

/// Refuses a change prepared on a version other than the record's; `None`
/// where the caller states no version (a worker's own step).
pub fn check(expected: Option<i32>, current: i32) -> AppResult<()> {
    match expected {
        Some(expected) if expected != current => Err(stale(current)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_on_another_version_is_refused_with_the_current_one() {
        assert!(check(None, 7).is_ok(), "a worker's own step states no version");
        assert!(check(Some(7), 7).is_ok());
        let refused = check(Some(6), 7).unwrap_err();
        assert_eq!(refused.code, ErrorCode::VersionConflict);
        assert_eq!(refused.details, Some(json!({ "current_version": 7 })));
    }
}
