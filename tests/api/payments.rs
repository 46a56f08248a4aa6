//! Paying a subsidy to a stated account: the worker gives a payee account
//! (checked, with consent, kept encrypted, shown masked), finance reveals it
//! (audited) and the disbursement names the account it paid.

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{
    applications::{apply, complete_application, guangxi_worker},
    support::{
        TestApp,
        app::{Session, assert_problem},
    },
};

pub const CARD: &str = "6222021234567890128";
pub const CARD_MASKED: &str = "622202*********0128";

fn account(number: &str, consent: &str) -> Value {
    json!({"kind": "bank_card", "bank_name": "中国工商银行", "account_number": number, "consent_version": consent})
}

/// The worker gives the card every payment test pays to.
pub async fn give_payee_account(app: &TestApp, worker: &Session) {
    let saved = app
        .put_json(
            "/api/v1/me/payee-account",
            &account(CARD, "payee-2026-11"),
            &worker.access_token,
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
}

/// A submitted application of a Guangxi worker, taken up and approved by
/// `reviewer`; returns its id and version.
async fn approved_application(app: &TestApp, worker: &Session, reviewer: &Session) -> (String, i64) {
    let body = complete_application(app, worker).await;
    let created: Value = apply(app, worker, "pay-1", &body).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/staff/applications/{id}");
    let case = app.get_json_with(&path, &reviewer.access_token).await;
    let started: Value = app
        .post_json(
            &format!("{path}/start-review"),
            &json!({"expected_version": case["version"]}),
            Some(&reviewer.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let approve = json!({"decision": "approve", "expected_version": started["version"], "comment": "材料齐全"});
    let approved: Value = app
        .post_json(&format!("{path}/review"), &approve, Some(&reviewer.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(approved["status"], "approved", "{approved}");
    (id, approved["version"].as_i64().unwrap())
}

/// The staff a payment meets: a reviewer of 450102, finance of 450100 above
/// it, and finance of 450400 (梧州), another city.
struct Office {
    admin: Session,
    reviewer: Session,
    finance: Session,
    elsewhere: Session,
}

impl Office {
    async fn open(app: &TestApp) -> Office {
        let admin = app.admin("000000").await;
        Office {
            reviewer: app.staff(&admin, "pay.reviewer", &["reviewer"], "450102").await,
            finance: app.staff(&admin, "pay.finance", &["finance"], "450100").await,
            elsewhere: app.staff(&admin, "pay.finance.wuzhou", &["finance"], "450400").await,
            admin,
        }
    }
}

#[tokio::test]
async fn a_payee_account_is_checked_consented_encrypted_and_masked() {
    let app = TestApp::spawn().await;
    let stranger = app.login_worker("no-profile").await;
    let refused = app
        .put_json(
            "/api/v1/me/payee-account",
            &account(CARD, "payee-2026-11"),
            &stranger.access_token,
        )
        .await;
    assert_problem(refused, StatusCode::BAD_REQUEST, "PROFILE_INCOMPLETE").await;

    let worker = guangxi_worker(&app, "payee", "450102198801011235").await;
    let none = app.get_with("/api/v1/me/payee-account", &worker.access_token).await;
    assert_eq!(none.status(), StatusCode::NO_CONTENT);
    let typo = app
        .put_json(
            "/api/v1/me/payee-account",
            &account("6222021234567890127", "payee-2026-11"),
            &worker.access_token,
        )
        .await;
    let problem = assert_problem(typo, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert!(problem.to_string().contains("account_number"), "{problem}");
    let unconsented = app
        .put_json(
            "/api/v1/me/payee-account",
            &account(CARD, "payee-2020-01"),
            &worker.access_token,
        )
        .await;
    let problem = assert_problem(unconsented, StatusCode::BAD_REQUEST, "CONSENT_REQUIRED").await;
    assert_eq!(problem["details"]["current_version"], "payee-2026-11");

    let saved = app
        .put_json(
            "/api/v1/me/payee-account",
            &account("6222 0212 3456 7890 128", "payee-2026-11"),
            &worker.access_token,
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let saved: Value = saved.json().await.unwrap();
    assert_eq!(saved["account_number"], CARD_MASKED);
    assert_eq!(saved["bank_name"], "中国工商银行");
    let read = app
        .get_json_with("/api/v1/me/payee-account", &worker.access_token)
        .await;
    assert_eq!(read["account_number"], CARD_MASKED);

    let db = app.db().await;
    let stored = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT payee_account_cipher FROM worker WHERE payee_account_cipher IS NOT NULL",
        ))
        .await
        .unwrap()
        .unwrap();
    let cipher: String = stored.try_get("", "payee_account_cipher").unwrap();
    assert!(
        !cipher.contains(CARD) && !cipher.contains("0128"),
        "stored encrypted: {cipher}"
    );

    let mine = app.get_json_with("/api/v1/me/data", &worker.access_token).await;
    assert_eq!(
        mine["profile"]["payee_account_number"], CARD,
        "the worker's own copy is in clear"
    );
    app.stop().await;
}

#[tokio::test]
async fn finance_pays_the_stated_account_and_only_finance_of_the_region_reads_it() {
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "paid", "450102198801011235").await;
    let office = Office::open(&app).await;
    let (id, version) = approved_application(&app, &worker, &office.reviewer).await;
    let Office {
        admin,
        reviewer,
        finance,
        elsewhere,
    } = office;
    let path = format!("/api/v1/staff/applications/{id}");
    let pay = json!({"amount_fen": 500_000, "reference": "GX-PAY-0001", "expected_version": version});

    let unpaid = app
        .post_json(&format!("{path}/disburse"), &pay, Some(&finance.access_token))
        .await;
    assert_problem(unpaid, StatusCode::CONFLICT, "PAYEE_ACCOUNT_MISSING").await;
    let nothing = app
        .post_json(
            &format!("{path}/payee/reveal"),
            &json!({"reason": "核对收款账户"}),
            Some(&finance.access_token),
        )
        .await;
    assert_problem(nothing, StatusCode::CONFLICT, "PAYEE_ACCOUNT_MISSING").await;

    give_payee_account(&app, &worker).await;
    let reveal = |token: String| {
        let app = &app;
        let path = format!("{path}/payee/reveal");
        async move {
            app.post_json(&path, &json!({"reason": "核对收款账户"}), Some(&token))
                .await
        }
    };
    assert_eq!(
        reveal(reviewer.access_token.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        reveal(elsewhere.access_token.clone()).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        reveal(worker.access_token.clone()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let revealed: Value = reveal(finance.access_token.clone()).await.json().await.unwrap();
    assert_eq!(
        (revealed["holder_name"].as_str(), revealed["account_number"].as_str()),
        (Some("韦小宝"), Some(CARD))
    );
    let audit = app
        .get_json_with(
            "/api/v1/admin/audit-logs?action=personal_data.reveal",
            &admin.access_token,
        )
        .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["target_id"] == id.as_str()
                && row["details"]["revealed"] == "payee_account"
                && row["details"]["reason"] == "核对收款账户"),
        "{audit}"
    );

    let paid = app
        .post_json(&format!("{path}/disburse"), &pay, Some(&finance.access_token))
        .await;
    assert_eq!(paid.status(), StatusCode::OK);
    let seen = app
        .get_json_with(&format!("/api/v1/applications/{id}"), &worker.access_token)
        .await;
    assert_eq!(seen["status"], "disbursed");
    assert_eq!(
        (seen["paid_to_account"].as_str(), seen["paid_to_bank"].as_str()),
        (Some(CARD_MASKED), Some("中国工商银行")),
        "the payment names the account it went to"
    );
    app.stop().await;
}

#[tokio::test]
async fn closing_the_account_removes_the_payee_account() {
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "leaving", "450102198801011235").await;
    give_payee_account(&app, &worker).await;
    let closed = app
        .client
        .delete(app.url("/api/v1/me"))
        .bearer_auth(&worker.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), StatusCode::OK);
    let db = app.db().await;
    let left = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM worker WHERE payee_account_cipher IS NOT NULL OR payee_account_masked IS NOT NULL",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left.try_get::<i64>("", "n").unwrap(), 0);
    app.stop().await;
}

const OTHER_CARD: &str = "4111111111111111";

async fn batch(app: &TestApp, finance: &Session) -> reqwest::Response {
    app.post_json("/api/v1/staff/payment-batches", &json!({}), Some(&finance.access_token))
        .await
}

async fn answer(app: &TestApp, finance: &Session, batch: &Value, line: i64, body: Value) -> reqwest::Response {
    let id = batch["id"].as_str().unwrap();
    let path = format!("/api/v1/staff/payment-batches/{id}/lines/{line}/answer");
    app.post_json(&path, &body, Some(&finance.access_token)).await
}

#[tokio::test]
async fn a_batch_is_paid_line_by_line_and_a_returned_payment_waits_for_a_new_account() {
    let app = TestApp::spawn().await;
    let office = Office::open(&app).await;
    let ready = guangxi_worker(&app, "batch-ready", "450102198801011235").await;
    let later = guangxi_worker(&app, "batch-later", "450103199002022342").await;
    let (ready_case, _) = approved_application(&app, &ready, &office.reviewer).await;
    let (later_case, _) = approved_application(&app, &later, &office.reviewer).await;
    give_payee_account(&app, &ready).await;

    let first: Value = batch(&app, &office.finance).await.json().await.unwrap();
    let lines = first["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "only the applicant who gave an account: {first}");
    assert_eq!(
        (
            lines[0]["application_id"].as_str(),
            lines[0]["account_number"].as_str(),
            lines[0]["outcome"].as_str()
        ),
        (Some(ready_case.as_str()), Some(CARD_MASKED), Some("pending"))
    );
    assert_eq!(first["total_yuan"], "5000.00");
    let id = first["id"].as_str().unwrap();
    let file = app
        .get_with(
            &format!("/api/v1/staff/payment-batches/{id}/file"),
            &office.finance.access_token,
        )
        .await;
    assert_eq!(file.status(), StatusCode::OK);
    let file = file.text().await.unwrap();
    let rows: Vec<&str> = file.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(rows[0], "序号,收款人姓名,收款账号,开户银行,金额（元）,用途,业务编号");
    let batch_no = first["batch_no"].as_str().unwrap();
    assert_eq!(
        rows[1],
        format!("1,韦小宝,{CARD},中国工商银行,5000.00,农民工补贴,{batch_no}-1")
    );
    let elsewhere = app
        .get_with(
            &format!("/api/v1/staff/payment-batches/{id}"),
            &office.elsewhere.access_token,
        )
        .await;
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND, "another city's finance");
    let reviewer = app
        .get_with(
            &format!("/api/v1/staff/payment-batches/{id}"),
            &office.reviewer.access_token,
        )
        .await;
    assert_eq!(reviewer.status(), StatusCode::FORBIDDEN);

    let moved = app
        .put_json(
            "/api/v1/me/payee-account",
            &account(OTHER_CARD, "payee-2026-11"),
            &ready.access_token,
        )
        .await;
    assert_problem(moved, StatusCode::CONFLICT, "PAYMENT_PENDING").await;
    assert_problem(
        batch(&app, &office.finance).await,
        StatusCode::CONFLICT,
        "NOTHING_TO_PAY",
    )
    .await;

    let no_reference = answer(&app, &office.finance, &first, 1, json!({"outcome": "paid"})).await;
    assert_problem(no_reference, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    let paid = json!({"outcome": "paid", "bank_reference": "ICBC-0001"});
    let line: Value = answer(&app, &office.finance, &first, 1, paid.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (line["outcome"].as_str(), line["bank_reference"].as_str()),
        (Some("paid"), Some("ICBC-0001"))
    );
    let again = answer(&app, &office.finance, &first, 1, paid).await;
    assert_problem(again, StatusCode::CONFLICT, "INVALID_STATE").await;
    let settled = app
        .get_json_with(&format!("/api/v1/applications/{ready_case}"), &ready.access_token)
        .await;
    assert_eq!(
        (settled["status"].as_str(), settled["paid_to_account"].as_str()),
        (Some("disbursed"), Some(CARD_MASKED))
    );

    give_payee_account(&app, &later).await;
    let second: Value = batch(&app, &office.finance).await.json().await.unwrap();
    assert_eq!(second["lines"][0]["application_id"], later_case.as_str());
    let returned = json!({"outcome": "returned", "reason": "账户已销户"});
    let line: Value = answer(&app, &office.finance, &second, 1, returned)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (line["outcome"].as_str(), line["reason"].as_str()),
        (Some("returned"), Some("账户已销户"))
    );
    let reopened = app
        .get_json_with(&format!("/api/v1/applications/{later_case}"), &later.access_token)
        .await;
    assert_eq!(
        reopened["status"], "approved",
        "a returned payment reopens the case for payment"
    );
    let last = reopened["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["comment"].as_str()),
        (Some("payment_returned"), Some("账户已销户"))
    );
    assert_problem(
        batch(&app, &office.finance).await,
        StatusCode::CONFLICT,
        "NOTHING_TO_PAY",
    )
    .await;

    let renewed = app
        .put_json(
            "/api/v1/me/payee-account",
            &account(OTHER_CARD, "payee-2026-11"),
            &later.access_token,
        )
        .await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let third: Value = batch(&app, &office.finance).await.json().await.unwrap();
    assert_eq!(
        (
            third["lines"][0]["application_id"].as_str(),
            third["lines"][0]["account_number"].as_str()
        ),
        (Some(later_case.as_str()), Some("411111******1111"))
    );
    let paid = json!({"outcome": "paid", "bank_reference": "ICBC-0002"});
    assert_eq!(
        answer(&app, &office.finance, &third, 1, paid).await.status(),
        StatusCode::OK
    );
    let settled = app
        .get_json_with(&format!("/api/v1/applications/{later_case}"), &later.access_token)
        .await;
    assert_eq!(
        (settled["status"].as_str(), settled["paid_to_account"].as_str()),
        (Some("disbursed"), Some("411111******1111"))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_line_whose_worker_closed_the_account_is_named_and_can_be_returned() {
    let app = TestApp::spawn().await;
    let office = Office::open(&app).await;
    let leaving = guangxi_worker(&app, "batch-leaving", "450102198801011235").await;
    approved_application(&app, &leaving, &office.reviewer).await;
    give_payee_account(&app, &leaving).await;
    let sent: Value = batch(&app, &office.finance).await.json().await.unwrap();
    let closed = app
        .client
        .delete(app.url("/api/v1/me"))
        .bearer_auth(&leaving.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), StatusCode::OK);

    let id = sent["id"].as_str().unwrap();
    let file = app
        .get_with(
            &format!("/api/v1/staff/payment-batches/{id}/file"),
            &office.finance.access_token,
        )
        .await;
    let problem = assert_problem(file, StatusCode::CONFLICT, "PAYEE_ACCOUNT_MISSING").await;
    assert_eq!(
        problem["details"]["line_no"], 1,
        "the line finance must deal with: {problem}"
    );
    let returned = json!({"outcome": "returned", "reason": "申请人已注销账号"});
    let line: Value = answer(&app, &office.finance, &sent, 1, returned)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(line["outcome"], "returned");
    app.stop().await;
}

#[tokio::test]
async fn finance_sees_the_cases_ready_to_pay_and_the_batches_of_its_region_newest_first() {
    let app = TestApp::spawn().await;
    let office = Office::open(&app).await;
    let ready = guangxi_worker(&app, "list-ready", "450102198801011235").await;
    let later = guangxi_worker(&app, "list-later", "450103199002022342").await;
    let (ready_case, _) = approved_application(&app, &ready, &office.reviewer).await;
    approved_application(&app, &later, &office.reviewer).await;
    give_payee_account(&app, &ready).await;
    let payable = "/api/v1/staff/payable-applications";
    let listed = "/api/v1/staff/payment-batches";

    let waiting = app.get_json_with(payable, &office.finance.access_token).await;
    assert_eq!(waiting["total"], 1, "only the applicant who gave an account: {waiting}");
    assert_eq!(
        (
            waiting["items"][0]["application_id"].as_str(),
            waiting["items"][0]["account_number"].as_str(),
            waiting["items"][0]["amount_yuan"].as_str()
        ),
        (Some(ready_case.as_str()), Some(CARD_MASKED), Some("5000.00"))
    );
    let elsewhere = app.get_json_with(payable, &office.elsewhere.access_token).await;
    assert_eq!(elsewhere["total"], 0, "another city's finance: {elsewhere}");
    let none = app.get_json_with(listed, &office.finance.access_token).await;
    assert_eq!(none["total"], 0);

    let first: Value = batch(&app, &office.finance).await.json().await.unwrap();
    let number = waiting["items"][0]["application_no"].as_str().unwrap();
    assert!(number.starts_with("SB-450102-"), "{waiting}");
    assert_eq!(first["lines"][0]["application_no"], number, "a line names its case");
    let sent = app.get_json_with(payable, &office.finance.access_token).await;
    assert_eq!(
        sent["total"], 0,
        "a case waiting for the bank is not ready again: {sent}"
    );
    let one = app.get_json_with(listed, &office.finance.access_token).await;
    assert_eq!(one["total"], 1);
    let summary = &one["items"][0];
    assert_eq!(
        (
            summary["batch_no"].as_str(),
            summary["total_yuan"].as_str(),
            summary["line_count"].as_i64()
        ),
        (first["batch_no"].as_str(), Some("5000.00"), Some(1))
    );
    let counts = |summary: &Value| {
        (
            summary["pending_lines"].as_i64(),
            summary["paid_lines"].as_i64(),
            summary["returned_lines"].as_i64(),
        )
    };
    assert_eq!(counts(summary), (Some(1), Some(0), Some(0)));
    let hidden = app.get_json_with(listed, &office.elsewhere.access_token).await;
    assert_eq!(hidden["total"], 0, "another city's batch is never listed: {hidden}");

    let paid = json!({"outcome": "paid", "bank_reference": "ICBC-0101"});
    assert_eq!(
        answer(&app, &office.finance, &first, 1, paid).await.status(),
        StatusCode::OK
    );
    give_payee_account(&app, &later).await;
    let second: Value = batch(&app, &office.finance).await.json().await.unwrap();
    let returned = json!({"outcome": "returned", "reason": "户名不符"});
    assert_eq!(
        answer(&app, &office.finance, &second, 1, returned).await.status(),
        StatusCode::OK
    );
    let both = app.get_json_with(listed, &office.finance.access_token).await;
    assert_eq!(both["total"], 2);
    assert_eq!(
        (
            both["items"][0]["batch_no"].as_str(),
            both["items"][1]["batch_no"].as_str()
        ),
        (second["batch_no"].as_str(), first["batch_no"].as_str()),
        "newest first"
    );
    assert_eq!(counts(&both["items"][0]), (Some(0), Some(0), Some(1)));
    assert_eq!(counts(&both["items"][1]), (Some(0), Some(1), Some(0)));
    let paged = app
        .get_json_with(&format!("{listed}?page=2&page_size=1"), &office.finance.access_token)
        .await;
    assert_eq!(
        (paged["total"].as_i64(), paged["items"][0]["batch_no"].as_str()),
        (Some(2), first["batch_no"].as_str())
    );
    app.stop().await;
}
