//! 亲情代办: a worker invites a relative with a one-time code; the relative,
//! signed in with their own WeChat, acts for the worker with `X-Acting-For`
//! within the rights granted; every act is the worker's to see; a
//! revocation refuses the relative's very next request.

use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{
    applications::uploaded,
    support::{TestApp, app::Session, assert_problem},
    wage_reports::report,
};

const ACTING_FOR: &str = "X-Acting-For";

async fn named_worker(app: &TestApp, code: &str, name: &str) -> Session {
    let worker = app.login_worker(code).await;
    let saved = app
        .put_json(
            "/api/v1/me/profile",
            &json!({ "real_name": name }),
            &worker.access_token,
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    worker
}

async fn invite(app: &TestApp, worker: &Session, rights: &[&str], may_see_personal_data: bool) -> reqwest::Response {
    let body = json!({ "relation": "妻子", "rights": rights, "may_see_personal_data": may_see_personal_data });
    app.post_json("/api/v1/me/relatives/invitations", &body, Some(&worker.access_token))
        .await
}

async fn invited(app: &TestApp, worker: &Session, rights: &[&str], may_see_personal_data: bool) -> Value {
    let response = invite(app, worker, rights, may_see_personal_data).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn accept(app: &TestApp, relative: &Session, code: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/me/relatives/accept",
        &json!({ "code": code }),
        Some(&relative.access_token),
    )
    .await
}

/// Invites `relative` with `rights` and has them accept: the grant's id.
async fn granted(app: &TestApp, worker: &Session, relative: &Session, rights: &[&str], see: bool) -> String {
    let invitation = invited(app, worker, rights, see).await;
    let accepted = accept(app, relative, invitation["code"].as_str().unwrap()).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["grant_id"], invitation["id"]);
    invitation["id"].as_str().unwrap().to_owned()
}

/// A request of `relative` acting for the worker of `grant`.
fn acting(app: &TestApp, relative: &Session, grant: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .bearer_auth(&relative.access_token)
        .header(ACTING_FOR, grant)
}

async fn file_for(app: &TestApp, relative: &Session, grant: &str, key: &str) -> reqwest::Response {
    acting(app, relative, grant, Method::POST, "/api/v1/wage-reports")
        .header("Idempotency-Key", key)
        .json(&report(300_000))
        .send()
        .await
        .unwrap()
}

