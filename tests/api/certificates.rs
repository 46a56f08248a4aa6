//! Electronic certificates (电子证照): the worker references a certificate
//! the licence service holds instead of photographing it, and the rules
//! read its level, not what was typed. The sandbox provider answers
//! certificates from the ID number's 16th digit (`infra/certificates.rs`).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    applications::{apply, guangxi_worker, uploaded},
    support::{TestApp, app::Session, assert_problem},
};

/// 16th digit 4: a level-4 (四级/中级工) vocational certificate in the sandbox.
const SKILLED_ID: &str = "450102198503070413";
/// 16th digit 0: no vocational certificate in the sandbox.
const UNCERTIFIED_ID: &str = "450102198503070034";
/// 16th digit 2: a level-2 certificate of someone else.
const OTHER_ID: &str = "45010219870412027X";
const AUTHORIZED: &str = "certificate-2026-12";

async fn fetch(app: &TestApp, worker: &Session, body: Value) -> reqwest::Response {
    app.post_json("/api/v1/me/certificates", &body, Some(&worker.access_token))
        .await
}

async fn fetched(app: &TestApp, worker: &Session) -> Value {
    let response = fetch(
        app,
        worker,
        json!({"kind": "vocational", "authorization_version": AUTHORIZED}),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        response.text().await.unwrap()
    );
    response.json().await.unwrap()
}

async fn training_program(app: &TestApp) -> String {
    let programs = app
        .get_json("/api/v1/programs?region_code=450102&kind=training_subsidy")
        .await;
    programs["items"][0]["id"].as_str().unwrap().to_owned()
}

/// A training application carrying `certificate`, with `answers`, and only
/// the ID card photographed: the certificate is referenced, not pictured.
async fn training(app: &TestApp, worker: &Session, certificate: &Value, answers: Value) -> Value {
    json!({
        "program_id": training_program(app).await,
        "answers": answers,
        "attachment_ids": [uploaded(app, worker, "id_card").await],
        "certificate_id": certificate["id"],
        "submit": true
    })
}

#[tokio::test]
async fn a_level_read_from_the_certificate_passes_and_pays_by_it() {
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "cert-skilled", SKILLED_ID).await;
    let certificate = fetched(&app, &worker).await;
    assert_eq!(certificate["level"], 4);
    assert_eq!(certificate["verified_by"], "电子证照");
    assert_eq!(certificate["provider"], "sandbox");
    assert_eq!(certificate["number"], format!("SBX-ZY-{SKILLED_ID}-4"));
    let issuer = certificate["issuer"].as_str().unwrap().to_owned();
    let mine = app.get_json_with("/api/v1/me/certificates", &worker.access_token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    // Fetched again, the reference is refreshed, not doubled.
    fetched(&app, &worker).await;
    let mine = app.get_json_with("/api/v1/me/certificates", &worker.access_token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);

    let answers = json!({"training_institution": "南宁市第一职业技能培训学校"});
    let body = training(&app, &worker, &certificate, answers).await;
    let response = apply(&app, &worker, "cert-1", &body).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        response.text().await.unwrap()
    );
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own = app
        .get_json_with(&format!("/api/v1/applications/{id}"), &worker.access_token)
        .await;
    assert_eq!(own["status"], "submitted");
    assert_eq!(own["answers"]["certificate_level"], 4, "read from the certificate");
    assert_eq!(own["requested_amount_fen"], 150_000, "四级 pays 1,500 yuan");
    assert_eq!(own["certificate_id"], certificate["id"]);

    // The reviewer sees it verified by 电子证照, with the issuer.
    let admin = app.admin("000000").await;
    let reviewer = app.staff(&admin, "cert.reviewer", &["reviewer"], "450102").await;
    let case = app
        .get_json_with(&format!("/api/v1/staff/applications/{id}"), &reviewer.access_token)
        .await;
    assert_eq!(case["certificate"]["verified_by"], "电子证照");
    assert_eq!(case["certificate"]["issuer"], issuer.as_str());
    assert_eq!(case["certificate"]["level"], 4);
    let level_check = case["eligibility"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["criterion"] == "certificate_at_least_level")
        .unwrap();
    assert_eq!(level_check["passed"], true);
    assert!(
        level_check["detail"].as_str().unwrap().contains("电子证照"),
        "{level_check}"
    );
    let fetches = app
        .get_json_with("/api/v1/admin/audit-logs?action=certificate.fetch", &admin.access_token)
        .await;
    assert_eq!(fetches["total"], 2);
    app.stop().await;
}

