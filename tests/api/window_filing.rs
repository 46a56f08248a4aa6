//! Filing at a service window (窗口代办): a staff member files for a worker
//! present in person, with the worker's consent (a signed form's scan or a
//! code sent to their account), and the case joins the worker's account on
//! the evidence rules of agency cases.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    applications::{JPEG, guangxi_worker},
    notifications::inbox_until,
    support::{TestApp, app::Session, assert_problem},
};

/// The person filed for at the window, and their phone.
const PERSON_ID: &str = "450102199203150539";
const PERSON_PHONE: &str = "13877001234";
/// Someone who types the person's number into their own profile.
const OTHER_PHONE: &str = "13877005678";
/// A second person, for filings that must not be refused as duplicates.
const SECOND_ID: &str = "450102198001010728";
const WINDOW: &str = "兴宁区政务服务中心人社窗口";

/// A national administrator, a window clerk and a reviewer of 兴宁区.
struct Office {
    admin: Session,
    clerk: Session,
    reviewer: Session,
}

async fn office(app: &TestApp) -> Office {
    let admin = app.admin("000000").await;
    let clerk = app
        .staff(&admin, "xingning.window", &["service_window"], "450102")
        .await;
    let reviewer = app.staff(&admin, "xingning.reviewer", &["reviewer"], "450102").await;
    Office { admin, clerk, reviewer }
}

async fn training_program(app: &TestApp) -> String {
    let programs = app
        .get_json("/api/v1/programs?region_code=450102&kind=training_subsidy")
        .await;
    programs["items"][0]["id"].as_str().unwrap().to_owned()
}

