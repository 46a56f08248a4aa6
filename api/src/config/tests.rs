use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use secrecy::ExposeSecret;

use super::{server::parse_trusted_proxies, *};

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
fn production_refuses_the_sandbox_certificate_provider() {
    let problems = load(&[
        ("SHIMINHUA_ENV", "production"),
        ("SHIMINHUA_CERTIFICATE_PROVIDER", "sandbox"),
    ])
    .unwrap_err()
    .0;
    assert!(
        problems.iter().any(|p| p.contains("SHIMINHUA_CERTIFICATE_PROVIDER")),
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
        ("DATABASE_REPLICA_URL", "postgres://user:hunter3@replica/shiminhua"),
    ])
    .unwrap();
    let debug = format!("{:?}", loaded.config);
    assert!(!debug.contains("super-secret-value"));
    assert!(!debug.contains("hunter2"));
    assert!(!debug.contains("hunter3"));
}

#[test]
fn a_replica_must_be_the_same_kind_of_database_as_the_primary() {
    let problems = load(&[
        ("DATABASE_URL", "postgres://user@db/shiminhua"),
        ("DATABASE_REPLICA_URL", "sqlite://replica.db"),
    ])
    .unwrap_err()
    .0;
    assert!(
        problems.iter().any(|p| p.contains("DATABASE_REPLICA_URL")),
        "{problems:?}"
    );
    let loaded = load(&[("DATABASE_URL", "postgres://user@db/shiminhua")])
        .unwrap()
        .config;
    assert!(loaded.database_replica_url.is_none());
}

#[test]
fn subscribe_templates_are_read_per_event_and_every_problem_named() {
    let templates = r#"{"application.approve": {"template_id": "T1", "fields": {"phrase1": "status"}}}"#;
    let loaded = load(&[("SHIMINHUA_WECHAT_TEMPLATES", templates)]).unwrap();
    let template = loaded.config.wechat.templates.for_event("application.approve").unwrap();
    assert_eq!(template.template_id, "T1");

    let problems = load(&[
        ("SHIMINHUA_WECHAT_TEMPLATE_ID", "old-style"),
        (
            "SHIMINHUA_WECHAT_TEMPLATES",
            r#"{"a": {"template_id": "T", "fields": {"phrase1": "next_step", "thing2": "case_no", "bogus3": "status"}}}"#,
        ),
    ])
    .unwrap_err()
    .0;
    let all = problems.join("\n");
    assert!(all.contains("SHIMINHUA_WECHAT_TEMPLATE_ID is replaced"), "{all}");
    assert!(
        all.contains("SHIMINHUA_WECHAT_TEMPLATES a: field phrase1 cannot show NextStep"),
        "{all}"
    );
    assert!(
        all.contains("SHIMINHUA_WECHAT_TEMPLATES a: field bogus3 is not a supported type"),
        "{all}"
    );
}

#[test]
fn an_object_store_needs_its_bucket_and_keys_and_a_cluster_url_lists_redis_nodes() {
    let problems = load(&[
        ("SHIMINHUA_S3_ENDPOINT", "minio:9000"),
        ("SHIMINHUA_S3_PATH_STYLE", "yes"),
        ("REDIS_URL", "redis://10.0.0.1:7000,10.0.0.2:7000"),
    ])
    .unwrap_err()
    .0;
    let all = problems.join("\n");
    for name in [
        "SHIMINHUA_S3_ENDPOINT must be",
        "SHIMINHUA_S3_BUCKET",
        "SHIMINHUA_S3_ACCESS_KEY",
        "SHIMINHUA_S3_SECRET_KEY",
        "SHIMINHUA_S3_PATH_STYLE",
        "REDIS_URL must be",
    ] {
        assert!(all.contains(name), "{name} missing from {all}");
    }

    let loaded = load(&[
        ("SHIMINHUA_S3_ENDPOINT", "https://oss-cn-hangzhou.aliyuncs.com"),
        ("SHIMINHUA_S3_BUCKET", "shiminhua-uploads"),
        ("SHIMINHUA_S3_ACCESS_KEY", "key"),
        ("SHIMINHUA_S3_SECRET_KEY", "secret"),
        ("SHIMINHUA_S3_REGION", "oss-cn-hangzhou"),
        ("SHIMINHUA_S3_PATH_STYLE", "0"),
        ("REDIS_URL", "redis://10.0.0.1:7000,redis://10.0.0.2:7000"),
    ])
    .unwrap();
    let FileStoreConfig::S3(s3) = &loaded.config.files else {
        panic!("the object store is chosen")
    };
    assert_eq!(
        (s3.bucket.as_str(), s3.region.as_str(), s3.path_style),
        ("shiminhua-uploads", "oss-cn-hangzhou", false)
    );
}
