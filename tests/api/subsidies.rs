//! Every seeded kind of subsidy, applied for over HTTP and paid; programs
//! whose rules contradict each other cannot be saved (issue 17).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::payments::give_payee_account;
use crate::{
    applications::{apply, uploaded},
    support::{TestApp, app::Session, assert_problem},
};

/// A worker with a complete profile who lives and works in `region`.
async fn worker_in(app: &TestApp, code: &str, region: &str) -> Session {
    let worker = app.login_worker(code).await;
    let profile = json!({
        "real_name": "韦小宝", "id_number": "450102198801011235", "consent_version": "2026-11",
        "hukou_region_code": "450102", "hukou_type": "agricultural",
        "residence_region_code": region, "work_region_code": region
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

/// The seeded program of `kind` that applies in `region`.
async fn seeded(app: &TestApp, region: &str, kind: &str) -> Value {
    let page = app
        .get_json(&format!("/api/v1/programs?region_code={region}&kind={kind}"))
        .await;
    assert_eq!(page["total"], 1, "{page}");
    page["items"][0].clone()
}

/// A reviewer and a finance officer of a province.
struct Office {
    reviewer: Session,
    finance: Session,
}

async fn office(app: &TestApp, province: &str) -> Office {
    let admin = app.admin(province).await;
    Office {
        reviewer: app
            .staff(&admin, &format!("r{province}"), &["reviewer"], province)
            .await,
        finance: app.staff(&admin, &format!("f{province}"), &["finance"], province).await,
    }
}

/// The worker checks eligibility, uploads what the program asks, applies and
/// submits; the reviewer takes the case up and approves; finance pays what
/// was approved. Returns the application as the worker then reads it.
async fn apply_to_payment(app: &TestApp, office: &Office, worker: &Session, program: &Value, answers: Value) -> Value {
    let id = program["id"].as_str().unwrap();
    let eligibility = app
        .get_json_with(&format!("/api/v1/programs/{id}/eligibility"), &worker.access_token)
        .await;
    assert_eq!(eligibility["eligible"], true, "{eligibility}");
    let mut attachments = Vec::new();
    for document in program["required_documents"].as_array().unwrap() {
        attachments.push(uploaded(app, worker, document["kind"].as_str().unwrap()).await);
    }
    let body = json!({"program_id": id, "answers": answers, "attachment_ids": attachments, "submit": true});
    let created = apply(app, worker, "paid", &body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["status"], "submitted", "{created}");
    let case = created["id"].as_str().unwrap();
    let staff_url = format!("/api/v1/staff/applications/{case}");
    let reviewer = Some(office.reviewer.access_token.as_str());
    let submitted = app.get_json_with(&staff_url, &office.reviewer.access_token).await;
    let started = app
        .post_json(
            &format!("{staff_url}/start-review"),
            &json!({"expected_version": submitted["version"]}),
            reviewer,
        )
        .await;
    assert_eq!(started.status(), StatusCode::OK);
    let started: Value = started.json().await.unwrap();
    let approve = json!({"decision": "approve", "expected_version": started["version"], "comment": "材料齐全"});
    let approved: Value = app
        .post_json(&format!("{staff_url}/review"), &approve, reviewer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(approved["status"], "approved", "{approved}");
    give_payee_account(app, worker).await;
    let pay = json!({"amount_fen": approved["approved_amount_fen"], "reference": "PAY-0001", "expected_version": approved["version"]});
    let paid = app
        .post_json(
            &format!("{staff_url}/disburse"),
            &pay,
            Some(&office.finance.access_token),
        )
        .await;
    assert_eq!(paid.status(), StatusCode::OK);
    let seen = app
        .get_json_with(&format!("/api/v1/applications/{case}"), &worker.access_token)
        .await;
    assert_eq!(seen["status"], "disbursed", "{seen}");
    seen
}

fn paid(application: &Value) -> (i64, &str) {
    (
        application["disbursed_amount_fen"].as_i64().unwrap(),
        application["disbursed_amount_yuan"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn a_technician_who_passes_jiangsus_training_check_is_paid() {
    let app = TestApp::spawn().await;
    let program = seeded(&app, "320115", "training_subsidy").await;
    assert!(program["amount"].as_str().unwrap().contains("二级（技师）3000元"));
    let worker = worker_in(&app, "technician", "320115").await;
    let office = office(&app, "320000").await;
    let answers = json!({"certificate_level": 2, "training_institution": "江宁技师学院"});
    let application = apply_to_payment(&app, &office, &worker, &program, answers).await;
    assert_eq!(paid(&application), (300_000, "3000.00"));
    assert_eq!(application["requested_amount_yuan"], "3000.00");
    app.stop().await;
}

#[tokio::test]
async fn guangxis_training_program_follows_its_plan_and_pays_by_level() {
    let app = TestApp::spawn().await;
    let program = seeded(&app, "450102", "training_subsidy").await;
    assert_eq!(program["region_code"], "450000");
    assert_eq!(program["quota"], 200_000);
    assert!(
        program["description"]
            .as_str()
            .unwrap()
            .contains("桂人社发〔2023〕32号")
    );
    let worker = worker_in(&app, "gx-trainee", "450102").await;
    let office = office(&app, "450000").await;
    let answers = json!({"certificate_level": 4, "training_institution": "南宁市第一技工学校"});
    let application = apply_to_payment(&app, &office, &worker, &program, answers).await;
    assert_eq!(paid(&application), (150_000, "1500.00"));
    app.stop().await;
}

#[tokio::test]
async fn a_returnee_is_paid_the_one_time_startup_subsidy() {
    let app = TestApp::spawn().await;
    let program = seeded(&app, "450102", "startup_subsidy").await;
    let worker = worker_in(&app, "starter", "450102").await;
    let office = office(&app, "450000").await;
    let answers = json!({
        "returning_worker": true, "business_name": "兴宁米粉店",
        "business_registered_on": "2025-01-15", "employees": 4
    });
    let application = apply_to_payment(&app, &office, &worker, &program, answers).await;
    assert_eq!(paid(&application), (500_000, "5000.00"));
    app.stop().await;
}

#[tokio::test]
async fn loan_interest_is_asked_in_yuan_and_paid_to_the_fen() {
    let app = TestApp::spawn().await;
    let program = seeded(&app, "450102", "startup_loan_interest").await;
    let labels: Vec<&str> = program["form_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"申请贴息金额（元）"), "{labels:?}");
    assert_eq!(program["max_amount_yuan"], "10000.00");
    let worker = worker_in(&app, "borrower", "450102").await;
    let in_fen = json!({"program_id": program["id"], "answers": {"requested_amount_fen": 345_678}});
    let refused = apply(&app, &worker, "fen", &in_fen).await;
    let problem = assert_problem(refused, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(problem["details"]["fields"][0]["field"], "answers.requested_amount_fen");
    let three_decimals = json!({"program_id": program["id"], "answers": {"requested_amount_yuan": 3456.789}});
    let refused = apply(&app, &worker, "decimals", &three_decimals).await;
    let problem = assert_problem(refused, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert!(
        problem["message"].as_str().unwrap().contains("最多两位小数"),
        "{problem}"
    );

    let office = office(&app, "450000").await;
    let answers = json!({"returning_worker": true, "loan_amount_yuan": 150_000, "requested_amount_yuan": 3456.78});
    let application = apply_to_payment(&app, &office, &worker, &program, answers).await;
    assert_eq!(paid(&application), (345_678, "3456.78"));
    assert_eq!(application["answers"]["requested_amount_yuan"], 3456.78);
    app.stop().await;
}

#[tokio::test]
async fn rent_is_asked_in_yuan_up_to_the_cap_and_paid() {
    let app = TestApp::spawn().await;
    let program = seeded(&app, "320115", "rent_subsidy").await;
    let worker = worker_in(&app, "tenant", "320115").await;
    let registered = (chrono::Utc::now() - chrono::Duration::days(200))
        .date_naive()
        .to_string();
    let too_much = json!({"program_id": program["id"], "answers": {"requested_amount_yuan": 12_000}});
    let refused = apply(&app, &worker, "too-much", &too_much).await;
    let problem = assert_problem(refused, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert!(
        problem["message"].as_str().unwrap().contains("不超过10000元"),
        "{problem}"
    );

    let office = office(&app, "320000").await;
    let answers =
        json!({"business_name": "江宁小面馆", "business_registered_on": registered, "requested_amount_yuan": 8000.5});
    let application = apply_to_payment(&app, &office, &worker, &program, answers).await;
    assert_eq!(paid(&application), (800_050, "8000.50"));
    app.stop().await;
}

fn training_program(amounts: Value, criteria: Value, level_min: i64) -> Value {
    json!({
        "name": "矛盾的培训补贴", "kind": "training_subsidy", "region_code": "450102",
        "description": "示例", "period": "2026",
        "amount_rule": {"type": "by_certificate_level", "amounts_fen": amounts},
        "criteria": criteria,
        "required_documents": [],
        "form_fields": [{"key": "certificate_level", "label": "证书等级", "kind": "integer", "required": true, "min": level_min, "max": 5}]
    })
}

#[tokio::test]
async fn an_administrator_cannot_save_a_self_contradicting_program() {
    let app = TestApp::spawn().await;
    let admin = app.admin("450000").await;
    let token = Some(admin.access_token.as_str());
    let three_to_five = json!({"5": 100000, "4": 150000, "3": 200000});
    let any_level = json!([{"type": "certificate_at_least_level", "level": 5}]);
    let contradicting = training_program(three_to_five.clone(), any_level.clone(), 1);
    let refused = app.post_json("/api/v1/staff/programs", &contradicting, token).await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "PROGRAM_RULES_CONFLICT").await;
    let conflict = &problem["details"]["fields"][0];
    assert_eq!(conflict["field"], "amount_rule.amounts_fen");
    assert!(
        conflict["zh"]
            .as_str()
            .unwrap()
            .contains("一级（高级技师）、二级（技师）"),
        "{problem}"
    );
    assert!(problem["message"].as_str().unwrap().contains("amount_rule.amounts_fen"));

    let consistent = training_program(three_to_five, any_level, 3);
    let created = app.post_json("/api/v1/staff/programs", &consistent, token).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let mut widened = training_program(json!({"5": 100000}), json!([]), 1);
    widened["expected_version"] = created["version"].clone();
    let url = format!("/api/v1/staff/programs/{}", created["id"].as_str().unwrap());
    let refused = app
        .client
        .put(app.url(&url))
        .bearer_auth(&admin.access_token)
        .json(&widened)
        .send()
        .await
        .unwrap();
    assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "PROGRAM_RULES_CONFLICT").await;

    let in_fen = json!({
        "name": "按分申请的贴息", "kind": "startup_loan_interest", "region_code": "450102",
        "description": "示例", "period": "2026",
        "amount_rule": {"type": "up_to", "max_fen": 1_000_000}, "criteria": [], "required_documents": [],
        "form_fields": [{"key": "requested_amount_yuan", "label": "申请贴息金额（元）", "kind": "yuan", "required": true, "max": 20000}]
    });
    let refused = app.post_json("/api/v1/staff/programs", &in_fen, token).await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "PROGRAM_RULES_CONFLICT").await;
    assert_eq!(problem["details"]["fields"][0]["field"], "form_fields[0].max");
    app.stop().await;
}

#[tokio::test]
async fn every_seeded_program_holds_together() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let mut seen = 0;
    for region in ["320115", "450102"] {
        let page = app
            .get_json(&format!("/api/v1/programs?region_code={region}&page_size=100"))
            .await;
        for program in page["items"].as_array().unwrap() {
            let copy = json!({
                "name": program["name"], "kind": program["kind"], "region_code": program["region_code"],
                "description": program["description"], "period": program["period"],
                "amount_rule": program["amount_rule"],
                "criteria": program["criteria"].as_array().unwrap().iter().map(|c| c["rule"].clone()).collect::<Vec<_>>(),
                "required_documents": program["required_documents"], "form_fields": program["form_fields"]
            });
            let saved = app
                .post_json("/api/v1/staff/programs", &copy, Some(&admin.access_token))
                .await;
            assert_eq!(saved.status(), StatusCode::CREATED, "{}", program["name"]);
            seen += 1;
        }
    }
    assert_eq!(seen, 5);
    app.stop().await;
}

#[tokio::test]
async fn programs_are_listed_a_page_at_a_time() {
    let app = TestApp::spawn().await;
    let first = app.get_json("/api/v1/programs?region_code=450102&page_size=2").await;
    assert_eq!(
        (
            first["total"].as_u64(),
            first["page"].as_u64(),
            first["page_size"].as_u64()
        ),
        (Some(3), Some(1), Some(2))
    );
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let second = app
        .get_json("/api/v1/programs?region_code=450102&page_size=2&page=2")
        .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    let names: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    assert!(names.iter().all(|n| n.contains("广西")), "{names:?}");
    let jiangsu = app
        .get_json("/api/v1/programs?region_code=320115&kind=training_subsidy")
        .await;
    assert_eq!(jiangsu["total"], 1);
    let refused = app.get("/api/v1/programs?page_size=101").await;
    assert_problem(refused, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    app.stop().await;
}

/// Administrators list every program of their region and below in any
/// status, with the budget and quota an approval took; another region's
/// programs are never listed nor found.
#[tokio::test]
async fn administrators_follow_their_regions_programs_with_budget_and_quota_use() {
    let app = TestApp::spawn().await;
    let program = seeded(&app, "450102", "startup_subsidy").await;
    let office = office(&app, "450000").await;
    let worker = worker_in(&app, "follower", "450102").await;
    let answers = json!({
        "returning_worker": true, "business_name": "兴宁米粉店",
        "business_registered_on": "2025-01-15", "employees": 4
    });
    apply_to_payment(&app, &office, &worker, &program, answers).await;
    let national = app.admin("000000").await;
    let province = app.staff(&national, "gx.programs", &["admin"], "450000").await;
    let xingning = app.staff(&national, "xn.programs", &["admin"], "450102").await;
    let qingxiu = app.staff(&national, "qx.programs", &["admin"], "450103").await;
    let draft = json!({
        "name": "兴宁区零工培训补助", "kind": "employment_subsidy", "region_code": "450102",
        "description": "示例", "period": "2026", "amount_rule": {"type": "fixed", "amount_fen": 80000},
        "criteria": [], "required_documents": [], "form_fields": [], "budget_fen": 8_000_000, "quota": 100
    });
    let created = app
        .post_json("/api/v1/staff/programs", &draft, Some(&xingning.access_token))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();

    let all = app
        .get_json_with("/api/v1/staff/programs?page_size=100", &province.access_token)
        .await;
    let listed = |page: &Value, id: &Value| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| &p["id"] == id)
            .cloned()
    };
    let followed = listed(&all, &program["id"]).expect("the province's program is listed");
    assert_eq!(
        (
            &followed["committed_fen"],
            &followed["approved_count"],
            &followed["pending_count"]
        ),
        (&json!(500_000), &json!(1), &json!(0))
    );
    let new = listed(&all, &created["id"]).expect("a county's draft is listed for its province");
    assert_eq!(
        (&new["status"], &new["budget_fen"], &new["committed_fen"]),
        (&json!("draft"), &json!(8_000_000), &json!(0))
    );

    let drafts = app
        .get_json_with("/api/v1/staff/programs?status=draft", &xingning.access_token)
        .await;
    assert_eq!(drafts["total"], 1, "{drafts}");
    let neighbour = app
        .get_json_with("/api/v1/staff/programs?page_size=100", &qingxiu.access_token)
        .await;
    assert!(listed(&neighbour, &created["id"]).is_none(), "{neighbour}");
    assert!(listed(&neighbour, &program["id"]).is_none(), "{neighbour}");
    let path = format!("/api/v1/staff/programs/{}", created["id"].as_str().unwrap());
    assert_eq!(
        app.get_json_with(&path, &xingning.access_token).await["name"],
        "兴宁区零工培训补助"
    );
    assert_problem(
        app.get_with(&path, &qingxiu.access_token).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_problem(
        app.get_with("/api/v1/staff/programs", &office.reviewer.access_token)
            .await,
        StatusCode::FORBIDDEN,
        "ROLE_REQUIRED",
    )
    .await;
    app.stop().await;
}
