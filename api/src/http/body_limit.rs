//! The one limit on request bodies, whatever their type (JSON, form,
//! multipart, anything else): bytes are counted as they arrive, so a chunked
//! body or a lying `Content-Length` is stopped at the limit like an announced
//! one. A body over the limit is answered with 413 whatever the operation made
//! of the read that failed.

use std::{
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response, Result, http::header};

use crate::error::{AppError, ErrorCode};

/// Every request body of this service is a small form, except the routes
/// given a larger limit of their own.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How much a body may carry, and the refusal of one that carries more.
#[derive(Clone, Copy)]
struct Allowance {
    bytes: usize,
    refusal: fn() -> AppError,
}

/// The default allowance, and the exact paths with one of their own.
#[derive(Clone)]
struct Limits {
    default: Allowance,
    routes: Vec<(&'static str, Allowance)>,
}

impl Limits {
    fn of(&self, path: &str) -> Allowance {
        self.routes
            .iter()
            .find(|(route, _)| *route == path)
            .map_or(self.default, |&(_, allowance)| allowance)
    }
}

pub struct BodyLimit {
    limits: Arc<Limits>,
}

impl BodyLimit {
    pub fn new(default: usize) -> Self {
        let default = Allowance {
            bytes: default,
            refusal: too_large,
        };
        Self {
            limits: Arc::new(Limits {
                default,
                routes: Vec::new(),
            }),
        }
    }

    /// Bodies sent to `path` may reach `bytes`; `refusal` says so when they do not.
    pub fn route(self, path: &'static str, bytes: usize, refusal: fn() -> AppError) -> Self {
        let Limits { default, mut routes } = Arc::unwrap_or_clone(self.limits);
        routes.push((path, Allowance { bytes, refusal }));
        Self {
            limits: Arc::new(Limits { default, routes }),
        }
    }
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint {
            inner,
            limits: self.limits.clone(),
        }
    }
}

pub struct BodyLimitEndpoint<E> {
    inner: E,
    limits: Arc<Limits>,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let Allowance { bytes: limit, refusal } = self.limits.of(req.uri().path());
        let announced = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if announced.is_some_and(|length| length > limit as u64) {
            return Err(refusal().into());
        }
        let exceeded = Arc::new(AtomicBool::new(false));
        let body = Counted {
            inner: req.take_body().into_bytes_stream().boxed(),
            remaining: limit,
            exceeded: exceeded.clone(),
        };
        req.set_body(Body::from_bytes_stream(body));
        let outcome = self.inner.call(req).await.map(IntoResponse::into_response);
        if exceeded.load(Ordering::Acquire) {
            return Err(refusal().into());
        }
        outcome
    }
}

fn too_large() -> AppError {
    AppError::new(ErrorCode::PayloadTooLarge)
}

/// A body that ends with an error once more than `remaining` bytes arrived,
/// and reads nothing further.
struct Counted {
    inner: Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>,
    remaining: usize,
    exceeded: Arc<AtomicBool>,
}

impl Stream for Counted {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.exceeded.load(Ordering::Acquire) {
            return Poll::Ready(None);
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(chunk))) if chunk.len() > self.remaining => {
                self.exceeded.store(true, Ordering::Release);
                Poll::Ready(Some(Err(io::Error::other("the request body is over its limit"))))
            }
            Poll::Ready(Some(Ok(chunk))) => {
                self.remaining -= chunk.len();
                Poll::Ready(Some(Ok(chunk)))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use poem::{
        EndpointExt, handler,
        http::{Method, StatusCode},
    };

    use super::*;

    /// Reads the whole body, as every payload type does.
    #[handler]
    async fn read_all(body: Body) -> Result<String> {
        let bytes = body
            .into_vec()
            .await
            .map_err(|_| poem::Error::from_status(StatusCode::BAD_REQUEST))?;
        Ok(bytes.len().to_string())
    }

    fn chunked(total: usize) -> Body {
        let chunks = futures_util::stream::iter((0..total.div_ceil(1000)).map(move |i| {
            let size = 1000.min(total - i * 1000);
            Ok::<_, io::Error>(Bytes::from(vec![b'a'; size]))
        }));
        Body::from_bytes_stream(chunks)
    }

    fn refusal_status(result: Result<Response>) -> StatusCode {
        match result {
            Ok(response) => response.status(),
            Err(error) => error.status(),
        }
    }

    #[tokio::test]
    async fn bodies_are_counted_as_they_arrive_whatever_the_headers_say() {
        let app = read_all.with(BodyLimit::new(5000));
        let within = app
            .call(Request::builder().method(Method::POST).body(chunked(5000)))
            .await;
        let text = within.unwrap().into_body().into_string().await.unwrap();
        assert_eq!(text, "5000");

        let over = app
            .call(Request::builder().method(Method::POST).body(chunked(5001)))
            .await;
        assert_eq!(refusal_status(over), StatusCode::PAYLOAD_TOO_LARGE);

        let lying = Request::builder()
            .method(Method::POST)
            .header(header::CONTENT_LENGTH, "10")
            .body(chunked(6000));
        assert_eq!(refusal_status(app.call(lying).await), StatusCode::PAYLOAD_TOO_LARGE);

        let announced = Request::builder()
            .method(Method::POST)
            .header(header::CONTENT_LENGTH, "5001")
            .body(chunked(10));
        assert_eq!(refusal_status(app.call(announced).await), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn a_route_with_its_own_limit_gets_it() {
        let app = read_all.with(BodyLimit::new(1000).route("/big", 3000, too_large));
        let big = Request::builder()
            .method(Method::POST)
            .uri_str("/big")
            .body(chunked(3000));
        assert_eq!(refusal_status(app.call(big).await), StatusCode::OK);
        let small = Request::builder()
            .method(Method::POST)
            .uri_str("/small")
            .body(chunked(3000));
        assert_eq!(refusal_status(app.call(small).await), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
