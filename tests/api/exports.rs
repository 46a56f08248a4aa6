use std::io::Cursor;

use calamine::{Reader, Xlsx};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{
    applications::{apply, complete_application, guangxi_worker},
    support::{TestApp, app::Session, assert_problem},
    wage_reports::file,
};

const ID_NUMBER: &str = "450102198801011235";
const BOM: &[u8] = "\u{feff}".as_bytes();

async fn applicant_with_a_case(app: &TestApp) {
    let worker = guangxi_worker(app, "export-a", ID_NUMBER).await;
    let body = complete_application(app, &worker).await;
    assert_eq!(apply(app, &worker, "e-1", &body).await.status(), StatusCode::CREATED);
}

async fn download(app: &TestApp, path: &str, staff: &Session) -> reqwest::Response {
    app.get_with(path, &staff.access_token).await
}

fn rows_of_xlsx(bytes: Vec<u8>) -> Vec<Vec<String>> {
    let mut workbook = Xlsx::new(Cursor::new(bytes)).expect("the export is a valid XLSX file");
    let sheet = workbook
        .worksheet_range_at(0)
        .expect("a first sheet")
        .expect("a readable sheet");
    sheet
        .rows()
        .map(|row| row.iter().map(|cell| cell.to_string()).collect())
        .collect()
}

fn rows_of_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(
        bytes.starts_with(BOM),
        "a CSV export starts with a byte-order mark for Excel"
    );
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[BOM.len()..])
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn column<'a>(rows: &'a [Vec<String>], header: &str) -> Vec<&'a str> {
    let index = rows[0]
        .iter()
        .position(|h| h == header)
        .unwrap_or_else(|| panic!("a column headed {header}"));
    rows[1..].iter().map(|row| row[index].as_str()).collect()
}

#[tokio::test]
async fn an_xlsx_export_has_chinese_headers_and_masked_personal_data() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    applicant_with_a_case(&app).await;
    let reviewer = app.staff(&admin, "export.reviewer", &["reviewer"], "450102").await;

    let response = download(&app, "/api/v1/staff/exports/applications.xlsx", &reviewer).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"applications-")
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let rows = rows_of_xlsx(response.bytes().await.unwrap().to_vec());
    assert_eq!(&rows[0][..4], ["申请编号", "补贴项目", "状态", "申请人"]);
    assert_eq!(rows.len(), 2, "one application, under the headers");
    assert_eq!(column(&rows, "身份证号"), ["4501**********1235"]);
    assert_eq!(column(&rows, "申请人"), ["韦**"]);
    assert_eq!(column(&rows, "状态"), ["已提交"]);
    assert_eq!(column(&rows, "办理地区"), ["广西壮族自治区南宁市兴宁区"]);
    assert!(rows.iter().flatten().all(|cell| !cell.contains(ID_NUMBER)));
    app.stop().await;
}

#[tokio::test]
async fn personal_data_in_clear_needs_its_own_role_and_is_audited() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    applicant_with_a_case(&app).await;
    let reviewer = app.staff(&admin, "plain.reviewer", &["reviewer"], "450102").await;
    let trusted = app
        .staff(&admin, "trusted.reviewer", &["reviewer", "personal_data"], "450102")
        .await;

    let masked = download(&app, "/api/v1/staff/exports/applications.csv", &reviewer).await;
    assert_eq!(masked.status(), StatusCode::OK);
    assert_eq!(masked.headers()["content-type"], "text/csv; charset=utf-8");
    let rows = rows_of_csv(&masked.bytes().await.unwrap());
    assert_eq!(column(&rows, "身份证号"), ["4501**********1235"]);

    let refused = download(&app, "/api/v1/staff/exports/applications.csv?reveal=true", &reviewer).await;
    let problem = assert_problem(refused, StatusCode::FORBIDDEN, "ROLE_REQUIRED").await;
    assert_eq!(problem["details"]["role"], "personal_data");

    let clear = download(&app, "/api/v1/staff/exports/applications.csv?reveal=true", &trusted).await;
    assert_eq!(clear.status(), StatusCode::OK);
    let rows = rows_of_csv(&clear.bytes().await.unwrap());
    assert_eq!(column(&rows, "身份证号"), [ID_NUMBER]);
    assert_eq!(column(&rows, "申请人"), ["韦小宝"]);

    let audit = app
        .get_json_with(
            "/api/v1/admin/audit-logs?action=export.applications",
            &admin.access_token,
        )
        .await;
    let revealed: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["details"]["revealed"] == true)
        .collect();
    assert_eq!(
        audit["total"], 2,
        "the masked and the clear export, not the refused one"
    );
    assert_eq!(revealed.len(), 1);
    assert_eq!(revealed[0]["details"]["rows"], 1);
    assert_eq!(revealed[0]["details"]["format"], "csv");
    app.stop().await;
}

fn wage_report(region: &str, employer: &str) -> Value {
    json!({
        "employer_name": employer,
        "work_region_code": region,
        "sector": "construction",
        "amount_owed_fen": 1_234_550,
        "owed_from": "2026-06-01",
        "owed_to": "2026-09-30",
        "workers_affected": 4,
        "description": "四个月工资没有发放。",
        "contact_phone": "13812345678"
    })
}

