use reqwest::StatusCode;

use crate::support::{TestApp, assert_problem};

#[tokio::test]
async fn an_unknown_path_is_a_problem_not_a_blank_page() {
    let app = TestApp::spawn().await;
    assert_problem(
        app.get("/api/v1/no-such-thing").await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_method_gets_405_with_allow() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .delete(app.url("/api/v1/regions/320115"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    assert_problem(response, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").await;
    app.stop().await;
}

#[tokio::test]
async fn an_over_long_parameter_names_the_field() {
    let app = TestApp::spawn().await;
    let long = "3".repeat(5000);
    let response = app.get(&format!("/api/v1/regions?parent={long}")).await;
    let body = assert_problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(body["details"]["fields"][0]["field"], "parent");
    let response = app.get("/api/v1/regions?page_size=101").await;
    let body = assert_problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(body["details"]["fields"][0]["field"], "page_size");
    app.stop().await;
}

#[tokio::test]
async fn messages_are_chinese_unless_english_is_asked_for() {
    let app = TestApp::spawn().await;
    let chinese = assert_problem(
        app.get("/api/v1/regions/999999").await,
        StatusCode::NOT_FOUND,
        "REGION_NOT_FOUND",
    )
    .await;
    assert!(chinese["message"].as_str().unwrap().contains("地区"));
    let response = app
        .client
        .get(app.url("/api/v1/regions/999999"))
        .header("Accept-Language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    let english = assert_problem(response, StatusCode::NOT_FOUND, "REGION_NOT_FOUND").await;
    assert_eq!(english["message"], "No region has this code.");
    app.stop().await;
}
