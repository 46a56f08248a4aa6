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

#[tokio::test]
async fn malformed_json_wrong_content_type_and_bad_fields_get_problem_bodies() {
    let app = TestApp::spawn().await;
    let login = app.url("/api/v1/auth/wechat/login");
    let send = |body: &'static str, content_type: &'static str| {
        let (app, login) = (&app, login.clone());
        async move {
            app.client
                .post(login)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_problem(
        send("{\"code\": ", "application/json").await,
        StatusCode::BAD_REQUEST,
        "MALFORMED_JSON",
    )
    .await;
    assert_problem(
        send("", "application/json").await,
        StatusCode::BAD_REQUEST,
        "MALFORMED_JSON",
    )
    .await;
    assert_problem(
        send("code=x", "text/plain").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    let missing = assert_problem(
        send("{}", "application/json").await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(missing["details"]["fields"][0]["field"], "code");
    let wrong_type = assert_problem(
        send("{\"code\": 42}", "application/json").await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(wrong_type["details"]["fields"][0]["field"], "code");

    let long = serde_json::json!({ "code": "x".repeat(129) });
    let response = app.post_json("/api/v1/auth/wechat/login", &long, None).await;
    let body = assert_problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(body["details"]["fields"][0]["field"], "code");

    let huge = serde_json::json!({ "code": "x".repeat(300 * 1024) });
    let response = app.post_json("/api/v1/auth/wechat/login", &huge, None).await;
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    app.stop().await;
}

#[tokio::test]
async fn pages_reach_the_first_ten_thousand_rows_and_no_further() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let last = app.get("/api/v1/regions?page=100&page_size=100").await;
    assert_eq!(last.status(), StatusCode::OK, "row 10,000 is still in reach");
    let deeper = assert_problem(
        app.get("/api/v1/regions?page=101&page_size=100").await,
        StatusCode::BAD_REQUEST,
        "PAGE_TOO_DEEP",
    )
    .await;
    assert_eq!(deeper["details"]["max_rows"], 10_000);
    assert!(deeper["message"].as_str().unwrap().contains("筛选条件"), "{deeper}");
    assert_problem(
        app.get_with(
            "/api/v1/admin/audit-logs?page=100000&page_size=100",
            &admin.access_token,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "PAGE_TOO_DEEP",
    )
    .await;
    assert_problem(
        app.get_with("/api/v1/staff/si-transfers?page=10001&page_size=1", &admin.access_token)
            .await,
        StatusCode::BAD_REQUEST,
        "PAGE_TOO_DEEP",
    )
    .await;
    app.stop().await;
}
