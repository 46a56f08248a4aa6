//! A stored document handed out: to the worker who uploaded it, or to the
//! staff who work the case it belongs to, by that case's own rule. Apart
//! from `uploads` so that storing and attaching files does not depend on the
//! cases that attach them.

use entity::upload;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::{
    auth::{Audience, Principal},
    context::RequestContext,
    error::{AppError, AppResult, ErrorCode},
    services::{
        applications,
        audit::{self, Actor, Event, Outcome},
        uploads::valid_purpose,
        wage_reports,
    },
    state::AppState,
};

/// A document as it is handed out.
#[derive(Debug)]
pub struct Document {
    pub content_type: String,
    /// Safe to put in a header: the document kind, part of its id, the extension.
    pub file_name: String,
    pub bytes: Vec<u8>,
}

fn file_name(row: &upload::Model) -> String {
    let extension = match row.content_type.as_str() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "application/pdf" => "pdf",
        _ => "bin",
    };
    let purpose = if valid_purpose(&row.purpose) {
        row.purpose.as_str()
    } else {
        "document"
    };
    let short_id: String = row.id.chars().filter(char::is_ascii_alphanumeric).take(8).collect();
    format!("{purpose}-{short_id}.{extension}")
}

/// The file, for its owner, or for staff whose role works the case it
/// belongs to, by the rule that guards the case's personal data: a reviewer
/// the documents of an application past its draft
/// (`applications::case_for_personal_data`, as for revealing the applicant),
/// an inspector those of a wage report (`wage_reports::report_for_personal_data`,
/// as for revealing the reporter), each in their region. Every staff
/// download is audited. Anyone else: 404 (403 to staff without the role),
/// as if it did not exist.
pub async fn fetch(state: &AppState, request: &RequestContext, principal: &Principal, id: &str) -> AppResult<Document> {
    let not_found = || AppError::new(ErrorCode::NotFound);
    let row = upload::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    match principal.audience {
        Audience::Worker if row.worker_id.as_deref() == Some(principal.subject.as_str()) => {}
        // A staff member's own scan, not yet on a case.
        Audience::Staff
            if row.staff_id.as_deref() == Some(principal.subject.as_str())
                && row.application_id.is_none()
                && row.wage_report_id.is_none() => {}
        Audience::Staff => {
            let region = match (&row.application_id, &row.wage_report_id) {
                (Some(application_id), _) => {
                    applications::case_for_personal_data(state, principal, application_id)
                        .await?
                        .region
                }
                (None, Some(report_id)) => {
                    wage_reports::report_for_personal_data(state, principal, report_id)
                        .await?
                        .region
                }
                (None, None) => return Err(not_found()),
            };
            audit::record(
                &state.db,
                Some(request),
                Event {
                    actor: Actor::Principal(principal),
                    action: "document.download",
                    target: Some(("upload", &row.id)),
                    region: Some(region),
                    outcome: Outcome::Success,
                    details: Some(json!({
                        "purpose": row.purpose,
                        "application_id": row.application_id,
                        "wage_report_id": row.wage_report_id,
                    })),
                },
            )
            .await?;
        }
        _ => return Err(not_found()),
    }
    let stored = state.files.get(&row.storage_key).await.map_err(AppError::internal)?;
    let bytes = state.protector.open_file(&row.id, stored).map_err(AppError::internal)?;
    Ok(Document {
        file_name: file_name(&row),
        content_type: row.content_type,
        bytes,
    })
}
