//! Every documented example is accepted. Each operation of the OpenAPI
//! document with a request body (whose example is required) or with a
//! parameter example has a row below; the test sends the body example as
//! documented, with every parameter example, as a caller allowed to use it,
//! and expects a 2xx. An operation added with a body and no example, or
//! without its row, fails the test, as the authorization matrix does.
//!
//! Ids in paths come from the authorization matrix's fixtures, and a few
//! more made here so that each example meets the state it describes (a
//! draft at version 1 for `expected_version: 1`, a report asked for
//! information for a supplement).

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;

use crate::payments::give_payee_account;
use crate::{
    applications::{apply, complete_application, guangxi_worker},
    authorization::{self, fixtures},
    support::TestApp,
};

/// Who sends an example.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Anonymous,
    /// Worker A of the matrix, with a complete Guangxi profile and cases.
    Worker,
    /// A worker with a complete profile and no case yet.
    Newcomer,
    /// A national staff member holding every role.
    Staff,
    /// The matrix's Guangxi integrator with both scopes.
    Integrator,
}

use Caller::{Anonymous, Integrator, Newcomer, Staff, Worker};

/// Operation id, path (`{NAME}` for a fixture, `{param}` for a path
/// parameter's documented example), caller. Sent in this order: a row that
/// needs what an earlier one made comes after it.
#[rustfmt::skip]
const EXAMPLES: &[(&str, &str, Caller)] = &[
    ("listRegions", "/api/v1/regions", Anonymous),
    ("getRegion", "/api/v1/regions/{code}", Anonymous),
    ("wechatLogin", "/api/v1/auth/wechat/login", Anonymous),
    ("refreshTokens", "/api/v1/auth/refresh", Anonymous),
    ("oauthToken", "/api/v1/oauth/token", Anonymous),
    ("updateMyProfile", "/api/v1/me/profile", Worker),
    ("saveMyPayeeAccount", "/api/v1/me/payee-account", Worker),
    ("giveMyRecommendationConsent", "/api/v1/me/recommendation-consent", Worker),
    ("recordPaymentAnswer", "/api/v1/staff/payment-batches/{SECOND_APPLICATION}/lines/1/answer", Staff),
    ("verifyMyIdentity", "/api/v1/me/identity-check", Worker),
    ("bindMyPhone", "/api/v1/me/phone", Worker),
    ("createStaff", "/api/v1/admin/staff", Staff),
    ("staffLogin", "/api/v1/staff/auth/login", Anonymous),
    ("changeStaff", "/api/v1/admin/staff/{STAFF}", Staff),
    ("createClient", "/api/v1/admin/clients", Staff),
    ("listCalendarDays", "/api/v1/admin/calendar", Staff),
    ("setCalendarDay", "/api/v1/admin/calendar/2027-01-01", Staff),
    ("clearCalendarDay", "/api/v1/admin/calendar/2027-01-01", Staff),
    ("searchPolicies", "/api/v1/policies", Anonymous),
    ("createPolicy", "/api/v1/staff/policies", Staff),
    ("updatePolicy", "/api/v1/staff/policies/{DRAFT_POLICY}", Staff),
    ("publishPolicy", "/api/v1/staff/policies/{OTHER_DRAFT_POLICY}/publish", Staff),
    ("archivePolicy", "/api/v1/staff/policies/{POLICY}/archive", Staff),
    ("listPrograms", "/api/v1/programs", Anonymous),
    ("createProgram", "/api/v1/staff/programs", Staff),
    ("updateProgram", "/api/v1/staff/programs/{NEW_PROGRAM}", Staff),
    ("openProgram", "/api/v1/staff/programs/{OTHER_NEW_PROGRAM}/open", Staff),
    ("fileAtWindow", "/api/v1/staff/window/applications", Staff),
    ("sendWindowConsentCode", "/api/v1/staff/window/consent-codes", Staff),
    ("claimApplication", "/api/v1/applications/claim", Worker),
    ("fetchMyCertificate", "/api/v1/me/certificates", Worker),
    ("closeProgram", "/api/v1/staff/programs/{SEEDED_OPEN_PROGRAM}/close", Staff),
    ("confirmProgramOffers", "/api/v1/staff/programs/{AUTO_PROGRAM}/offers", Staff),
    ("createApplication", "/api/v1/applications", Newcomer),
    ("updateMyApplication", "/api/v1/applications/{DRAFT}", Newcomer),
    ("listApplicationsForReview", "/api/v1/staff/applications", Staff),
    ("revealApplicant", "/api/v1/staff/applications/{APPLICATION}/reveal", Staff),
    ("revealApplicantPayee", "/api/v1/staff/applications/{SECOND_APPLICATION}/payee/reveal", Staff),
    ("startApplicationReview", "/api/v1/staff/applications/{APPLICATION}/start-review", Staff),
    ("reviewApplication", "/api/v1/staff/applications/{SECOND_APPLICATION}/review", Staff),
    ("disburseApplication", "/api/v1/staff/applications/{SECOND_APPLICATION}/disburse", Staff),
    ("openTransfer", "/api/v1/si-transfers", Worker),
    ("claimTransfer", "/api/v1/si-transfers/claim", Worker),
    ("listTransfersForStaff", "/api/v1/staff/si-transfers", Staff),
    ("agencyOpenTransfer", "/api/v1/integrations/si-transfers", Integrator),
    ("answerTransferMaterials", "/api/v1/si-transfers/{TRANSFER}/steps/application_accepted/answer", Worker),
    ("agencyRecordStep", "/api/v1/integrations/si-transfers/{TRANSFER_NO}/steps/application_accepted", Integrator),
    ("staffRecordTransferStep", "/api/v1/staff/si-transfers/{TRANSFER}/steps/application_accepted", Staff),
    ("setWebhook", "/api/v1/integrations/webhook", Integrator),
    ("fileWageReport", "/api/v1/wage-reports", Worker),
    ("supplementWageReport", "/api/v1/wage-reports/{ASKED_REPORT}/supplement", Worker),
    ("listWageReportsForInspection", "/api/v1/staff/wage-reports", Staff),
    ("revealWageReporter", "/api/v1/staff/wage-reports/{REPORT}/reveal", Staff),
    ("actOnWageReport", "/api/v1/staff/wage-reports/{REPORT}/actions", Staff),
    ("statsOverview", "/api/v1/staff/stats/overview", Staff),
    ("statsBreakdown", "/api/v1/staff/stats/breakdown", Staff),
    ("statsSatisfaction", "/api/v1/staff/stats/satisfaction", Staff),
    ("rateMyCase", "/api/v1/me/ratings/wage_report/{RATED_REPORT}", Worker),
    ("listFollowUps", "/api/v1/staff/follow-ups", Staff),
    ("closeFollowUp", "/api/v1/staff/follow-ups/{FOLLOW_UP}/close", Staff),
    ("fileMyComplaint", "/api/v1/me/complaints", Worker),
    ("listComplaints", "/api/v1/staff/complaints", Staff),
    ("replyToComplaint", "/api/v1/staff/complaints/{COMPLAINT}/reply", Staff),
    ("exportApplicationsCsv", "/api/v1/staff/exports/applications.csv", Staff),
    ("exportApplicationsXlsx", "/api/v1/staff/exports/applications.xlsx", Staff),
    ("exportWageReportsCsv", "/api/v1/staff/exports/wage-reports.csv", Staff),
    ("exportWageReportsXlsx", "/api/v1/staff/exports/wage-reports.xlsx", Staff),
    ("releaseIdNumber", "/api/v1/admin/id-number-releases", Staff),
    ("inviteRelative", "/api/v1/me/relatives/invitations", Worker),
    ("acceptRelativeInvitation", "/api/v1/me/relatives/accept", Newcomer),
];

