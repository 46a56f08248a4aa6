use serde_json::Value;

use crate::support::TestApp;

fn committed(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("openapi")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} is missing: run `shiminhua openapi`", path.display()))
}

#[test]
fn the_committed_document_is_current() {
    let stale = "openapi/ is stale: run `cargo run -- openapi` and commit the result";
    assert_eq!(
        committed("openapi.json").trim_end(),
        api::startup::spec_json(),
        "{stale}"
    );
    assert_eq!(
        committed("openapi.yaml").trim_end(),
        api::startup::spec_yaml().trim_end(),
        "{stale}"
    );
}

#[test]
fn every_operation_has_a_tag_an_id_a_summary_a_description_and_its_errors() {
    let spec: Value = serde_json::from_str(&api::startup::spec_json()).unwrap();
    assert!(spec["info"]["contact"].is_object());
    assert!(spec["servers"][0]["url"].is_string(), "spectral's oas3-api-servers");
    assert!(spec["info"]["description"].as_str().unwrap().len() > 100);
    let mut count = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            count += 1;
            let at = format!("{method} {path}");
            assert!(operation["operationId"].is_string(), "{at}: operationId");
            assert!(
                operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{at}: summary"
            );
            assert!(
                operation["description"].as_str().is_some_and(|s| !s.is_empty()),
                "{at}: description (spectral's operation-description)"
            );
            assert!(
                operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{at}: tags"
            );
            let has_parameters = operation["parameters"].as_array().is_some_and(|p| !p.is_empty());
            if has_parameters {
                assert!(
                    operation["responses"]["400"].is_object(),
                    "{at}: takes input but documents no 400"
                );
            }
        }
    }
    assert!(count >= 5);
}

#[tokio::test]
async fn the_served_documents_match_the_generated_ones() {
    let app = TestApp::spawn().await;
    let served: Value = app.get_json("/openapi.json").await;
    let generated: Value = serde_json::from_str(&api::startup::spec_json()).unwrap();
    assert_eq!(served, generated);
    let yaml = app.get("/openapi.yaml").await.text().await.unwrap();
    let parsed: Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(parsed["info"]["title"], "Shiminhua API");
    let docs = app.get("/docs").await;
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    app.stop().await;
}
