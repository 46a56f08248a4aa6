//! The process itself: environment, listeners, logs and the proxies in front of it.

use std::net::SocketAddr;

use ipnet::IpNet;

use super::{Environment, LogFormat, MIN_METRICS_TOKEN_BYTES, parse_or};

pub(super) fn environment(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Environment {
    match var("SHIMINHUA_ENV").as_deref() {
        None | Some("development") => Environment::Development,
        Some("production") => Environment::Production,
        Some(other) => {
            problems.push(format!(
                "SHIMINHUA_ENV must be development or production, not {other:?}"
            ));
            Environment::Development
        }
    }
}

pub(super) fn bind(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> SocketAddr {
    parse_or(&var("SHIMINHUA_BIND"), "127.0.0.1:8080", "SHIMINHUA_BIND", problems)
}

pub(super) fn trusted_proxies(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Vec<IpNet> {
    var("SHIMINHUA_TRUSTED_PROXIES")
        .map(|text| {
            parse_trusted_proxies(&text).unwrap_or_else(|problem| {
                problems.push(problem);
                Vec::new()
            })
        })
        .unwrap_or_default()
}

/// The metrics listener and the token that opens `/metrics` on the public one.
pub(super) struct Metrics {
    pub bind: Option<SocketAddr>,
    pub token: Option<String>,
}

pub(super) fn metrics(var: &dyn Fn(&str) -> Option<String>, bind: SocketAddr, problems: &mut Vec<String>) -> Metrics {
    let metrics_bind: Option<SocketAddr> = var("SHIMINHUA_METRICS_BIND").and_then(|text| {
        text.parse()
            .map_err(|err| problems.push(format!("SHIMINHUA_METRICS_BIND is not valid ({err})")))
            .ok()
    });
    if metrics_bind.is_some_and(|metrics| metrics == bind && bind.port() != 0) {
        problems.push("SHIMINHUA_METRICS_BIND must differ from SHIMINHUA_BIND".to_owned());
    }
    let metrics_token = var("SHIMINHUA_METRICS_TOKEN");
    if metrics_token
        .as_ref()
        .is_some_and(|token| token.len() < MIN_METRICS_TOKEN_BYTES)
    {
        problems.push(format!(
            "SHIMINHUA_METRICS_TOKEN is too short: at least {MIN_METRICS_TOKEN_BYTES} bytes"
        ));
    }
    Metrics {
        bind: metrics_bind,
        token: metrics_token,
    }
}

pub(super) fn log_format(
    var: &dyn Fn(&str) -> Option<String>,
    production: bool,
    problems: &mut Vec<String>,
) -> LogFormat {
    match var("SHIMINHUA_LOG_FORMAT").as_deref() {
        Some("json") => LogFormat::Json,
        Some("pretty") => LogFormat::Pretty,
        None if production => LogFormat::Json,
        None => LogFormat::Pretty,
        Some(other) => {
            problems.push(format!("SHIMINHUA_LOG_FORMAT must be pretty or json, not {other:?}"));
            LogFormat::Pretty
        }
    }
}

/// `SHIMINHUA_TRUSTED_PROXIES`: comma-separated networks in CIDR notation
/// (`10.0.0.0/8, 2001:db8::/32`); a bare address stands for itself alone.
pub(super) fn parse_trusted_proxies(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from))
                .map(|network| network.trunc())
                .map_err(|_| {
                    format!(
                        "SHIMINHUA_TRUSTED_PROXIES: {entry:?} is not a network (CIDR such as 10.0.0.0/8) or an address"
                    )
                })
        })
        .collect()
}