#[tokio::test]
async fn wage_report_exports_stay_inside_the_inspectors_county() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let worker = app.login_worker("export-reporter").await;
    let mut ids = Vec::new();
    for (key, region, employer) in [
        ("w-1", "320115", "=HYPERLINK(\"http://example.com\")"),
        ("w-2", "320116", "六合某劳务公司"),
    ] {
        let filed = file(&app, &worker, key, &wage_report(region, employer)).await;
        assert_eq!(filed.status(), StatusCode::CREATED);
        ids.push(filed.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    let jiangning = app.staff(&admin, "jn.inspector", &["inspector"], "320115").await;

    let response = download(&app, "/api/v1/staff/exports/wage-reports.csv", &jiangning).await;
    assert_eq!(response.status(), StatusCode::OK);
    let rows = rows_of_csv(&response.bytes().await.unwrap());
    assert_eq!(rows.len(), 2, "only the Jiangning report");
    assert_eq!(
        column(&rows, "用人单位"),
        ["'=HYPERLINK(\"http://example.com\")"],
        "a formula typed by a worker is written as text"
    );
    assert_eq!(column(&rows, "联系电话"), ["138****5678"]);
    assert_eq!(column(&rows, "欠薪金额（元）"), ["12345.50"]);
    assert_eq!(column(&rows, "状态"), ["待受理"]);
    assert_eq!(column(&rows, "行业"), ["建筑业"], "labels, not API codes");
    let refuse = json!({"action": "refuse", "comment": "不属于欠薪", "expected_version": 1});
    let refused = app
        .post_json(
            &format!("/api/v1/staff/wage-reports/{}/actions", ids[0]),
            &refuse,
            Some(&jiangning.access_token),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::OK);
    let response = download(&app, "/api/v1/staff/exports/wage-reports.csv", &jiangning).await;
    let rows = rows_of_csv(&response.bytes().await.unwrap());
    assert_eq!(column(&rows, "处理结果"), ["不予受理"]);

    let xlsx = download(&app, "/api/v1/staff/exports/wage-reports.xlsx", &jiangning).await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    let rows = rows_of_xlsx(xlsx.bytes().await.unwrap().to_vec());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], "线索编号");
    assert_eq!(column(&rows, "欠薪金额（元）"), ["12345.5"]);

    let elsewhere = download(
        &app,
        "/api/v1/staff/exports/wage-reports.csv?region_code=320116",
        &jiangning,
    )
    .await;
    assert_problem(elsewhere, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;
    let backwards = download(
        &app,
        "/api/v1/staff/exports/wage-reports.csv?from=2026-11-02&to=2026-11-01",
        &jiangning,
    )
    .await;
    assert_problem(backwards, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    let reviewer = app.staff(&admin, "jn.reviewer", &["reviewer"], "320115").await;
    let wrong_role = download(&app, "/api/v1/staff/exports/wage-reports.xlsx", &reviewer).await;
    assert_problem(wrong_role, StatusCode::FORBIDDEN, "ROLE_REQUIRED").await;
    let anonymous = app.get("/api/v1/staff/exports/wage-reports.csv").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

/// Copies the report `id` `copies` times with long names: an export of them
/// is some tens of megabytes, more than the sockets between the server and a
/// client that does not read can hold, so its download stays open.
async fn bulk_copies(app: &TestApp, id: &str, copies: u32) {
    let long = "某".repeat(200);
    let columns = "worker_id, employer_key, credit_code, region_code, sector, amount_owed_fen, owed_from, owed_to, \
                   workers_affected, description, contact_phone_cipher, status, accept_deadline, close_deadline, \
                   extended, amount_recovered_fen, workers_paid, outcome, version, accepted_at, closed_at, \
                   created_at, updated_at, accepted_late, anonymised_at";
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {copies}) \
         INSERT INTO wage_report (id, report_no, employer_name, project_name, {columns}) \
         SELECT 'bulk-' || i, 'BULK-' || i, '{long}', '{long}', {columns} \
         FROM n CROSS JOIN wage_report WHERE wage_report.id = '{id}'"
    );
    let db = app.db().await;
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_string(backend, sql)).await.unwrap();
}

#[tokio::test]
async fn exports_run_one_at_a_time_per_staff_member_and_a_few_per_instance() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_EXPORTS_AT_ONCE", "2".to_owned());
    })
    .await;
    let admin = app.admin("000000").await;
    let worker = app.login_worker("bulk-reporter").await;
    let filed = file(&app, &worker, "bulk", &wage_report("320115", "江宁某建筑公司")).await;
    assert_eq!(filed.status(), StatusCode::CREATED);
    let filed: Value = filed.json().await.unwrap();
    bulk_copies(&app, filed["id"].as_str().unwrap(), 16_000).await;
    let mut inspectors = Vec::new();
    for name in ["bulk.a", "bulk.b", "bulk.c"] {
        inspectors.push(app.staff(&admin, name, &["inspector"], "320115").await);
    }
    let path = "/api/v1/staff/exports/wage-reports.csv";

    // Held open: the headers are read, the body is not.
    let first = download(&app, path, &inspectors[0]).await;
    assert_eq!(first.status(), StatusCode::OK);
    let twice = download(&app, "/api/v1/staff/exports/wage-reports.xlsx", &inspectors[0]).await;
    assert!(twice.headers().contains_key("retry-after"));
    let problem = assert_problem(twice, StatusCode::TOO_MANY_REQUESTS, "EXPORT_IN_PROGRESS").await;
    assert!(problem["message"].as_str().unwrap().contains("下载完"), "{problem}");

    let second = download(&app, path, &inspectors[1]).await;
    assert_eq!(
        second.status(),
        StatusCode::OK,
        "another staff member's export runs beside it"
    );
    let full = download(&app, path, &inspectors[2]).await;
    assert!(full.headers().contains_key("retry-after"));
    assert_problem(full, StatusCode::SERVICE_UNAVAILABLE, "EXPORTS_BUSY").await;

    let refusals = app
        .get_json_with(
            "/api/v1/admin/audit-logs?action=export.wage_reports",
            &admin.access_token,
        )
        .await;
    assert_eq!(refusals["total"], 2, "only the exports that ran are audited");
    drop((first, second));
    app.stop().await;
}
