//! Documents workers upload with `wx.uploadFile`: JPEG, PNG or PDF judged by
//! their content, at most 10 MB, encrypted on disk. Uploads never attached to
//! an application are removed after 24 hours. Who may fetch one is in
//! `services/documents.rs`, which asks the case it belongs to.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::upload;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use sha2::{Digest, Sha256};

use crate::{
    auth::Principal,
    error::{AppError, AppResult, ErrorCode, Localized},
    state::AppState,
};

pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
const UNATTACHED_LIFETIME: chrono::Duration = chrono::Duration::hours(24);
const CLEANUP_INTERVAL: Duration = Duration::from_secs(600);

/// The type a file's first bytes prove it to be, whatever it is called.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

#[derive(Debug, Clone)]
pub struct Stored {
    pub id: String,
    pub purpose: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: &'static str,
}

pub(crate) fn valid_purpose(purpose: &str) -> bool {
    (1..=32).contains(&purpose.len()) && purpose.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// The refusal of a file over `MAX_UPLOAD_BYTES`.
pub fn too_large() -> AppError {
    AppError::new(ErrorCode::PayloadTooLarge).with_message(Localized::fixed(
        "文件太大了，请上传10MB以内的照片或PDF。",
        "Files are limited to 10 MB.",
    ))
}

/// Who uploaded a document: a worker for their own case, or a staff member
/// at a service window for the case they file.
#[derive(Debug, Clone, Copy)]
pub enum Uploader<'a> {
    Worker(&'a str),
    Staff(&'a str),
}

impl<'a> Uploader<'a> {
    pub fn of(principal: &'a Principal) -> Self {
        match principal.audience {
            crate::auth::Audience::Staff => Uploader::Staff(&principal.subject),
            _ => Uploader::Worker(&principal.subject),
        }
    }

    fn made(self, upload: &upload::Model) -> bool {
        match self {
            Uploader::Worker(id) => upload.worker_id.as_deref() == Some(id),
            Uploader::Staff(id) => upload.staff_id.as_deref() == Some(id),
        }
    }
}

pub async fn store(state: &AppState, uploader: Uploader<'_>, purpose: &str, bytes: Vec<u8>) -> AppResult<Stored> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(too_large());
    }
    if !valid_purpose(purpose) {
        return Err(AppError::invalid_field(
            "purpose",
            Localized::fixed(
                "请说明这是什么材料（如 id_card）。",
                "purpose is a document kind such as id_card.",
            ),
        ));
    }
    let content_type = sniff(&bytes).ok_or_else(|| {
        AppError::invalid_field(
            "file",
            Localized::fixed(
                "只能上传照片（JPG、PNG）或 PDF 文件。",
                "Only JPEG, PNG or PDF files are accepted.",
            ),
        )
    })?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = Utc::now();
    let key = format!("{}/{}", now.format("%Y/%m"), id);
    let sha256 = hex::encode(Sha256::digest(&bytes));
    // Sealed to this upload: a file copied under another upload's key does not open.
    state
        .files
        .put(&key, &state.protector.seal_file(&id, &bytes))
        .await
        .map_err(AppError::internal)?;
    upload::ActiveModel {
        id: Set(id.clone()),
        worker_id: Set(match uploader {
            Uploader::Worker(id) => Some(id.to_owned()),
            Uploader::Staff(_) => None,
        }),
        staff_id: Set(match uploader {
            Uploader::Staff(id) => Some(id.to_owned()),
            Uploader::Worker(_) => None,
        }),
        purpose: Set(purpose.to_owned()),
        content_type: Set(content_type.to_owned()),
        size_bytes: Set(bytes.len() as i64),
        sha256: Set(sha256.clone()),
        storage_key: Set(key),
        application_id: Set(None),
        created_at: Set(now),
        wage_report_id: Set(None),
    }
    .insert(&state.db)
    .await?;
    Ok(Stored {
        id,
        purpose: purpose.to_owned(),
        sha256,
        size: bytes.len() as u64,
        content_type,
    })
}

/// The case documents are attached to.
#[derive(Debug, Clone, Copy)]
pub enum CaseFile<'a> {
    Application(&'a str),
    WageReport(&'a str),
}

impl CaseFile<'_> {
    fn column(self) -> upload::Column {
        match self {
            CaseFile::Application(_) => upload::Column::ApplicationId,
            CaseFile::WageReport(_) => upload::Column::WageReportId,
        }
    }

    fn id(self) -> String {
        match self {
            CaseFile::Application(id) | CaseFile::WageReport(id) => id.to_owned(),
        }
    }

    /// The upload is the uploader's and on no other case.
    fn may_take(self, upload: &upload::Model, owner: Uploader<'_>) -> bool {
        let (here, elsewhere, id) = match self {
            CaseFile::Application(id) => (&upload.application_id, &upload.wage_report_id, id),
            CaseFile::WageReport(id) => (&upload.wage_report_id, &upload.application_id, id),
        };
        owner.made(upload) && elsewhere.is_none() && here.as_deref().is_none_or(|h| h == id)
    }
}

/// Attaches the uploads `ids` of `owner` to `case` and returns the purposes
/// of every document the case now has. An upload of someone else, or one on
/// another case, is refused as unknown.
pub async fn attach(
    db: &impl ConnectionTrait,
    owner: Uploader<'_>,
    case: CaseFile<'_>,
    ids: &[String],
) -> AppResult<Vec<String>> {
    for id in ids {
        let usable = upload::Entity::find_by_id(id.clone())
            .one(db)
            .await?
            .is_some_and(|u| case.may_take(&u, owner));
        if !usable {
            return Err(AppError::invalid_field(
                "attachment_ids",
                Localized::fixed("有材料找不到了，请重新上传。", "An attachment id is unknown."),
            ));
        }
    }
    if !ids.is_empty() {
        upload::Entity::update_many()
            .col_expr(case.column(), Expr::value(case.id()))
            .filter(upload::Column::Id.is_in(ids.to_vec()))
            .exec(db)
            .await?;
    }
    Ok(upload::Entity::find()
        .filter(case.column().eq(case.id()))
        .select_only()
        .column(upload::Column::Purpose)
        .into_tuple()
        .all(db)
        .await?)
}

/// A document attached to a case, as the staff who work it see it listed.
#[derive(Debug, Clone)]
pub struct Attached {
    pub id: String,
    /// The document kind, e.g. `id_card`, `pay_slip`.
    pub purpose: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_at: DateTime<Utc>,
}

/// The documents attached to `case`, in the order they were uploaded.
pub async fn attached(db: &impl ConnectionTrait, case: CaseFile<'_>) -> AppResult<Vec<Attached>> {
    let rows: Vec<(String, String, String, i64, DateTime<Utc>)> = upload::Entity::find()
        .filter(case.column().eq(case.id()))
        .select_only()
        .columns([
            upload::Column::Id,
            upload::Column::Purpose,
            upload::Column::ContentType,
            upload::Column::SizeBytes,
            upload::Column::CreatedAt,
        ])
        .order_by_asc(upload::Column::CreatedAt)
        .order_by_asc(upload::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, purpose, content_type, size, uploaded_at)| Attached {
            id,
            purpose,
            content_type,
            size,
            uploaded_at,
        })
        .collect())
}

