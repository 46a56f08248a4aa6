//! 200 MB chunked bodies to the routes that read one before knowing who
//! sends it, in a test binary of its own so that the process's peak memory is
//! these requests' alone (cargo runs test binaries one after another). The
//! bodies are written from a generator: the test never holds one.

#[path = "api/support/memory.rs"]
mod memory;
#[allow(dead_code, unused_imports)]
#[path = "api/support/mod.rs"]
mod support;

use memory::PeakGrowth;
use support::{TestApp, raw_http::Oversized};

const FILLER: u64 = 200 * 1024 * 1024;

/// Far below the size of a body, so a server that held one could not pass.
const MEMORY_BOUND: u64 = 64 * 1024 * 1024;

#[tokio::test]
async fn huge_bodies_are_refused_in_bounded_memory() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("huge-bodies").await;
    for route in Oversized::ALL {
        let peak = PeakGrowth::start();
        let answer = route.send(app.addr(), &worker.access_token, FILLER).await;
        let growth = peak.bytes();
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
