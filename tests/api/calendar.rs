//! The working-day calendar: the State Council's schedules seeded with their
//! notice numbers, a year with none entered flagged rather than guessed, and
//! the list paged (issue 17).

use chrono::{Datelike, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::TestApp;

/// The year in China now.
fn this_year() -> i32 {
    (Utc::now() + Duration::hours(8)).year()
}

fn flagged_years(ready: &Value) -> Vec<i64> {
    ready["warnings"]
        .as_array()
        .map(|warnings| {
            warnings
                .iter()
                .filter(|w| w["code"] == "calendar_year_missing")
                .map(|w| w["year"].as_i64().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_state_councils_schedules_are_seeded_with_their_notices() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let year_2025 = app
        .get_json_with("/api/v1/admin/calendar?year=2025&page_size=100", &admin.access_token)
        .await;
    // 1 + 8 + 3 + 5 + 3 + 8 holidays and 5 adjusted working days.
    assert_eq!(year_2025["total"], 33, "{year_2025}");
    let day = |text: &str| {
        year_2025["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["day"] == text)
            .unwrap_or_else(|| panic!("{text} is not seeded"))
            .clone()
    };
    assert_eq!(day("2025-01-28")["kind"], "holiday");
    assert!(
        day("2025-01-28")["name"]
            .as_str()
            .unwrap()
            .contains("国办发明电〔2024〕12号")
    );
    assert_eq!(day("2025-02-08")["kind"], "workday");
    assert_eq!(day("2025-10-08")["kind"], "holiday");

    let page = app
        .get_json_with(
            "/api/v1/admin/calendar?year=2024&page=2&page_size=10",
            &admin.access_token,
        )
        .await;
    // 28 holidays and 8 adjusted working days.
    assert_eq!((page["total"].as_u64(), page["page"].as_u64()), (Some(36), Some(2)));
    assert_eq!(page["items"].as_array().unwrap().len(), 10);
    assert!(
        page["items"][0]["name"]
            .as_str()
            .unwrap()
            .contains("国办发明电〔2023〕7号")
    );
    let all = app
        .get_json_with("/api/v1/admin/calendar?page_size=1", &admin.access_token)
        .await;
    assert_eq!(all["total"], 69);
    assert_eq!(all["items"][0]["day"], "2024-01-01");
    app.stop().await;
}

#[tokio::test]
async fn a_year_without_a_schedule_is_flagged_in_readiness_and_statistics_never_guessed() {
    let app = TestApp::spawn().await;
    let year = this_year();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    let ready: Value = ready.json().await.unwrap();
    assert!(flagged_years(&ready).contains(&i64::from(year)), "{ready}");
    let warning = ready["warnings"].as_array().unwrap()[0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(warning.contains("法定节假日安排还没有录入"), "{warning}");

    let admin = app.admin("000000").await;
    let overview = |from: String, to: String| {
        let (app, token) = (&app, admin.access_token.clone());
        async move {
            app.get_json_with(&format!("/api/v1/staff/stats/overview?from={from}&to={to}"), &token)
                .await
        }
    };
    let figures = overview(format!("{year}-01-01"), format!("{year}-01-31")).await;
    assert!(
        figures["calendar_missing_years"]
            .as_array()
            .unwrap()
            .contains(&json!(year)),
        "{figures}"
    );
    let seeded_period = overview("2025-01-01".to_owned(), "2025-12-31".to_owned()).await;
    assert!(
        !seeded_period["calendar_missing_years"]
            .as_array()
            .unwrap()
            .contains(&json!(2025))
    );

    let entered = app
        .client
        .put(app.url(&format!("/api/v1/admin/calendar/{year}-10-01")))
        .bearer_auth(&admin.access_token)
        .json(&json!({"kind": "holiday", "name": "国庆节"}))
        .send()
        .await
        .unwrap();
    assert_eq!(entered.status(), StatusCode::NO_CONTENT);
    let ready = app.get_json("/readyz").await;
    assert!(!flagged_years(&ready).contains(&i64::from(year)), "{ready}");
    let figures = overview(format!("{year}-01-01"), format!("{year}-01-31")).await;
    assert!(
        !figures["calendar_missing_years"]
            .as_array()
            .unwrap()
            .contains(&json!(year))
    );
    app.stop().await;
}
