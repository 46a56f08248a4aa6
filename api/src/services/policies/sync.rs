//! Keeps this instance's search index in step with the database. Every
//! second the follower reads the policies changed since it last looked (an
//! indexed query on `updated_at`, never per request) and applies them, so an
//! edit, publication or archive made through any instance reaches every
//! instance's searches within about two seconds.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::policy;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{PolicyStatus, decode, indexed};
use crate::state::AppState;

const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Changes are re-read this far back: a transaction that started earlier but
/// committed after the last poll carries an older `updated_at`.
const OVERLAP: chrono::Duration = chrono::Duration::seconds(30);

/// Applies the changed rows to the index; returns the newest `updated_at` seen.
async fn apply_changes(state: &AppState, since: Option<DateTime<Utc>>) -> anyhow::Result<Option<DateTime<Utc>>> {
    let mut query = policy::Entity::find();
    query = match since {
        Some(since) => query.filter(policy::Column::UpdatedAt.gt(since - OVERLAP)),
        None => query.filter(policy::Column::Status.eq(PolicyStatus::Published.as_str())),
    };
    let rows = query.all(&state.db).await?;
    let newest = rows.iter().map(|r| r.updated_at).max();
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
    Ok(newest.max(since))
}

/// Fills the index with every published policy; done before serving.
pub async fn load(state: &AppState) -> anyhow::Result<Option<DateTime<Utc>>> {
    apply_changes(state, None).await
}

pub fn spawn_follower(state: AppState, mut watermark: Option<DateTime<Utc>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(POLL_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match apply_changes(&state, watermark.or(Some(DateTime::<Utc>::MIN_UTC + OVERLAP))).await {
                Ok(newest) => watermark = newest.or(watermark),
                Err(err) => tracing::warn!(error = %err, "policy index: changes could not be read; retrying"),
            }
        }
    })
}
