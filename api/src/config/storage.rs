//! Where data lives: the database, Redis, uploads, and how long personal data is kept.

use std::path::PathBuf;

use super::{MIN_RETENTION_DAYS, parse_or};

const DEFAULT_DATABASE_URL: &str = "sqlite://data/shiminhua.db?mode=rwc";

pub(super) struct Storage {
    pub database_url: String,
    pub redis_url: Option<String>,
    pub redis_key_prefix: String,
    pub upload_dir: PathBuf,
}

pub(super) fn storage(var: &dyn Fn(&str) -> Option<String>, production: bool, problems: &mut Vec<String>) -> Storage {
    let database_url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    if !(database_url.starts_with("sqlite:")
        || database_url.starts_with("postgres://")
        || database_url.starts_with("postgresql://"))
    {
        problems.push("DATABASE_URL must start with sqlite: or postgres://".to_owned());
    } else if production && database_url.starts_with("sqlite:") {
        problems.push("DATABASE_URL is SQLite: production needs PostgreSQL (postgres://…)".to_owned());
    }

    let redis_url = var("REDIS_URL");
    match &redis_url {
        None if production => {
            problems.push("REDIS_URL is unset: production needs Redis for sessions and rate limits".to_owned())
        }
        Some(url) if !(url.starts_with("redis://") || url.starts_with("rediss://")) => {
            problems.push("REDIS_URL must start with redis:// or rediss://".to_owned())
        }
        _ => {}
    }

    Storage {
        database_url,
        redis_url,
        redis_key_prefix: var("SHIMINHUA_REDIS_PREFIX").unwrap_or_else(|| "shiminhua:".to_owned()),
        upload_dir: var("SHIMINHUA_UPLOAD_DIR")
            .unwrap_or_else(|| "data/uploads".to_owned())
            .into(),
    }
}

/// Days; the caller turns them into a duration once the configuration is accepted.
pub(super) fn retention_days(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> u64 {
    let retention_days: u64 = parse_or(
        &var("SHIMINHUA_RETENTION_DAYS"),
        "1095",
        "SHIMINHUA_RETENTION_DAYS",
        problems,
    );
    if retention_days < MIN_RETENTION_DAYS {
        problems.push(format!(
            "SHIMINHUA_RETENTION_DAYS must be at least {MIN_RETENTION_DAYS} (audit rows are kept that long), not {retention_days}"
        ));
    }
    retention_days
}
