//! How much work is allowed: rate limits, daily allowances, exports, password
//! hashing, the outbox's and the webhooks' pace and the thresholds of wage alerts.

use std::time::Duration;

use crate::infra::store::Quota;

use super::{RateLimits, WageAlertThresholds, parse_or};

pub(super) struct Limits {
    pub rate_limits: RateLimits,
    pub outbox_interval: Duration,
    pub webhook_retry_base: Duration,
    pub wage_reports_per_day: u32,
    pub transfers_per_day: u32,
    pub exports_at_once: usize,
    pub wage_alerts: WageAlertThresholds,
}

pub(super) fn limits(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Limits {
    let rate_limits = rate_limits(var, problems);
    let outbox_interval_ms: u64 = parse_or(
        &var("SHIMINHUA_OUTBOX_INTERVAL_MS"),
        "1000",
        "SHIMINHUA_OUTBOX_INTERVAL_MS",
        problems,
    );
    let webhook_retry_base_ms: u64 = parse_or(
        &var("SHIMINHUA_WEBHOOK_RETRY_BASE_MS"),
        "5000",
        "SHIMINHUA_WEBHOOK_RETRY_BASE_MS",
        problems,
    );
    let wage_reports_per_day: u32 = parse_or(
        &var("SHIMINHUA_WAGE_REPORTS_PER_DAY"),
        "5",
        "SHIMINHUA_WAGE_REPORTS_PER_DAY",
        problems,
    );
    let transfers_per_day: u32 = parse_or(
        &var("SHIMINHUA_TRANSFERS_PER_DAY"),
        "5",
        "SHIMINHUA_TRANSFERS_PER_DAY",
        problems,
    );
    let exports_at_once: usize = parse_or(
        &var("SHIMINHUA_EXPORTS_AT_ONCE"),
        "4",
        "SHIMINHUA_EXPORTS_AT_ONCE",
        problems,
    );
    Limits {
        rate_limits,
        outbox_interval: Duration::from_millis(outbox_interval_ms.max(50)),
        webhook_retry_base: Duration::from_millis(webhook_retry_base_ms.clamp(10, 3_600_000)),
        wage_reports_per_day: wage_reports_per_day.max(1),
        transfers_per_day: transfers_per_day.max(1),
        exports_at_once: exports_at_once.max(1),
        wage_alerts: wage_alerts(var, problems),
    }
}

fn rate_limits(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> RateLimits {
    let mut per_minute = |name: &str, default: &str| {
        let limit: u32 = parse_or(&var(name), default, name, problems);
        if limit == 0 {
            problems.push(format!("{name} must be at least 1"));
        }
        Quota::per_minute(limit.max(1))
    };
    RateLimits {
        public_read: per_minute("SHIMINHUA_RATE_PUBLIC_READ", "600"),
        public_write: per_minute("SHIMINHUA_RATE_PUBLIC_WRITE", "30"),
        worker: per_minute("SHIMINHUA_RATE_WORKER", "300"),
        staff: per_minute("SHIMINHUA_RATE_STAFF", "600"),
        integrator: per_minute("SHIMINHUA_RATE_INTEGRATOR", "1200"),
    }
}

fn wage_alerts(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> WageAlertThresholds {
    WageAlertThresholds {
        reports_in_30_days: parse_or(
            &var("SHIMINHUA_ALERT_REPORTS"),
            "3",
            "SHIMINHUA_ALERT_REPORTS",
            problems,
        ),
        workers_affected: parse_or(
            &var("SHIMINHUA_ALERT_WORKERS"),
            "10",
            "SHIMINHUA_ALERT_WORKERS",
            problems,
        ),
        amount_owed_fen: parse_or(
            &var("SHIMINHUA_ALERT_AMOUNT_FEN"),
            "50000000",
            "SHIMINHUA_ALERT_AMOUNT_FEN",
            problems,
        ),
    }
}

/// Password hashes evaluated at once; by default one per core.
pub(super) fn password_hashing_concurrency(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let password_hashing_concurrency: usize = parse_or(
        &var("SHIMINHUA_PASSWORD_HASHING_CONCURRENCY"),
        &cores.to_string(),
        "SHIMINHUA_PASSWORD_HASHING_CONCURRENCY",
        problems,
    );
    if password_hashing_concurrency == 0 {
        problems.push("SHIMINHUA_PASSWORD_HASHING_CONCURRENCY must be at least 1".to_owned());
    }
    password_hashing_concurrency.max(1)
}
