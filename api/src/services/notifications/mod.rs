//! Notifications through an outbox. A status change writes its message into
//! the outbox in the same transaction, so a committed change is never lost
//! to a crash. A background deliverer (any instance; rows are claimed for a
//! minute at a time) puts each message in the worker's in-app inbox and sends
//! it as a WeChat subscribe message. 43101 (the user refused) is recorded and
//! not retried; other failures retry with backoff.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use chrono::{DateTime, Utc};
use entity::{notification, outbox, worker};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    sea_query::{InsertStatement, OnConflict},
};

pub use self::{
    inbox::{InboxMessage, inbox, mark_all_read, mark_read, unread_count},
    message::{CaseNews, Event, Message, check_templates},
};
use crate::{
    error::AppResult,
    infra::{subscribe_message::Template, wechat::WechatError},
    state::AppState,
};

mod inbox;
mod message;

const CLAIM_FOR: chrono::Duration = chrono::Duration::seconds(60);
const BATCH: u64 = 50;
/// After this many failed sends the WeChat message is given up (the inbox has it).
const MAX_ATTEMPTS: i32 = 8;

/// Puts a message for a worker in the outbox, inside the caller's transaction.
pub async fn enqueue(db: &impl ConnectionTrait, worker_id: &str, topic: &str, message: &Message) -> AppResult<()> {
    db.execute(&outbox_insert(worker_id, topic, message)).await?;
    Ok(())
}

/// The insert of one message into the outbox, for a caller that sends it
/// with other writes.
pub fn outbox_insert(worker_id: &str, topic: &str, message: &Message) -> InsertStatement {
    let now = Utc::now();
    let row = outbox::ActiveModel {
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
    };
    outbox::Entity::insert(row).into_query()
}

