//! A policy's versions: every change an editor made, read back from the
//! audit log (which records each one with the version it made), so the
//! history needs no table of its own and cannot disagree with the audit.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{audit_log, staff_account};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;

use super::{PolicyStatus, load};
use crate::{
    access,
    auth::{Principal, Role},
    error::{AppError, AppResult, ErrorCode},
    state::AppState,
};

/// One change of a policy.
#[derive(Debug, Clone)]
pub struct PolicyChange {
    /// The version the change made.
    pub version: i32,
    /// `create`, `update`, `publish` or `archive`.
    pub action: String,
    /// The status after the change.
    pub status: PolicyStatus,
    pub at: DateTime<Utc>,
    /// The editor's display name; none for an account that no longer exists.
    pub by: Option<String>,
}

/// The changes of policy `id`, oldest first, for the policy editors whose
/// region covers it (404 for the others, as reading the draft itself).
pub async fn history(state: &AppState, editor: &Principal, id: &str) -> AppResult<Vec<PolicyChange>> {
    access::require_role(editor, Role::PolicyEditor)?;
    let policy = load(&state.db, id).await?;
    if !access::may_read_policy(&state.regions, Some(editor), false, policy.content.region_code) {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    let rows = audit_log::Entity::find()
        .filter(audit_log::Column::TargetType.eq("policy"))
        .filter(audit_log::Column::TargetId.eq(id))
        .filter(audit_log::Column::Action.starts_with("policy."))
        .order_by_asc(audit_log::Column::Id)
        .all(&state.db)
        .await?;
    let names = editor_names(state, &rows).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let details: Value = serde_json::from_str(row.details.as_deref()?).ok()?;
            Some(PolicyChange {
                version: i32::try_from(details["version"].as_i64()?).ok()?,
                status: PolicyStatus::parse(details["status"].as_str()?)?,
                action: row.action.trim_start_matches("policy.").to_owned(),
                at: row.at,
                by: row.actor_id.as_ref().and_then(|actor| names.get(actor).cloned()),
            })
        })
        .collect())
}

/// The display names of the editors who made `rows`, in one read.
async fn editor_names(state: &AppState, rows: &[audit_log::Model]) -> AppResult<HashMap<String, String>> {
    let mut ids: Vec<&str> = rows.iter().filter_map(|row| row.actor_id.as_deref()).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(staff_account::Entity::find()
        .select_only()
        .columns([staff_account::Column::Id, staff_account::Column::DisplayName])
        .filter(staff_account::Column::Id.is_in(ids))
        .into_tuple::<(String, String)>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect())
}
