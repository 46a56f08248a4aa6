//! Keeps this instance's search index in step with the database. Every
//! second the follower reads the policies changed since it last looked (an
//! indexed query on `updated_at`, never per request) and applies them, so an
//! edit, publication or archive made through any instance reaches every
//! instance's searches within about two seconds.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::policy;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{PolicyStatus, decode, indexed};
use crate::state::AppState;

const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Changes are re-read this far back: a transaction that started earlier but
/// committed after the last poll carries an older `updated_at`, and another
/// instance's clock may lag this one's.
const OVERLAP: chrono::Duration = chrono::Duration::seconds(30);
/// Rows are read this many at a time, so that loading a large library never
/// holds all of it twice (rows and index) at once.
const PAGE: u64 = 500;

/// Applies the rows changed after `since` (every published one when `None`)
/// to the index, page by page in id order.
async fn apply_changes(state: &AppState, since: Option<DateTime<Utc>>) -> anyhow::Result<()> {
    let mut after: Option<String> = None;
    loop {
        let mut query = policy::Entity::find().order_by_asc(policy::Column::Id).limit(PAGE);
        query = match since {
            Some(since) => query.filter(policy::Column::UpdatedAt.gt(since)),
            None => query.filter(policy::Column::Status.eq(PolicyStatus::Published.as_str())),
        };
        if let Some(after) = &after {
            query = query.filter(policy::Column::Id.gt(after.as_str()));
        }
        let rows = query.all(&state.db).await?;
        let full_page = rows.len() as u64 == PAGE;
        after = rows.last().map(|row| row.id.clone());
        for row in rows {
            let policy = decode(row).map_err(|e| anyhow::anyhow!("{e}"))?;
            let indexed_version = state.policies.version_of(&policy.id);
            if policy.status == PolicyStatus::Published {
                if indexed_version.is_none_or(|v| v < policy.version) {
                    state.policies.upsert(indexed(&policy, &state.regions));
                }
            } else if indexed_version.is_some_and(|v| v <= policy.version) {
                state.policies.remove(&policy.id);
            }
        }
        if !full_page {
            return Ok(());
        }
    }
}

/// Fills the index with every published policy; done before serving.
/// Returns when it started: the follower looks for changes from there on.
pub async fn load(state: &AppState) -> anyhow::Result<DateTime<Utc>> {
    let started = Utc::now();
    apply_changes(state, None).await?;
    state.policies.compact();
    Ok(started)
}

/// Follows changes from `loaded_at` on. The window is measured from when
/// each poll started, not from the newest change seen: after a quiet
/// period it is empty, instead of re-reading the last changes every second.
pub fn spawn_follower(state: AppState, loaded_at: DateTime<Utc>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(POLL_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_poll = loaded_at;
        loop {
            ticker.tick().await;
            let started = Utc::now();
            match apply_changes(&state, Some(last_poll - OVERLAP)).await {
                Ok(()) => last_poll = started,
                Err(err) => tracing::warn!(error = %err, "policy index: changes could not be read; retrying"),
            }
        }
    })
}