/// The examples that name something only the server or WeChat hands out,
/// fresh each time: they cannot succeed when copied. They must get this
/// refusal, which shows the body itself was read and accepted.
const ISSUED_ELSEWHERE: &[(&str, u16, &str)] = &[
    (
        "recordPaymentAnswer",
        404,
        "a batch is made by the server from the day's approved cases",
    ),
    ("refreshTokens", 401, "a refresh token is issued at sign-in"),
    (
        "oauthToken",
        401,
        "a client id and secret are issued by an administrator",
    ),
    ("bindMyPhone", 400, "a getPhoneNumber code is issued by WeChat, once"),
    (
        "claimTransfer",
        404,
        "a claim code is issued to the agency that opened the case",
    ),
    (
        "acceptRelativeInvitation",
        404,
        "an invitation code is issued to the worker who invites",
    ),
    (
        "fileAtWindow",
        400,
        "a consent code is sent to the worker's account, fresh each time, and the scans are the clerk's own",
    ),
    (
        "sendWindowConsentCode",
        409,
        "a code goes to a phone a worker bound in the mini-program",
    ),
    (
        "claimApplication",
        404,
        "a claim code is printed on the receipt of the window that filed the case",
    ),
    (
        "setWebhook",
        400,
        "the endpoint's host must resolve to a public address: the suite has no DNS",
    ),
];

