use poem::web::Data;
use poem_openapi::{
    ApiResponse, Multipart, Object, OpenApi,
    param::Path,
    payload::{Binary, Json},
    types::multipart::Upload,
};

use super::ApiTags;
use crate::http::params::RecordId;
use crate::{
    auth::schemes::{WorkerAuth, WorkerOrStaffAuth},
    context::RequestContext,
    domain::BoundedText,
    error::AppError,
    http::problem::{ApiResult, status},
    services::{
        documents,
        uploads::{self, MAX_UPLOAD_BYTES, Uploader},
    },
    state::AppState,
};

pub struct UploadApi;

/// What `wx.uploadFile` sends: the file and the document kind it is.
#[derive(Debug, Multipart)]
pub struct UploadForm {
    /// A photo (JPEG, PNG) or a PDF, at most 10 MB; its type is judged from its content.
    pub file: Upload,
    /// The document kind, as a program's `required_documents` names it (e.g. `id_card`).
    pub purpose: BoundedText<1, 32>,
}

impl UploadForm {
    /// The purpose and the file's bytes; 413 above `MAX_UPLOAD_BYTES`.
    pub async fn into_parts(self) -> Result<(String, Vec<u8>), AppError> {
        if self.file.size() > MAX_UPLOAD_BYTES {
            return Err(uploads::too_large());
        }
        let bytes = self.file.into_vec().await.map_err(AppError::internal)?;
        Ok((self.purpose.into_inner(), bytes))
    }
}

#[derive(Debug, Object)]
pub struct UploadView {
    pub id: String,
    pub purpose: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
}

impl From<uploads::Stored> for UploadView {
    fn from(stored: uploads::Stored) -> Self {
        UploadView {
            id: stored.id,
            purpose: stored.purpose,
            sha256: stored.sha256,
            size: stored.size,
            content_type: stored.content_type.to_owned(),
        }
    }
}

/// A document, sent so that no cache keeps it and no browser renders it in place.
#[derive(ApiResponse)]
pub enum DocumentFile {
    /// The file as it was uploaded.
    #[oai(status = 200)]
    Ok(
        Binary<Vec<u8>>,
        /// image/jpeg, image/png or application/pdf, as judged at upload.
        #[oai(header = "Content-Type")]
        String,
        /// `attachment`, with a file name made of the document kind and its id.
        #[oai(header = "Content-Disposition")]
        String,
        /// `no-store`: documents hold personal data.
        #[oai(header = "Cache-Control")]
        String,
        /// `nosniff`: the type above is the only one.
        #[oai(header = "X-Content-Type-Options")]
        String,
    ),
}

#[derive(ApiResponse)]
pub enum Uploaded {
    /// Stored; attach it to an application within 24 hours.
    #[oai(status = 201)]
    Created(Json<UploadView>),
}

/// The most a request to `POST /api/v1/uploads` may carry: the file, plus
/// the multipart framing and the `purpose` field.
pub const MAX_UPLOAD_REQUEST_BYTES: usize = MAX_UPLOAD_BYTES + 64 * 1024;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Uploads")]
impl UploadApi {
    /// Upload a document
    ///
    /// `multipart/form-data` with `file` and `purpose`, as `wx.uploadFile`
    /// sends it. JPEG, PNG and PDF only, judged by content (an HTML file
    /// named photo.jpg is refused); 413 above 10 MB.
    #[oai(path = "/uploads", method = "post", operation_id = "uploadDocument")]
    async fn upload(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        form: UploadForm,
    ) -> ApiResult<
        Uploaded,
        { status::BAD_REQUEST | status::PAYLOAD_TOO_LARGE | status::UNSUPPORTED_MEDIA_TYPE | status::SIGNED_IN },
    > {
        let (purpose, bytes) = form.into_parts().await?;
        let stored = uploads::store(&state, Uploader::of(&auth.0), &purpose, bytes).await?;
        Ok(Uploaded::Created(Json(UploadView::from(stored))))
    }

    /// Download a document
    ///
    /// For its owner, and for staff whose role works the case it belongs to,
    /// in their region: a reviewer the documents of an application past its
    /// draft (the rule that guards revealing the applicant), an inspector
    /// those of a wage report. Other staff get 403 `ROLE_REQUIRED`; anyone
    /// else 404. Every staff download is audited (`document.download`). Sent
    /// as an attachment with `Cache-Control: no-store` and `nosniff`.
    #[oai(path = "/uploads/:id", method = "get", operation_id = "downloadDocument")]
    async fn download(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerOrStaffAuth,
        id: Path<RecordId>,
    ) -> ApiResult<DocumentFile, { status::BAD_REQUEST | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN }>
    {
        let document = documents::fetch(&state, &context, auth.principal(), &id.0).await?;
        Ok(DocumentFile::Ok(
            Binary(document.bytes),
            document.content_type,
            format!("attachment; filename=\"{}\"", document.file_name),
            "no-store".to_owned(),
            "nosniff".to_owned(),
        ))
    }
}
