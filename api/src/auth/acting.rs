//! 亲情代办 at the door: a relative, signed in as themself, names with
//! `X-Acting-For: <grant id>` the worker they act for. The guard hands the
//! request here once the relative's own token, session and rate limit have
//! passed: the grant is read live (`services::relatives::acting`), the rules
//! of `access::delegable` decide whether this operation is one it opens, and
//! the request then runs as the worker's, with `Principal::acting` naming
//! the relative. Once answered, the act is recorded for the worker.

use poem::{Request, http::HeaderName};

use super::Principal;
use crate::{
    context::RequestContext,
    error::AppError,
    services::relatives::acting::{self, ActRequest},
    state::AppState,
};

/// The header naming the grant a relative acts under.
pub const ACTING_FOR: HeaderName = HeaderName::from_static("x-acting-for");

/// A request switched to the worker, kept until its answer is recorded.
pub struct Delegated {
    principal: Principal,
    context: RequestContext,
    act: ActRequest,
}

/// When the signed-in caller's request carries `X-Acting-For`: switches it
/// to the worker the grant names, or refuses it (403). Anonymous requests
/// keep no principal to switch, and the header is ignored.
pub async fn switch(
    state: &AppState,
    req: &mut Request,
    operation_id: Option<&str>,
) -> Result<Option<Delegated>, AppError> {
    let Some(header) = req.headers().get(ACTING_FOR) else {
        return Ok(None);
    };
    let Some(caller) = req.data::<Principal>().cloned() else {
        return Ok(None);
    };
    let context = req
        .data::<RequestContext>()
        .cloned()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no request context before the guard")))?;
    let act = ActRequest {
        grant_id: header.to_str().unwrap_or_default().trim().to_owned(),
        operation_id: operation_id.map(str::to_owned),
        method: req.method().as_str().to_owned(),
        path: req.uri().path().to_owned(),
    };
    let principal = acting::act_for(state, &context, &caller, &act).await?;
    req.set_data(principal.clone());
    Ok(Some(Delegated {
        principal,
        context,
        act,
    }))
}

/// Records the answer the worker's request got.
pub async fn answered(state: &AppState, delegated: &Delegated, status: u16) {
    acting::record_answered(state, &delegated.context, &delegated.principal, &delegated.act, status).await;
}