/// A document the clerk scans at the window.
async fn scan(app: &TestApp, staff: &Session, purpose: &str) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(JPEG.to_vec()).file_name("scan.jpg"),
        )
        .text("purpose", purpose.to_owned());
    app.client
        .post(app.url("/api/v1/staff/window/uploads"))
        .bearer_auth(&staff.access_token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn scanned(app: &TestApp, staff: &Session, purpose: &str) -> String {
    let response = scan(app, staff, purpose).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A filing for `id_number` with `consent`, the ID card and certificate scanned.
async fn filing(app: &TestApp, clerk: &Session, id_number: &str, consent: Value) -> Value {
    json!({
        "window_name": WINDOW,
        "applicant": {
            "name": "黄秀英", "id_number": id_number, "phone": PERSON_PHONE,
            "hukou_type": "agricultural", "residence_region_code": "450102", "work_region_code": "450102"
        },
        "identity_check": "id_card_reader",
        "consent": consent,
        "program_id": training_program(app).await,
        "answers": {"certificate_level": 4, "training_institution": "南宁市第一职业技能培训学校"},
        "attachment_ids": [scanned(app, clerk, "id_card").await, scanned(app, clerk, "certificate").await],
    })
}

async fn file(app: &TestApp, staff: &Session, body: &Value) -> reqwest::Response {
    app.post_json("/api/v1/staff/window/applications", body, Some(&staff.access_token))
        .await
}

async fn filed(app: &TestApp, staff: &Session, body: &Value) -> Value {
    let response = file(app, staff, body).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        response.text().await.unwrap()
    );
    response.json().await.unwrap()
}

async fn signed_form(app: &TestApp, clerk: &Session) -> Value {
    json!({"signed_form_upload_id": scanned(app, clerk, "consent_form").await})
}

async fn my_applications(app: &TestApp, worker: &Session) -> Value {
    app.get_json_with("/api/v1/applications", &worker.access_token).await
}

async fn bind_phone(app: &TestApp, worker: &Session, phone: &str) {
    let code = json!({"code": format!("phone-{phone}")});
    let bound = app
        .post_json("/api/v1/me/phone", &code, Some(&worker.access_token))
        .await;
    assert_eq!(bound.status(), StatusCode::OK);
}

async fn audited(app: &TestApp, admin: &Session, action: &str) -> Value {
    app.get_json_with(
        &format!("/api/v1/admin/audit-logs?action={action}"),
        &admin.access_token,
    )
    .await
}

#[tokio::test]
async fn a_window_filing_reaches_review_and_then_the_workers_own_list() {
    let app = TestApp::spawn().await;
    let office = office(&app).await;
    let body = filing(&app, &office.clerk, PERSON_ID, signed_form(&app, &office.clerk).await).await;
    let receipt = filed(&app, &office.clerk, &body).await;
    assert_eq!(receipt["status"], "submitted");
    assert_eq!(receipt["linked"], false);
    let code = receipt["claim_code"].as_str().unwrap().to_owned();
    let id = receipt["id"].as_str().unwrap().to_owned();

    // The reviewer of the region sees it, the person masked, and how it was filed.
    let case = app
        .get_json_with(
            &format!("/api/v1/staff/applications/{id}"),
            &office.reviewer.access_token,
        )
        .await;
    assert_eq!(case["applicant"]["name"], "黄**");
    assert_eq!(case["applicant"]["id_number"], "4501**********0539");
    assert_eq!(case["window_filing"]["window_name"], WINDOW);
    assert_eq!(case["window_filing"]["identity_check"], "id_card_reader");
    assert_eq!(case["window_filing"]["consent"], "signed_form");
    assert_eq!(case["requested_amount_fen"], 150_000);
    assert!(
        case["eligibility"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["passed"] == true),
        "{case}"
    );
    assert_eq!(
        case["attachments"].as_array().unwrap().len(),
        3,
        "the scans and the signed form"
    );
    let filed_entry = &case["timeline"][0];
    assert_eq!(
        (&filed_entry["action"], &filed_entry["by"], &filed_entry["comment"]),
        (&json!("window_filed"), &json!("工作人员"), &json!(WINDOW))
    );
    assert_eq!(case["timeline"][1]["action"], "submit");

    // The person signs in: nothing proves the number yet, so nothing is theirs.
    let person = guangxi_worker(&app, "window-person", PERSON_ID).await;
    assert_eq!(my_applications(&app, &person).await["total"], 0);
    // The receipt's code joins it.
    let claim = json!({"code": code});
    let claimed = app
        .post_json("/api/v1/applications/claim", &claim, Some(&person.access_token))
        .await;
    assert_eq!(claimed.status(), StatusCode::OK);
    let mine = my_applications(&app, &person).await;
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["id"], id.as_str());
    let detail = app
        .get_json_with(&format!("/api/v1/applications/{id}"), &person.access_token)
        .await;
    let actions: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["window_filed", "submit", "link"]);
    assert_eq!(detail["timeline"][0]["description"], "工作人员在服务窗口代为填写了申请");
    // The code worked once; the number is proven now.
    let again = app
        .post_json("/api/v1/applications/claim", &claim, Some(&person.access_token))
        .await;
    assert_problem(again, StatusCode::NOT_FOUND, "CLAIM_CODE_INVALID").await;
    assert_eq!(
        app.get_json_with("/api/v1/me", &person.access_token).await["id_number_proven"],
        true
    );

    // Every act for someone else is audited, and the statistics count it.
    let created = audited(&app, &office.admin, "application.create").await;
    assert_eq!(created["items"][0]["actor_type"], "staff");
    assert_eq!(created["items"][0]["details"]["by"], "window_filed");
    let linked = audited(&app, &office.admin, "application.link").await;
    assert_eq!(linked["items"][0]["details"]["evidence"], "claim_code");
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let overview = app
        .get_json_with(
            &format!("/api/v1/staff/stats/overview?region_code=450102&from={today}&to={today}"),
            &office.reviewer.access_token,
        )
        .await;
    assert_eq!(
        overview["filed_at_window"],
        json!([{"region_code": "450102", "count": 1}])
    );
    app.stop().await;
}

/// The code the worker's inbox shows.
async fn code_in_inbox(app: &TestApp, worker: &Session) -> String {
    let inbox = inbox_until(app, &worker.access_token, |inbox| {
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["title"] == "窗口代办确认码")
    })
    .await;
    let body = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["title"] == "窗口代办确认码")
        .unwrap()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    let at = body.find("确认码：").unwrap() + "确认码：".len();
    body[at..at + 6].to_owned()
}

async fn send_code(app: &TestApp, clerk: &Session, phone: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/staff/window/consent-codes",
        &json!({"phone": phone}),
        Some(&clerk.access_token),
    )
    .await
}

