use std::process::Command;

fn shiminhua() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shiminhua"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

#[test]
fn production_with_nothing_configured_refuses_to_start_and_names_every_problem() {
    let output = shiminhua().env("SHIMINHUA_ENV", "production").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for name in [
        "DATABASE_URL",
        "REDIS_URL",
        "SHIMINHUA_JWT_SECRET",
        "SHIMINHUA_DATA_KEY",
        "SHIMINHUA_LOOKUP_KEY",
        "SHIMINHUA_WECHAT_MODE",
    ] {
        assert!(stderr.contains(name), "{name} not named in: {stderr}");
    }
}

#[test]
fn a_short_secret_is_refused_without_being_printed() {
    let output = shiminhua()
        .env("SHIMINHUA_ENV", "production")
        .env("SHIMINHUA_JWT_SECRET", "tiny-secret")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(all.contains("SHIMINHUA_JWT_SECRET is too short"));
    assert!(!all.contains("tiny-secret"));
}

#[test]
fn help_explains_the_commands() {
    let output = shiminhua().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for command in ["serve", "migrate", "openapi"] {
        assert!(help.contains(command), "{help}");
    }
}

#[test]
fn openapi_writes_both_documents() {
    let dir = tempfile::tempdir().unwrap();
    let status = shiminhua()
        .arg("openapi")
        .arg("--out")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let json = std::fs::read_to_string(dir.path().join("openapi.json")).unwrap();
    assert_eq!(json.trim_end(), api::startup::spec_json());
    assert!(dir.path().join("openapi.yaml").exists());
}

#[test]
fn migrate_applies_the_schema_to_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/m.db?mode=rwc", dir.path().display());
    let output = shiminhua().arg("migrate").env("DATABASE_URL", &url).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(dir.path().join("m.db").exists());
}
