//! Programs as their administrators follow them: every status, with how much
//! of the budget and quota is used and how much is still being reviewed.

use std::collections::HashMap;

use entity::{application, program};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, Func},
};

use super::{Program, ProgramStatus, decode, load};
use crate::{
    access,
    auth::{Principal, Role},
    error::{AppError, AppResult, ErrorCode},
    infra::db::sum_i64,
    services::applications::status::ApplicationStatus,
    state::AppState,
};

/// Applications of a program still on their way to a decision.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pending {
    pub count: i64,
    /// What they ask for, in fen.
    pub requested_fen: i64,
}

/// The statuses whose applications may yet take budget and quota.
const UNDECIDED: [ApplicationStatus; 3] = [
    ApplicationStatus::Submitted,
    ApplicationStatus::UnderReview,
    ApplicationStatus::Returned,
];

/// One page of the programs of the administrator's region and below, any
/// status (or `status`), by name, each with its pending applications.
pub async fn list(
    state: &AppState,
    admin: &Principal,
    status: Option<ProgramStatus>,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<(Program, Pending)>, u64)> {
    access::require_role(admin, Role::Admin)?;
    let mut query = program::Entity::find()
        .order_by_asc(program::Column::Name)
        .order_by_asc(program::Column::Id);
    if let Some(codes) = access::staff_scope(&state.regions, admin, None)? {
        query = query.filter(program::Column::RegionCode.is_in(codes));
    }
    if let Some(status) = status {
        query = query.filter(program::Column::Status.eq(status.as_str()));
    }
    let paginator = query.paginate(&state.db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    let programs = rows.into_iter().map(decode).collect::<AppResult<Vec<_>>>()?;
    let mut pending = pending(state, programs.iter().map(|p| p.id.as_str())).await?;
    let listed = programs
        .into_iter()
        .map(|program| {
            let waiting = pending.remove(&program.id).unwrap_or_default();
            (program, waiting)
        })
        .collect();
    Ok((listed, total))
}

/// A program of the administrator's region or below, in any status (404 for
/// another region's, as if it did not exist).
pub async fn get(state: &AppState, admin: &Principal, id: &str) -> AppResult<(Program, Pending)> {
    access::require_role(admin, Role::Admin)?;
    let program = load(&state.db, id).await?;
    if !access::covers(&state.regions, admin, program.terms.region_code) {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    let waiting = pending(state, [id]).await?.remove(id).unwrap_or_default();
    Ok((program, waiting))
}

/// The undecided applications of `programs`, counted and summed by the
/// database in one grouped query.
async fn pending<'a>(
    state: &AppState,
    programs: impl IntoIterator<Item = &'a str>,
) -> AppResult<HashMap<String, Pending>> {
    let rows: Vec<(String, i64, i64)> = application::Entity::find()
        .select_only()
        .column(application::Column::ProgramId)
        .column_as(Expr::expr(Func::count(Expr::cust("*"))), "count")
        .column_as(sum_i64(application::Column::RequestedAmountFen), "requested")
        .filter(application::Column::ProgramId.is_in(programs))
        .filter(application::Column::Status.is_in(UNDECIDED.map(ApplicationStatus::as_str)))
        .group_by(application::Column::ProgramId)
        .into_tuple()
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, count, requested_fen)| (id, Pending { count, requested_fen }))
        .collect())
}