async fn revoke(app: &TestApp, worker: &Session, grant: &str) {
    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/me/relatives/{grant}")))
        .bearer_auth(&worker.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
}

async fn id_of(app: &TestApp, worker: &Session) -> String {
    app.get_json_with("/api/v1/me", &worker.access_token).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_relative_files_a_wage_report_the_worker_sees_it_and_revokes() {
    let app = TestApp::spawn().await;
    let worker = named_worker(&app, "rel-worker", "李秀英").await;
    let wife = named_worker(&app, "rel-wife", "王芳").await;

    let invitation = invited(&app, &worker, &["wage_reports"], false).await;
    assert_eq!(invitation["status"], "pending");
    assert!(invitation["code"].as_str().unwrap().len() == 14);
    let accepted = accept(&app, &wife, invitation["code"].as_str().unwrap()).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["worker_name"], "李**", "masked: the worker did not allow more");
    assert_eq!(accepted["rights"], json!(["wage_reports"]));
    let grant = accepted["grant_id"].as_str().unwrap().to_owned();
    let whom = app.get_json_with("/api/v1/me/acting-for", &wife.access_token).await;
    assert_eq!(whom[0]["grant_id"], grant.as_str());
    let relatives = app.get_json_with("/api/v1/me/relatives", &worker.access_token).await;
    assert_eq!(relatives[0]["status"], "active");
    assert_eq!(relatives[0]["name"], "王*");

    let filed = file_for(&app, &wife, &grant, "rel-report-1").await;
    assert_eq!(filed.status(), StatusCode::CREATED);
    let filed: Value = filed.json().await.unwrap();
    let report_id = filed["id"].as_str().unwrap();

    // The report is the worker's: in their list, with who filed it on its timeline.
    let mine = app.get_json_with("/api/v1/wage-reports", &worker.access_token).await;
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["id"], report_id);
    let detail = app
        .get_json_with(&format!("/api/v1/wage-reports/{report_id}"), &worker.access_token)
        .await;
    assert_eq!(detail["timeline"][0]["by"], "亲友代办（妻子 王*）");
    let own = app.get_json_with("/api/v1/wage-reports", &wife.access_token).await;
    assert_eq!(own["total"], 0, "the wife's own list is hers");
    let followed = acting(&app, &wife, &grant, Method::GET, "/api/v1/wage-reports")
        .send()
        .await
        .unwrap();
    assert_eq!(followed.json::<Value>().await.unwrap()["total"], 1);

    // The audit row names both the relative and the worker.
    let (worker_id, wife_id) = (id_of(&app, &worker).await, id_of(&app, &wife).await);
    let db = app.db().await;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT actor_type, actor_id, details FROM audit_log WHERE action = 'wage_report.submit' AND target_id = '{report_id}'"),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<String>("", "actor_type").unwrap(), "relative");
    assert_eq!(row.try_get::<String>("", "actor_id").unwrap(), wife_id);
    let details: Value = serde_json::from_str(&row.try_get::<String>("", "details").unwrap()).unwrap();
    assert_eq!(details["on_behalf_of"], worker_id.as_str());
    assert_eq!(details["grant_id"], grant.as_str());

    // Every act is the worker's to see.
    let acts = app
        .get_json_with("/api/v1/me/relatives/acts", &worker.access_token)
        .await;
    assert_eq!(acts["total"], 2);
    assert_eq!(acts["items"][1]["what"], "提交欠薪线索");
    assert_eq!(acts["items"][1]["by"], "妻子 王*");
    assert_eq!(acts["items"][1]["status"], 201);
    assert_eq!(acts["items"][0]["operation"], "listMyWageReports");

    // Revoked: the relative's very next request is refused, in Chinese.
    revoke(&app, &worker, &grant).await;
    let refused = acting(&app, &wife, &grant, Method::GET, "/api/v1/wage-reports")
        .send()
        .await
        .unwrap();
    let problem = assert_problem(refused, StatusCode::FORBIDDEN, "ACTING_REVOKED").await;
    assert!(problem["message"].as_str().unwrap().contains("收回"));
    let refused = file_for(&app, &wife, &grant, "rel-report-2").await;
    assert_problem(refused, StatusCode::FORBIDDEN, "ACTING_REVOKED").await;
    assert_eq!(
        app.get_json_with("/api/v1/wage-reports", &worker.access_token).await["total"],
        1
    );
    let acts = app
        .get_json_with(&format!("/api/v1/me/relatives/{grant}/acts"), &worker.access_token)
        .await;
    assert_eq!(acts["total"], 4);
    assert_eq!(acts["items"][0]["outcome"], "denied");
    assert_eq!(acts["items"][0]["reason"], "ACTING_REVOKED");
    assert!(app.get_json_with("/api/v1/me/acting-for", &wife.access_token).await == json!([]));
    app.stop().await;
}

