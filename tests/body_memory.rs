//! 200 MB chunked bodies to the routes that read one before knowing who
//! sends it, in a test binary of its own so that the process's peak memory is
//! these requests' alone (cargo runs test binaries one after another). The
//! bodies are written from a generator: the test never holds one.

#[allow(dead_code, unused_imports)]
#[path = "api/support/mod.rs"]
mod support;

use support::{TestApp, raw_http::Oversized};

const FILLER: u64 = 200 * 1024 * 1024;

/// Far below the size of a body, so a server that held one could not pass.
const MEMORY_BOUND: u64 = 64 * 1024 * 1024;

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("this test reads Linux's /proc/self/status");
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .unwrap_or_else(|| panic!("/proc/self/status has {field}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Resets the peak resident size to the current one (Linux's clear_refs).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("resetting the peak resident size");
}

#[tokio::test]
async fn huge_bodies_are_refused_in_bounded_memory() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("huge-bodies").await;
    for route in Oversized::ALL {
        reset_peak();
        let before = status_kib("VmRSS:") * 1024;
        let answer = route.send(app.addr(), &worker.access_token, FILLER).await;
        let growth = (status_kib("VmHWM:") * 1024).saturating_sub(before);
        eprintln!(
            "{route:?}: {} after {} bytes sent, peak resident size grew by {growth} bytes",
            answer.status, answer.sent_before_answer
        );
        let expected = match route {
            Oversized::UploadPurpose => 400,
            _ => 413,
        };
        assert_eq!(answer.status, expected, "{route:?}: {answer:?}");
        assert!(
            answer.sent_before_answer < FILLER / 2,
            "{route:?}: the server read {} bytes before answering",
            answer.sent_before_answer
        );
        assert!(
            growth < MEMORY_BOUND,
            "{route:?}: a {FILLER}-byte body grew the peak resident size by {growth} bytes"
        );
    }
    app.stop().await;
}