#[tokio::test]
async fn a_typed_level_the_certificate_contradicts_is_refused() {
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "cert-typed", SKILLED_ID).await;
    let certificate = fetched(&app, &worker).await;
    let claimed_higher = json!({"certificate_level": 3, "training_institution": "南宁市第一职业技能培训学校"});
    let body = training(&app, &worker, &certificate, claimed_higher).await;
    let refused = assert_problem(
        apply(&app, &worker, "cert-typed-1", &body).await,
        StatusCode::BAD_REQUEST,
        "CERTIFICATE_LEVEL_MISMATCH",
    )
    .await;
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("三级（高级工）") && message.contains("四级（中级工）"),
        "{message}"
    );
    assert!(message.contains("电子证照"), "{message}");
    assert_eq!(refused["details"]["field"], "answers.certificate_level");

    // The same level typed is the certificate's: accepted.
    let agreeing = json!({"certificate_level": 4, "training_institution": "南宁市第一职业技能培训学校"});
    let body = training(&app, &worker, &certificate, agreeing).await;
    let response = apply(&app, &worker, "cert-typed-2", &body).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        response.text().await.unwrap()
    );
    app.stop().await;
}

#[tokio::test]
async fn another_workers_certificate_and_unknown_ones_are_refused() {
    let app = TestApp::spawn().await;
    let owner = guangxi_worker(&app, "cert-owner", OTHER_ID).await;
    let theirs = fetched(&app, &owner).await;
    let worker = guangxi_worker(&app, "cert-borrower", SKILLED_ID).await;

    // Another worker's certificate, by its id on an application…
    let answers = json!({"training_institution": "南宁市第一职业技能培训学校"});
    let body = training(&app, &worker, &theirs, answers).await;
    let refused = assert_problem(
        apply(&app, &worker, "cert-borrow-1", &body).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
    )
    .await;
    assert!(refused["message"].as_str().unwrap().contains("电子证照"), "{refused}");
    // …or by its number at the licence service.
    let by_number = json!({"kind": "vocational", "number": theirs["number"], "authorization_version": AUTHORIZED});
    let refused = assert_problem(
        fetch(&app, &worker, by_number).await,
        StatusCode::BAD_REQUEST,
        "CERTIFICATE_NOT_HOLDER",
    )
    .await;
    assert!(refused["message"].as_str().unwrap().contains("不是您本人"));

    // A number the service never issued, and a person it holds none for.
    let forged =
        json!({"kind": "vocational", "number": format!("SBX-ZY-{SKILLED_ID}-1"), "authorization_version": AUTHORIZED});
    assert_problem(
        fetch(&app, &worker, forged).await,
        StatusCode::NOT_FOUND,
        "CERTIFICATE_NOT_FOUND",
    )
    .await;
    let uncertified = guangxi_worker(&app, "cert-none", UNCERTIFIED_ID).await;
    let asked = json!({"kind": "vocational", "authorization_version": AUTHORIZED});
    let refused = assert_problem(
        fetch(&app, &uncertified, asked).await,
        StatusCode::NOT_FOUND,
        "CERTIFICATE_NOT_FOUND",
    )
    .await;
    assert!(refused["message"].as_str().unwrap().contains("电子证照"));
    // The ID card's licence is always there; a business licence too for this number.
    for kind in ["id_card", "business_licence"] {
        let asked = json!({"kind": kind, "authorization_version": AUTHORIZED});
        assert_eq!(
            fetch(&app, &worker, asked).await.status(),
            StatusCode::CREATED,
            "{kind}"
        );
    }

    // Without the worker's authorisation, or without an ID number, nothing is asked.
    let unauthorised = json!({"kind": "vocational", "authorization_version": "2020-01"});
    let refused = assert_problem(
        fetch(&app, &worker, unauthorised).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
    )
    .await;
    assert!(refused["message"].as_str().unwrap().contains("授权"));
    let newcomer = app.login_worker("cert-newcomer").await;
    let asked = json!({"kind": "vocational", "authorization_version": AUTHORIZED});
    assert_problem(
        fetch(&app, &newcomer, asked).await,
        StatusCode::BAD_REQUEST,
        "PROFILE_INCOMPLETE",
    )
    .await;

    let admin = app.admin("000000").await;
    let fetches = app
        .get_json_with("/api/v1/admin/audit-logs?action=certificate.fetch", &admin.access_token)
        .await;
    let denied = fetches["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["outcome"] == "denied")
        .count();
    assert_eq!(denied, 3, "{fetches}");
    app.stop().await;
}
