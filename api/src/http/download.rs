//! A spreadsheet download whose body is written while it is sent.

use std::marker::PhantomData;

use poem::{
    Body, IntoResponse, Response,
    http::{StatusCode, header},
};
use poem_openapi::{
    ApiResponse,
    registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry},
};

use crate::infra::spreadsheet::{ByteStream, Format};

/// The file type of a download, known when the route is declared so that the
/// OpenAPI document names the right media type.
pub trait SheetFile: Send {
    const FORMAT: Format;
    /// The media type as documented; the response adds parameters such as the charset.
    const MEDIA_TYPE: &'static str;
}

pub struct Csv;

impl SheetFile for Csv {
    const FORMAT: Format = Format::Csv;
    const MEDIA_TYPE: &'static str = "text/csv";
}

pub struct Xlsx;

impl SheetFile for Xlsx {
    const FORMAT: Format = Format::Xlsx;
    const MEDIA_TYPE: &'static str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
}

pub struct Download<F> {
    file_name: String,
    body: Body,
    format: PhantomData<F>,
}

impl<F: SheetFile> Download<F> {
    /// The download of `bytes`, sent as they are written.
    pub fn new(file_name: String, bytes: ByteStream) -> Self {
        Self {
            file_name,
            body: Body::from_bytes_stream(bytes),
            format: PhantomData,
        }
    }
}

impl<F: SheetFile> IntoResponse for Download<F> {
    fn into_response(self) -> Response {
        Response::builder()
            .status(StatusCode::OK)
            .content_type(F::FORMAT.content_type())
            .header(
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", self.file_name),
            )
            // Exports hold personal data: no shared cache may keep a copy.
            .header(header::CACHE_CONTROL, "no-store")
            .body(self.body)
    }
}

impl<F: SheetFile> ApiResponse for Download<F> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The file, written while it is sent. A failure part-way breaks the download rather than \
                              ending it early.",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: F::MEDIA_TYPE,
                    schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary"))),
                }],
                headers: vec![MetaHeader {
                    name: "Content-Disposition".to_owned(),
                    description: Some("attachment, with the file name".to_owned()),
                    required: true,
                    deprecated: false,
                    schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
                }],
            }],
        }
    }

    fn register(_registry: &mut Registry) {}
}
