//! Configuration from environment variables.
//!
//! Every problem is collected before the service gives up, so an operator
//! fixes a production deployment in one round instead of one variable at a time.

use std::{fmt, net::SocketAddr, str::FromStr, time::Duration};

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretBox, SecretString};

use crate::infra::{outbound::AddressPolicy, store::Quota, subscribe_message::Templates};

mod integrations;
mod limits;
mod secrets;
mod server;
mod storage;
mod wechat;

pub use storage::{FileStoreConfig, S3Config};

pub const MIN_JWT_SECRET_BYTES: usize = 32;
pub const DATA_KEY_BYTES: usize = 32;
pub const MIN_METRICS_TOKEN_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Who checks a worker's identity (人脸核身 / 实名核验).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityVerifierMode {
    /// No checks: workers prove their cases with a claim code or their phone.
    Off,
    /// Token `sandbox-pass` confirms anyone (development only).
    Sandbox,
}

/// Who answers electronic certificates (电子证照).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateProviderMode {
    /// None: workers photograph their certificates (503 on a fetch).
    Off,
    /// Deterministic certificates from the ID number (development only).
    Sandbox,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WechatMode {
    /// Any login code is accepted and mapped to a stable fake openid (development only).
    Sandbox,
    Live,
}

/// One 256-bit key: an AES-256 key for personal data, with the id stored beside
/// every ciphertext so that old rows stay readable after the active key
/// changes, or a lookup-hash key.
pub struct DataKey {
    pub id: String,
    pub key: SecretBox<[u8; DATA_KEY_BYTES]>,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey").field("id", &self.id).finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub struct WechatConfig {
    pub mode: WechatMode,
    pub app_id: Option<String>,
    pub app_secret: Option<SecretString>,
    pub api_base: String,
    /// The longest a WeChat call may take, connection included.
    pub timeout: Duration,
    /// The subscribe-message templates by event; none: in-app inbox only.
    pub templates: Templates,
}

/// Requests per minute, per caller.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Anonymous reads (policy search, regions), per client IP; fail open.
    pub public_read: Quota,
    /// Anonymous writes (logins, token requests), per client IP; fail closed.
    pub public_write: Quota,
    pub worker: Quota,
    pub staff: Quota,
    pub integrator: Quota,
}

#[derive(Debug)]
pub struct Config {
    pub bind: SocketAddr,
    pub environment: Environment,
    pub database_url: SecretString,
    /// A read replica for the reads that tolerate its lag (statistics,
    /// exports); unset, they go to the primary.
    pub database_replica_url: Option<SecretString>,
    pub redis_url: Option<SecretString>,
    /// Prepended to every key this process writes to Redis, so deployments and
    /// test runs sharing one Redis never see each other's keys.
    pub redis_key_prefix: String,
    pub jwt_secret: SecretString,
    /// The first key encrypts; all of them decrypt.
    pub data_keys: Vec<DataKey>,
    /// Keys of the lookup hashes (ID and phone numbers): the first hashes;
    /// all of them find rows hashed before a rotation.
    pub lookup_keys: Vec<DataKey>,
    pub wechat: WechatConfig,
    pub identity_verifier: IdentityVerifierMode,
    pub certificate_provider: CertificateProviderMode,
    pub files: FileStoreConfig,
    /// This instance's own directory for the policy search index (never
    /// shared between instances: each follows the database by itself).
    pub search_index_dir: std::path::PathBuf,
    pub log_format: LogFormat,
    pub rate_limits: RateLimits,
    /// How often the outbox is looked at for notifications to deliver.
    pub outbox_interval: Duration,
    /// A failed webhook delivery is tried again after this, doubled at
    /// every attempt.
    pub webhook_retry_base: Duration,
    /// New unpaid-wage reports a worker may file per day.
    pub wage_reports_per_day: u32,
    /// Social-insurance transfers a worker may open per day.
    pub transfers_per_day: u32,
    /// Exports an instance writes at once (each staff member one at a time).
    pub exports_at_once: usize,
    pub wage_alerts: WageAlertThresholds,
    /// How long closed cases keep their personal data, and audit rows their
    /// place, before `shiminhua purge` removes them.
    pub retention: Duration,
    /// Where webhook endpoints may point; loopback only in tests.
    pub webhook_addresses: AddressPolicy,
    /// The load balancers and reverse proxies whose `X-Forwarded-For` is
    /// believed; from any other peer the header is ignored.
    pub trusted_proxies: Vec<IpNet>,
    /// A listener of its own serving only `/metrics`.
    pub metrics_bind: Option<SocketAddr>,
    /// The bearer token that opens `/metrics` on the public listener.
    pub metrics_token: Option<SecretString>,
    /// Password hashes (argon2, about 19 MiB each) evaluated at once; the rest wait.
    pub password_hashing_concurrency: usize,
}

