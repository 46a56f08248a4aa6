//! Runs every `bash` block of openapi/INTEGRATORS.md, in order, against a
//! real server: the guide's examples cannot drift from the API.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{applications::guangxi_worker, support::TestApp};

fn guide_script() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/INTEGRATORS.md");
    let guide = std::fs::read_to_string(path).expect("openapi/INTEGRATORS.md");
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in guide.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```bash") => current = Some(Vec::new()),
            (Some(block), "```") => {
                blocks.push(block.join("\n"));
                current = None;
            }
            (Some(block), text) => block.push(text),
            (None, _) => {}
        }
    }
    assert!(blocks.len() >= 4, "the guide has its runnable examples");
    blocks.join("\n")
}

#[tokio::test]
async fn every_example_of_the_integrators_guide_works() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let client: Value = app
        .post_json(
            "/api/v1/admin/clients",
            &json!({"name": "江宁区社保中心", "scopes": ["si_transfer:read", "si_transfer:write"], "region_code": "320115"}),
            Some(&admin.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let worker = guangxi_worker(&app, "guided", "450102198801011235").await;
    let opened = app
        .client
        .post(app.url("/api/v1/si-transfers"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", "guide")
        .json(&json!({"insurance_type": "pension", "from_region_code": "450102", "to_region_code": "320115"}))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::CREATED);
    let transfer_no = opened.json::<Value>().await.unwrap()["transfer_no"]
        .as_str()
        .unwrap()
        .to_owned();

    let environment = [
        ("BASE", app.base_url.clone()),
        ("CLIENT_ID", client["client_id"].as_str().unwrap().to_owned()),
        ("CLIENT_SECRET", client["client_secret"].as_str().unwrap().to_owned()),
        ("TRANSFER_NO", transfer_no),
    ];
    let script = guide_script();
    // The server runs on this test's runtime: the script must not block it.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .envs(environment)
            .output()
            .expect("bash runs")
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "the guide's examples failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    app.stop().await;
}
