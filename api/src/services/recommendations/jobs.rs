//! The background matcher: runs the matching jobs that opening a program
//! records, one at a time, on any instance (a job is claimed for a while,
//! so that one instance runs it; a job whose instance died is taken over
//! when its claim lapses, and re-running it is harmless).

use std::time::Duration;

use chrono::Utc;
use entity::matching_job;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};

use super::matching;
use crate::{error::AppResult, services::audit, state::AppState};

/// How long a claim holds a job: more than matching a province takes.
const CLAIM_FOR: chrono::Duration = chrono::Duration::minutes(10);
/// After this many failed runs a job is given up (its error kept).
const MAX_ATTEMPTS: i32 = 5;

/// Jobs not finished that no instance holds at `now`.
fn claimable(now: chrono::DateTime<Utc>) -> Condition {
    Condition::all().add(matching_job::Column::FinishedAt.is_null()).add(
        Condition::any()
            .add(matching_job::Column::ClaimedUntil.is_null())
            .add(matching_job::Column::ClaimedUntil.lt(now)),
    )
}

/// Claims the oldest due job, if any.
async fn claim(state: &AppState) -> AppResult<Option<matching_job::Model>> {
    let now = Utc::now();
    let Some(id) = matching_job::Entity::find()
        .select_only()
        .column(matching_job::Column::Id)
        .filter(claimable(now))
        .order_by_asc(matching_job::Column::Id)
        .into_tuple::<i64>()
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let claimed = matching_job::Entity::update_many()
        .set(matching_job::ActiveModel {
            claimed_until: Set(Some(now + CLAIM_FOR)),
            started_at: Set(Some(now)),
            ..Default::default()
        })
        .col_expr(
            matching_job::Column::Attempts,
            Expr::col(matching_job::Column::Attempts).add(1),
        )
        .filter(matching_job::Column::Id.eq(id))
        .filter(claimable(now))
        .exec_with_returning(&state.db)
        .await?;
    Ok(claimed.into_iter().next())
}

/// Runs one claimed job and records how it ended.
async fn run(state: &AppState, job: matching_job::Model) -> AppResult<()> {
    let outcome = matching::match_program(state, &job.program_id).await;
    let now = Utc::now();
    let mut ended = matching_job::ActiveModel {
        claimed_until: Set(None),
        ..Default::default()
    };
    match &outcome {
        Ok(counts) => {
            ended.finished_at = Set(Some(now));
            ended.evaluated = Set(Some(counts.evaluated));
            ended.matched = Set(Some(counts.matched));
            ended.offered = Set(Some(counts.offered));
            ended.notified = Set(Some(counts.notified));
            tracing::info!(program = %job.program_id, evaluated = counts.evaluated, matched = counts.matched,
                notified = counts.notified, "matching job done");
        }
        Err(err) => {
            tracing::warn!(program = %job.program_id, error = %err, "matching job failed");
            ended.last_error = Set(Some(err.to_string().chars().take(255).collect()));
            if job.attempts >= MAX_ATTEMPTS {
                ended.finished_at = Set(Some(now));
            } else {
                let backoff = chrono::Duration::seconds(30 * i64::from(Ord::max(job.attempts, 1)));
                ended.claimed_until = Set(Some(now + backoff));
            }
        }
    }
    matching_job::Entity::update_many()
        .set(ended)
        .filter(matching_job::Column::Id.eq(job.id))
        .exec(&state.db)
        .await?;
    if let Ok(counts) = outcome {
        let summary = serde_json::json!({
            "program_id": job.program_id, "evaluated": counts.evaluated, "matched": counts.matched,
            "offered": counts.offered, "notified": counts.notified,
        });
        audit::record_system_run(&state.db, "recommendation.match_program", summary).await?;
    }
    Ok(())
}

/// Runs every due job, one after another; returns how many ran.
pub async fn run_due(state: &AppState) -> AppResult<usize> {
    let mut ran = 0;
    while let Some(job) = claim(state).await? {
        run(state, job).await?;
        ran += 1;
    }
    Ok(ran)
}

/// Looks for due jobs at the outbox's interval (`SHIMINHUA_OUTBOX_INTERVAL_MS`).
pub fn spawn_matcher(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(state.config.outbox_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(err) = run_due(&state).await {
                tracing::warn!(error = %err, "matching jobs failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    })
}
