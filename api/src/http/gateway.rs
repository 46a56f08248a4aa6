//! The one middleware every request passes: request id, language, access log,
//! metrics, and the last word on errors. Whatever happens inside (a service
//! error, a framework parse error, an unknown route, a panic), the client gets
//! a problem body and the `X-Request-Id` header, never an internal detail.

use std::{net::IpAddr, panic::AssertUnwindSafe, sync::Arc, time::Instant};

use futures_util::FutureExt;
use ipnet::IpNet;
use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response, Result,
    http::{HeaderName, HeaderValue, StatusCode, header},
    web::RemoteAddr,
};
use poem_openapi::OperationId;
use tracing::Instrument;

use super::{
    client_address,
    problem::{from_poem_error, render},
    route_table::RouteTable,
};
use crate::{
    context::RequestContext,
    error::{AppError, Lang},
};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const MAX_CLIENT_REQUEST_ID_LEN: usize = 128;

pub struct Gateway {
    routes: Arc<RouteTable>,
    trusted_proxies: Arc<[IpNet]>,
}

impl Gateway {
    pub fn new(routes: Arc<RouteTable>, trusted_proxies: &[IpNet]) -> Self {
        Self {
            routes,
            trusted_proxies: trusted_proxies.into(),
        }
    }
}

impl<E: Endpoint> Middleware<E> for Gateway {
    type Output = GatewayEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        GatewayEndpoint {
            inner,
            routes: self.routes.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }
}

pub struct GatewayEndpoint<E> {
    inner: E,
    routes: Arc<RouteTable>,
    trusted_proxies: Arc<[IpNet]>,
}

/// A client's id is echoed only when it is short and printable, so it cannot
/// forge log lines or bloat them.
fn client_request_id(req: &Request) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let acceptable = !value.is_empty()
        && value.len() <= MAX_CLIENT_REQUEST_ID_LEN
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    acceptable.then(|| value.to_owned())
}

fn client_ip(req: &Request, trusted_proxies: &[IpNet]) -> Option<IpAddr> {
    match req.remote_addr() {
        RemoteAddr(poem::Addr::SocketAddr(addr)) => {
            Some(client_address::client_ip(addr.ip(), req.headers(), trusted_proxies))
        }
        _ => None,
    }
}

impl<E: Endpoint> Endpoint for GatewayEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let started = Instant::now();
        let context = RequestContext {
            request_id: client_request_id(&req).unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
            lang: Lang::from_accept_language(req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())),
            client_ip: client_ip(&req, &self.trusted_proxies),
        };
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        req.set_data(context.clone());

        let span = tracing::info_span!("request", request_id = %context.request_id, %method, %path);
        let outcome = AssertUnwindSafe(self.inner.call(req))
            .catch_unwind()
            .instrument(span.clone())
            .await;

        let (mut response, operation) = match outcome {
            Ok(Ok(output)) => {
                let response = output.into_response();
                let operation = response.data::<OperationId>().map(|id| id.0);
                (response, operation)
            }
            Ok(Err(err)) => {
                let operation = err.data::<OperationId>().map(|id| id.0);
                let error = from_poem_error(err, &self.routes.path_params(&path));
                (self.problem(error, &context, &path, &span), operation)
            }
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let error = AppError::internal(anyhow::anyhow!("handler panicked: {message}"));
                (self.problem(error, &context, &path, &span), None)
            }
        };

        if let Ok(value) = HeaderValue::from_str(&context.request_id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }

        let route = operation
            .and_then(|id| self.routes.template_of_operation(id))
            .or_else(|| self.routes.template_of_path(&path))
            .unwrap_or("unmatched")
            .to_owned();
        let status = response.status();
        let elapsed = started.elapsed();
        let labels = [
            ("method", method.as_str().to_owned()),
            ("route", route),
            ("status", status.as_u16().to_string()),
        ];
        metrics::counter!("http_requests_total", &labels).increment(1);
        metrics::histogram!("http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
        // Whole microseconds: a float's long tail of digits (109.632139000000…)
        // reads like a phone number to the log scan for personal data.
        let latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        span.in_scope(|| tracing::info!(status = status.as_u16(), latency_us, "served"));
        Ok(response)
    }
}

impl<E> GatewayEndpoint<E> {
    fn problem(&self, error: AppError, context: &RequestContext, path: &str, span: &tracing::Span) -> Response {
        match error.code.status() {
            StatusCode::INTERNAL_SERVER_ERROR => span.in_scope(|| tracing::error!(error = %error, "request failed")),
            status if status.is_server_error() => span.in_scope(|| tracing::warn!(error = %error, "request failed")),
            _ => {}
        }
        let mut response = render(&error, context.lang, &context.request_id);
        if response.status() == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allow) = self.routes.allow(path).and_then(|a| HeaderValue::from_str(&a).ok())
        {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use poem::{EndpointExt, handler, test::TestClient};

    use super::*;

    #[handler]
    fn explode() -> &'static str {
        panic!("a bug in a handler")
    }

    #[tokio::test]
    async fn a_panic_becomes_a_problem_body_without_internals() {
        let app = explode.with(Gateway::new(Arc::new(RouteTable::default()), &[]));
        let response = TestClient::new(app).get("/").header("X-Request-Id", "r-1").send().await;
        response.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
        response.assert_header("x-request-id", "r-1");
        response.assert_content_type("application/problem+json");
        let body = response.json().await;
        let body = body.value().object();
        body.get("code").assert_string("INTERNAL_ERROR");
        body.get("request_id").assert_string("r-1");
        let message = body.get("message").string().to_owned();
        assert!(!message.contains("bug") && !message.contains("panicked"), "{message}");
    }
}
