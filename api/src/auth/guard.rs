//! The guard in front of every operation: who is calling, and may they?
//!
//! The OpenAPI document says which security schemes each operation takes, so
//! the guard knows before routing whether to authenticate and which quota
//! applies. An authenticated request costs one store round trip (session and
//! rate limit together). Anonymous requests are limited per client address
//! (see `http::client_address`): reads fail open when the store is down (and
//! are counted), writes such as logins fail closed. A relative acting for a
//! worker (`X-Acting-For`) is switched to the worker here, after their own
//! session and quota passed, and only for what the grant opens (`acting`).

use std::sync::Arc;

use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response, Result,
    http::{HeaderName, HeaderValue, Method, header},
};

use super::{Audience, acting, tokens::TokenRefusal};
use crate::{
    context::RequestContext,
    error::{AppError, ErrorCode},
    http::{problem::render, route_table::RouteTable},
    infra::store::{Quota, RateDecision},
    state::AppState,
};

const RATE_LIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATE_LIMIT: HeaderName = HeaderName::from_static("ratelimit");

pub struct Guard {
    state: AppState,
    routes: Arc<RouteTable>,
}

impl Guard {
    pub fn new(state: AppState, routes: Arc<RouteTable>) -> Self {
        Self { state, routes }
    }
}

impl<E: Endpoint> Middleware<E> for Guard {
    type Output = GuardEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        GuardEndpoint {
            inner,
            state: self.state.clone(),
            routes: self.routes.clone(),
        }
    }
}

pub struct GuardEndpoint<E> {
    inner: E,
    state: AppState,
    routes: Arc<RouteTable>,
}

/// The quota a request is counted against, named as the headers name it.
struct Limit {
    policy: &'static str,
    quota: Quota,
    decision: RateDecision,
}

fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

impl<E: Endpoint> Endpoint for GuardEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        // Health checks and metrics are for the operator's own probes and
        // scrapers: never rate limited.
        let guarded = req.uri().path().starts_with("/api/");
        let access = guarded
            .then(|| self.routes.operation(req.method().as_str(), req.uri().path()))
            .flatten()
            .map(|op| {
                let audiences: Vec<Audience> = op.schemes.iter().filter_map(|s| Audience::from_scheme(s)).collect();
                (audiences, op.anonymous, op.operation_id.clone())
            });
        let Some((audiences, anonymous_allowed, operation_id)) = access else {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        };
        // A token is checked wherever one is presented to an operation that
        // takes one, even where signing in is optional; an expired or forged
        // one is refused there too, so that the client learns to sign in again.
        let anonymous = anonymous_allowed && (bearer(&req).is_none() || self.of_another_audience(&req, &audiences));
        let limit = if audiences.is_empty() || anonymous {
            self.anonymous(&req).await
        } else {
            self.authenticate(&mut req, &audiences).await
        };
        let limit = match limit {
            Ok(limit) => limit,
            Err(error) => return Ok(self.refuse(&req, error, None)),
        };
        if let Some(limit) = &limit
            && !limit.decision.allowed
        {
            let error = AppError::new(ErrorCode::RateLimited).with_retry_after(limit.decision.retry_after);
            return Ok(self.refuse(&req, error, Some(limit)));
        }
        // 亲情代办: a relative acting for a worker, checked live on every request.
        let delegated = match acting::switch(&self.state, &mut req, operation_id.as_deref()).await {
            Ok(delegated) => delegated,
            Err(error) => return Ok(self.refuse(&req, error, limit.as_ref())),
        };
        let answer = self.inner.call(req).await.map(IntoResponse::into_response);
        if let Some(delegated) = &delegated {
            let status = answer
                .as_ref()
                .map_or_else(|error| error.status(), |response| response.status());
            acting::answered(&self.state, delegated, status.as_u16()).await;
        }
        let mut response = answer?;
        if let Some(limit) = &limit {
            rate_headers(&mut response, limit);
        }
        Ok(response)
    }
}

impl<E> GuardEndpoint<E> {
    /// A valid token of an audience the operation does not take. Where the
    /// operation also serves anonymous callers, its holder is served as one:
    /// the mini-program sends its worker token with every request, to public
    /// pages that staff may also open signed in.
    fn of_another_audience(&self, req: &Request, audiences: &[Audience]) -> bool {
        bearer(req)
            .and_then(|token| self.state.sessions.tokens().verify(token, &Audience::ALL).ok())
            .is_some_and(|principal| !audiences.contains(&principal.audience))
    }

    async fn authenticate(&self, req: &mut Request, audiences: &[Audience]) -> Result<Option<Limit>, AppError> {
        let token = bearer(req).ok_or_else(|| AppError::new(ErrorCode::Unauthenticated))?;
        let principal = self
            .state
            .sessions
            .tokens()
            .verify(token, audiences)
            .map_err(|refusal| match refusal {
                TokenRefusal::Expired => AppError::new(ErrorCode::TokenExpired),
                TokenRefusal::Invalid => AppError::new(ErrorCode::Unauthenticated),
            })?;
        let decision = self
            .state
            .sessions
            .authorize(&principal)
            .await?
            .ok_or_else(|| AppError::new(ErrorCode::SessionEnded))?;
        let limit = Limit {
            policy: principal.audience.as_str(),
            quota: self.state.sessions.quota(principal.audience),
            decision,
        };
        req.set_data(principal);
        Ok(Some(limit))
    }

    async fn anonymous(&self, req: &Request) -> Result<Option<Limit>, AppError> {
        let read = matches!(*req.method(), Method::GET | Method::HEAD);
        let limits = &self.state.config.rate_limits;
        let (policy, quota) = if read {
            ("public-read", limits.public_read)
        } else {
            ("public-write", limits.public_write)
        };
        let client = crate::domain::client_network(req.data::<RequestContext>().and_then(|c| c.client_ip));
        match self
            .state
            .store
            .rate_limit(&format!("rl:{policy}:{client}"), quota)
            .await
        {
            Ok(decision) => Ok(Some(Limit {
                policy,
                quota,
                decision,
            })),
            Err(err) if read => {
                metrics::counter!("shiminhua_rate_limit_fail_open_total", "policy" => policy).increment(1);
                tracing::warn!(error = %err, "rate limit unavailable: public read let through");
                Ok(None)
            }
            Err(err) => Err(AppError::unavailable(err)),
        }
    }

    /// Writes the refusal here rather than in the gateway, because a 429
    /// carries the rate-limit headers as well.
    fn refuse(&self, req: &Request, error: AppError, limit: Option<&Limit>) -> Response {
        let context = req.data::<RequestContext>();
        let mut response = render(
            &error,
            context.map(|c| c.lang).unwrap_or_default(),
            context.map_or("", |c| c.request_id.as_str()),
        );
        if error.code.status().is_server_error() {
            tracing::warn!(error = %error, "request refused");
        }
        if let Some(limit) = limit {
            rate_headers(&mut response, limit);
        }
        response
    }
}

/// `RateLimit-Policy` and `RateLimit` as the IETF httpapi draft writes them.
fn rate_headers(response: &mut Response, limit: &Limit) {
    let window = limit.quota.period.as_secs();
    let reset = limit.decision.reset_after.as_millis().div_ceil(1000);
    let policy = format!("\"{}\";q={};w={window}", limit.policy, limit.quota.limit);
    let state = format!("\"{}\";r={};t={reset}", limit.policy, limit.decision.remaining);
    for (name, value) in [(RATE_LIMIT_POLICY, policy), (RATE_LIMIT, state)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
}
