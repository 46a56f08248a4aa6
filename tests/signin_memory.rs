//! Thirty concurrent sign-ins of unknown usernames, in a test binary of its
//! own so that the process's peak memory is theirs alone (cargo runs test
//! binaries one after another).

#[path = "api/support/memory.rs"]
mod memory;
#[allow(dead_code, unused_imports)]
#[path = "api/support/mod.rs"]
mod support;

use memory::PeakGrowth;
use reqwest::StatusCode;
use serde_json::json;
use support::TestApp;

const SIGN_INS: usize = 30;
/// Passwords hashed at once.
const POOL: usize = 2;
/// argon2's working memory with the default parameters.
const ARGON2_MIB: u64 = 19;
/// The pool's working memories and room to spare, far below the 30 × 19 MiB
/// that thirty sign-ins hashing at once would hold.
const MEMORY_BOUND: u64 = (POOL as u64 * ARGON2_MIB + 26) * 1024 * 1024;

#[tokio::test]
async fn a_flood_of_sign_ins_hashes_in_bounded_memory() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_RATE_PUBLIC_WRITE", "1000".to_owned());
        vars.insert("SHIMINHUA_PASSWORD_HASHING_CONCURRENCY", POOL.to_string());
    })
    .await;
    let sign_in = |n: usize| {
        let app = &app;
        async move {
            app.post_json(
                "/api/v1/staff/auth/login",
                &json!({"username": format!("nobody.{n}"), "password": format!("guess-password-{n}")}),
                None,
            )
            .await
            .status()
        }
    };
    // Warms up what every process has once (the decoy hash, connections).
    assert_eq!(sign_in(0).await, StatusCode::UNAUTHORIZED);

    let peak = PeakGrowth::start();
    let answers = futures_util::future::join_all((1..=SIGN_INS).map(sign_in)).await;
    let growth = peak.bytes();
    eprintln!("{SIGN_INS} concurrent sign-ins grew the peak resident size by {growth} bytes");
    assert!(
        answers.iter().all(|status| *status == StatusCode::UNAUTHORIZED),
        "{answers:?}"
    );
    assert!(
        growth < MEMORY_BOUND,
        "{SIGN_INS} concurrent sign-ins grew the peak resident size by {growth} bytes"
    );
    app.stop().await;
}
