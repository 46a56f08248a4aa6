//! A worker's in-app inbox: the messages, newest first, what is still
//! unread, and marking read (one, or all at once). A worker reaches only
//! their own messages; another's message is as absent as one never sent.

use chrono::{DateTime, Utc};
use entity::notification;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::{
    error::{AppError, AppResult, ErrorCode},
    state::AppState,
};

/// A message of a worker's inbox.
#[derive(Debug, Clone)]
pub struct InboxMessage {
    pub id: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    /// pending | sent | refused | failed | skipped
    pub wechat_status: String,
}

impl From<notification::Model> for InboxMessage {
    fn from(row: notification::Model) -> Self {
        InboxMessage {
            id: row.id,
            title: row.title,
            body: row.body,
            link: row.link,
            created_at: row.created_at,
            read_at: row.read_at,
            wechat_status: row.wechat_status,
        }
    }
}

fn mine(worker_id: &str) -> sea_orm::Condition {
    sea_orm::Condition::all().add(notification::Column::WorkerId.eq(worker_id))
}

fn unread(worker_id: &str) -> sea_orm::Condition {
    mine(worker_id).add(notification::Column::ReadAt.is_null())
}

/// The worker's inbox, newest first, and how many messages it holds.
pub async fn inbox(
    state: &AppState,
    worker_id: &str,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<InboxMessage>, u64)> {
    let paginator = notification::Entity::find()
        .filter(mine(worker_id))
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::OutboxId)
        .paginate(&state.db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    Ok((rows.into_iter().map(InboxMessage::from).collect(), total))
}

/// How many of the worker's messages are unread: the badge on the phone.
pub async fn unread_count(state: &AppState, worker_id: &str) -> AppResult<u64> {
    Ok(notification::Entity::find()
        .filter(unread(worker_id))
        .count(&state.db)
        .await?)
}

/// Marks one of the worker's messages read; reading it again keeps the first
/// time. Someone else's message is not found.
pub async fn mark_read(state: &AppState, worker_id: &str, id: &str) -> AppResult<InboxMessage> {
    notification::Entity::update_many()
        .set(notification::ActiveModel {
            read_at: Set(Some(Utc::now())),
            ..Default::default()
        })
        .filter(unread(worker_id).add(notification::Column::Id.eq(id)))
        .exec(&state.db)
        .await?;
    notification::Entity::find()
        .filter(mine(worker_id).add(notification::Column::Id.eq(id)))
        .one(&state.db)
        .await?
        .map(InboxMessage::from)
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))
}

/// Marks every unread message of the worker read; returns how many were.
pub async fn mark_all_read(state: &AppState, worker_id: &str) -> AppResult<u64> {
    let marked = notification::Entity::update_many()
        .set(notification::ActiveModel {
            read_at: Set(Some(Utc::now())),
            ..Default::default()
        })
        .filter(unread(worker_id))
        .exec(&state.db)
        .await?;
    Ok(marked.rows_affected)
}
