use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, app::Session, assert_problem};

async fn patch(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(&format!("/api/v1/admin/staff/{id}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_disabled_staff_members_token_is_refused_on_its_next_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin("320000").await;
    let inspector = app.staff(&admin, "soon.gone", &["inspector"], "320115").await;
    let id = inspector.body["staff"]["id"].as_str().unwrap();
    assert_eq!(
        app.get_with("/api/v1/staff/wage-reports", &inspector.access_token)
            .await
            .status(),
        StatusCode::OK
    );

    let disabled = patch(&app, &admin.access_token, id, json!({"disabled": true})).await;
    assert_eq!(disabled.json::<Value>().await.unwrap()["disabled"], true);
    let refused = app
        .get_with("/api/v1/staff/wage-reports", &inspector.access_token)
        .await;
    assert_problem(refused, StatusCode::UNAUTHORIZED, "SESSION_ENDED").await;
    let relogin = app
        .post_json(
            "/api/v1/staff/auth/login",
            &json!({"username": "soon.gone", "password": "staff-password-0001"}),
            None,
        )
        .await;
    assert_problem(relogin, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;

    let listed = app.get_json_with("/api/v1/admin/staff", &admin.access_token).await;
    assert_eq!(listed["total"], 2);
    let guangxi = app.admin("450000").await;
    assert_problem(
        patch(&app, &guangxi.access_token, id, json!({"disabled": false})).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;

    let changes = app
        .get_json_with("/api/v1/admin/audit-logs?action=staff.change", &admin.access_token)
        .await;
    assert_eq!(changes["total"], 1);
    assert_eq!(changes["items"][0]["details"]["fields"], json!(["disabled"]));
    app.stop().await;
}

/// The audit log names the staff who acted (the console shows the name, not
/// an id); an anonymous actor, such as a refused sign-in, has none.
#[tokio::test]
async fn the_audit_log_names_the_staff_who_acted() {
    let app = TestApp::spawn().await;
    let admin = app.admin("450000").await;
    app.staff(&admin, "xn.named", &["reviewer"], "450102").await;

    let created = app
        .get_json_with("/api/v1/admin/audit-logs?action=staff.create", &admin.access_token)
        .await;
    let name = admin.body["staff"]["display_name"].as_str().unwrap();
    assert_eq!(created["items"][0]["actor_id"], admin.body["staff"]["id"]);
    assert_eq!(created["items"][0]["actor_name"], format!("{name}（admin450000）"));

    let wrong = json!({"username": "xn.named", "password": "not-the-password"});
    let refused = app.post_json("/api/v1/staff/auth/login", &wrong, None).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let logins = app
        .get_json_with("/api/v1/admin/audit-logs?action=staff.login", &admin.access_token)
        .await;
    let named: Vec<(&str, Option<&str>)> = logins["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["actor_type"].as_str().unwrap(), row["actor_name"].as_str()))
        .collect();
    let admin_name = format!("{name}（admin450000）");
    assert_eq!(
        named,
        [
            ("anonymous", None),
            ("staff", Some("测试xn.named（xn.named）")),
            ("staff", Some(admin_name.as_str())),
        ],
        "newest first: the refused attempt, the reviewer's sign-in, the administrator's"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_rotated_or_revoked_client_loses_its_credentials_and_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let created: Value = app
        .post_json(
            "/api/v1/admin/clients",
            &json!({"name": "县平台", "scopes": ["si_transfer:read"]}),
            Some(&admin.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let (id, client_id) = (created["id"].as_str().unwrap(), created["client_id"].as_str().unwrap());
    let token = |secret: String| {
        let (app, client_id) = (&app, client_id.to_owned());
        async move {
            app.client
                .post(app.url("/api/v1/oauth/token"))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", &client_id),
                    ("client_secret", &secret),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let old = token(created["client_secret"].as_str().unwrap().to_owned())
        .await
        .json::<Value>()
        .await
        .unwrap();
    let old_token = old["access_token"].as_str().unwrap().to_owned();

    let rotated: Value = app
        .post_json(
            &format!("/api/v1/admin/clients/{id}/rotate"),
            &json!({}),
            Some(&admin.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rotated["client_id"], client_id);
    assert_eq!(
        token(created["client_secret"].as_str().unwrap().to_owned())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_problem(
        app.get_with("/api/v1/integrations/whoami", &old_token).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_ENDED",
    )
    .await;
    let fresh = token(rotated["client_secret"].as_str().unwrap().to_owned())
        .await
        .json::<Value>()
        .await
        .unwrap();
    let fresh_token = fresh["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get_with("/api/v1/integrations/whoami", &fresh_token).await.status(),
        StatusCode::OK
    );

    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/admin/clients/{id}")))
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get_with("/api/v1/integrations/whoami", &fresh_token).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_ENDED",
    )
    .await;
    assert_eq!(
        token(rotated["client_secret"].as_str().unwrap().to_owned())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let listed = app.get_json_with("/api/v1/admin/clients", &admin.access_token).await;
    assert!(listed["items"][0]["revoked_at"].is_string());
    assert!(listed.to_string().find("cs_").is_none(), "no secret is ever listed");
    app.stop().await;
}

/// An administrator reads the audit trail of their own region and below: a
/// Jiangsu administrator sees what happened to Jiangsu's staff, not to
/// Guangxi's, nor workers signing in (no region); a national administrator
/// sees all of it.
#[tokio::test]
async fn the_audit_trail_is_scoped_to_the_administrators_region() {
    let app = TestApp::spawn().await;
    let jiangsu = app.admin("320000").await;
    let guangxi = app.admin("450000").await;
    let nation = app.admin("000000").await;
    app.staff(&jiangsu, "jiangning.inspector", &["inspector"], "320115")
        .await;
    app.staff(&guangxi, "qingxiu.inspector", &["inspector"], "450103").await;
    app.login_worker("audited-worker").await;

    let trail = |admin: &Session| {
        let app = &app;
        let token = admin.access_token.clone();
        async move {
            let page = app
                .get_json_with("/api/v1/admin/audit-logs?page_size=100", &token)
                .await;
            page["items"].as_array().unwrap().clone()
        }
    };
    let seen = |items: &[Value]| -> Vec<(String, String)> {
        items
            .iter()
            .map(|item| {
                (
                    item["action"].as_str().unwrap().to_owned(),
                    item["region_code"].as_str().unwrap_or("none").to_owned(),
                )
            })
            .collect()
    };

    let in_jiangsu = seen(&trail(&jiangsu).await);
    assert!(
        in_jiangsu.contains(&("staff.create".to_owned(), "320115".to_owned())),
        "{in_jiangsu:?}"
    );
    assert!(
        in_jiangsu
            .iter()
            .all(|(_, region)| region == "320000" || region == "320115"),
        "only Jiangsu's rows: {in_jiangsu:?}"
    );

    let everywhere = seen(&trail(&nation).await);
    for expected in [
        ("staff.create", "320115"),
        ("staff.create", "450103"),
        ("worker.login", "none"),
    ] {
        assert!(
            everywhere.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} in {everywhere:?}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn clients_are_listed_a_page_at_a_time_oldest_first() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    for name in ["第一平台", "第二平台", "第三平台"] {
        create_client(&app, &admin, name, "320115").await;
    }
    let page = |query: &'static str| {
        let (app, token) = (&app, admin.access_token.clone());
        async move {
            app.get_json_with(&format!("/api/v1/admin/clients?{query}"), &token)
                .await
        }
    };
    let second = page("page=2&page_size=2").await;
    assert_eq!(
        (
            second["total"].as_u64(),
            second["page"].as_u64(),
            second["page_size"].as_u64()
        ),
        (Some(3), Some(2), Some(2))
    );
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["name"], "第三平台");
    assert_eq!(page("page_size=2").await["items"][0]["name"], "第一平台");
    app.stop().await;
}

async fn create_client(app: &TestApp, admin: &Session, name: &str, region: &str) -> Value {
    let created = app
        .post_json(
            "/api/v1/admin/clients",
            &json!({"name": name, "scopes": ["si_transfer:read", "si_transfer:write"], "region_code": region}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED, "creating {name}");
    created.json().await.unwrap()
}

async fn listed_clients(app: &TestApp, admin: &Session) -> Vec<String> {
    let listed = app.get_json_with("/api/v1/admin/clients", &admin.access_token).await;
    listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|client| client["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A county (江宁区, 320115) or city (南京市, 320100) administrator manages
/// the clients of its region and below: another's is neither listed, nor
/// rotated, nor revoked (404, as if it did not exist), and what it does to
/// its own is in the audit trail its province reads.
#[tokio::test]
async fn county_and_city_administrators_manage_only_their_regions_clients() {
    let app = TestApp::spawn().await;
    let nation = app.admin("000000").await;
    let national = create_client(&app, &nation, "国家平台", "000000").await;
    let liuhe = create_client(&app, &nation, "六合区社保中心", "320116").await;
    let guangxi = create_client(&app, &nation, "广西社保中心", "450000").await;
    let county = app.admin("320115").await;
    let city = app.admin("320100").await;
    let jiangning = create_client(&app, &county, "江宁区社保中心", "320115").await;

    assert_eq!(listed_clients(&app, &county).await, ["江宁区社保中心"]);
    assert_eq!(listed_clients(&app, &city).await, ["六合区社保中心", "江宁区社保中心"]);

    for (admin, foreign) in [
        (&county, &national),
        (&county, &liuhe),
        (&county, &guangxi),
        (&city, &national),
        (&city, &guangxi),
    ] {
        let id = foreign["id"].as_str().unwrap();
        let rotated = app
            .post_json(
                &format!("/api/v1/admin/clients/{id}/rotate"),
                &json!({}),
                Some(&admin.access_token),
            )
            .await;
        assert_problem(rotated, StatusCode::NOT_FOUND, "NOT_FOUND").await;
        let revoked = app
            .client
            .delete(app.url(&format!("/api/v1/admin/clients/{id}")))
            .bearer_auth(&admin.access_token)
            .send()
            .await
            .unwrap();
        assert_problem(revoked, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    let national_still_works = app
        .client
        .post(app.url("/api/v1/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", national["client_id"].as_str().unwrap()),
            ("client_secret", national["client_secret"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        national_still_works.status(),
        StatusCode::OK,
        "its secret was not rotated"
    );

    let rotated = app
        .post_json(
            &format!("/api/v1/admin/clients/{}/rotate", jiangning["id"].as_str().unwrap()),
            &json!({}),
            Some(&city.access_token),
        )
        .await;
    assert_eq!(rotated.status(), StatusCode::OK, "the city manages its county's client");

    let jiangsu = app.admin("320000").await;
    let trail = app
        .get_json_with("/api/v1/admin/audit-logs?action=client.rotate", &jiangsu.access_token)
        .await;
    assert_eq!(trail["total"], 1);
    assert_eq!(trail["items"][0]["region_code"], "320115");
    assert_eq!(trail["items"][0]["target_id"], jiangning["client_id"]);
    app.stop().await;
}

/// The national schedule sets every legal deadline in the country: a
/// county, city or provincial administrator reads it but cannot change it.
#[tokio::test]
async fn only_national_administrators_change_the_calendar() {
    let app = TestApp::spawn().await;
    let nation = app.admin("000000").await;
    for region in ["320115", "320100", "320000"] {
        let admin = app.admin(region).await;
        let set = app
            .client
            .put(app.url("/api/v1/admin/calendar/2027-01-04"))
            .bearer_auth(&admin.access_token)
            .json(&json!({"kind": "holiday", "name": "县里放假"}))
            .send()
            .await
            .unwrap();
        assert_problem(set, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;
        let cleared = app
            .client
            .delete(app.url("/api/v1/admin/calendar/2027-01-01"))
            .bearer_auth(&admin.access_token)
            .send()
            .await
            .unwrap();
        assert_problem(cleared, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;
        let read = app
            .get_with("/api/v1/admin/calendar?year=2027", &admin.access_token)
            .await;
        assert_eq!(read.status(), StatusCode::OK, "{region} reads the calendar");
    }
    let days = app
        .get_json_with("/api/v1/admin/calendar?year=2027", &nation.access_token)
        .await;
    assert!(
        days["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|day| day["day"] != "2027-01-04"),
        "no refused change was recorded: {days}"
    );
    let set = app
        .client
        .put(app.url("/api/v1/admin/calendar/2027-01-04"))
        .bearer_auth(&nation.access_token)
        .json(&json!({"kind": "holiday", "name": "全国放假"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::NO_CONTENT);
    app.stop().await;
}
