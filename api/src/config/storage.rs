//! Where data lives: the database, Redis, uploads, the search index, and how
//! long personal data is kept.

use std::path::PathBuf;

use secrecy::SecretString;

use super::{MIN_RETENTION_DAYS, parse_or};

const DEFAULT_DATABASE_URL: &str = "sqlite://data/shiminhua.db?mode=rwc";

pub(super) struct Storage {
    pub database_url: String,
    pub database_replica_url: Option<String>,
    pub redis_url: Option<String>,
    pub redis_key_prefix: String,
    pub files: FileStoreConfig,
    pub search_index_dir: PathBuf,
}

/// Where uploaded documents are kept.
#[derive(Debug)]
pub enum FileStoreConfig {
    /// A local directory (a shared volume when there are several instances).
    Directory(PathBuf),
    /// A bucket of an S3-compatible object store.
    S3(S3Config),
}

#[derive(Debug)]
pub struct S3Config {
    /// `https://oss-cn-hangzhou.aliyuncs.com`, `http://127.0.0.1:9000`…
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: SecretString,
    /// `endpoint/bucket/key` (MinIO and most self-hosted stores) rather than
    /// `bucket.endpoint/key` (the public clouds' own address style).
    pub path_style: bool,
}

fn file_store(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> FileStoreConfig {
    let Some(endpoint) = var("SHIMINHUA_S3_ENDPOINT") else {
        let dir = var("SHIMINHUA_UPLOAD_DIR").unwrap_or_else(|| "data/uploads".to_owned());
        return FileStoreConfig::Directory(dir.into());
    };
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) || reqwest::Url::parse(&endpoint).is_err()
    {
        problems.push("SHIMINHUA_S3_ENDPOINT must be an http:// or https:// URL".to_owned());
    }
    let mut required = |name: &str| {
        var(name).unwrap_or_else(|| {
            problems.push(format!(
                "{name} is unset: SHIMINHUA_S3_ENDPOINT names an object store that needs it"
            ));
            String::new()
        })
    };
    let bucket = required("SHIMINHUA_S3_BUCKET");
    let access_key = required("SHIMINHUA_S3_ACCESS_KEY");
    let secret_key = required("SHIMINHUA_S3_SECRET_KEY");
    let path_style = match var("SHIMINHUA_S3_PATH_STYLE").as_deref() {
        None | Some("1" | "true") => true,
        Some("0" | "false") => false,
        Some(other) => {
            problems.push(format!("SHIMINHUA_S3_PATH_STYLE must be 1 or 0, not {other:?}"));
            true
        }
    };
    FileStoreConfig::S3(S3Config {
        endpoint,
        bucket,
        region: var("SHIMINHUA_S3_REGION").unwrap_or_else(|| "us-east-1".to_owned()),
        access_key,
        secret_key: secret_key.into(),
        path_style,
    })
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

    let database_replica_url = var("DATABASE_REPLICA_URL");
    if let Some(replica) = &database_replica_url
        && database_url.starts_with("sqlite:") != replica.starts_with("sqlite:")
    {
        problems.push("DATABASE_REPLICA_URL must be the same kind of database as DATABASE_URL".to_owned());
    }

    let redis_url = var("REDIS_URL");
    match &redis_url {
        None if production => {
            problems.push("REDIS_URL is unset: production needs Redis for sessions and rate limits".to_owned())
        }
        Some(url)
            if !url
                .split(',')
                .map(str::trim)
                .all(|node| node.starts_with("redis://") || node.starts_with("rediss://")) =>
        {
            problems.push(
                "REDIS_URL must be redis:// or rediss:// URLs (several, comma-separated, for a Redis Cluster)"
                    .to_owned(),
            )
        }
        _ => {}
    }

    Storage {
        database_url,
        database_replica_url,
        redis_url,
        redis_key_prefix: var("SHIMINHUA_REDIS_PREFIX").unwrap_or_else(|| "shiminhua:".to_owned()),
        files: file_store(var, problems),
        search_index_dir: var("SHIMINHUA_SEARCH_INDEX_DIR")
            .unwrap_or_else(|| "data/search-index".to_owned())
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
