use reqwest::StatusCode;

use crate::support::{
    TestApp,
    raw_http::{Oversized, RawAnswer},
};

/// Far more than any body the service takes (an upload is at most 10 MB),
/// and more than the connection's buffers hold.
const FILLER: u64 = 200 * 1024 * 1024;

fn assert_refused_early(route: Oversized, answer: &RawAnswer, status: StatusCode, code: &str) {
    assert_eq!(answer.status, status.as_u16(), "{route:?}: {answer:?}");
    assert_eq!(answer.content_type, "application/problem+json", "{route:?}");
    assert_eq!(answer.body["code"], code, "{route:?}: {answer:?}");
    assert!(
        answer.sent_before_answer < FILLER / 2,
        "{route:?}: the server read {} bytes before answering",
        answer.sent_before_answer
    );
}

#[tokio::test]
async fn huge_chunked_bodies_are_refused_as_they_arrive() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("huge-bodies").await;
    for route in Oversized::ALL {
        let answer = route.send(app.addr(), &worker.access_token, FILLER).await;
        match route {
            // A small form field too long is the field's fault, found at its limit.
            Oversized::UploadPurpose => {
                assert_refused_early(route, &answer, StatusCode::BAD_REQUEST, "VALIDATION_FAILED");
                assert_eq!(answer.body["details"]["fields"][0]["field"], "purpose");
            }
            _ => assert_refused_early(route, &answer, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
        }
    }
    // Nothing of the refused upload stayed behind.
    assert_eq!(app.files.keys().await, Vec::<String>::new());
    app.stop().await;
}

#[tokio::test]
async fn an_announced_length_over_the_limit_is_refused_before_reading() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/api/v1/oauth/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 300 * 1024])
        .send()
        .await
        .unwrap();
    crate::support::assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    app.stop().await;
}
