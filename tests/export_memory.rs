//! An export of 100,000 wage reports, in a test binary of its own so that the
//! process's peak memory is this export's alone (cargo runs test binaries
//! one after another).

#[path = "api/support/memory.rs"]
mod memory;
#[allow(dead_code, unused_imports)]
#[path = "api/support/mod.rs"]
mod support;

use std::io::Write;

use memory::PeakGrowth;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::json;
use support::TestApp;

const ROWS: usize = 100_000;

/// Far below the size of the rows (over 100 MB as CSV, and as the XLSX sheet
/// before compression), so an export that held its rows or its output in
/// memory could not pass.
const MEMORY_BOUND: u64 = 48 * 1024 * 1024;

async fn seed(app: &TestApp) {
    let worker = app.login_worker("bulk-reporter").await;
    let long = "南京某某建筑劳务有限公司第三工程项目部".repeat(10);
    let body = json!({
        "employer_name": long.chars().take(200).collect::<String>(),
        "project_name": long.chars().rev().take(200).collect::<String>(),
        "work_region_code": "320115",
        "sector": "construction",
        "amount_owed_fen": 1_234_550,
        "owed_from": "2026-06-01",
        "owed_to": "2026-09-30",
        "workers_affected": 12,
        "description": "工资拖欠四个月。",
        "contact_phone": "13812345678"
    });
    let filed = app
        .client
        .post(app.url("/api/v1/wage-reports"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", "bulk-seed")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status(), StatusCode::CREATED);
    let columns = "worker_id, employer_name, employer_key, credit_code, project_name, region_code, sector, \
                   amount_owed_fen, owed_from, owed_to, workers_affected, description, contact_phone_cipher, \
                   status, accept_deadline, close_deadline, extended, amount_recovered_fen, workers_paid, outcome, \
                   version, accepted_at, closed_at, created_at, updated_at, accepted_late";
    let copies = ROWS - 1;
    let statement = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {copies}) \
         INSERT INTO wage_report (id, report_no, {columns}) \
         SELECT 'bulk-' || i, 'QX-BULK-' || i, {columns} FROM wage_report, n"
    );
    app.db()
        .await
        .execute_unprepared(&statement)
        .await
        .expect("copying the report");
}

#[tokio::test]
async fn a_hundred_thousand_row_export_runs_in_bounded_memory() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    seed(&app).await;
    let inspector = app.staff(&admin, "bulk.inspector", &["inspector"], "320115").await;
    let directory = tempfile::tempdir().unwrap();

    for format in ["csv", "xlsx"] {
        let peak = PeakGrowth::start();
        let mut response = app
            .get_with(
                &format!("/api/v1/staff/exports/wage-reports.{format}"),
                &inspector.access_token,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let path = directory.path().join(format!("export.{format}"));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut size = 0;
        while let Some(chunk) = response.chunk().await.expect("the download completes") {
            size += chunk.len();
            file.write_all(&chunk).unwrap();
        }
        file.flush().unwrap();
        drop(file);
        let growth = peak.bytes();
        eprintln!("{format}: {size} bytes sent, peak resident size grew by {growth} bytes");
        assert!(
            growth < MEMORY_BOUND,
            "exporting {ROWS} rows as {format} ({size} bytes) grew the peak resident size by {growth} bytes"
        );
        if format == "csv" {
            // The XLSX archive is compressed; its sheet, like the CSV, is not.
            assert!(size > 2 * MEMORY_BOUND as usize, "the file is larger than the bound");
        }

        let rows = match format {
            "csv" => csv::Reader::from_path(&path).unwrap().records().count(),
            _ => {
                use calamine::Reader;
                let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
                workbook.worksheet_range_at(0).unwrap().unwrap().height() - 1
            }
        };
        assert_eq!(rows, ROWS, "every report is in the {format} file");
    }
    app.stop().await;
}
