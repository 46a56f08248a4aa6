use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::payments::give_payee_account;
use crate::support::{TestApp, app::Session, assert_problem};

pub const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00];

/// A returning worker from 南宁市兴宁区 (450102) with a complete profile.
pub async fn guangxi_worker(app: &TestApp, code: &str, id_number: &str) -> Session {
    let worker = app.login_worker(code).await;
    let profile = json!({
        "real_name": "韦小宝", "id_number": id_number, "consent_version": "2026-11",
        "hukou_region_code": "450102", "hukou_type": "agricultural",
        "residence_region_code": "450102", "work_region_code": "450102"
    });
    let saved = app
        .client
        .put(app.url("/api/v1/me/profile"))
        .bearer_auth(&worker.access_token)
        .json(&profile)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    worker
}

async fn upload(app: &TestApp, worker: &Session, purpose: &str, bytes: Vec<u8>, name: &str) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        )
        .text("purpose", purpose.to_owned());
    app.client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&worker.access_token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

pub async fn uploaded(app: &TestApp, worker: &Session, purpose: &str) -> String {
    let response = upload(app, worker, purpose, JPEG.to_vec(), "photo.jpg").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn startup_program(app: &TestApp) -> String {
    let programs = app
        .get_json("/api/v1/programs?region_code=450102&kind=startup_subsidy")
        .await;
    programs["items"][0]["id"].as_str().unwrap().to_owned()
}

pub async fn apply(app: &TestApp, worker: &Session, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/applications"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub async fn complete_application(app: &TestApp, worker: &Session) -> Value {
    json!({
        "program_id": startup_program(app).await,
        "answers": {
            "returning_worker": true, "business_name": "兴宁米粉店",
            "business_registered_on": "2025-01-15", "employees": 4
        },
        "attachment_ids": [uploaded(app, worker, "id_card").await, uploaded(app, worker, "business_license").await],
        "submit": true
    })
}

#[tokio::test]
async fn programs_apply_by_region_and_explain_their_rules() {
    let app = TestApp::spawn().await;
    let nanning = app.get_json("/api/v1/programs?region_code=450102").await;
    let names: Vec<&str> = nanning["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.iter().any(|n| n.contains("一次性创业补贴")), "{names:?}");
    assert!(names.iter().all(|n| !n.contains("江苏")), "{names:?}");
    let program = &nanning["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "startup_subsidy")
        .unwrap();
    assert_eq!(program["max_amount_fen"], 500_000);
    assert_eq!(program["amounts_are_examples"], true);
    assert!(
        program["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["description"] == "带动就业3人以上")
    );

    let worker = guangxi_worker(&app, "eligible", "450102198801011235").await;
    let id = program["id"].as_str().unwrap();
    let eligibility = app
        .get_json_with(&format!("/api/v1/programs/{id}/eligibility"), &worker.access_token)
        .await;
    assert_eq!(eligibility["eligible"], true);
    let checks = eligibility["checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .any(|c| c["criterion"] == "lives_or_works_in_region" && c["passed"] == true)
    );
    assert!(
        checks
            .iter()
            .any(|c| c["criterion"] == "employees_at_least" && c["pending"] == true)
    );
    app.stop().await;
}

#[tokio::test]
async fn uploads_are_judged_by_content_and_kept_private() {
    let app = TestApp::spawn().await;
    let owner = app.login_worker("uploader").await;
    let stranger = app.login_worker("stranger").await;
    let html = upload(
        &app,
        &owner,
        "id_card",
        b"<html><body>not a photo</body></html>".to_vec(),
        "photo.jpg",
    )
    .await;
    let body = assert_problem(html, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(body["details"]["fields"][0]["field"], "file");
    let huge = upload(&app, &owner, "id_card", vec![0xFF; 20 * 1024 * 1024], "big.jpg").await;
    assert_problem(huge, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;

    let pdf = upload(&app, &owner, "certificate", b"%PDF-1.7\n%...".to_vec(), "cert.pdf").await;
    assert_eq!(pdf.status(), StatusCode::CREATED);
    let pdf: Value = pdf.json().await.unwrap();
    assert_eq!(pdf["content_type"], "application/pdf");
    assert_eq!(pdf["sha256"].as_str().unwrap().len(), 64);
    let path = format!("/api/v1/uploads/{}", pdf["id"].as_str().unwrap());
    let mine = app.get_with(&path, &owner.access_token).await;
    assert_eq!(mine.status(), StatusCode::OK);
    assert_eq!(mine.headers()["content-type"], "application/pdf");
    assert_problem(
        app.get_with(&path, &stranger.access_token).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_worker_applies_and_follows_the_case_to_payment() {
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "applicant", "450102198801011235").await;
    let body = complete_application(&app, &worker).await;
    let created = apply(&app, &worker, "key-1", &body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["status"], "submitted");
    let number = created["application_no"].as_str().unwrap();
    assert!(
        number.starts_with("SB-450102-") && number.ends_with("-000001"),
        "{number}"
    );
    let id = created["id"].as_str().unwrap();

    let admin = app.admin("450000").await;
    let reviewer = app.staff(&admin, "xingning.reviewer", &["reviewer"], "450102").await;
    let finance = app.staff(&admin, "nanning.finance", &["finance"], "450100").await;
    let queue = app
        .get_json_with("/api/v1/staff/applications", &reviewer.access_token)
        .await;
    assert_eq!(queue["total"], 1);
    let case = app
        .get_json_with(&format!("/api/v1/staff/applications/{id}"), &reviewer.access_token)
        .await;
    assert_eq!(case["status"], "submitted");
    // The reviewer sees each criterion checked against the applicant, as at submission.
    let checks = case["eligibility"].as_array().expect("the eligibility checks");
    assert!(!checks.is_empty(), "{case}");
    assert!(
        checks
            .iter()
            .all(|check| check["passed"] == true && check["detail"].as_str().is_some_and(|d| !d.is_empty())),
        "{case}"
    );
    let started = app
        .post_json(
            &format!("/api/v1/staff/applications/{id}/start-review"),
            &json!({"expected_version": case["version"]}),
            Some(&reviewer.access_token),
        )
        .await;
    assert_eq!(started.status(), StatusCode::OK);
    let case: Value = started.json().await.unwrap();
    assert_eq!(case["status"], "under_review");
    let case = app
        .get_json_with(&format!("/api/v1/staff/applications/{id}"), &reviewer.access_token)
        .await;
    assert_eq!(case["applicant"]["id_number"], "4501**********1235");
    assert_eq!(case["applicant"]["name"], "韦**");
    let revealed = app
        .post_json(
            &format!("/api/v1/staff/applications/{id}/reveal"),
            &json!({"reason": "核对身份证照片"}),
            Some(&reviewer.access_token),
        )
        .await;
    assert_eq!(
        revealed.json::<Value>().await.unwrap()["id_number"],
        "450102198801011235"
    );

    let version = case["version"].as_i64().unwrap();
    let approve = json!({"decision": "approve", "expected_version": version, "comment": "材料齐全"});
    let approved = app
        .post_json(
            &format!("/api/v1/staff/applications/{id}/review"),
            &approve,
            Some(&reviewer.access_token),
        )
        .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let approved: Value = approved.json().await.unwrap();
    assert_eq!(
        (approved["status"].as_str(), approved["approved_amount_fen"].as_i64()),
        (Some("approved"), Some(500_000))
    );

    give_payee_account(&app, &worker).await;
    let pay = json!({"amount_fen": 500_000, "reference": "GX-PAY-0001", "expected_version": approved["version"]});
    let paid = app
        .post_json(
            &format!("/api/v1/staff/applications/{id}/disburse"),
            &pay,
            Some(&finance.access_token),
        )
        .await;
    assert_eq!(paid.json::<Value>().await.unwrap()["status"], "disbursed");

    let detail = app
        .get_json_with(&format!("/api/v1/applications/{id}"), &worker.access_token)
        .await;
    let steps: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["create", "submit", "start_review", "approve", "disburse"]);
    let text = detail["timeline"].to_string();
    assert!(
        text.contains("工作人员") && !text.contains("xingning") && !text.contains("测试"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn one_key_one_application_and_one_application_per_program() {
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "retrier", "450102198801011235").await;
    let body = complete_application(&app, &worker).await;
    let (first, second) = tokio::join!(
        apply(&app, &worker, "same-key", &body),
        apply(&app, &worker, "same-key", &body)
    );
    let statuses = [first.status(), second.status()];
    assert!(statuses.contains(&StatusCode::CREATED), "{statuses:?}");
    let replay = apply(&app, &worker, "same-key", &body).await;
    assert_eq!(replay.status(), StatusCode::CREATED);
    let mut changed = body.clone();
    changed["answers"]["employees"] = json!(9);
    assert_problem(
        apply(&app, &worker, "same-key", &changed).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
    let missing = app
        .post_json("/api/v1/applications", &body, Some(&worker.access_token))
        .await;
    assert_problem(missing, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;

    let other = guangxi_worker(&app, "racer", "450103199002022342").await;
    let draft = json!({"program_id": body["program_id"], "answers": {"returning_worker": true}});
    let attempts = (0..20).map(|i| {
        let (app, other, draft) = (&app, &other, &draft);
        async move { apply(app, other, &format!("race-{i}"), draft).await.status() }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::CREATED).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(),
        19,
        "{statuses:?}"
    );
    let mine = app.get_json_with("/api/v1/applications", &worker.access_token).await;
    assert_eq!(mine["total"], 1);
    app.stop().await;
}

#[tokio::test]
async fn nobody_reaches_another_workers_application() {
    let app = TestApp::spawn().await;
    let owner = guangxi_worker(&app, "owner", "450102198801011235").await;
    let body = complete_application(&app, &owner).await;
    let created: Value = apply(&app, &owner, "k", &body).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let intruder = app.login_worker("intruder").await;
    assert_problem(
        app.get_with(&format!("/api/v1/applications/{id}"), &intruder.access_token)
            .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    let withdraw = app
        .post_json(
            &format!("/api/v1/applications/{id}/withdraw"),
            &json!({}),
            Some(&intruder.access_token),
        )
        .await;
    assert_problem(withdraw, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let edit = app
        .client
        .put(app.url(&format!("/api/v1/applications/{id}")))
        .bearer_auth(&intruder.access_token)
        .json(&json!({"expected_version": 1, "answers": {}}))
        .send()
        .await
        .unwrap();
    assert_problem(edit, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let document = body["attachment_ids"][0].as_str().unwrap();
    let fetch = app
        .get_with(&format!("/api/v1/uploads/{document}"), &intruder.access_token)
        .await;
    assert_problem(fetch, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    app.stop().await;
}

/// Opening a case is reading it: the worker's timeline, the status and the
/// version stay as they were. A reviewer takes the case up as an action of
/// its own, on the version they saw; finance cannot.
#[tokio::test]
async fn opening_a_case_changes_nothing_and_taking_it_up_is_a_reviewers_action() {
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "opened", "450102198801011235").await;
    let body = complete_application(&app, &worker).await;
    let created: Value = apply(&app, &worker, "k", &body).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let admin = app.admin("450000").await;
    let reviewer = app.staff(&admin, "xingning.reviewer", &["reviewer"], "450102").await;
    let finance = app.staff(&admin, "nanning.finance", &["finance"], "450100").await;
    let case_url = format!("/api/v1/staff/applications/{id}");
    let before = app.get_json_with(&case_url, &reviewer.access_token).await;
    let again = app.get_json_with(&case_url, &reviewer.access_token).await;
    let by_finance = app.get_json_with(&case_url, &finance.access_token).await;
    for seen in [&before, &again, &by_finance] {
        assert_eq!(
            (seen["status"].as_str(), &seen["version"]),
            (Some("submitted"), &before["version"])
        );
    }
    let timeline = |detail: Value| -> Vec<String> {
        detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    };
    let own = app
        .get_json_with(&format!("/api/v1/applications/{id}"), &worker.access_token)
        .await;
    assert_eq!(timeline(own), ["create", "submit"]);

    let start_url = format!("/api/v1/staff/applications/{id}/start-review");
    let current = json!({"expected_version": before["version"]});
    let refused = app.post_json(&start_url, &current, Some(&finance.access_token)).await;
    assert_problem(refused, StatusCode::FORBIDDEN, "ROLE_REQUIRED").await;
    let stale = json!({"expected_version": before["version"].as_i64().unwrap() + 1});
    let refused = app.post_json(&start_url, &stale, Some(&reviewer.access_token)).await;
    assert_problem(refused, StatusCode::CONFLICT, "VERSION_CONFLICT").await;
    let started = app.post_json(&start_url, &current, Some(&reviewer.access_token)).await;
    assert_eq!(started.status(), StatusCode::OK);
    let started: Value = started.json().await.unwrap();
    assert_eq!(started["status"], "under_review");
    let twice = json!({"expected_version": started["version"]});
    let refused = app.post_json(&start_url, &twice, Some(&reviewer.access_token)).await;
    assert_problem(refused, StatusCode::CONFLICT, "INVALID_STATE").await;
    let own = app
        .get_json_with(&format!("/api/v1/applications/{id}"), &worker.access_token)
        .await;
    assert_eq!(timeline(own), ["create", "submit", "start_review"]);
    app.stop().await;
}

#[tokio::test]
async fn reviewers_see_their_region_only_and_cannot_overwrite_each_other() {
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "reviewed", "450102198801011235").await;
    let body = complete_application(&app, &worker).await;
    let created: Value = apply(&app, &worker, "k", &body).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let admin = app.admin("450000").await;
    let city = app.staff(&admin, "nanning.reviewer", &["reviewer"], "450100").await;
    let county = app.staff(&admin, "xingning.reviewer", &["reviewer"], "450102").await;
    let neighbour = app.staff(&admin, "qingxiu.reviewer", &["reviewer"], "450103").await;
    assert_eq!(
        app.get_json_with("/api/v1/staff/applications", &neighbour.access_token)
            .await["total"],
        0
    );
    let hidden = app
        .get_with(&format!("/api/v1/staff/applications/{id}"), &neighbour.access_token)
        .await;
    assert_problem(hidden, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_eq!(
        app.get_json_with("/api/v1/staff/applications", &city.access_token)
            .await["total"],
        1
    );

    let version = app
        .get_json_with(&format!("/api/v1/staff/applications/{id}"), &county.access_token)
        .await["version"]
        .clone();
    let decide = |token: String, decision: &'static str| {
        let (app, version) = (&app, version.clone());
        async move {
            let body = json!({"decision": decision, "expected_version": version, "comment": "意见"});
            app.post_json(&format!("/api/v1/staff/applications/{id}/review"), &body, Some(&token))
                .await
                .status()
        }
    };
    let (one, other) = tokio::join!(
        decide(county.access_token.clone(), "approve"),
        decide(city.access_token.clone(), "return")
    );
    let mut statuses = [one, other];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let reject_without_reason = json!({"decision": "reject", "expected_version": 99});
    let refused = app
        .post_json(
            &format!("/api/v1/staff/applications/{id}/review"),
            &reject_without_reason,
            Some(&county.access_token),
        )
        .await;
    let problem = assert_problem(refused, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(problem["details"]["fields"][0]["field"], "comment");
    app.stop().await;
}

#[tokio::test]
async fn a_regions_own_program_pays_until_its_quota_is_used() {
    let app = TestApp::spawn().await;
    let admin = app.admin("450000").await;
    let program = json!({
        "name": "兴宁区零工技能提升补助", "kind": "employment_subsidy", "region_code": "450102",
        "description": "示例", "period": "2026", "quota": 1,
        "amount_rule": {"type": "fixed", "amount_fen": 80000},
        "criteria": [{"type": "lives_or_works_in_region"}],
        "required_documents": [], "form_fields": []
    });
    let created = app
        .post_json("/api/v1/staff/programs", &program, Some(&admin.access_token))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["status"], "draft");
    let open = json!({"expected_version": 1});
    let opened = app
        .post_json(
            &format!("/api/v1/staff/programs/{id}/open"),
            &open,
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(opened.json::<Value>().await.unwrap()["status"], "open");
    let stale = app
        .post_json(
            &format!("/api/v1/staff/programs/{id}/close"),
            &open,
            Some(&admin.access_token),
        )
        .await;
    assert_problem(stale, StatusCode::CONFLICT, "VERSION_CONFLICT").await;
    let bad_rule = json!({
        "name": "x", "kind": "employment_subsidy", "region_code": "450102", "description": "x", "period": "2026",
        "amount_rule": {"type": "fixed", "amount_fen": -5}, "criteria": [], "required_documents": [], "form_fields": []
    });
    let refused = app
        .post_json("/api/v1/staff/programs", &bad_rule, Some(&admin.access_token))
        .await;
    let problem = assert_problem(refused, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(problem["details"]["fields"][0]["field"], "amount_rule");

    let reviewer = app.staff(&admin, "quota.reviewer", &["reviewer"], "450102").await;
    let mut cases = Vec::new();
    for (code, id_number) in [
        ("first-come", "450102198801011235"),
        ("second-come", "450103199002022342"),
    ] {
        let worker = guangxi_worker(&app, code, id_number).await;
        let applied = apply(&app, &worker, "q", &json!({"program_id": id, "submit": true})).await;
        assert_eq!(applied.status(), StatusCode::CREATED);
        cases.push(
            applied.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut outcomes = Vec::new();
    for case in &cases {
        let version = app
            .get_json_with(&format!("/api/v1/staff/applications/{case}"), &reviewer.access_token)
            .await["version"]
            .clone();
        let decision = json!({"decision": "approve", "expected_version": version});
        outcomes.push(
            app.post_json(
                &format!("/api/v1/staff/applications/{case}/review"),
                &decision,
                Some(&reviewer.access_token),
            )
            .await,
        );
    }
    assert_eq!(outcomes[0].status(), StatusCode::OK);
    let second = outcomes.pop().unwrap();
    assert_problem(second, StatusCode::CONFLICT, "BUDGET_EXHAUSTED").await;
    app.stop().await;
}

#[tokio::test]
async fn a_workers_list_and_detail_show_each_application_with_its_own_program_and_documents() {
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "lister", "450102198801011235").await;
    let startup = complete_application(&app, &worker).await;
    let startup_created = apply(&app, &worker, "startup", &startup).await;
    assert_eq!(startup_created.status(), StatusCode::CREATED);
    let startup_id = startup_created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let programs = app.get_json("/api/v1/programs?region_code=450102").await;
    let other = programs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] != startup["program_id"])
        .expect("a second program in 兴宁区")
        .clone();
    let draft = apply(
        &app,
        &worker,
        "other",
        &json!({"program_id": other["id"], "answers": {}}),
    )
    .await;
    assert_eq!(draft.status(), StatusCode::CREATED);
    let draft_id = draft.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();

    let mine = app.get_json_with("/api/v1/applications", &worker.access_token).await;
    assert_eq!(mine["total"], 2);
    let item = |id: &str| {
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not listed: {mine}"))
            .clone()
    };
    let listed_startup = item(&startup_id);
    assert!(
        listed_startup["program_name"]
            .as_str()
            .unwrap()
            .contains("一次性创业补贴")
    );
    let mut purposes: Vec<&str> = listed_startup["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["purpose"].as_str().unwrap())
        .collect();
    purposes.sort_unstable();
    assert_eq!(purposes, ["business_license", "id_card"]);
    let listed_draft = item(&draft_id);
    assert_eq!(listed_draft["program_name"], other["name"]);
    assert_eq!(listed_draft["attachments"], json!([]));
    for listed in [&listed_startup, &listed_draft] {
        let id = listed["id"].as_str().unwrap();
        let detail = app
            .get_json_with(&format!("/api/v1/applications/{id}"), &worker.access_token)
            .await;
        assert_eq!(detail["program_name"], listed["program_name"]);
        assert_eq!(detail["attachments"], listed["attachments"]);
        assert_eq!(detail["timeline"][0]["action"], "create", "{detail}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_review_queue_keeps_the_cases_waiting_at_least_so_many_days() {
    use sea_orm::{
        ConnectionTrait,
        sea_query::{Alias, Expr, ExprTrait, Query},
    };
    let app = TestApp::spawn().await;
    let admin = app.admin("450000").await;
    let reviewer = app.staff(&admin, "age.reviewer", &["reviewer"], "450102").await;
    let mut ids = Vec::new();
    for (n, id_number) in ["450102198801011235", "450102199001010132"].into_iter().enumerate() {
        let worker = guangxi_worker(&app, &format!("age-{n}"), id_number).await;
        let body = complete_application(&app, &worker).await;
        let created: Value = apply(&app, &worker, &format!("age-{n}"), &body)
            .await
            .json()
            .await
            .unwrap();
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    // The first has waited ten days.
    let db = app.db().await;
    let backdate = Query::update()
        .table(Alias::new("application"))
        .value(
            Alias::new("submitted_at"),
            chrono::Utc::now() - chrono::Duration::days(10),
        )
        .and_where(Expr::col(Alias::new("id")).eq(ids[0].as_str()))
        .to_owned();
    db.execute_raw(db.get_database_backend().build(&backdate))
        .await
        .unwrap();

    let queue = async |query: &str| {
        app.get_with(&format!("/api/v1/staff/applications{query}"), &reviewer.access_token)
            .await
    };
    let waited: Value = queue("?min_age_days=7").await.json().await.unwrap();
    assert_eq!(waited["total"], 1, "{waited}");
    assert_eq!(waited["items"][0]["id"], ids[0].as_str());
    assert_eq!(waited["items"][0]["age_days"], 10);
    let all: Value = queue("?min_age_days=0").await.json().await.unwrap();
    assert_eq!(all["total"], 2);
    assert_problem(
        queue("?min_age_days=99999").await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
    )
    .await;
    app.stop().await;
}
