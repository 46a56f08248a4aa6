use poem::web::Data;
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{ApiTags, Page};
use crate::{
    auth::schemes::WorkerAuth,
    http::{
        params::{PageNumber, PageSize, Paging, RecordId},
        problem::{ApiResult, status},
    },
    services::notifications::{self, InboxMessage},
    state::AppState,
};

pub struct NotificationApi;

/// A message in the worker's inbox.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct NotificationView {
    pub id: String,
    /// What kind of case moved, e.g. `补贴申请进度`.
    pub title: String,
    /// The case, its new status and the next step, e.g.
    /// `您的补贴申请SB-450102-20261130-0001：审核通过（1500.00元）。等待财务发放补贴。`
    pub body: String,
    /// The mini-program page to open.
    pub link: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When the worker first read it; absent while unread.
    pub read_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether WeChat also delivered it: `sent`, `refused` (not subscribed),
    /// `pending`, `failed`, or `skipped` (no template for its event).
    pub wechat_status: String,
}

impl From<InboxMessage> for NotificationView {
    fn from(message: InboxMessage) -> Self {
        NotificationView {
            id: message.id,
            title: message.title,
            body: message.body,
            link: message.link,
            created_at: message.created_at,
            read_at: message.read_at,
            wechat_status: message.wechat_status,
        }
    }
}

/// How many messages are unread.
#[derive(Debug, Object)]
pub struct UnreadCount {
    pub unread: u64,
}

/// How many messages one call marked read.
#[derive(Debug, Object)]
pub struct MarkedRead {
    pub marked: u64,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Me")]
impl NotificationApi {
    /// My notifications
    ///
    /// Every change of my applications, unpaid-wage reports and transfers,
    /// newest first, each naming the case, its new status and the next step.
    #[oai(path = "/me/notifications", method = "get", operation_id = "listMyNotifications")]
    async fn notifications(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<NotificationView>>, { status::BAD_REQUEST | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let (items, total) = notifications::inbox(&state, &auth.0.subject, paging.page, paging.page_size).await?;
        Ok(Json(Page::of(items, total, paging, NotificationView::from)))
    }

    /// How many of my notifications are unread
    ///
    /// The badge on the mini-program's message tab.
    #[oai(
        path = "/me/notifications/unread-count",
        method = "get",
        operation_id = "countMyUnreadNotifications"
    )]
    async fn unread_count(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
    ) -> ApiResult<Json<UnreadCount>, { status::SIGNED_IN }> {
        let unread = notifications::unread_count(&state, &auth.0.subject).await?;
        Ok(Json(UnreadCount { unread }))
    }

    /// Mark one of my notifications read
    ///
    /// Marking it again keeps the time it was first read. Another worker's
    /// notification is not found.
    #[oai(
        path = "/me/notifications/:id/read",
        method = "post",
        operation_id = "markMyNotificationRead"
    )]
    async fn mark_read(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        id: Path<RecordId>,
    ) -> ApiResult<Json<NotificationView>, { status::BAD_REQUEST | status::NOT_FOUND | status::SIGNED_IN }> {
        let message = notifications::mark_read(&state, &auth.0.subject, &id.0).await?;
        Ok(Json(message.into()))
    }

    /// Mark all my notifications read
    ///
    /// Returns how many were unread until now; calling it again marks none.
    #[oai(
        path = "/me/notifications/read-all",
        method = "post",
        operation_id = "markAllMyNotificationsRead"
    )]
    async fn mark_all_read(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
    ) -> ApiResult<Json<MarkedRead>, { status::SIGNED_IN }> {
        let marked = notifications::mark_all_read(&state, &auth.0.subject).await?;
        Ok(Json(MarkedRead { marked }))
    }
}