/// The row a response's `id` is kept under, for the rows after it.
const KEEPS_ITS_ID: &[(&str, &str)] = &[("createApplication", "DRAFT")];

/// The seeded program `gx-training-subsidy` (its id is derived from the
/// slug), open at version 1: no migration has rewritten its terms since.
const SEEDED_OPEN_PROGRAM: &str = "e47b366e-0322-577a-9549-9ebdba1ea165";

/// What the document says of one operation.
struct Documented {
    method: Method,
    path: String,
    /// The body example and its content type, when the operation takes a body.
    body: Option<(Option<Value>, String)>,
    /// Parameter name, where (`query` or `path`), example.
    parameters: Vec<(String, String, Value)>,
}

fn documented(spec: &Value) -> BTreeMap<String, Documented> {
    let schemas = &spec["components"]["schemas"];
    let mut operations = BTreeMap::new();
    for (path, methods) in spec["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            let body = operation["requestBody"]["content"].as_object().map(|content| {
                let (content_type, media) = content.iter().next().unwrap();
                let schema = &media["schema"];
                let example = match schema["$ref"].as_str() {
                    Some(reference) => &schemas[reference.rsplit('/').next().unwrap()]["example"],
                    None => &schema["example"],
                };
                (Some(example.clone()).filter(|e| !e.is_null()), content_type.clone())
            });
            let parameters = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let example = p.get("example").or_else(|| p["schema"].get("example"))?;
                    Some((
                        p["name"].as_str()?.to_owned(),
                        p["in"].as_str()?.to_owned(),
                        example.clone(),
                    ))
                })
                .collect();
            operations.insert(
                operation["operationId"].as_str().unwrap().to_owned(),
                Documented {
                    method: method.to_uppercase().parse().unwrap(),
                    path: path.clone(),
                    body,
                    parameters,
                },
            );
        }
    }
    operations
}

/// Whether the document asks for a row: a body, or an example of a
/// parameter. A file upload's body is bytes, which no JSON example holds.
fn needs_a_row(operation: &Documented) -> bool {
    let uploads_a_file = operation
        .body
        .as_ref()
        .is_some_and(|(_, content_type)| content_type == "multipart/form-data");
    (operation.body.is_some() && !uploads_a_file) || !operation.parameters.is_empty()
}

fn as_text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

#[test]
fn every_body_has_an_example_and_every_example_a_row() {
    let spec: Value = serde_json::from_str(&api::startup::spec_json()).unwrap();
    let operations = documented(&spec);
    let without: Vec<&String> = operations
        .iter()
        .filter(|(_, o)| needs_a_row(o) && o.body.as_ref().is_some_and(|(example, _)| example.is_none()))
        .map(|(id, _)| id)
        .collect();
    assert!(without.is_empty(), "request bodies without an example: {without:?}");
    let mut seen = BTreeSet::new();
    for (id, path, _) in EXAMPLES {
        assert!(seen.insert(*id), "{id} has two rows");
        let operation = operations
            .get(*id)
            .unwrap_or_else(|| panic!("{id} is a row but not an operation"));
        assert!(needs_a_row(operation), "{id} has no example to send");
        assert!(
            authorization::shape(path, &operation.path),
            "{id}: {path} is not {}",
            operation.path
        );
    }
    let missing: Vec<&String> = operations
        .iter()
        .filter(|(id, o)| needs_a_row(o) && !seen.contains(id.as_str()))
        .map(|(id, _)| id)
        .collect();
    assert!(missing.is_empty(), "operations with examples but no row: {missing:?}");
    let listed = ISSUED_ELSEWHERE
        .iter()
        .map(|(id, _, _)| id)
        .chain(KEEPS_ITS_ID.iter().map(|(id, _)| id));
    for id in listed {
        assert!(seen.contains(id), "{id} is listed but has no row");
    }
}