#[tokio::test]
async fn a_code_sent_to_the_bound_phone_consents_once_and_the_phone_joins_the_case() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_OUTBOX_INTERVAL_MS", "100".to_owned());
    })
    .await;
    let office = office(&app).await;
    let person = guangxi_worker(&app, "window-phone", PERSON_ID).await;
    bind_phone(&app, &person, PERSON_PHONE).await;
    let sent = send_code(&app, &office.clerk, PERSON_PHONE).await;
    assert_eq!(sent.status(), StatusCode::CREATED);
    let sent: Value = sent.json().await.unwrap();
    assert_eq!((&sent["phone"], &sent["accounts"]), (&json!("138****1234"), &json!(1)));
    let code = code_in_inbox(&app, &person).await;

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let body = filing(&app, &office.clerk, PERSON_ID, json!({"code": wrong})).await;
    let refused = assert_problem(
        file(&app, &office.clerk, &body).await,
        StatusCode::BAD_REQUEST,
        "CONSENT_CODE_INVALID",
    )
    .await;
    assert!(refused["message"].as_str().unwrap().contains("确认码"));
    // Another clerk cannot use a code this clerk sent.
    let other_clerk = app
        .staff(&office.admin, "xingning.window2", &["service_window"], "450102")
        .await;
    let body = filing(&app, &other_clerk, PERSON_ID, json!({"code": code})).await;
    assert_problem(
        file(&app, &other_clerk, &body).await,
        StatusCode::BAD_REQUEST,
        "CONSENT_CODE_INVALID",
    )
    .await;

    let body = filing(&app, &office.clerk, PERSON_ID, json!({"code": code})).await;
    let receipt = filed(&app, &office.clerk, &body).await;
    // Used once: another filing with it is refused.
    let body = filing(&app, &office.clerk, SECOND_ID, json!({"code": code})).await;
    assert_problem(
        file(&app, &office.clerk, &body).await,
        StatusCode::BAD_REQUEST,
        "CONSENT_CODE_INVALID",
    )
    .await;

    // The recorded phone is the one WeChat verified: the next sign-in joins the case.
    assert_eq!(my_applications(&app, &person).await["total"], 0);
    let again = app.login_worker("window-phone").await;
    let mine = my_applications(&app, &again).await;
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["id"], receipt["id"]);
    let linked = audited(&app, &office.admin, "application.link").await;
    assert_eq!(linked["items"][0]["details"]["evidence"], "phone");
    let sends = audited(&app, &office.admin, "window.consent_code.send").await;
    assert_eq!(sends["total"], 1);
    app.stop().await;
}

#[tokio::test]
async fn five_wrong_codes_spend_the_code() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_OUTBOX_INTERVAL_MS", "100".to_owned());
    })
    .await;
    let office = office(&app).await;
    let person = guangxi_worker(&app, "window-tries", PERSON_ID).await;
    bind_phone(&app, &person, PERSON_PHONE).await;
    assert_eq!(
        send_code(&app, &office.clerk, PERSON_PHONE).await.status(),
        StatusCode::CREATED
    );
    let code = code_in_inbox(&app, &person).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let body = filing(&app, &office.clerk, PERSON_ID, json!({"code": wrong})).await;
    for _ in 0..5 {
        assert_problem(
            file(&app, &office.clerk, &body).await,
            StatusCode::BAD_REQUEST,
            "CONSENT_CODE_INVALID",
        )
        .await;
    }
    let body = filing(&app, &office.clerk, PERSON_ID, json!({"code": code})).await;
    assert_problem(
        file(&app, &office.clerk, &body).await,
        StatusCode::BAD_REQUEST,
        "CONSENT_CODE_INVALID",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_window_needs_the_role_its_region_and_the_workers_consent() {
    let app = TestApp::spawn().await;
    let office = office(&app).await;
    let body = filing(&app, &office.clerk, PERSON_ID, signed_form(&app, &office.clerk).await).await;

    // A reviewer is not a window clerk, for any of the window's operations.
    let refused = file(&app, &office.reviewer, &body).await;
    assert_problem(refused, StatusCode::FORBIDDEN, "ROLE_REQUIRED").await;
    let refused = scan(&app, &office.reviewer, "consent_form").await;
    assert_problem(refused, StatusCode::FORBIDDEN, "ROLE_REQUIRED").await;
    let refused = send_code(&app, &office.reviewer, PERSON_PHONE).await;
    assert_problem(refused, StatusCode::FORBIDDEN, "ROLE_REQUIRED").await;

    // Another province's window does not take a Guangxi program.
    let jiangning = app
        .staff(&office.admin, "jiangning.window", &["service_window"], "320115")
        .await;
    let theirs = filing(&app, &jiangning, PERSON_ID, signed_form(&app, &jiangning).await).await;
    let refused = assert_problem(
        file(&app, &jiangning, &theirs).await,
        StatusCode::FORBIDDEN,
        "OUT_OF_REGION_SCOPE",
    )
    .await;
    assert!(refused["message"].as_str().unwrap().contains("窗口"));

    // Without consent, or with another clerk's scan as the signed form.
    let mut without = body.clone();
    without["consent"] = json!({});
    let refused = assert_problem(
        file(&app, &office.clerk, &without).await,
        StatusCode::BAD_REQUEST,
        "WINDOW_CONSENT_MISSING",
    )
    .await;
    assert!(refused["message"].as_str().unwrap().contains("同意"));
    let mut borrowed = body.clone();
    borrowed["consent"] = json!({"signed_form_upload_id": scanned(&app, &jiangning, "consent_form").await});
    assert_problem(
        file(&app, &office.clerk, &borrowed).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
    )
    .await;
    // A phone no account bound gets no code.
    let refused = send_code(&app, &office.clerk, OTHER_PHONE).await;
    assert_problem(refused, StatusCode::CONFLICT, "CONSENT_PHONE_NOT_BOUND").await;
    // A mistyped ID number is refused before anything is stored.
    let mut mistyped = body.clone();
    mistyped["applicant"]["id_number"] = json!("450102199203150538");
    assert_problem(
        file(&app, &office.clerk, &mistyped).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
    )
    .await;

    // Filed once; the same person again is a duplicate, and so is their own application.
    filed(&app, &office.clerk, &body).await;
    let mut twice = body.clone();
    twice["consent"] = signed_form(&app, &office.clerk).await;
    assert_problem(
        file(&app, &office.clerk, &twice).await,
        StatusCode::CONFLICT,
        "DUPLICATE_APPLICATION",
    )
    .await;
    let person = guangxi_worker(&app, "window-own", PERSON_ID).await;
    let own = json!({
        "program_id": training_program(&app).await,
        "answers": {"certificate_level": 4, "training_institution": "南宁市第一职业技能培训学校"},
    });
    let response = app
        .client
        .post(app.url("/api/v1/applications"))
        .bearer_auth(&person.access_token)
        .header("Idempotency-Key", "window-own-1")
        .json(&own)
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::CONFLICT, "DUPLICATE_APPLICATION").await;
    app.stop().await;
}

