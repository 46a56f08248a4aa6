//! Notifications through an outbox. A status change writes its message into
//! the outbox in the same transaction, so a committed change is never lost
//! to a crash. A background deliverer (any instance; rows are claimed for a
//! minute at a time) puts each message in the worker's in-app inbox and sends
//! it as a WeChat subscribe message. 43101 (the user refused) is recorded and
//! not retried; other failures retry with backoff.

use std::time::Duration;

use chrono::Utc;
use entity::{notification, outbox, worker};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{error::AppResult, infra::wechat::WechatError, state::AppState};

const CLAIM_FOR: chrono::Duration = chrono::Duration::seconds(60);
const BATCH: u64 = 50;
/// After this many failed sends the WeChat message is given up (the inbox has it).
const MAX_ATTEMPTS: i32 = 8;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    pub title: String,
    pub body: String,
    /// A mini-program page, e.g. `pages/applications/detail?id=…`.
    pub link: Option<String>,
}

/// Puts a message for a worker in the outbox, inside the caller's transaction.
pub async fn enqueue(db: &impl ConnectionTrait, worker_id: &str, topic: &str, message: &Message) -> AppResult<()> {
    let now = Utc::now();
    outbox::ActiveModel {
        topic: Set(topic.to_owned()),
        worker_id: Set(worker_id.to_owned()),
        payload: Set(serde_json::to_string(message).expect("a message serializes")),
        created_at: Set(now),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        done_at: Set(None),
        last_error: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// What became of the WeChat side of one delivery.
enum Sent {
    Done(&'static str),
    Retry(String),
}

async fn send_wechat(state: &AppState, row: &outbox::Model, message: &Message) -> Sent {
    let Some(template) = state
        .config
        .wechat
        .status_template_id
        .as_deref()
        .filter(|_| state.wechat.is_live())
    else {
        return Sent::Done("skipped");
    };
    let openid = match worker::Entity::find_by_id(row.worker_id.clone()).one(&state.db).await {
        Ok(Some(person)) => person.openid,
        Ok(None) => return Sent::Done("skipped"),
        Err(err) => return Sent::Retry(err.to_string()),
    };
    let data = json!({
        "thing1": { "value": message.title.chars().take(20).collect::<String>() },
        "thing2": { "value": message.body.chars().take(20).collect::<String>() },
    });
    let page = message.link.as_deref().unwrap_or("pages/index/index");
    match state.wechat.send_subscribe_message(&openid, template, page, data).await {
        Ok(true) => Sent::Done("sent"),
        Ok(false) => Sent::Done("refused"),
        Err(WechatError::Unavailable(reason)) => Sent::Retry(reason),
        Err(other) => Sent::Retry(other.to_string()),
    }
}

/// Delivers one claimed row: inbox first (once, whatever happens after),
/// then WeChat; marks it done or schedules the next try.
async fn deliver(state: &AppState, row: outbox::Model) -> AppResult<()> {
    let message: Message = serde_json::from_str(&row.payload).map_err(crate::error::AppError::internal)?;
    let inbox = notification::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        outbox_id: Set(row.id),
        worker_id: Set(row.worker_id.clone()),
        title: Set(message.title.clone()),
        body: Set(message.body.clone()),
        link: Set(message.link.clone()),
        created_at: Set(row.created_at),
        read_at: Set(None),
        wechat_status: Set("pending".to_owned()),
    };
    match inbox.insert(&state.db).await {
        Ok(_) => {}
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
        Err(err) => return Err(err.into()),
    }
    let attempts = row.attempts + 1;
    let (status, done, error) = match send_wechat(state, &row, &message).await {
        Sent::Done(status) => (status, true, None),
        Sent::Retry(error) if attempts >= MAX_ATTEMPTS => ("failed", true, Some(error)),
        Sent::Retry(error) => ("pending", false, Some(error)),
    };
    notification::Entity::update_many()
        .set(notification::ActiveModel {
            wechat_status: Set(status.to_owned()),
            ..Default::default()
        })
        .filter(notification::Column::OutboxId.eq(row.id))
        .exec(&state.db)
        .await?;
    let backoff = chrono::Duration::seconds(10 * (1i64 << attempts.min(8)));
    outbox::Entity::update_many()
        .set(outbox::ActiveModel {
            attempts: Set(attempts),
            done_at: Set(done.then(Utc::now)),
            next_attempt_at: Set(Utc::now() + backoff),
            claimed_until: Set(None),
            last_error: Set(error.map(|e| e.chars().take(255).collect())),
            ..Default::default()
        })
        .filter(outbox::Column::Id.eq(row.id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Delivers what is due; returns how many rows were handled.
pub async fn deliver_due(state: &AppState) -> AppResult<usize> {
    let now = Utc::now();
    let due = outbox::Entity::find()
        .filter(outbox::Column::DoneAt.is_null())
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(outbox::Column::Id)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    let mut handled = 0;
    for row in due {
        // Claim it: of several instances, one delivers.
        let claimed = outbox::Entity::update_many()
            .set(outbox::ActiveModel {
                claimed_until: Set(Some(now + CLAIM_FOR)),
                ..Default::default()
            })
            .filter(outbox::Column::Id.eq(row.id))
            .filter(outbox::Column::DoneAt.is_null())
            .filter(
                sea_orm::Condition::any()
                    .add(outbox::Column::ClaimedUntil.is_null())
                    .add(outbox::Column::ClaimedUntil.lt(now)),
            )
            .exec(&state.db)
            .await?;
        if claimed.rows_affected == 1 {
            deliver(state, row).await?;
            handled += 1;
        }
    }
    Ok(handled)
}

pub fn spawn_deliverer(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(state.config.outbox_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(err) = deliver_due(&state).await {
                tracing::warn!(error = %err, "outbox delivery failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    })
}

/// The worker's inbox, newest first.
pub async fn inbox(
    state: &AppState,
    worker_id: &str,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<notification::Model>, u64)> {
    let paginator = notification::Entity::find()
        .filter(notification::Column::WorkerId.eq(worker_id))
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::OutboxId)
        .paginate(&state.db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let items = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    Ok((items, total))
}
