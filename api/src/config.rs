//! Configuration from environment variables.
//!
//! Every problem is collected before the service gives up, so an operator
//! fixes a production deployment in one round instead of one variable at a time.

use std::{fmt, net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use ipnet::IpNet;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox, SecretString};

use crate::infra::{outbound::AddressPolicy, store::Quota};

pub const MIN_JWT_SECRET_BYTES: usize = 32;
pub const DATA_KEY_BYTES: usize = 32;
pub const MIN_METRICS_TOKEN_BYTES: usize = 32;
const DEFAULT_DATABASE_URL: &str = "sqlite://data/shiminhua.db?mode=rwc";

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
    /// The subscribe-message template for status changes; unset: in-app inbox only.
    pub status_template_id: Option<String>,
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
    pub upload_dir: PathBuf,
    pub log_format: LogFormat,
    pub rate_limits: RateLimits,
    /// How often the outbox is looked at for notifications to deliver.
    pub outbox_interval: Duration,
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

        let environment = match var("SHIMINHUA_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                problems.push(format!(
                    "SHIMINHUA_ENV must be development or production, not {other:?}"
                ));
                Environment::Development
            }
        };
        let production = environment == Environment::Production;

        let bind = parse_or(
            &var("SHIMINHUA_BIND"),
            "127.0.0.1:8080",
            "SHIMINHUA_BIND",
            &mut problems,
        );

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

        let jwt_secret = match var("SHIMINHUA_JWT_SECRET") {
            Some(secret) if secret.len() >= MIN_JWT_SECRET_BYTES => secret,
            Some(_) => {
                problems.push(format!(
                    "SHIMINHUA_JWT_SECRET is too short: at least {MIN_JWT_SECRET_BYTES} bytes"
                ));
                String::new()
            }
            None if production => {
                problems.push("SHIMINHUA_JWT_SECRET is missing".to_owned());
                String::new()
            }
            None => {
                warnings.push(
                    "SHIMINHUA_JWT_SECRET is not set: using a generated one; every token ends when the process stops"
                        .to_owned(),
                );
                BASE64.encode(random_bytes::<48>())
            }
        };

        let data_keys = match var("SHIMINHUA_DATA_KEY") {
            Some(text) => parse_keys("SHIMINHUA_DATA_KEY", &text).unwrap_or_else(|problem| {
                problems.push(problem);
                Vec::new()
            }),
            None if production => {
                problems.push(format!(
                    "SHIMINHUA_DATA_KEY is missing: {DATA_KEY_BYTES} random bytes, base64-encoded"
                ));
                Vec::new()
            }
            None => {
                warnings.push(
                    "SHIMINHUA_DATA_KEY is not set: using a generated key; personal data saved now cannot be read after a restart"
                        .to_owned(),
                );
                vec![DataKey {
                    id: "dev".to_owned(),
                    key: SecretBox::new(Box::new(random_bytes::<DATA_KEY_BYTES>())),
                }]
            }
        };

        let lookup_keys = match var("SHIMINHUA_LOOKUP_KEY") {
            Some(text) => parse_keys("SHIMINHUA_LOOKUP_KEY", &text).unwrap_or_else(|problem| {
                problems.push(problem);
                Vec::new()
            }),
            None if production => {
                problems.push(format!(
                    "SHIMINHUA_LOOKUP_KEY is missing: {DATA_KEY_BYTES} random bytes, base64-encoded, not one of the data keys"
                ));
                Vec::new()
            }
            None => {
                warnings.push(
                    "SHIMINHUA_LOOKUP_KEY is not set: using a generated key; ID and phone numbers saved now cannot be found after a restart"
                        .to_owned(),
                );
                vec![DataKey {
                    id: "dev".to_owned(),
                    key: SecretBox::new(Box::new(random_bytes::<DATA_KEY_BYTES>())),
                }]
            }
        };
        if lookup_keys.iter().any(|lookup| {
            data_keys
                .iter()
                .any(|data| data.key.expose_secret() == lookup.key.expose_secret())
        }) {
            problems.push("SHIMINHUA_LOOKUP_KEY reuses a data key: give lookup hashes a key of their own".to_owned());
        }

        let wechat_mode = match var("SHIMINHUA_WECHAT_MODE").as_deref() {
            None | Some("sandbox") => WechatMode::Sandbox,
            Some("live") => WechatMode::Live,
            Some(other) => {
                problems.push(format!("SHIMINHUA_WECHAT_MODE must be sandbox or live, not {other:?}"));
                WechatMode::Sandbox
            }
        };
        if production && wechat_mode == WechatMode::Sandbox {
            problems.push("SHIMINHUA_WECHAT_MODE is sandbox: production needs live".to_owned());
        }
        let identity_verifier = match var("SHIMINHUA_IDENTITY_VERIFIER").as_deref() {
            None if production => IdentityVerifierMode::Off,
            None | Some("sandbox") => IdentityVerifierMode::Sandbox,
            Some("off") => IdentityVerifierMode::Off,
            Some(other) => {
                problems.push(format!(
                    "SHIMINHUA_IDENTITY_VERIFIER must be off or sandbox, not {other:?}"
                ));
                IdentityVerifierMode::Off
            }
        };
        if production && identity_verifier == IdentityVerifierMode::Sandbox {
            problems.push("SHIMINHUA_IDENTITY_VERIFIER is sandbox: production needs off or a real provider".to_owned());
        }
        let app_id = var("SHIMINHUA_WECHAT_APPID");
        let app_secret = var("SHIMINHUA_WECHAT_SECRET");
        if wechat_mode == WechatMode::Live {
            if app_id.is_none() {
                problems.push("SHIMINHUA_WECHAT_APPID is missing (needed in live WeChat mode)".to_owned());
            }
            match &app_secret {
                None => problems.push("SHIMINHUA_WECHAT_SECRET is missing (needed in live WeChat mode)".to_owned()),
                Some(secret) if secret.len() < 16 => {
                    problems.push("SHIMINHUA_WECHAT_SECRET is too short: at least 16 characters".to_owned())
                }
                Some(_) => {}
            }
        }
        let api_base = var("SHIMINHUA_WECHAT_API_BASE")
            .unwrap_or_else(|| "https://api.weixin.qq.com".to_owned())
            .trim_end_matches('/')
            .to_owned();
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            problems.push("SHIMINHUA_WECHAT_API_BASE must be an http(s) URL".to_owned());
        }

        let wechat_timeout_ms: u64 = parse_or(
            &var("SHIMINHUA_WECHAT_TIMEOUT_MS"),
            "5000",
            "SHIMINHUA_WECHAT_TIMEOUT_MS",
            &mut problems,
        );
        let mut per_minute = |name: &str, default: &str| {
            let limit: u32 = parse_or(&var(name), default, name, &mut problems);
            if limit == 0 {
                problems.push(format!("{name} must be at least 1"));
            }
            Quota::per_minute(limit.max(1))
        };
        let rate_limits = RateLimits {
            public_read: per_minute("SHIMINHUA_RATE_PUBLIC_READ", "600"),
            public_write: per_minute("SHIMINHUA_RATE_PUBLIC_WRITE", "30"),
            worker: per_minute("SHIMINHUA_RATE_WORKER", "300"),
            staff: per_minute("SHIMINHUA_RATE_STAFF", "600"),
            integrator: per_minute("SHIMINHUA_RATE_INTEGRATOR", "1200"),
        };

        let outbox_interval_ms: u64 = parse_or(
            &var("SHIMINHUA_OUTBOX_INTERVAL_MS"),
            "1000",
            "SHIMINHUA_OUTBOX_INTERVAL_MS",
            &mut problems,
        );

        let wage_reports_per_day: u32 = parse_or(
            &var("SHIMINHUA_WAGE_REPORTS_PER_DAY"),
            "5",
            "SHIMINHUA_WAGE_REPORTS_PER_DAY",
            &mut problems,
        );
        let transfers_per_day: u32 = parse_or(
            &var("SHIMINHUA_TRANSFERS_PER_DAY"),
            "5",
            "SHIMINHUA_TRANSFERS_PER_DAY",
            &mut problems,
        );
        let exports_at_once: usize = parse_or(
            &var("SHIMINHUA_EXPORTS_AT_ONCE"),
            "4",
            "SHIMINHUA_EXPORTS_AT_ONCE",
            &mut problems,
        );
        let wage_alerts = WageAlertThresholds {
            reports_in_30_days: parse_or(
                &var("SHIMINHUA_ALERT_REPORTS"),
                "3",
                "SHIMINHUA_ALERT_REPORTS",
                &mut problems,
            ),
            workers_affected: parse_or(
                &var("SHIMINHUA_ALERT_WORKERS"),
                "10",
                "SHIMINHUA_ALERT_WORKERS",
                &mut problems,
            ),
            amount_owed_fen: parse_or(
                &var("SHIMINHUA_ALERT_AMOUNT_FEN"),
                "50000000",
                "SHIMINHUA_ALERT_AMOUNT_FEN",
                &mut problems,
            ),
        };

        let retention_days: u64 = parse_or(
            &var("SHIMINHUA_RETENTION_DAYS"),
            "1095",
            "SHIMINHUA_RETENTION_DAYS",
            &mut problems,
        );
        if retention_days < MIN_RETENTION_DAYS {
            problems.push(format!(
                "SHIMINHUA_RETENTION_DAYS must be at least {MIN_RETENTION_DAYS} (audit rows are kept that long), not {retention_days}"
            ));
        }

        let allow_loopback = match var("SHIMINHUA_WEBHOOK_ALLOW_LOOPBACK").as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => {
                problems.push(format!(
                    "SHIMINHUA_WEBHOOK_ALLOW_LOOPBACK must be 0 or 1, not {other:?}"
                ));
                false
            }
        };
        if production && allow_loopback {
            problems.push(
                "SHIMINHUA_WEBHOOK_ALLOW_LOOPBACK is set: webhooks to loopback are for tests, production refuses them"
                    .to_owned(),
            );
        }

        let trusted_proxies = var("SHIMINHUA_TRUSTED_PROXIES")
            .map(|text| {
                parse_trusted_proxies(&text).unwrap_or_else(|problem| {
                    problems.push(problem);
                    Vec::new()
                })
            })
            .unwrap_or_default();

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
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let password_hashing_concurrency: usize = parse_or(
            &var("SHIMINHUA_PASSWORD_HASHING_CONCURRENCY"),
            &cores.to_string(),
            "SHIMINHUA_PASSWORD_HASHING_CONCURRENCY",
            &mut problems,
        );
        if password_hashing_concurrency == 0 {
            problems.push("SHIMINHUA_PASSWORD_HASHING_CONCURRENCY must be at least 1".to_owned());
        }

        let log_format = match var("SHIMINHUA_LOG_FORMAT").as_deref() {
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            None if production => LogFormat::Json,
            None => LogFormat::Pretty,
            Some(other) => {
                problems.push(format!("SHIMINHUA_LOG_FORMAT must be pretty or json, not {other:?}"));
                LogFormat::Pretty
            }
        };

        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
        Ok(Loaded {
            config: Config {
                bind,
                environment,
                database_url: database_url.into(),
                redis_url: redis_url.map(Into::into),
                redis_key_prefix: var("SHIMINHUA_REDIS_PREFIX").unwrap_or_else(|| "shiminhua:".to_owned()),
                jwt_secret: jwt_secret.into(),
                data_keys,
                lookup_keys,
                wechat: WechatConfig {
                    mode: wechat_mode,
                    app_id,
                    app_secret: app_secret.map(Into::into),
                    api_base,
                    timeout: Duration::from_millis(wechat_timeout_ms.clamp(100, 60_000)),
                    status_template_id: var("SHIMINHUA_WECHAT_TEMPLATE_ID"),
                },
                identity_verifier,
                upload_dir: var("SHIMINHUA_UPLOAD_DIR")
                    .unwrap_or_else(|| "data/uploads".to_owned())
                    .into(),
                log_format,
                rate_limits,
                outbox_interval: Duration::from_millis(outbox_interval_ms.max(50)),
                wage_reports_per_day: wage_reports_per_day.max(1),
                transfers_per_day: transfers_per_day.max(1),
                exports_at_once: exports_at_once.max(1),
                wage_alerts,
                retention: Duration::from_secs(retention_days * 24 * 3600),
                webhook_addresses: AddressPolicy { allow_loopback },
                trusted_proxies,
                metrics_bind,
                metrics_token: metrics_token.map(Into::into),
                password_hashing_concurrency: password_hashing_concurrency.max(1),
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

/// `SHIMINHUA_DATA_KEY` and `SHIMINHUA_LOOKUP_KEY` are each either one base64
/// key (id `k1`) or a comma-separated list of `id:base64` entries, the active
/// key first.
fn parse_keys(name: &str, text: &str) -> Result<Vec<DataKey>, String> {
    let mut keys = Vec::new();
    for (index, entry) in text.split(',').map(str::trim).enumerate() {
        let (id, encoded) = match entry.split_once(':') {
            Some((id, encoded)) => (id.to_owned(), encoded),
            None if index == 0 => ("k1".to_owned(), entry),
            None => return Err(format!("{name}: every key after the first needs an id (id:base64)")),
        };
        if id.is_empty() || id.len() > 16 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("{name}: a key id is 1 to 16 letters or digits"));
        }
        let bytes = BASE64
            .decode(encoded)
            .map_err(|_| format!("{name}: key {id} is not base64"))?;
        let key: [u8; DATA_KEY_BYTES] = bytes.try_into().map_err(|_| {
            format!("{name}: key {id} must be exactly {DATA_KEY_BYTES} bytes (it is too short or too long)")
        })?;
        if keys.iter().any(|k: &DataKey| k.id == id) {
            return Err(format!("{name}: key id {id} appears twice"));
        }
        keys.push(DataKey {
            id,
            key: SecretBox::new(Box::new(key)),
        });
    }
    Ok(keys)
}

/// `SHIMINHUA_TRUSTED_PROXIES`: comma-separated networks in CIDR notation
/// (`10.0.0.0/8, 2001:db8::/32`); a bare address stands for itself alone.
fn parse_trusted_proxies(text: &str) -> Result<Vec<IpNet>, String> {
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

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Loaded, ConfigErrors> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn development_defaults_generate_secrets_loudly() {
        let loaded = load(&[]).unwrap();
        assert_eq!(loaded.config.bind.to_string(), "127.0.0.1:8080");
        assert!(loaded.config.uses_sqlite());
        assert!(loaded.config.redis_url.is_none());
        assert_eq!(loaded.config.wechat.mode, WechatMode::Sandbox);
        assert_eq!(loaded.config.identity_verifier, IdentityVerifierMode::Sandbox);
        assert_eq!(loaded.warnings.len(), 3);
        assert_eq!(loaded.config.lookup_keys.len(), 1);
        assert!(loaded.config.jwt_secret.expose_secret().len() >= MIN_JWT_SECRET_BYTES);
    }

    #[test]
    fn production_with_nothing_set_names_every_problem() {
        let problems = load(&[("SHIMINHUA_ENV", "production")]).unwrap_err().0;
        let all = problems.join("\n");
        for name in [
            "DATABASE_URL",
            "REDIS_URL",
            "SHIMINHUA_JWT_SECRET",
            "SHIMINHUA_DATA_KEY",
            "SHIMINHUA_LOOKUP_KEY",
            "SHIMINHUA_WECHAT_MODE",
        ] {
            assert!(all.contains(name), "{name} missing from {all}");
        }
    }

    #[test]
    fn production_refuses_the_sandbox_identity_verifier() {
        let problems = load(&[
            ("SHIMINHUA_ENV", "production"),
            ("SHIMINHUA_IDENTITY_VERIFIER", "sandbox"),
        ])
        .unwrap_err()
        .0;
        assert!(
            problems.iter().any(|p| p.contains("SHIMINHUA_IDENTITY_VERIFIER")),
            "{problems:?}"
        );
    }

    #[test]
    fn short_secrets_are_refused() {
        let problems = load(&[
            ("SHIMINHUA_JWT_SECRET", "short"),
            ("SHIMINHUA_DATA_KEY", &BASE64.encode([7u8; 16])),
        ])
        .unwrap_err()
        .0;
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn a_complete_production_configuration_loads() {
        let key = BASE64.encode([1u8; 32]);
        let old = format!("k0:{}", BASE64.encode([2u8; 32]));
        let keys = format!("k1:{key},{old}");
        let loaded = load(&[
            ("SHIMINHUA_ENV", "production"),
            ("DATABASE_URL", "postgres://shiminhua@db/shiminhua"),
            ("REDIS_URL", "redis://cache:6379"),
            ("SHIMINHUA_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("SHIMINHUA_DATA_KEY", &keys),
            ("SHIMINHUA_LOOKUP_KEY", &format!("h1:{}", BASE64.encode([3u8; 32]))),
            ("SHIMINHUA_WECHAT_MODE", "live"),
            ("SHIMINHUA_WECHAT_APPID", "wx0123456789abcdef"),
            ("SHIMINHUA_WECHAT_SECRET", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap();
        assert!(loaded.warnings.is_empty());
        assert_eq!(loaded.config.identity_verifier, IdentityVerifierMode::Off);
        assert_eq!(loaded.config.data_keys.len(), 2);
        assert_eq!(loaded.config.data_keys[0].id, "k1");
        assert_eq!(loaded.config.lookup_keys[0].id, "h1");
        assert_eq!(loaded.config.log_format, LogFormat::Json);
    }

    #[test]
    fn production_refuses_webhooks_to_loopback() {
        let problems = load(&[
            ("SHIMINHUA_ENV", "production"),
            ("SHIMINHUA_WEBHOOK_ALLOW_LOOPBACK", "1"),
        ])
        .unwrap_err()
        .0;
        assert!(
            problems.iter().any(|p| p.contains("SHIMINHUA_WEBHOOK_ALLOW_LOOPBACK")),
            "{problems:?}"
        );
        let development = load(&[("SHIMINHUA_WEBHOOK_ALLOW_LOOPBACK", "1")]).unwrap().config;
        assert!(development.webhook_addresses.allow_loopback);
        assert!(!load(&[]).unwrap().config.webhook_addresses.allow_loopback);
        assert!(load(&[("SHIMINHUA_WEBHOOK_ALLOW_LOOPBACK", "yes")]).is_err());
    }

    #[test]
    fn a_lookup_key_may_not_be_a_data_key() {
        let key = BASE64.encode([1u8; 32]);
        let problems = load(&[
            ("SHIMINHUA_DATA_KEY", &key),
            ("SHIMINHUA_LOOKUP_KEY", &format!("h1:{key}")),
        ])
        .unwrap_err()
        .0;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("SHIMINHUA_LOOKUP_KEY"));
    }

    #[test]
    fn trusted_proxies_are_networks_or_addresses() {
        let networks = parse_trusted_proxies(" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,").unwrap();
        let shown: Vec<String> = networks.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]);
        // Host bits are dropped: the network is what the operator meant.
        assert_eq!(
            parse_trusted_proxies("10.1.2.3/8").unwrap()[0].to_string(),
            "10.0.0.0/8"
        );
        for wrong in ["10.0.0.0/33", "proxy.internal", "10.0.0/8", "2001:db8::/129"] {
            let problem = parse_trusted_proxies(wrong).unwrap_err();
            assert!(
                problem.contains("SHIMINHUA_TRUSTED_PROXIES") && problem.contains(wrong),
                "{problem}"
            );
        }
        assert!(load(&[]).unwrap().config.trusted_proxies.is_empty());
        let problems = load(&[("SHIMINHUA_TRUSTED_PROXIES", "10.0.0.0/8,lb")]).unwrap_err().0;
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn metrics_settings_are_checked() {
        let problems = load(&[
            ("SHIMINHUA_METRICS_BIND", "not-an-address"),
            ("SHIMINHUA_METRICS_TOKEN", "short"),
        ])
        .unwrap_err()
        .0;
        assert_eq!(problems.len(), 2, "{problems:?}");
        let same = load(&[
            ("SHIMINHUA_BIND", "0.0.0.0:8080"),
            ("SHIMINHUA_METRICS_BIND", "0.0.0.0:8080"),
        ]);
        assert_eq!(same.unwrap_err().0.len(), 1);
        let loaded = load(&[("SHIMINHUA_METRICS_BIND", "127.0.0.1:9090")]).unwrap().config;
        assert_eq!(loaded.metrics_bind.unwrap().to_string(), "127.0.0.1:9090");
        assert!(loaded.metrics_token.is_none());
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let loaded = load(&[
            ("SHIMINHUA_JWT_SECRET", "super-secret-value-0123456789abcdef"),
            ("DATABASE_URL", "postgres://user:hunter2@db/shiminhua"),
        ])
        .unwrap();
        let debug = format!("{:?}", loaded.config);
        assert!(!debug.contains("super-secret-value"));
        assert!(!debug.contains("hunter2"));
    }
}
