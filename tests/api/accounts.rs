//! A worker's own data: the copy of everything held (PIPL Art. 45) and
//! closing the account (Art. 47).

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{
    applications::guangxi_worker,
    support::{TestApp, app::Session, assert_problem},
    wage_reports::{file, report},
};

const ID_NUMBER: &str = "450102198801011235";

async fn open_transfer(app: &TestApp, worker: &Session) {
    let opened = app
        .client
        .post(app.url("/api/v1/si-transfers"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", "mine")
        .json(&json!({"insurance_type": "pension", "from_region_code": "450102", "to_region_code": "320115"}))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_worker_gets_everything_held_about_them_in_clear_and_audited() {
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "curious", ID_NUMBER).await;
    let bound = app
        .post_json(
            "/api/v1/me/phone",
            &json!({"code": "phone-13900000003"}),
            Some(&worker.access_token),
        )
        .await;
    assert_eq!(bound.status(), StatusCode::OK);
    let mut body = report(300_000);
    body["contact_phone"] = json!("13900000004");
    assert_eq!(file(&app, &worker, "r-1", &body).await.status(), StatusCode::CREATED);
    open_transfer(&app, &worker).await;

    let data = app.get_json_with("/api/v1/me/data", &worker.access_token).await;
    assert_eq!(
        data["profile"]["id_number"], ID_NUMBER,
        "in clear, for the worker themself"
    );
    assert_eq!(data["profile"]["phone"], "13900000003");
    assert_eq!(data["profile"]["real_name"], "韦小宝");
    assert_eq!(data["consents"][0]["version"], "2026-11");
    assert_eq!(data["wage_reports"][0]["contact_phone"], "13900000004");
    assert_eq!(data["wage_reports"][0]["description"], body["description"]);
    assert_eq!(data["si_transfers"][0]["steps"].as_array().unwrap().len(), 4);
    assert_eq!(data["sign_ins"][0]["outcome"], "success");
    for section in ["applications", "documents", "notifications"] {
        assert!(data[section].is_array(), "{section}");
    }

    let admin = app.admin("000000").await;
    let audited = app
        .get_json_with(
            "/api/v1/admin/audit-logs?action=worker.data.export",
            &admin.access_token,
        )
        .await;
    assert_eq!(audited["total"], 1);
    app.stop().await;
}

#[tokio::test]
async fn closing_an_account_ends_its_sessions_and_frees_the_wechat_account() {
    let app = TestApp::spawn().await;
    let worker = guangxi_worker(&app, "leaving", ID_NUMBER).await;
    let old_id = app.get_json_with("/api/v1/me", &worker.access_token).await["id"].clone();
    assert_eq!(
        file(&app, &worker, "r-1", &report(300_000)).await.status(),
        StatusCode::CREATED
    );
    open_transfer(&app, &worker).await;
    let refused: Value = file(&app, &worker, "r-2", &report(100_000)).await.json().await.unwrap();
    let refused_id = refused["id"].as_str().unwrap().to_owned();
    let admin = app.admin("000000").await;
    let inspector = app.staff(&admin, "leaving.inspector", &["inspector"], "320115").await;
    let action = app
        .post_json(
            &format!("/api/v1/staff/wage-reports/{refused_id}/actions"),
            &json!({"action": "refuse", "expected_version": 1, "comment": "不属于本部门受理范围"}),
            Some(&inspector.access_token),
        )
        .await;
    assert_eq!(action.status(), StatusCode::OK);

    let closed = app
        .client
        .delete(app.url("/api/v1/me"))
        .bearer_auth(&worker.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), StatusCode::OK);
    let closed: Value = closed.json().await.unwrap();
    assert_eq!(
        closed["open_cases_kept"], 2,
        "the open report and transfer stay for the offices"
    );
    assert_eq!(closed["closed_cases_anonymised"], 1);
    let db = app.db().await;
    let descriptions: Vec<(String, String)> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, description FROM wage_report ORDER BY id".to_owned(),
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap()))
        .collect();
    for (id, description) in descriptions {
        let anonymised = description == "（已按保存期限删除）";
        assert_eq!(
            anonymised,
            id == refused_id,
            "the closed report loses its text at once, the open one keeps it"
        );
    }

    assert_problem(
        app.get_with("/api/v1/me", &worker.access_token).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_ENDED",
    )
    .await;
    let refreshed = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": worker.refresh_token}),
            None,
        )
        .await;
    assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);

    let again = app.login_worker("leaving").await;
    let fresh = app.get_json_with("/api/v1/me", &again.access_token).await;
    assert_ne!(fresh["id"], old_id, "the same WeChat user gets a new account");
    assert!(
        fresh.get("real_name").is_none() && fresh.get("id_number").is_none(),
        "{fresh}"
    );
    assert_eq!(
        app.get_json_with("/api/v1/si-transfers", &again.access_token).await["total"],
        0
    );
    assert_eq!(
        app.get_json_with("/api/v1/wage-reports", &again.access_token).await["total"],
        0
    );

    let someone = guangxi_worker(&app, "next-holder", ID_NUMBER).await;
    assert_eq!(
        app.get_json_with("/api/v1/me", &someone.access_token).await["id_number"],
        "4501**********1235",
        "the closed account no longer holds the ID number"
    );
    let audited = app
        .get_json_with("/api/v1/admin/audit-logs?action=worker.close", &admin.access_token)
        .await;
    assert_eq!(audited["total"], 1);
    assert_eq!(audited["items"][0]["actor_id"], old_id);
    app.stop().await;
}