#[tokio::test]
async fn a_worker_who_never_proves_the_number_does_not_get_the_case() {
    let app = TestApp::spawn().await;
    let office = office(&app).await;
    let body = filing(&app, &office.clerk, PERSON_ID, signed_form(&app, &office.clerk).await).await;
    filed(&app, &office.clerk, &body).await;

    // Someone types the person's number into their own profile.
    let squatter = guangxi_worker(&app, "window-squatter", PERSON_ID).await;
    let refused = app
        .post_json("/api/v1/applications/link", &json!({}), Some(&squatter.access_token))
        .await;
    assert_problem(refused, StatusCode::CONFLICT, "IDENTITY_NOT_PROVEN").await;
    // A phone of their own proves nothing about the window's case.
    bind_phone(&app, &squatter, OTHER_PHONE).await;
    let linked: Value = app
        .post_json("/api/v1/applications/link", &json!({}), Some(&squatter.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(linked, json!([]));
    let again = app.login_worker("window-squatter").await;
    assert_eq!(my_applications(&app, &again).await["total"], 0);
    let guessed = json!({"code": "K7M2-Q9XP-4HTD"});
    let refused = app
        .post_json("/api/v1/applications/claim", &guessed, Some(&squatter.access_token))
        .await;
    assert_problem(refused, StatusCode::NOT_FOUND, "CLAIM_CODE_INVALID").await;
    let denied = audited(&app, &office.admin, "application.claim").await;
    assert_eq!(denied["items"][0]["outcome"], "denied");
    app.stop().await;
}

#[tokio::test]
async fn a_holder_who_proved_the_number_gets_the_filing_at_once() {
    let app = TestApp::spawn().await;
    let office = office(&app).await;
    let person = guangxi_worker(&app, "window-proven", PERSON_ID).await;
    let check = json!({"result_token": "sandbox-pass"});
    let proven = app
        .post_json("/api/v1/me/identity-check", &check, Some(&person.access_token))
        .await;
    assert_eq!(proven.status(), StatusCode::OK);
    let body = filing(&app, &office.clerk, PERSON_ID, signed_form(&app, &office.clerk).await).await;
    let receipt = filed(&app, &office.clerk, &body).await;
    assert_eq!(receipt["linked"], true);
    assert!(receipt.get("claim_code").is_none(), "{receipt}");
    let mine = my_applications(&app, &person).await;
    assert_eq!(mine["items"][0]["id"], receipt["id"]);
    let linked = audited(&app, &office.admin, "application.link").await;
    assert_eq!(linked["items"][0]["details"]["evidence"], "verified_identity");
    assert_eq!(linked["items"][0]["actor_type"], "staff");
    app.stop().await;
}