/// Audit rows are kept at least this long, whatever the retention setting;
/// the database's triggers refuse to delete younger ones.
pub const MIN_RETENTION_DAYS: u64 = 180;

/// When an employer draws an early warning.
#[derive(Debug, Clone, Copy)]
pub struct WageAlertThresholds {
    /// Reports in the last 30 days.
    pub reports_in_30_days: u32,
    /// Workers affected, over its open reports.
    pub workers_affected: u32,
    /// Wages owed, over its open reports.
    pub amount_owed_fen: i64,
}

/// Why the configuration was refused: every problem found, not just the first.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the configuration has {} problem(s):", self.0.len())?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// The configuration, plus what an operator must be told about it (generated secrets).
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

impl Config {
    pub fn from_env() -> Result<Loaded, ConfigErrors> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests can supply variables
    /// without touching the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Loaded, ConfigErrors> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut problems = Vec::new();
        let mut warnings = Vec::new();

        // Sections are read in this order so that problems are listed in it.
        let environment = server::environment(&var, &mut problems);
        let production = environment == Environment::Production;
        let bind = server::bind(&var, &mut problems);
        let storage = storage::storage(&var, production, &mut problems);
        let secrets = secrets::secrets(&var, production, &mut problems, &mut warnings);
        let wechat_mode = wechat::mode(&var, production, &mut problems);
        let identity_verifier = integrations::identity_verifier(&var, production, &mut problems);
        let certificate_provider = integrations::certificate_provider(&var, production, &mut problems);
        let wechat = wechat::wechat(&var, wechat_mode, &mut problems);
        let limits = limits::limits(&var, &mut problems);
        let retention_days = storage::retention_days(&var, &mut problems);
        let webhook_addresses = integrations::webhook_addresses(&var, production, &mut problems);
        let trusted_proxies = server::trusted_proxies(&var, &mut problems);
        let metrics = server::metrics(&var, bind, &mut problems);
        let password_hashing_concurrency = limits::password_hashing_concurrency(&var, &mut problems);
        let log_format = server::log_format(&var, production, &mut problems);

        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
        Ok(Loaded {
            config: Config {
                bind,
                environment,
                database_url: storage.database_url.into(),
                database_replica_url: storage.database_replica_url.map(Into::into),
                redis_url: storage.redis_url.map(Into::into),
                redis_key_prefix: storage.redis_key_prefix,
                jwt_secret: secrets.jwt_secret.into(),
                data_keys: secrets.data_keys,
                lookup_keys: secrets.lookup_keys,
                wechat,
                identity_verifier,
                certificate_provider,
                files: storage.files,
                search_index_dir: storage.search_index_dir,
                log_format,
                rate_limits: limits.rate_limits,
                outbox_interval: limits.outbox_interval,
                webhook_retry_base: limits.webhook_retry_base,
                wage_reports_per_day: limits.wage_reports_per_day,
                transfers_per_day: limits.transfers_per_day,
                exports_at_once: limits.exports_at_once,
                wage_alerts: limits.wage_alerts,
                retention: Duration::from_secs(retention_days * 24 * 3600),
                webhook_addresses,
                trusted_proxies,
                metrics_bind: metrics.bind,
                metrics_token: metrics.token.map(Into::into),
                password_hashing_concurrency,
            },
            warnings,
        })
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    pub fn uses_sqlite(&self) -> bool {
        self.database_url.expose_secret().starts_with("sqlite:")
    }
}

fn parse_or<T: FromStr>(value: &Option<String>, default: &str, name: &str, problems: &mut Vec<String>) -> T
where
    T::Err: fmt::Display,
{
    let text = value.as_deref().unwrap_or(default);
    text.parse().unwrap_or_else(|err| {
        problems.push(format!("{name} is not valid ({err})"));
        default
            .parse()
            .unwrap_or_else(|_| panic!("the default of {name} parses"))
    })
}

#[cfg(test)]
mod tests;