/// The matrix's fixtures, and what the examples need besides.
struct Setting {
    tokens: BTreeMap<&'static str, String>,
    values: BTreeMap<String, String>,
}

async fn setting(app: &TestApp) -> Setting {
    let matrix = fixtures(app).await;
    let mut values: BTreeMap<String, String> = matrix
        .values
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    let admin = matrix.tokens[5].as_deref();
    let everyone = r#"{"username": "examples.all", "display_name": "示例", "password": "staff-password-0001",
        "roles": ["admin", "reviewer", "inspector", "policy_editor", "finance", "service_window"], "region_code": "000000"}"#;
    let created = send(app, admin, Method::POST, "/api/v1/admin/staff", everyone).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let staff = app
        .login_staff("examples.all", "staff-password-0001")
        .await
        .access_token;
    let worker = matrix.tokens[1].clone().unwrap();
    // The holder of the ID number the agency and release examples name.
    let newcomer = guangxi_worker(app, "examples-newcomer", "450103199002022342").await;
    let second = guangxi_worker(app, "examples-second", "450102199001010132").await;
    let body = complete_application(app, &second).await;
    let submitted: Value = apply(app, &second, "examples-second", &body)
        .await
        .json()
        .await
        .unwrap();
    values.insert("SECOND_APPLICATION".into(), id_of(&submitted));
    give_payee_account(app, &second).await;

    let policy = r#"{"title": "零工驿站", "summary": "登记找活。", "body": "带身份证登记。", "category": "employment", "region_code": "450102", "issuer": "兴宁区人社局", "tags": []}"#;
    for name in ["DRAFT_POLICY", "OTHER_DRAFT_POLICY"] {
        let created = send(app, Some(&staff), Method::POST, "/api/v1/staff/policies", policy).await;
        values.insert(name.into(), id_of(&created.json().await.unwrap()));
    }
    let program = authorization::PROGRAM_BODY;
    let created = send(app, Some(&staff), Method::POST, "/api/v1/staff/programs", program).await;
    values.insert("OTHER_NEW_PROGRAM".into(), id_of(&created.json().await.unwrap()));
    let mut auto: Value = serde_json::from_str(program).unwrap();
    auto["auto_offer"] = Value::Bool(true);
    let created = send(
        app,
        Some(&staff),
        Method::POST,
        "/api/v1/staff/programs",
        &auto.to_string(),
    )
    .await;
    values.insert("AUTO_PROGRAM".into(), id_of(&created.json().await.unwrap()));
    values.insert("SEEDED_OPEN_PROGRAM".into(), SEEDED_OPEN_PROGRAM.into());

    let report = authorization::WAGE_REPORT;
    let asked: Value = send(app, Some(&worker), Method::POST, "/api/v1/wage-reports", report)
        .await
        .json()
        .await
        .unwrap();
    let question = r#"{"action": "request_info", "comment": "请上传考勤记录。", "expected_version": 1}"#;
    let path = format!("/api/v1/staff/wage-reports/{}/actions", id_of(&asked));
    let answer = send(app, Some(&staff), Method::POST, &path, question).await;
    assert_eq!(answer.status(), StatusCode::OK, "{}", answer.text().await.unwrap());
    values.insert("ASKED_REPORT".into(), id_of(&asked));

    // The agency asked worker A for materials on the step the example
    // answers, on 19 November.
    let asked_for =
        r#"{"status": "materials_needed", "occurred_at": "2026-11-19T09:00:00+08:00", "note": "参保缴费凭证"}"#;
    let path = format!(
        "/api/v1/integrations/si-transfers/{}/steps/application_accepted",
        values["TRANSFER_NO"]
    );
    let integrator = matrix.tokens[10].clone().unwrap();
    let asked = send(app, Some(&integrator), Method::PUT, &path, asked_for).await;
    assert_eq!(asked.status(), StatusCode::OK, "{}", asked.text().await.unwrap());

    // The step example happened on 20 November: the case it is reported on
    // was opened before.
    let db = app.db().await;
    let backend = db.get_database_backend();
    let opened_earlier = format!(
        "UPDATE si_transfer_step SET occurred_at = '2026-11-19T01:00:00+00:00' WHERE status = 'done' \
         AND transfer_id = (SELECT id FROM si_transfer WHERE transfer_no = '{}')",
        values["TRANSFER_NO"]
    );
    db.execute_raw(Statement::from_string(backend, opened_earlier))
        .await
        .unwrap();

    Setting {
        tokens: BTreeMap::from([
            ("worker", worker),
            ("newcomer", newcomer.access_token),
            ("staff", staff),
            ("integrator", integrator),
        ]),
        values,
    }
}

