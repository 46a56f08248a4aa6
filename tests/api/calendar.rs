//! The working-day calendar: the State Council's schedules seeded with their
//! notice numbers, a year with none entered flagged rather than guessed, the
//! list paged, and each province's own days (Guangxi's 壮族三月三) kept by
//! its administrators and counted for its cases only (issue 17).

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{
    applications::guangxi_worker,
    support::{TestApp, assert_problem},
    transfers::agency,
    wage_reports::{file, report},
};

/// Today in China, the day the server counts deadlines from.
fn china_today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

/// The year in China now.
fn this_year() -> i32 {
    china_today().year()
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
    // 2024, 2025, and 2026: 33 holidays and 6 adjusted working days.
    assert_eq!(all["total"], 69 + 39);
    assert_eq!(all["items"][0]["day"], "2024-01-01");
    let year_2026 = app
        .get_json_with("/api/v1/admin/calendar?year=2026&page_size=100", &admin.access_token)
        .await;
    let kind_on = |text: &str| {
        year_2026["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["day"] == text)
            .map(|d| {
                (
                    d["kind"].as_str().unwrap().to_owned(),
                    d["name"].as_str().unwrap().to_owned(),
                )
            })
            .unwrap_or_else(|| panic!("{text} is not seeded"))
    };
    let (kind, name) = kind_on("2026-02-14");
    assert_eq!(kind, "workday");
    assert!(name.contains("国务院办公厅关于2026年部分节假日安排的通知"), "{name}");
    assert_eq!(kind_on("2026-02-23").0, "holiday");
    assert_eq!(kind_on("2026-10-10").0, "workday");
    app.stop().await;
}

#[tokio::test]
async fn a_year_without_a_schedule_is_flagged_in_readiness_and_statistics_never_guessed() {
    let app = TestApp::spawn().await;
    let year = this_year();
    // This year as if its schedule were not published yet, whatever is seeded.
    let db = app.db().await;
    let unseed = format!(
        "DELETE FROM calendar_day WHERE region_code = '000000' AND day BETWEEN '{year}-01-01' AND '{year}-12-31'"
    );
    db.execute_raw(Statement::from_string(db.get_database_backend(), unseed))
        .await
        .unwrap();
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

/// Working days as the server counts them in a province: weekdays, but for
/// the national days and, over them, the province's own, read from its
/// database.
struct WorkingDays(HashMap<NaiveDate, String>);

impl WorkingDays {
    async fn of(app: &TestApp, province: &str) -> Self {
        let db = app.db().await;
        let mut days = HashMap::new();
        for region in ["000000", province] {
            let sql = format!("SELECT day, kind FROM calendar_day WHERE region_code = '{region}'");
            let rows = db
                .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap();
            days.extend(
                rows.iter()
                    .map(|row| (row.try_get("", "day").unwrap(), row.try_get("", "kind").unwrap())),
            );
        }
        WorkingDays(days)
    }

    fn is_working(&self, day: NaiveDate) -> bool {
        match self.0.get(&day).map(String::as_str) {
            Some("holiday") => false,
            Some("workday") => true,
            _ => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The first working day after `day`.
    fn next(&self, day: NaiveDate) -> NaiveDate {
        let mut next = day.succ_opt().unwrap();
        while !self.is_working(next) {
            next = next.succ_opt().unwrap();
        }
        next
    }

    /// The last day of `days` working days counted from the day after `start`.
    fn after(&self, start: NaiveDate, days: usize) -> NaiveDate {
        (0..days).fold(start, |day, _| self.next(day))
    }

    /// The latest working day on or before `day`.
    fn latest(&self, mut day: NaiveDate) -> NaiveDate {
        while !self.is_working(day) {
            day = day.pred_opt().unwrap();
        }
        day
    }

    /// The working day `days` working days before `day`.
    fn before(&self, day: NaiveDate, days: usize) -> NaiveDate {
        (0..days).fold(day, |day, _| self.latest(day.pred_opt().unwrap()))
    }
}

/// Records `day` as `kind` in the national schedule, or with `region` in
/// that province's own days.
async fn set_day(app: &TestApp, token: &str, day: NaiveDate, region: Option<&str>, kind: &str) -> reqwest::Response {
    let query = region
        .map(|region| format!("?region_code={region}"))
        .unwrap_or_default();
    app.client
        .put(app.url(&format!("/api/v1/admin/calendar/{day}{query}")))
        .bearer_auth(token)
        .json(&json!({"kind": kind, "name": "壮族三月三"}))
        .send()
        .await
        .unwrap()
}

/// Guangxi's 壮族三月三 on `days`, recorded by its provincial administrator.
async fn sanyuesan(app: &TestApp, days: &[NaiveDate]) {
    let guangxi = app.admin("450000").await;
    for day in days {
        let recorded = set_day(app, &guangxi.access_token, *day, Some("450000"), "holiday").await;
        assert_eq!(recorded.status(), StatusCode::NO_CONTENT, "{day}");
    }
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn days_listed(page: &Value) -> Vec<(String, String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let text = |field: &str| d[field].as_str().unwrap().to_owned();
            (text("day"), text("region_code"), text("kind"))
        })
        .collect()
}

#[tokio::test]
async fn a_provinces_days_are_kept_by_national_and_its_own_administrators_only() {
    let app = TestApp::spawn().await;
    let nation = app.admin("000000").await;
    let guangxi = app.admin("450000").await;
    let jiangsu = app.admin("320000").await;
    let nanning = app.admin("450100").await;
    let qingxiu = app.admin("450103").await;
    let (third, fourth) = (day("2027-04-09"), day("2027-04-10"));

    let own = set_day(&app, &guangxi.access_token, third, Some("450000"), "holiday").await;
    assert_eq!(own.status(), StatusCode::NO_CONTENT, "Guangxi records its own day");
    let by_nation = set_day(&app, &nation.access_token, fourth, Some("450000"), "holiday").await;
    assert_eq!(
        by_nation.status(),
        StatusCode::NO_CONTENT,
        "the nation records a province's day"
    );
    for (who, token) in [
        ("Jiangsu's", &jiangsu.access_token),
        ("Nanning's", &nanning.access_token),
        ("Qingxiu's", &qingxiu.access_token),
    ] {
        let refused = set_day(&app, token, third, Some("450000"), "workday").await;
        let problem = assert_problem(refused, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;
        assert!(
            problem["message"].as_str().unwrap().contains("本省的省级管理员"),
            "{who} administrator is told who may: {problem}"
        );
    }
    let national = set_day(&app, &guangxi.access_token, third, None, "holiday").await;
    let problem = assert_problem(national, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;
    assert!(problem["message"].as_str().unwrap().contains("全国管理员"), "{problem}");
    let county = set_day(&app, &qingxiu.access_token, third, Some("450103"), "holiday").await;
    let problem = assert_problem(county, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(problem["details"]["fields"][0]["field"], "region_code");
    let unknown = set_day(&app, &nation.access_token, third, Some("990000"), "holiday").await;
    let problem = assert_problem(unknown, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    assert_eq!(problem["details"]["fields"][0]["field"], "region_code");
    let cleared_by_jiangsu = app
        .client
        .delete(app.url("/api/v1/admin/calendar/2027-04-10?region_code=450000"))
        .bearer_auth(&jiangsu.access_token)
        .send()
        .await
        .unwrap();
    assert_problem(cleared_by_jiangsu, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;

    // The nation's schedule of the year, one day of which Guangxi overrides.
    for (day, kind) in [(day("2027-01-01"), "holiday"), (third, "workday")] {
        let recorded = set_day(&app, &nation.access_token, day, None, kind).await;
        assert_eq!(recorded.status(), StatusCode::NO_CONTENT);
    }
    let list = |query: &str| {
        let (app, token) = (&app, guangxi.access_token.clone());
        let path = format!("/api/v1/admin/calendar?year=2027&{query}");
        async move { app.get_json_with(&path, &token).await }
    };
    let (holiday, workday) = ("holiday".to_owned(), "workday".to_owned());
    let at = |day: &str, region: &str, kind: &String| (day.to_owned(), region.to_owned(), kind.clone());
    assert_eq!(
        days_listed(&list("").await),
        [
            at("2027-01-01", "000000", &holiday),
            at("2027-04-09", "000000", &workday)
        ],
        "without a province: the national schedule"
    );
    assert_eq!(
        days_listed(&list("region_code=450000").await),
        [
            at("2027-04-09", "450000", &holiday),
            at("2027-04-10", "450000", &holiday)
        ],
        "a province's own days alone"
    );
    let merged = list("region_code=450000&with_national=true&page_size=2").await;
    assert_eq!(merged["total"], 3, "the overridden national day is left out: {merged}");
    assert_eq!(
        days_listed(&merged),
        [
            at("2027-01-01", "000000", &holiday),
            at("2027-04-09", "450000", &holiday)
        ]
    );

    let cleared = app
        .client
        .delete(app.url("/api/v1/admin/calendar/2027-04-10?region_code=450000"))
        .bearer_auth(&guangxi.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert_eq!(list("region_code=450000").await["total"], 1);

    let trail = app
        .get_json_with("/api/v1/admin/audit-logs?action=calendar.set", &guangxi.access_token)
        .await;
    assert_eq!(trail["total"], 2, "Guangxi sees the changes of its own days: {trail}");
    assert!(
        trail["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|row| row["region_code"] == "450000")
    );
    let cleared_trail = app
        .get_json_with("/api/v1/admin/audit-logs?action=calendar.clear", &nation.access_token)
        .await;
    assert_eq!(cleared_trail["total"], 1);
    app.stop().await;
}

#[tokio::test]
async fn a_wage_report_counts_the_working_days_of_its_province() {
    let app = TestApp::spawn().await;
    let national = WorkingDays::of(&app, "450000").await;
    let today = china_today();
    // 三月三 on the latest working day and the two after today: both within
    // the 5 working days a report filed today is accepted in.
    let cutoff = national.latest(today);
    let tomorrow = national.next(today);
    sanyuesan(&app, &[cutoff, tomorrow, national.next(tomorrow)]).await;

    let worker = app.login_worker("two-provinces").await;
    let mut body = report(300_000);
    let in_jiangsu: Value = file(&app, &worker, "jiangning", &body).await.json().await.unwrap();
    body["work_region_code"] = json!("450103");
    let in_guangxi: Value = file(&app, &worker, "qingxiu", &body).await.json().await.unwrap();
    assert_eq!(in_jiangsu["accept_deadline"], national.after(today, 5).to_string());
    assert_eq!(
        in_guangxi["accept_deadline"],
        national.after(today, 7).to_string(),
        "5 working days in Guangxi, 三月三 skipped"
    );
    assert_eq!(
        in_guangxi["accept_deadline"],
        WorkingDays::of(&app, "450000").await.after(today, 5).to_string()
    );

    // As if both were due the working day before the latest: overdue in
    // Jiangsu, while in Guangxi that latest day is 三月三 and none has begun since.
    let due = national.before(cutoff, 1);
    let db = app.db().await;
    let sql = format!("UPDATE wage_report SET accept_deadline = '{due}'");
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    let nation = app.admin("000000").await;
    let inspector = app.staff(&nation, "nation.inspector", &["inspector"], "000000").await;
    let overdue = app
        .get_json_with("/api/v1/staff/wage-reports?overdue=true", &inspector.access_token)
        .await;
    assert_eq!(overdue["total"], 1, "{overdue}");
    assert_eq!(overdue["items"][0]["id"], in_jiangsu["id"]);
    let seen = |report: &Value| {
        let (app, token) = (&app, worker.access_token.clone());
        let path = format!("/api/v1/wage-reports/{}", report["id"].as_str().unwrap());
        async move { app.get_json_with(&path, &token).await["overdue"].clone() }
    };
    assert_eq!(seen(&in_jiangsu).await, true);
    assert_eq!(seen(&in_guangxi).await, false);
    let figures = app
        .get_json_with(
            &format!("/api/v1/staff/stats/overview?from={today}&to={today}"),
            &nation.access_token,
        )
        .await;
    assert_eq!(figures["wage_reports"]["overdue"], 1, "{figures}");
    app.stop().await;
}

/// The server keeps the calendars it read for a moment (they change a few
/// times a year, deadlines are counted on every filing): an edit through it
/// shows in the very next report, both ways.
#[tokio::test]
async fn a_calendar_edit_moves_the_next_reports_deadline_at_once() {
    let app = TestApp::spawn().await;
    let national = WorkingDays::of(&app, "450000").await;
    let today = china_today();
    let tomorrow = national.next(today);
    let worker = app.login_worker("before-and-after").await;
    let mut body = report(300_000);
    body["work_region_code"] = json!("450103");
    let deadline = |key: &'static str| {
        let (app, worker, body) = (&app, &worker, body.clone());
        async move {
            let filed: Value = file(app, worker, key, &body).await.json().await.unwrap();
            filed["accept_deadline"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(deadline("before").await, national.after(today, 5).to_string());

    let guangxi = app.admin("450000").await;
    let recorded = set_day(&app, &guangxi.access_token, tomorrow, Some("450000"), "holiday").await;
    assert_eq!(recorded.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        deadline("holiday").await,
        national.after(today, 6).to_string(),
        "the new holiday is skipped"
    );

    let cleared = app
        .client
        .delete(app.url(&format!("/api/v1/admin/calendar/{tomorrow}?region_code=450000")))
        .bearer_auth(&guangxi.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert_eq!(deadline("after").await, national.after(today, 5).to_string());
    app.stop().await;
}

/// A pension transfer a Guangxi worker opens from `from` to `to`; its number.
async fn pension_transfer(app: &TestApp, code: &str, id_number: &str, from: &str, to: &str) -> String {
    let worker = guangxi_worker(app, code, id_number).await;
    let created = app
        .client
        .post(app.url("/api/v1/si-transfers"))
        .bearer_auth(&worker.access_token)
        .header("Idempotency-Key", code)
        .json(&json!({"insurance_type": "pension", "from_region_code": from, "to_region_code": to}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    created["transfer_no"].as_str().unwrap().to_owned()
}

/// An agency reports `step` of `transfer_no` done on `day`; the case as it is then.
async fn step_done(app: &TestApp, agency: &str, transfer_no: &str, step: &str, day: NaiveDate) -> Value {
    let reported = app
        .client
        .put(app.url(&format!("/api/v1/integrations/si-transfers/{transfer_no}/steps/{step}")))
        .bearer_auth(agency)
        .json(&json!({"status": "done", "occurred_at": format!("{day}T09:00:00+08:00")}))
        .send()
        .await
        .unwrap();
    assert_eq!(reported.status(), StatusCode::OK, "{step} of {transfer_no}");
    reported.json().await.unwrap()
}

fn step<'a>(transfer: &'a Value, name: &str) -> &'a Value {
    transfer["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap()
}

#[tokio::test]
async fn a_transfer_step_counts_the_working_days_of_the_office_that_acts_on_it() {
    let app = TestApp::spawn().await;
    let national = WorkingDays::of(&app, "450000").await;
    let today = china_today();
    let cutoff = national.latest(today);
    // Accepted 17 working days before the latest: a contact letter's 15
    // working days end 2 working days before it. In Guangxi 三月三 falls on
    // the first of them, and on the latest working day itself.
    let accepted = national.before(cutoff, 17);
    sanyuesan(&app, &[national.next(accepted), cutoff]).await;
    let (jiangsu_due, guangxi_due) = (national.before(cutoff, 2), national.before(cutoff, 1));

    let nation = app.admin("000000").await;
    let writer = agency(&app, &nation.access_token, &["si_transfer:read", "si_transfer:write"]).await;
    let to_guangxi = pension_transfer(&app, "to-guangxi", "450102198801011235", "320115", "450103").await;
    let to_jiangsu = pension_transfer(&app, "to-jiangsu", "450103199002022342", "450103", "320115").await;
    let guangxi_letter = step_done(&app, &writer, &to_guangxi, "application_accepted", accepted).await;
    let jiangsu_letter = step_done(&app, &writer, &to_jiangsu, "application_accepted", accepted).await;

    // The new place issues the contact letter. Guangxi's office counts
    // 三月三: its letter is due a working day later, and is not overdue, as
    // no working day has begun there since (the latest was 三月三).
    let letter = step(&guangxi_letter, "contact_letter_issued");
    assert_eq!(letter["office_region_code"], "450103");
    assert_eq!(letter["due_on"], guangxi_due.to_string());
    assert_eq!(letter["overdue"], false);
    let letter = step(&jiangsu_letter, "contact_letter_issued");
    assert_eq!(letter["office_region_code"], "320115");
    assert_eq!(letter["due_on"], jiangsu_due.to_string());
    assert_eq!(
        letter["overdue"], true,
        "Jiangsu's office does not count Guangxi's days"
    );

    let overdue = app
        .get_json_with("/api/v1/staff/si-transfers?overdue=true", &nation.access_token)
        .await;
    assert_eq!(overdue["total"], 1, "{overdue}");
    assert_eq!(overdue["items"][0]["transfer_no"], to_jiangsu);
    let figures = app
        .get_json_with(
            &format!("/api/v1/staff/stats/overview?from={today}&to={today}"),
            &nation.access_token,
        )
        .await;
    assert_eq!(figures["si_transfers"]["overdue"], 1, "{figures}");

    // The old place, Guangxi's office, sends the funds of the case bound
    // for Jiangsu: its 15 working days count Guangxi's days.
    let sent = step_done(&app, &writer, &to_jiangsu, "contact_letter_issued", accepted).await;
    let funds = step(&sent, "funds_transferred");
    assert_eq!(funds["office_region_code"], "450103");
    assert_eq!(funds["due_on"], guangxi_due.to_string());
    assert_eq!(funds["overdue"], false);
    app.stop().await;
}
