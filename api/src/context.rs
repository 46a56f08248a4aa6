//! The caller of one request, as the services see it: no web types. The
//! gateway (`http/gateway.rs`) builds it for every request and puts it into
//! the request; routes hand it to the services that record it.

use std::net::IpAddr;

use crate::error::Lang;

/// Who is asking, for services that record it (audit, rate limits).
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub lang: Lang,
    pub client_ip: Option<IpAddr>,
}
