//! The staff console as a browser fetches it: the page, its assets, the
//! routes of the single-page app, and the headers that hold it to its own code.

use reqwest::{Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::TestApp;

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} is set"))
        .to_str()
        .unwrap()
}

fn assert_strict_headers(response: &Response) {
    let policy = header(response, "content-security-policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self';",
        "style-src 'self' 'unsafe-inline'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("unsafe-eval"), "{policy}");
    assert_eq!(header(response, "x-content-type-options"), "nosniff");
    assert_eq!(header(response, "referrer-policy"), "no-referrer");
}

async fn index_page(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    assert_strict_headers(&response);
    assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&response, "cache-control"), "no-cache");
    let page = response.text().await.unwrap();
    assert!(
        page.contains(r#"<div id="app">"#),
        "{path} serves the console's page: {page}"
    );
    page
}

/// The bundle's files the page links: scripts, preloaded modules, stylesheets.
fn linked(page: &str, attribute: &str) -> Vec<String> {
    page.split(&format!(r#"{attribute}="/console/assets/"#))
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|name| format!("/console/assets/{name}"))
        .collect()
}

#[tokio::test]
async fn the_console_page_is_served_with_a_strict_content_security_policy() {
    let app = TestApp::spawn().await;
    let page = index_page(&app, "/console/").await;
    assert!(!page.contains("<script>"), "no inline script: {page}");
    let redirected = app.client.get(app.url("/console")).send().await.unwrap();
    assert_eq!(redirected.url().path(), "/console/", "/console leads to /console/");
    app.stop().await;
}

#[tokio::test]
async fn assets_are_served_with_their_type_and_cached_for_good() {
    let app = TestApp::spawn().await;
    let page = index_page(&app, "/console/").await;
    let mut files = linked(&page, "src");
    files.extend(linked(&page, "href"));
    assert!(
        files.iter().any(|f| f.ends_with(".js")) && files.iter().any(|f| f.ends_with(".css")),
        "{page}"
    );
    for path in &files {
        let content_type = if path.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        assert_strict_headers(&response);
        assert_eq!(header(&response, "content-type"), content_type, "{path}");
        assert_eq!(
            header(&response, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert!(!response.bytes().await.unwrap().is_empty());
    }
    let missing = app.get("/console/assets/index-00000000.js").await;
    assert_eq!(
        missing.status(),
        StatusCode::NOT_FOUND,
        "a missing asset is not the page"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_single_page_apps_routes_serve_its_page() {
    let app = TestApp::spawn().await;
    for path in [
        "/console/signin",
        "/console/applications",
        "/console/applications/0193a1b2-0000-7000-8000-000000000000",
        "/console/x",
    ] {
        index_page(&app, path).await;
    }
    let posted = app.client.post(app.url("/console/")).send().await.unwrap();
    assert_eq!(posted.status(), StatusCode::METHOD_NOT_ALLOWED);
    app.stop().await;
}

/// Sends a request line as written, without the normalising a client library
/// does to `..` segments, and returns the status and body.
async fn raw_get(app: &TestApp, target: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(app.addr()).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, answer)
}

#[tokio::test]
async fn a_path_out_of_the_console_reaches_nothing_outside_it() {
    let app = TestApp::spawn().await;
    for target in [
        "/console/../Cargo.toml",
        "/console/../../Cargo.toml",
        "/console/%2e%2e/%2e%2e/Cargo.toml",
        "/console/..%2f..%2fCargo.toml",
        "/console/assets/../../../api/src/lib.rs",
        "/console/assets/..%2f..%2f..%2fCargo.toml",
        "/console//etc/passwd",
    ] {
        let (status, answer) = raw_get(&app, target).await;
        assert!([200, 400, 404].contains(&status), "{target}: {status}");
        for secret in ["[workspace]", "[package]", "root:x:0:0", "pub mod"] {
            assert!(!answer.contains(secret), "{target} leaked {secret}: {answer}");
        }
        if status == 200 {
            assert!(
                answer.contains(r#"<div id="app">"#),
                "{target} serves only the page: {answer}"
            );
        }
    }
    app.stop().await;
}
