use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    applications::{apply, complete_application, guangxi_worker},
    support::TestApp,
    wage_reports::file,
};

fn period() -> String {
    let today = api::domain::china_time::today();
    format!("from={today}&to={today}")
}

fn find<'a>(items: &'a Value, status: &str) -> Option<&'a Value> {
    items.as_array().unwrap().iter().find(|i| i["status"] == status)
}

#[tokio::test]
async fn the_overview_counts_what_happened_inside_the_callers_region_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;

    let first = guangxi_worker(&app, "stats-a", "450102198801011235").await;
    let body = complete_application(&app, &first).await;
    let created: Value = apply(&app, &first, "s-1", &body).await.json().await.unwrap();
    let second = guangxi_worker(&app, "stats-b", "450103199002022342").await;
    let moved = app
        .client
        .put(app.url("/api/v1/me/profile"))
        .bearer_auth(&second.access_token)
        .json(&json!({"residence_region_code": "450103", "work_region_code": "450103"}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::OK);
    let mut elsewhere = complete_application(&app, &second).await;
    elsewhere["answers"]["employees"] = json!(5);
    assert_eq!(
        apply(&app, &second, "s-2", &elsewhere).await.status(),
        StatusCode::CREATED
    );
    let reviewer = app.staff(&admin, "stats.reviewer", &["reviewer"], "450102").await;
    let id = created["id"].as_str().unwrap();
    let version = app
        .get_json_with(&format!("/api/v1/staff/applications/{id}"), &reviewer.access_token)
        .await["version"]
        .clone();
    let approve = json!({"decision": "approve", "expected_version": version});
    assert_eq!(
        app.post_json(
            &format!("/api/v1/staff/applications/{id}/review"),
            &approve,
            Some(&reviewer.access_token)
        )
        .await
        .status(),
        StatusCode::OK
    );

    let national = app
        .get_json_with(
            &format!("/api/v1/staff/stats/overview?{}", period()),
            &admin.access_token,
        )
        .await;
    let approved = find(&national["applications"], "approved").expect("an approved application");
    assert_eq!(
        (approved["count"].as_i64(), approved["approved_fen"].as_i64()),
        (Some(1), Some(500_000))
    );
    assert_eq!(find(&national["applications"], "submitted").unwrap()["count"], 1);
    assert_eq!(national["active_workers"], 2);

    let county_admin = app.staff(&admin, "xingning.admin", &["admin"], "450102").await;
    let county = app
        .get_json_with(
            &format!("/api/v1/staff/stats/overview?{}", period()),
            &county_admin.access_token,
        )
        .await;
    assert_eq!(county["region_code"], "450102");
    assert_eq!(county["applications"].as_array().unwrap().len(), 1, "{county}");
    assert_eq!(county["applications"][0]["status"], "approved");
    assert_eq!(county["active_workers"], 1);
    let outside = app
        .get_with(
            &format!("/api/v1/staff/stats/overview?region_code=450103&{}", period()),
            &county_admin.access_token,
        )
        .await;
    assert_eq!(outside.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn wage_report_figures_add_up_by_status_and_deadline() {
    let app = TestApp::spawn().await;
    let admin = app.admin("320000").await;
    let inspector = app.staff(&admin, "stats.inspector", &["inspector"], "320115").await;
    let mut ids = Vec::new();
    for (n, (region, amount)) in [("320115", 100_000), ("320115", 250_000), ("320116", 999_000)]
        .iter()
        .enumerate()
    {
        let worker = app.login_worker(&format!("wage-stats-{n}")).await;
        let body = json!({
            "employer_name": format!("某某公司{n}"), "work_region_code": region, "sector": "construction",
            "amount_owed_fen": amount, "owed_from": "2026-01-01", "owed_to": "2026-02-01",
            "workers_affected": 1, "description": "工资没有发。"
        });
        let filed: Value = file(&app, &worker, "k", &body).await.json().await.unwrap();
        ids.push(filed["id"].as_str().unwrap().to_owned());
    }
    let accept = json!({"action": "accept", "expected_version": 1});
    assert_eq!(
        app.post_json(
            &format!("/api/v1/staff/wage-reports/{}/actions", ids[0]),
            &accept,
            Some(&inspector.access_token)
        )
        .await
        .status(),
        StatusCode::OK
    );

    let jiangning_admin = app.staff(&admin, "jiangning.admin", &["admin"], "320115").await;
    let figures = app
        .get_json_with(
            &format!("/api/v1/staff/stats/overview?{}", period()),
            &jiangning_admin.access_token,
        )
        .await;
    let wages = &figures["wage_reports"];
    assert_eq!(find(&wages["by_status"], "accepted").unwrap()["owed_fen"], 100_000);
    assert_eq!(find(&wages["by_status"], "submitted").unwrap()["owed_fen"], 250_000);
    assert_eq!(
        wages["by_status"].as_array().unwrap().len(),
        2,
        "320116's report is not counted"
    );
    assert_eq!(
        (wages["accepted_on_time"].as_i64(), wages["accepted_late"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(wages["overdue"], 0);

    let province = app
        .get_json_with(
            &format!("/api/v1/staff/stats/overview?{}", period()),
            &admin.access_token,
        )
        .await;
    let total: i64 = province["wage_reports"]["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["owed_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 100_000 + 250_000 + 999_000);
    app.stop().await;
}

/// The staff reads of a region need a role that works its cases: a policy
/// editor of the county gets neither the figures, nor the transfers, nor an
/// application; finance gets the figures and its applications, not the
/// transfers.
#[tokio::test]
async fn staff_reads_need_a_role_that_works_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let worker = guangxi_worker(&app, "role-read", "450102198801011235").await;
    let body = complete_application(&app, &worker).await;
    let application: Value = apply(&app, &worker, "role-read", &body).await.json().await.unwrap();
    let editor = app.staff(&admin, "xingning.editor", &["policy_editor"], "450102").await;
    let finance = app.staff(&admin, "xingning.finance", &["finance"], "450102").await;
    let overview = format!("/api/v1/staff/stats/overview?{}", period());
    let case = format!("/api/v1/staff/applications/{}", application["id"].as_str().unwrap());

    for path in [overview.as_str(), "/api/v1/staff/si-transfers", case.as_str()] {
        let refused = app.get_with(path, &editor.access_token).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(refused.json::<Value>().await.unwrap()["code"], "ROLE_REQUIRED");
    }
    assert_eq!(
        app.get_with(&overview, &finance.access_token).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get_with(&case, &finance.access_token).await.status(),
        StatusCode::OK
    );
    let transfers = app.get_with("/api/v1/staff/si-transfers", &finance.access_token).await;
    assert_eq!(transfers.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

/// Opens a pension-free medical transfer for `worker` between two counties.
async fn transfer(app: &TestApp, worker: &crate::support::app::Session, from: &str, to: &str) {
    let opened = app
        .client
        .post(app.url("/api/v1/si-transfers"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", format!("breakdown-{from}-{to}"))
        .json(&json!({"insurance_type": "medical", "from_region_code": from, "to_region_code": to}))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::CREATED);
}

fn subdivision<'a>(breakdown: &'a Value, code: &str) -> &'a Value {
    breakdown["subdivisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["region_code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {breakdown}"))
}

#[tokio::test]
async fn the_breakdown_splits_a_region_by_subdivision_and_month_inside_the_callers_region() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let first = guangxi_worker(&app, "split-a", "450102198801011235").await;
    let body = complete_application(&app, &first).await;
    assert_eq!(apply(&app, &first, "b-1", &body).await.status(), StatusCode::CREATED);
    let second = guangxi_worker(&app, "split-b", "450103199002022342").await;
    transfer(&app, &first, "320115", "450102").await;
    transfer(&app, &second, "450103", "450102").await;
    let report = json!({
        "employer_name": "兴宁某劳务公司", "work_region_code": "450103", "sector": "construction",
        "amount_owed_fen": 300_000, "owed_from": "2026-01-01", "owed_to": "2026-02-01",
        "workers_affected": 1, "description": "工资没有发。"
    });
    assert_eq!(file(&app, &second, "b-w", &report).await.status(), StatusCode::CREATED);

    let city_admin = app.staff(&admin, "nanning.admin", &["admin"], "450100").await;
    let read = async |token: &str, query: &str| {
        app.get_with(&format!("/api/v1/staff/stats/breakdown?{}{query}", period()), token)
            .await
    };
    let city: Value = read(&city_admin.access_token, "").await.json().await.unwrap();
    assert_eq!(city["region_code"], "450100");
    let xingning = subdivision(&city, "450102");
    assert_eq!(xingning["name"], "兴宁区");
    assert_eq!(
        (
            xingning["applications"].as_i64(),
            xingning["applications_waiting"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(xingning["transfers_in_progress"], 2, "both cases end in 兴宁区");
    let qingxiu = subdivision(&city, "450103");
    assert_eq!(
        (
            qingxiu["wage_reports_open"].as_i64(),
            qingxiu["wage_reports_overdue"].as_i64()
        ),
        (Some(1), Some(0))
    );
    assert_eq!(qingxiu["transfers_in_progress"], 1);
    assert_eq!(
        subdivision(&city, "450105")["applications"],
        0,
        "a county with nothing still shows"
    );
    let month = &city["months"][0];
    assert_eq!(city["months"].as_array().unwrap().len(), 1);
    assert_eq!(find(&month["by_status"], "submitted").unwrap()["count"], 1);

    // A case between two counties of one city counts once for the city.
    let national: Value = read(&admin.access_token, "").await.json().await.unwrap();
    assert_eq!(subdivision(&national, "450000")["transfers_in_progress"], 2);
    assert_eq!(subdivision(&national, "320000")["transfers_in_progress"], 1);
    let guangxi: Value = read(&admin.access_token, "&region_code=450000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(subdivision(&guangxi, "450100")["transfers_in_progress"], 2);
    assert_eq!(subdivision(&guangxi, "450100")["applications"], 1);

    let county_admin = app.staff(&admin, "qingxiu.admin", &["admin"], "450103").await;
    let own: Value = read(&county_admin.access_token, "").await.json().await.unwrap();
    let own_cases = subdivision(&own, "450103");
    assert_eq!(
        own_cases["wage_reports_open"], 1,
        "a county's own cases under its own code"
    );
    assert_eq!(own_cases["applications"], 0, "兴宁区's application is not 青秀区's");
    assert_eq!(
        read(&county_admin.access_token, "&region_code=450100").await.status(),
        StatusCode::FORBIDDEN
    );
    let editor = app.staff(&admin, "split.editor", &["policy_editor"], "450100").await;
    assert_eq!(read(&editor.access_token, "").await.status(), StatusCode::FORBIDDEN);
    let today = api::domain::china_time::today();
    let too_long = app
        .get_with(
            &format!("/api/v1/staff/stats/breakdown?from=2024-01-01&to={today}"),
            &admin.access_token,
        )
        .await;
    let problem = crate::support::assert_problem(too_long, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert!(problem.to_string().contains("24 个月"), "{problem}");
    app.stop().await;
}

fn owed_fen(figures: &Value) -> i64 {
    figures["wage_reports"]["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["owed_fen"].as_i64().unwrap())
        .sum()
}

/// With `DATABASE_REPLICA_URL` set, the figures and the exports are read
/// from the replica while the cases are written to, and read back from, the
/// primary. The
/// "replica" here is another server's database, so that what each side
/// holds tells where a read went.
#[tokio::test]
async fn figures_and_exports_are_read_from_the_replica_and_cases_from_the_primary() {
    let replica = TestApp::spawn().await;
    let app = TestApp::spawn_with(|vars| {
        vars.insert("DATABASE_REPLICA_URL", replica.database_url.clone());
    })
    .await;
    let admin = app.admin("320000").await;
    let body = json!({
        "employer_name": "某某公司", "work_region_code": "320115", "sector": "construction",
        "amount_owed_fen": 120_000, "owed_from": "2026-01-01", "owed_to": "2026-02-01",
        "workers_affected": 1, "description": "工资没有发。"
    });
    let worker = app.login_worker("replica-primary").await;
    let filed: Value = file(&app, &worker, "k", &body).await.json().await.unwrap();
    let mine = app
        .get_json_with(
            &format!("/api/v1/wage-reports/{}", filed["id"].as_str().unwrap()),
            &worker.access_token,
        )
        .await;
    assert_eq!(mine["amount_owed_fen"], 120_000, "the case is read from the primary");

    let overview = format!("/api/v1/staff/stats/overview?{}", period());
    let figures = app.get_json_with(&overview, &admin.access_token).await;
    assert_eq!(owed_fen(&figures), 0, "the primary's report is not on the replica yet");

    let replicated = replica.login_worker("replica-copy").await;
    let mut copy = body.clone();
    copy["amount_owed_fen"] = json!(340_000);
    copy["employer_name"] = json!("副本劳务公司");
    assert_eq!(
        file(&replica, &replicated, "k", &copy).await.status(),
        StatusCode::CREATED
    );
    let figures = app.get_json_with(&overview, &admin.access_token).await;
    assert_eq!(owed_fen(&figures), 340_000, "the figures are the replica's");
    let inspector = app.staff(&admin, "replica.inspector", &["inspector"], "320115").await;
    let export = app
        .get_with("/api/v1/staff/exports/wage-reports.csv", &inspector.access_token)
        .await;
    assert_eq!(export.status(), StatusCode::OK);
    let csv = String::from_utf8(export.bytes().await.unwrap().to_vec()).unwrap();
    assert!(
        csv.contains("副本劳务公司") && !csv.contains("某某公司"),
        "the export is the replica's: {csv}"
    );
    app.stop().await;
    replica.stop().await;
}