/// Puts many messages in the outbox at once, inside the caller's
/// transaction: one statement for up to `OUTBOX_ROWS_PER_INSERT` messages,
/// as matching tells thousands of workers of a program (`enqueue` one by one
/// would cost a round trip each).
pub async fn enqueue_many(db: &impl ConnectionTrait, topic: &str, messages: &[(String, Message)]) -> AppResult<()> {
    let now = Utc::now();
    for chunk in messages.chunks(OUTBOX_ROWS_PER_INSERT) {
        let rows = chunk.iter().map(|(worker_id, message)| outbox::ActiveModel {
            topic: Set(topic.to_owned()),
            worker_id: Set(worker_id.clone()),
            payload: Set(serde_json::to_string(message).expect("a message serializes")),
            created_at: Set(now),
            attempts: Set(0),
            next_attempt_at: Set(now),
            claimed_until: Set(None),
            done_at: Set(None),
            last_error: Set(None),
            ..Default::default()
        });
        outbox::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Rows of one multi-row insert into the outbox: nine values each, inside
/// SQLite's limit on bound values.
const OUTBOX_ROWS_PER_INSERT: usize = 1000;

/// What became of the WeChat side of one delivery.
enum Sent {
    Done(&'static str),
    Retry(String),
}

/// Whether messages go to WeChat at all: templates configured, live mode.
fn sends_to_wechat(state: &AppState) -> bool {
    !state.config.wechat.templates.is_empty() && state.wechat.is_live()
}

/// The subscribe-message template an event is sent with, if any.
fn template_of<'a>(state: &'a AppState, event: &str) -> Option<&'a Template> {
    sends_to_wechat(state)
        .then(|| state.config.wechat.templates.for_event(event))
        .flatten()
}

async fn send_wechat(state: &AppState, event: &str, openid: Option<&str>, message: &Message) -> Sent {
    let (Some(template), Some(openid), Some(news)) = (template_of(state, event), openid, &message.news) else {
        return Sent::Done("skipped");
    };
    let Some(data) = template.render(&news.facts()) else {
        return Sent::Done("skipped");
    };
    let page = message.link.as_deref().unwrap_or("pages/index/index");
    match state
        .wechat
        .send_subscribe_message(openid, &template.template_id, page, data)
        .await
    {
        Ok(true) => Sent::Done("sent"),
        Ok(false) => Sent::Done("refused"),
        Err(WechatError::Unavailable(reason)) => Sent::Retry(reason),
        Err(other) => Sent::Retry(other.to_string()),
    }
}

/// The openids of the workers the rows are for, read only when messages go
/// to WeChat at all.
async fn openids(state: &AppState, rows: &[(outbox::Model, Message)]) -> AppResult<HashMap<String, String>> {
    if !sends_to_wechat(state) {
        return Ok(HashMap::new());
    }
    let worker_ids: HashSet<&str> = rows.iter().map(|(row, _)| row.worker_id.as_str()).collect();
    Ok(worker::Entity::find()
        .filter(worker::Column::Id.is_in(worker_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|person| (person.id, person.openid))
        .collect())
}

/// How one claimed row ends this round; rows that end alike are written
/// back in one statement.
#[derive(PartialEq, Eq, Hash)]
struct Outcome {
    wechat_status: &'static str,
    attempts: i32,
    done: bool,
    error: Option<String>,
}

/// Each message in its worker's inbox, once however often it is delivered.
async fn put_in_inbox(state: &AppState, rows: &[(outbox::Model, Message)]) -> AppResult<()> {
    let inbox = rows.iter().map(|(row, message)| notification::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        outbox_id: Set(row.id),
        worker_id: Set(row.worker_id.clone()),
        title: Set(message.title.clone()),
        body: Set(message.body.clone()),
        link: Set(message.link.clone()),
        created_at: Set(row.created_at),
        read_at: Set(None),
        wechat_status: Set("pending".to_owned()),
    });
    if !rows.is_empty() {
        notification::Entity::insert_many(inbox)
            .on_conflict(
                OnConflict::column(notification::Column::OutboxId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&state.db)
            .await?;
    }
    Ok(())
}

/// Delivers claimed rows: inbox first (once, whatever happens after), then
/// WeChat; marks each done or schedules its next try. A batch costs a handful
/// of statements, not four a message.
async fn deliver(state: &AppState, claimed: Vec<outbox::Model>) -> AppResult<()> {
    let mut outcomes: HashMap<Outcome, Vec<i64>> = HashMap::new();
    let mut rows = Vec::with_capacity(claimed.len());
    for row in claimed {
        match serde_json::from_str::<Message>(&row.payload) {
            Ok(message) => rows.push((row, message)),
            // Nothing to show or send: trying again would not change that.
            Err(err) => outcomes
                .entry(Outcome {
                    wechat_status: "failed",
                    attempts: row.attempts + 1,
                    done: true,
                    error: Some(format!("malformed payload: {err}")),
                })
                .or_default()
                .push(row.id),
        }
    }
    put_in_inbox(state, &rows).await?;

    let openids = openids(state, &rows).await?;
    for (row, message) in &rows {
        let attempts = row.attempts + 1;
        let (wechat_status, done, error) = match send_wechat(
            state,
            &row.topic,
            openids.get(&row.worker_id).map(String::as_str),
            message,
        )
        .await
        {
            Sent::Done(status) => (status, true, None),
            Sent::Retry(error) if attempts >= MAX_ATTEMPTS => ("failed", true, Some(error)),
            Sent::Retry(error) => ("pending", false, Some(error)),
        };
        outcomes
            .entry(Outcome {
                wechat_status,
                attempts,
                done,
                error: error.map(|e| e.chars().take(255).collect()),
            })
            .or_default()
            .push(row.id);
    }
    for (outcome, ids) in outcomes {
        notification::Entity::update_many()
            .set(notification::ActiveModel {
                wechat_status: Set(outcome.wechat_status.to_owned()),
                ..Default::default()
            })
            .filter(notification::Column::OutboxId.is_in(ids.clone()))
            .exec(&state.db)
            .await?;
        let backoff = chrono::Duration::seconds(10 * (1i64 << outcome.attempts.min(8)));
        outbox::Entity::update_many()
            .set(outbox::ActiveModel {
                attempts: Set(outcome.attempts),
                done_at: Set(outcome.done.then(Utc::now)),
                next_attempt_at: Set(Utc::now() + backoff),
                claimed_until: Set(None),
                last_error: Set(outcome.error),
                ..Default::default()
            })
            .filter(outbox::Column::Id.is_in(ids))
            .exec(&state.db)
            .await?;
    }
    Ok(())
}

/// Delivers everything that is due, a batch at a time, so a backlog is
/// worked off at once rather than one batch a tick; returns how many rows
/// were handled.
pub async fn deliver_due(state: &AppState) -> AppResult<usize> {
    let mut handled = 0;
    loop {
        let batch = deliver_batch(state).await?;
        handled += batch;
        if batch < BATCH as usize {
            return Ok(handled);
        }
    }
}

/// Rows not done that no deliverer holds at `now`.
fn claimable(now: DateTime<Utc>) -> sea_orm::Condition {
    sea_orm::Condition::all().add(outbox::Column::DoneAt.is_null()).add(
        sea_orm::Condition::any()
            .add(outbox::Column::ClaimedUntil.is_null())
            .add(outbox::Column::ClaimedUntil.lt(now)),
    )
}

/// Claims and delivers up to `BATCH` due rows; returns how many it claimed.
async fn deliver_batch(state: &AppState) -> AppResult<usize> {
    let now = Utc::now();
    // Rows another instance holds are passed over, so that it and this one
    // work off a backlog side by side.
    let due = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(claimable(now))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(outbox::Column::Id)
        .limit(BATCH)
        .into_query();
    // Found and claimed in one statement: of several instances, one delivers
    // each row, as the claim is checked again on the row it updates.
    let claimed = outbox::Entity::update_many()
        .set(outbox::ActiveModel {
            claimed_until: Set(Some(now + CLAIM_FOR)),
            ..Default::default()
        })
        .filter(outbox::Column::Id.in_subquery(due))
        .filter(claimable(now))
        .exec_with_returning(&state.db)
        .await?;
    let handled = claimed.len();
    if handled > 0 {
        deliver(state, claimed).await?;
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
