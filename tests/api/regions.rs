use reqwest::StatusCode;

use crate::support::{TestApp, assert_problem};

#[tokio::test]
async fn a_county_comes_with_its_city_and_province() {
    let app = TestApp::spawn().await;
    let jiangning = app.get_json("/api/v1/regions/320115").await;
    assert_eq!(jiangning["name"], "江宁区");
    assert_eq!(jiangning["level"], "county");
    assert_eq!(jiangning["parent_code"], "320100");
    let ancestors: Vec<_> = jiangning["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(ancestors, ["江苏省", "南京市"]);
    app.stop().await;
}

#[tokio::test]
async fn listing_without_a_parent_gives_the_provinces() {
    let app = TestApp::spawn().await;
    let page = app.get_json("/api/v1/regions?page_size=100").await;
    assert_eq!(page["total"], 34);
    assert_eq!(page["page"], 1);
    assert_eq!(page["page_size"], 100);
    let names: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"江苏省") && names.contains(&"广西壮族自治区"));
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["level"] == "province")
    );
    app.stop().await;
}

#[tokio::test]
async fn children_are_paginated_in_code_order() {
    let app = TestApp::spawn().await;
    let first = app.get_json("/api/v1/regions?parent=320100&page=1&page_size=5").await;
    let second = app.get_json("/api/v1/regions?parent=320100&page=2&page_size=5").await;
    assert_eq!(first["total"], 11);
    assert_eq!(first["items"].as_array().unwrap().len(), 5);
    let last_of_first = first["items"][4]["code"].as_str().unwrap().to_owned();
    let first_of_second = second["items"][0]["code"].as_str().unwrap().to_owned();
    assert!(last_of_first < first_of_second);
    let far = app.get_json("/api/v1/regions?parent=320100&page=9").await;
    assert_eq!(far["items"].as_array().unwrap().len(), 0);
    assert_eq!(far["total"], 11);
    app.stop().await;
}

#[tokio::test]
async fn unknown_and_malformed_codes_are_told_apart() {
    let app = TestApp::spawn().await;
    assert_problem(
        app.get("/api/v1/regions/999999").await,
        StatusCode::NOT_FOUND,
        "REGION_NOT_FOUND",
    )
    .await;
    assert_problem(
        app.get("/api/v1/regions?parent=999999").await,
        StatusCode::NOT_FOUND,
        "REGION_NOT_FOUND",
    )
    .await;
    let body = assert_problem(
        app.get("/api/v1/regions/32011x").await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(body["details"]["fields"][0]["field"], "code");
    assert!(body["message"].as_str().unwrap().contains("6位数字"));
    app.stop().await;
}