async fn expire(app: &TestApp, grant: &str) {
    let db = app.db().await;
    let sql = format!("UPDATE relative_grant SET expires_at = created_at WHERE id = '{grant}'");
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_invitations_and_codes_are_refused_in_plain_chinese() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("inv-worker").await;
    let relative = app.login_worker("inv-relative").await;
    let other = app.login_worker("inv-other").await;

    let own = invited(&app, &worker, &["applications"], false).await;
    let problem = assert_problem(
        accept(&app, &worker, own["code"].as_str().unwrap()).await,
        StatusCode::BAD_REQUEST,
        "SELF_INVITATION",
    )
    .await;
    assert!(problem["message"].as_str().unwrap().contains("自己"));
    for wrong in ["K7M2-Q9XP-4HTD", "hello"] {
        let problem = assert_problem(
            accept(&app, &relative, wrong).await,
            StatusCode::NOT_FOUND,
            "INVITATION_CODE_INVALID",
        )
        .await;
        assert!(problem["message"].as_str().unwrap().contains("邀请码不对"));
    }

    // A code works once.
    assert_eq!(
        accept(&app, &relative, own["code"].as_str().unwrap()).await.status(),
        StatusCode::OK
    );
    let problem = assert_problem(
        accept(&app, &other, own["code"].as_str().unwrap()).await,
        StatusCode::CONFLICT,
        "INVITATION_USED",
    )
    .await;
    assert!(problem["message"].as_str().unwrap().contains("用过"));

    // Expired after 72 hours; withdrawn by the worker.
    let late = invited(&app, &worker, &["transfers"], false).await;
    expire(&app, late["id"].as_str().unwrap()).await;
    let problem = assert_problem(
        accept(&app, &other, late["code"].as_str().unwrap()).await,
        StatusCode::CONFLICT,
        "INVITATION_EXPIRED",
    )
    .await;
    assert!(problem["message"].as_str().unwrap().contains("过期"));
    let withdrawn = invited(&app, &worker, &["transfers"], false).await;
    revoke(&app, &worker, withdrawn["id"].as_str().unwrap()).await;
    assert_problem(
        accept(&app, &other, withdrawn["code"].as_str().unwrap()).await,
        StatusCode::CONFLICT,
        "INVITATION_WITHDRAWN",
    )
    .await;

    // Already acting for the worker: a second invitation is not needed.
    let again = invited(&app, &worker, &["transfers"], false).await;
    assert_problem(
        accept(&app, &relative, again["code"].as_str().unwrap()).await,
        StatusCode::CONFLICT,
        "ALREADY_RELATIVE",
    )
    .await;

    // Bad rights.
    for rights in [json!([]), json!(["payee_account"]), json!(["transfers", "transfers"])] {
        let body = json!({ "relation": "儿子", "rights": rights });
        let refused = app
            .post_json("/api/v1/me/relatives/invitations", &body, Some(&worker.access_token))
            .await;
        assert_problem(refused, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    }
    app.stop().await;
}

#[tokio::test]
async fn at_most_eight_relatives_and_open_invitations() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("many-worker").await;
    let relative = app.login_worker("many-relative").await;
    granted(&app, &worker, &relative, &["wage_reports"], false).await;
    let mut open = Vec::new();
    for _ in 0..7 {
        open.push(invited(&app, &worker, &["wage_reports"], false).await);
    }
    let problem = assert_problem(
        invite(&app, &worker, &["wage_reports"], false).await,
        StatusCode::CONFLICT,
        "RELATIVES_LIMIT_REACHED",
    )
    .await;
    assert!(problem["message"].as_str().unwrap().contains("最多只能有8位"));
    assert_eq!(
        app.get_json_with("/api/v1/me/relatives", &worker.access_token)
            .await
            .as_array()
            .unwrap()
            .len(),
        8
    );
    // An expired invitation, or a withdrawn one, frees its place.
    expire(&app, open[0]["id"].as_str().unwrap()).await;
    invited(&app, &worker, &["wage_reports"], false).await;
    revoke(&app, &worker, open[1]["id"].as_str().unwrap()).await;
    invited(&app, &worker, &["wage_reports"], false).await;
    assert_problem(
        invite(&app, &worker, &["wage_reports"], false).await,
        StatusCode::CONFLICT,
        "RELATIVES_LIMIT_REACHED",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn wrong_codes_are_bounded() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("tries-worker").await;
    let guesser = app.login_worker("tries-guesser").await;
    let invitation = invited(&app, &worker, &["wage_reports"], false).await;
    for _ in 0..10 {
        assert_eq!(
            accept(&app, &guesser, "AAAA-BBBB-CCCC").await.status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_problem(
        accept(&app, &guesser, invitation["code"].as_str().unwrap()).await,
        StatusCode::TOO_MANY_REQUESTS,
        "INVITATION_TRIES_EXHAUSTED",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_relative_acts_only_within_the_rights_granted() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("rights-worker").await;
    let son = app.login_worker("rights-son").await;
    let stranger = app.login_worker("rights-stranger").await;
    let grant = granted(&app, &worker, &son, &["wage_reports"], false).await;

    for (method, path) in [
        (Method::GET, "/api/v1/applications"),
        (Method::GET, "/api/v1/si-transfers"),
        (Method::POST, "/api/v1/si-transfers/link"),
    ] {
        let refused = acting(&app, &son, &grant, method, path).send().await.unwrap();
        let problem = assert_problem(refused, StatusCode::FORBIDDEN, "ACTING_RIGHT_MISSING").await;
        assert!(problem["message"].as_str().unwrap().contains("没有授权"), "{path}");
    }
    for (method, path, body) in [
        (Method::GET, "/api/v1/me", json!(null)),
        (Method::PUT, "/api/v1/me/profile", json!({ "real_name": "冒名" })),
        (Method::PUT, "/api/v1/me/payee-account", json!({})),
        (Method::GET, "/api/v1/me/notifications", json!(null)),
        (
            Method::POST,
            "/api/v1/me/relatives/invitations",
            json!({ "relation": "孙子", "rights": ["transfers"] }),
        ),
        (Method::GET, "/api/v1/me/relatives", json!(null)),
        (Method::DELETE, &format!("/api/v1/me/relatives/{grant}"), json!(null)),
        (Method::DELETE, "/api/v1/me", json!(null)),
    ] {
        let mut request = acting(&app, &son, &grant, method, path);
        if !body.is_null() {
            request = request.json(&body);
        }
        let refused = request.send().await.unwrap();
        let problem = assert_problem(refused, StatusCode::FORBIDDEN, "ACTING_NOT_DELEGABLE").await;
        assert!(problem["message"].as_str().unwrap().contains("本人"), "{path}");
    }
    // Nothing of the worker's own changed, and the grant stands.
    assert!(app.get_json_with("/api/v1/me", &worker.access_token).await["real_name"].is_null());
    assert_eq!(
        app.get_json_with("/api/v1/me/relatives", &worker.access_token).await[0]["id"],
        grant.as_str()
    );

    // Another relative's grant, an unknown one, or a staff member: refused.
    for header in [grant.as_str(), "not-a-grant", ""] {
        let refused = acting(&app, &stranger, header, Method::GET, "/api/v1/wage-reports")
            .send()
            .await
            .unwrap();
        assert_problem(refused, StatusCode::FORBIDDEN, "ACTING_GRANT_UNKNOWN").await;
    }
    let admin = app.admin("000000").await;
    let refused = acting(&app, &admin, &grant, Method::GET, "/api/v1/staff/wage-reports")
        .send()
        .await
        .unwrap();
    assert_problem(refused, StatusCode::FORBIDDEN, "ACTING_NOT_DELEGABLE").await;

    // Within the right: the worker's own reports only.
    let theirs = file_for(&app, &son, &grant, "rights-1").await;
    assert_eq!(theirs.status(), StatusCode::CREATED);
    let strangers: Value = crate::wage_reports::file(&app, &stranger, "rights-2", &report(100_000))
        .await
        .json()
        .await
        .unwrap();
    let hidden = acting(
        &app,
        &son,
        &grant,
        Method::GET,
        &format!("/api/v1/wage-reports/{}", strangers["id"].as_str().unwrap()),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);

    // The relative gives it up: refused from then on.
    let given_up = app
        .client
        .delete(app.url(&format!("/api/v1/me/acting-for/{grant}")))
        .bearer_auth(&son.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(given_up.status(), StatusCode::NO_CONTENT);
    let refused = acting(&app, &son, &grant, Method::GET, "/api/v1/wage-reports")
        .send()
        .await
        .unwrap();
    assert_problem(refused, StatusCode::FORBIDDEN, "ACTING_REVOKED").await;
    app.stop().await;
}

#[tokio::test]
async fn personal_data_stays_masked_unless_the_worker_allows_it() {
    let app = TestApp::spawn().await;
    let worker = named_worker(&app, "mask-worker", "李秀英").await;
    let masked = app.login_worker("mask-daughter").await;
    let trusted = app.login_worker("mask-husband").await;
    let document = uploaded(&app, &worker, "id_card").await;
    let blind = granted(&app, &worker, &masked, &["applications"], false).await;
    let open = granted(&app, &worker, &trusted, &["applications"], true).await;

    let seen = app.get_json_with("/api/v1/me/acting-for", &masked.access_token).await;
    assert_eq!(seen[0]["worker_name"], "李**");
    assert_eq!(seen[0]["may_see_personal_data"], false);
    let seen = app.get_json_with("/api/v1/me/acting-for", &trusted.access_token).await;
    assert_eq!(seen[0]["worker_name"], "李秀英");

    let path = format!("/api/v1/uploads/{document}");
    let refused = acting(&app, &masked, &blind, Method::GET, &path).send().await.unwrap();
    let problem = assert_problem(refused, StatusCode::FORBIDDEN, "PERSONAL_DATA_NOT_SHARED").await;
    assert!(problem["message"].as_str().unwrap().contains("个人信息"));
    let shown = acting(&app, &trusted, &open, Method::GET, &path).send().await.unwrap();
    assert_eq!(shown.status(), StatusCode::OK);
    assert_eq!(shown.bytes().await.unwrap().as_ref(), crate::applications::JPEG);
    app.stop().await;
}
