use std::process::Command;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{
    applications::{JPEG, guangxi_worker},
    documents::upload_id_card,
    support::{
        TestApp,
        app::{DATA_KEY, LOOKUP_KEY},
    },
};

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
fn subscribe_templates_for_no_event_stop_the_start() {
    // A database nobody answers: should the check be skipped, the start
    // fails there instead, without the message asserted below.
    let output = shiminhua()
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env(
            "SHIMINHUA_WECHAT_TEMPLATES",
            r#"{"application.approved": {"template_id": "T", "fields": {"phrase1": "status"}},
                "wage_report": {"template_id": "T", "fields": {"amount1": "amount"}}}"#,
        )
        .arg("serve")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("application.approved is not an event"), "{stderr}");
    assert!(stderr.contains("wage_report: an amount field"), "{stderr}");
}

#[test]
fn help_explains_the_commands() {
    let output = shiminhua().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for command in ["serve", "migrate", "purge", "rekey", "openapi"] {
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

/// Runs `shiminhua rekey` on the app's database and files with these keys.
fn rekey(app: &TestApp, data_keys: &str, lookup_keys: &str, mode: &str) -> Value {
    let output = shiminhua()
        .env("DATABASE_URL", &app.database_url)
        .envs(app.files.vars())
        .env("SHIMINHUA_DATA_KEY", data_keys)
        .env("SHIMINHUA_LOOKUP_KEY", lookup_keys)
        .env("SHIMINHUA_LOG_FORMAT", "json")
        .args(["rekey", mode])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "rekey {mode} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("rekey prints a JSON summary")
}

async fn stored_id_number(app: &TestApp) -> (String, String) {
    let db = app.db().await;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id_number_cipher, id_number_hash FROM worker WHERE id_number_cipher IS NOT NULL",
        ))
        .await
        .unwrap()
        .expect("a worker with an ID number");
    (
        row.try_get("", "id_number_cipher").unwrap(),
        row.try_get("", "id_number_hash").unwrap(),
    )
}

#[tokio::test]
async fn rekey_brings_personal_data_and_files_under_new_keys_so_old_ones_can_go() {
    const NEW_DATA_KEY: &str = "k2:QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=";
    const NEW_LOOKUP_KEY: &str = "h2:YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8=";
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "rekeyed", "450102198801011235").await;
    let sealed = upload_id_card(&app, &worker, JPEG).await;
    // A document stored before documents were encrypted: in clear.
    let legacy = upload_id_card(&app, &worker, JPEG).await;
    let keys = app.files.keys().await;
    let legacy_key = keys.iter().find(|key| key.ends_with(&legacy)).unwrap();
    app.files.overwrite(legacy_key, JPEG).await;
    let (old_cipher, old_hash) = stored_id_number(&app).await;
    assert!(old_cipher.starts_with("v2.k1."), "{old_cipher}");

    let both_data = format!("{NEW_DATA_KEY},{DATA_KEY}");
    let both_lookup = format!("{NEW_LOOKUP_KEY},{LOOKUP_KEY}");
    let due = json!({
        "applied": false, "workers": 1, "wage_reports": 0, "integrator_clients": 0,
        "si_transfers": 0, "window_filings": 0, "uploads": 2, "transfer_hashes_kept": 0, "unreadable": 0
    });
    assert_eq!(rekey(&app, &both_data, &both_lookup, "--dry-run"), due);
    assert_eq!(stored_id_number(&app).await, (old_cipher.clone(), old_hash.clone()));
    let mut done = due.clone();
    done["applied"] = json!(true);
    assert_eq!(rekey(&app, &both_data, &both_lookup, "--apply"), done);
    let nothing_left = json!({
        "applied": false, "workers": 0, "wage_reports": 0, "integrator_clients": 0,
        "si_transfers": 0, "window_filings": 0, "uploads": 0, "transfer_hashes_kept": 0, "unreadable": 0
    });
    assert_eq!(rekey(&app, &both_data, &both_lookup, "--dry-run"), nothing_left);

    let (new_cipher, new_hash) = stored_id_number(&app).await;
    assert!(new_cipher.starts_with("v2.k2."), "{new_cipher}");
    assert_ne!(new_hash, old_hash, "the hash is recomputed under the new lookup key");
    let stored = app.files.read(legacy_key).await.unwrap();
    assert!(!stored.starts_with(&JPEG[..3]), "the clear file is encrypted");

    // A server that knows only the new keys reads everything.
    let renewed = TestApp::spawn_beside_with(&app, |vars| {
        vars.extend(app.files.vars());
        vars.insert("SHIMINHUA_DATA_KEY", NEW_DATA_KEY.to_owned());
        vars.insert("SHIMINHUA_LOOKUP_KEY", NEW_LOOKUP_KEY.to_owned());
    })
    .await;
    let worker = renewed.login_worker("rekeyed").await;
    let me = renewed.get_json_with("/api/v1/me", &worker.access_token).await;
    assert_eq!(me["id_number"], "4501**********1235", "{me}");
    for document in [&sealed, &legacy] {
        let fetched = renewed
            .get_with(&format!("/api/v1/uploads/{document}"), &worker.access_token)
            .await;
        assert_eq!(fetched.status(), StatusCode::OK);
        assert_eq!(fetched.bytes().await.unwrap().as_ref(), JPEG);
    }
    // The same number typed by someone else is found under the new hash.
    let squatter = renewed.login_worker("squatter").await;
    let taken = renewed
        .client
        .put(renewed.url("/api/v1/me/profile"))
        .bearer_auth(&squatter.access_token)
        .json(&json!({ "id_number": "450102198801011235", "consent_version": "2026-11" }))
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    renewed.stop().await;
    app.stop().await;
}

/// Between adding a lookup key and running `rekey`, a number saved before is
/// hashed under the old key, which the unique index cannot compare with the
/// new key's hash: the profile looks under every listed key instead.
#[tokio::test]
async fn a_number_held_under_an_older_lookup_key_is_still_taken() {
    const NEW_LOOKUP_KEY: &str = "h2:YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8=";
    let app = TestApp::spawn().await;
    guangxi_worker(&app, "first-holder", "450102198801011235").await;
    let rotating = TestApp::spawn_beside_with(&app, |vars| {
        vars.insert("SHIMINHUA_LOOKUP_KEY", format!("{NEW_LOOKUP_KEY},{LOOKUP_KEY}"));
    })
    .await;
    let squatter = rotating.login_worker("second-typist").await;
    let taken = rotating
        .client
        .put(rotating.url("/api/v1/me/profile"))
        .bearer_auth(&squatter.access_token)
        .json(&json!({ "id_number": "450102198801011235", "consent_version": "2026-11" }))
        .send()
        .await
        .unwrap();
    crate::support::assert_problem(taken, StatusCode::CONFLICT, "ID_NUMBER_IN_USE").await;
    // The holder keeps saving their own number under the new key.
    let holder = rotating.login_worker("first-holder").await;
    let kept = rotating
        .client
        .put(rotating.url("/api/v1/me/profile"))
        .bearer_auth(&holder.access_token)
        .json(&json!({ "id_number": "450102198801011235" }))
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), StatusCode::OK);
    rotating.stop().await;
    app.stop().await;
}
