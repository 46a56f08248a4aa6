//! The security schemes of the OpenAPI document. The guard has already
//! authenticated the request; a scheme only hands its principal to the
//! operation, after checking the audience.

use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::{Audience, Principal};
use crate::state::AppState;

fn principal_of(req: &Request, audience: Audience) -> Option<Principal> {
    req.data::<Principal>().filter(|p| p.audience == audience).cloned()
}

async fn worker_checker(req: &Request, _: Bearer) -> Option<Principal> {
    principal_of(req, Audience::Worker)
}

async fn staff_checker(req: &Request, _: Bearer) -> Option<Principal> {
    principal_of(req, Audience::Staff)
}

async fn integrator_checker(req: &Request, _: Bearer) -> Option<Principal> {
    principal_of(req, Audience::Integrator)
}

/// Digests are compared rather than the tokens, so that the time the
/// comparison takes tells nothing of the token.
async fn metrics_checker(req: &Request, bearer: Bearer) -> Option<()> {
    let expected = req.data::<AppState>()?.config.metrics_token.as_ref()?;
    (Sha256::digest(bearer.token.as_bytes()) == Sha256::digest(expected.expose_secret().as_bytes())).then_some(())
}

/// The operator's metrics scraper, with `SHIMINHUA_METRICS_TOKEN`. Without
/// that setting no token opens `/metrics` on this listener.
#[derive(SecurityScheme)]
#[oai(rename = "MetricsAuth", ty = "bearer", checker = "metrics_checker")]
pub struct MetricsAuth(());

/// A migrant worker signed in through the mini-program (`POST /api/v1/auth/wechat/login`).
///
/// 亲情代办: a relative, signed in with their own WeChat, acts for a worker
/// who invited them by adding the header `X-Acting-For: <grant_id>` (from
/// `GET /api/v1/me/acting-for`) to the worker's case operations that the
/// grant's rights open (each says so). The grant is checked on every
/// request; the request then acts as the worker and is recorded for them.
/// Refused with 403: a grant not the caller's (`ACTING_GRANT_UNKNOWN`),
/// revoked (`ACTING_REVOKED`), without the right (`ACTING_RIGHT_MISSING`),
/// an operation only the worker may call (`ACTING_NOT_DELEGABLE`), or
/// documents in clear not shared (`PERSONAL_DATA_NOT_SHARED`).
#[derive(SecurityScheme)]
#[oai(
    rename = "WorkerAuth",
    ty = "bearer",
    bearer_format = "JWT",
    checker = "worker_checker"
)]
pub struct WorkerAuth(pub Principal);

/// A reviewer, inspector, editor, finance officer or administrator (`POST /api/v1/staff/auth/login`).
#[derive(SecurityScheme)]
#[oai(
    rename = "StaffAuth",
    ty = "bearer",
    bearer_format = "JWT",
    checker = "staff_checker"
)]
pub struct StaffAuth(pub Principal);

/// A third-party system with client credentials (`POST /api/v1/oauth/token`).
#[derive(SecurityScheme)]
#[oai(
    rename = "IntegratorAuth",
    ty = "bearer",
    bearer_format = "JWT",
    checker = "integrator_checker"
)]
pub struct IntegratorAuth(pub Principal);

/// Either a worker or a staff member.
#[derive(SecurityScheme)]
pub enum WorkerOrStaffAuth {
    Worker(WorkerAuth),
    Staff(StaffAuth),
}

impl WorkerOrStaffAuth {
    pub fn principal(&self) -> &Principal {
        match self {
            WorkerOrStaffAuth::Worker(WorkerAuth(p)) | WorkerOrStaffAuth::Staff(StaffAuth(p)) => p,
        }
    }
}

/// A staff member, or anyone at all: operations that show staff more.
#[derive(SecurityScheme)]
pub enum OptionalStaffAuth {
    Staff(StaffAuth),
    #[oai(fallback)]
    Anonymous,
}

impl OptionalStaffAuth {
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            OptionalStaffAuth::Staff(StaffAuth(p)) => Some(p),
            OptionalStaffAuth::Anonymous => None,
        }
    }
}
