//! A JSON answer rendered to bytes ahead of the response, so that it can be
//! kept and served again without rendering it anew. Documented exactly as
//! `Json<T>`: clients see no difference.

use std::marker::PhantomData;

use bytes::Bytes;
use poem::{IntoResponse, Response, http::header};
use poem_openapi::{
    ApiResponse,
    payload::{Json, Payload},
    registry::{MetaResponses, Registry},
    types::ToJSON,
};

pub struct RenderedJson<T> {
    body: Bytes,
    shape: PhantomData<T>,
}

impl<T: ToJSON> RenderedJson<T> {
    pub fn render(value: &T) -> Bytes {
        Bytes::from(value.to_json_string())
    }

    /// A body `render` made for a `T`.
    pub fn from_rendered(body: Bytes) -> Self {
        Self {
            body,
            shape: PhantomData,
        }
    }
}

impl<T: ToJSON> IntoResponse for RenderedJson<T> {
    fn into_response(self) -> Response {
        Response::builder()
            .header(header::CONTENT_TYPE, <Json<T> as Payload>::CONTENT_TYPE)
            .body(self.body)
    }
}

impl<T: ToJSON> ApiResponse for RenderedJson<T> {
    fn meta() -> MetaResponses {
        <Json<T> as ApiResponse>::meta()
    }

    fn register(registry: &mut Registry) {
        <Json<T> as ApiResponse>::register(registry);
    }
}