/// Removes uploads no application or report took within 24 hours.
pub async fn remove_unattached(state: &AppState) -> AppResult<u64> {
    let stale = upload::Entity::find()
        .filter(upload::Column::ApplicationId.is_null())
        .filter(upload::Column::WageReportId.is_null())
        .filter(upload::Column::CreatedAt.lt(Utc::now() - UNATTACHED_LIFETIME))
        .all(&state.db)
        .await?;
    let mut removed = 0;
    for row in stale {
        state.files.delete(&row.storage_key).await.map_err(AppError::internal)?;
        let deleted = upload::Entity::delete_many()
            .filter(upload::Column::Id.eq(&row.id))
            .filter(upload::Column::ApplicationId.is_null())
            .filter(upload::Column::WageReportId.is_null())
            .exec(&state.db)
            .await?;
        removed += deleted.rows_affected;
    }
    Ok(removed)
}

pub fn spawn_cleanup(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(CLEANUP_INTERVAL);
        loop {
            ticker.tick().await;
            match remove_unattached(&state).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "unattached uploads removed"),
                Err(err) => tracing::warn!(error = %err, "unattached uploads could not be removed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_the_type_not_the_name() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"<html><body>photo.jpg</body></html>"), None);
        assert_eq!(sniff(b""), None);
    }
}