fn id_of(created: &Value) -> String {
    created["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {created}"))
        .to_owned()
}

async fn send(app: &TestApp, token: Option<&str>, method: Method, path: &str, body: &str) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// The request of one row: the path with its fixtures and parameter
/// examples, the query of the query parameters' examples.
fn request_path(row_path: &str, operation: &Documented, values: &BTreeMap<String, String>) -> String {
    let mut path = row_path.to_owned();
    for (name, value) in values {
        path = path.replace(&format!("{{{name}}}"), value);
    }
    let mut query = Vec::new();
    for (name, place, example) in &operation.parameters {
        match place.as_str() {
            "path" => path = path.replace(&format!("{{{name}}}"), &as_text(example)),
            "query" => query.push(format!("{name}={}", as_text(example))),
            _ => {}
        }
    }
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

#[tokio::test]
async fn every_documented_example_is_accepted() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_RATE_PUBLIC_WRITE", "100000".to_owned());
    })
    .await;
    let spec: Value = serde_json::from_str(&api::startup::spec_json()).unwrap();
    let operations = documented(&spec);
    let mut setting = setting(&app).await;
    let mut wrong = Vec::new();
    for (id, row_path, caller) in EXAMPLES {
        let operation = &operations[*id];
        let path = request_path(row_path, operation, &setting.values);
        let mut call = app
            .client
            .request(operation.method.clone(), app.url(&path))
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string());
        let token = match caller {
            Anonymous => None,
            Worker => Some("worker"),
            Newcomer => Some("newcomer"),
            Staff => Some("staff"),
            Integrator => Some("integrator"),
        };
        if let Some(token) = token {
            call = call.bearer_auth(&setting.tokens[token]);
        }
        if let Some((Some(example), content_type)) = &operation.body {
            call = if content_type == "application/x-www-form-urlencoded" {
                let fields: Vec<(String, String)> = example
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), as_text(v)))
                    .collect();
                call.form(&fields)
            } else {
                call.json(example)
            };
        }
        let answer = call.send().await.unwrap();
        let status = answer.status();
        let text = answer.text().await.unwrap();
        let refusal = ISSUED_ELSEWHERE.iter().find(|(refused, _, _)| refused == id);
        let accepted = match refusal {
            Some((_, expected, _)) => status.as_u16() == *expected,
            None => status.is_success(),
        };
        if !accepted {
            wrong.push(format!("{id} {path}: {status} {text}"));
        }
        if let Some((_, name)) = KEEPS_ITS_ID.iter().find(|(kept, _)| kept == id)
            && let Ok(created) = serde_json::from_str::<Value>(&text)
            && created["id"].is_string()
        {
            setting.values.insert((*name).to_owned(), id_of(&created));
        }
    }
    assert!(wrong.is_empty(), "documented examples refused:\n{}", wrong.join("\n"));
    app.stop().await;
}
