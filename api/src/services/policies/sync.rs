//! Keeps this instance's search index in step with the database. Every
//! second the follower reads the policies changed since it last looked (an
//! indexed query on `updated_at`, never per request) and applies them, so an
//! edit, publication or archive made through any instance reaches every
//! instance's searches within about two seconds. A poll that changed
//! something commits, with the time it started as the watermark; at start
//! an index already on disk only reads what changed since its watermark.

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
/// Rows are read this many at a time, so that building from a large
/// library never holds all of it in memory at once.
const PAGE: u64 = 500;
/// A build commits after this many policies: tantivy queues staged
/// documents for its indexing thread, and reading rows is faster than
/// segmenting them, so without a commit to wait on the queue would hold
/// thousands of policies' text at once (about 300 MB at 100,000 policies).
/// The commits carry no watermark: an interrupted build starts over.
const BUILD_COMMIT_EVERY: usize = 2_000;

/// Applies the rows changed after `since` (every published one when `None`)
/// to the index, page by page in id order; returns how many it staged.
/// The caller commits.
async fn apply_changes(state: &AppState, since: Option<DateTime<Utc>>) -> anyhow::Result<usize> {
    let mut after: Option<String> = None;
    let mut staged = 0;
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
            // A build starts from an empty index: nothing to look up.
            let indexed_version = since.and_then(|_| state.policies.version_of(&policy.id));
            if policy.status == PolicyStatus::Published {
                if indexed_version.is_none_or(|v| v < policy.version) {
                    state.policies.stage_upsert(&indexed(&policy, &state.regions))?;
                    staged += 1;
                }
            } else if indexed_version.is_some_and(|v| v <= policy.version) {
                state.policies.stage_remove(&policy.id)?;
                staged += 1;
            }
            if since.is_none() && staged > 0 && staged % BUILD_COMMIT_EVERY == 0 {
                commit(state, None).await?;
            }
        }
        if !full_page {
            return Ok(staged);
        }
    }
}

/// Commits off the async threads: a commit waits for the disk.
async fn commit(state: &AppState, watermark: Option<DateTime<Utc>>) -> anyhow::Result<()> {
    let index = state.policies.clone();
    tokio::task::spawn_blocking(move || index.commit(watermark)).await?
}

/// Brings the index up to date before serving: from its watermark (less
/// the overlap) when the directory holds one, otherwise by building it
/// from every published policy. Returns when it started: the follower
/// looks for changes from there on.
pub async fn load(state: &AppState) -> anyhow::Result<DateTime<Utc>> {
    let started = Utc::now();
    match state.policies.watermark() {
        Some(watermark) => {
            let staged = apply_changes(state, Some(watermark - OVERLAP)).await?;
            tracing::info!(staged, %watermark, "policy index: opened from disk, caught up");
            if staged > 0 {
                commit(state, Some(started)).await?;
            }
        }
        None => {
            let staged = apply_changes(state, None).await?;
            commit(state, Some(started)).await?;
            state.policies.settle().await?;
            tracing::info!(staged, "policy index: built from the database");
        }
    }
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
            let applied = match apply_changes(&state, Some(last_poll - OVERLAP)).await {
                Ok(0) => Ok(()),
                Ok(_) => commit(&state, Some(started)).await,
                Err(err) => Err(err),
            };
            match applied {
                Ok(()) => last_poll = started,
                Err(err) => tracing::warn!(error = %err, "policy index: changes could not be applied; retrying"),
            }
        }
    })
}
