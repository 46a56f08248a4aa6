use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem};

async fn search(app: &TestApp, query: &str) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/policies"))
        .query(&[("page_size", "100")])
        .query(&query_pairs(query))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    response.json().await.unwrap()
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect()
}

fn regions(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["region_code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_jiangning_worker_finds_jiangsu_and_national_entrepreneurship_policies_only() {
    let app = TestApp::spawn().await;
    let jiangning = search(&app, "q=创业&region_code=320115").await;
    assert!(titles(&jiangning)[0].contains("返乡创业"), "{:?}", titles(&jiangning));
    assert!(
        regions(&jiangning).contains(&"000000".to_owned()),
        "the national notice applies everywhere"
    );
    assert!(
        regions(&jiangning).iter().all(|r| r == "320000" || r == "000000"),
        "{:?}",
        regions(&jiangning)
    );
    assert!(
        jiangning["items"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("<em>创业</em>")
    );

    let nanning = search(&app, "q=创业&region_code=450100").await;
    assert!(
        titles(&nanning).iter().any(|t| t.contains("就业创业质量提升行动")),
        "{:?}",
        titles(&nanning)
    );
    assert!(
        regions(&nanning).iter().all(|r| r == "450000" || r == "000000"),
        "{:?}",
        regions(&nanning)
    );
    app.stop().await;
}

#[tokio::test]
async fn the_words_workers_type_find_the_right_measures() {
    let app = TestApp::spawn().await;
    for query in ["q=欠薪", "q=讨薪", "q=拖欠工资"] {
        let page = search(&app, query).await;
        assert!(
            page["items"][0]["category"] == "wage_rights",
            "{query}: {:?}",
            titles(&page)
        );
        assert!(
            titles(&page).iter().any(|t| t.contains("工资支付")),
            "{query}: {:?}",
            titles(&page)
        );
    }
    let children = search(&app, "q=随迁子女").await;
    assert!(
        children["items"]
            .as_array()
            .unwrap()
            .iter()
            .take(2)
            .all(|i| i["category"] == "education")
    );
    let housing = search(&app, "q=保障性租赁住房").await;
    assert_eq!(housing["items"][0]["region_code"], "450000");
    assert!(housing["items"][0]["title"].as_str().unwrap().contains("6万套"));
    let insurance = search(&app, "q=社保").await;
    assert!(
        titles(&insurance).iter().any(|t| t.contains("社会保险")),
        "{:?}",
        titles(&insurance)
    );
    let hukou = search(&app, "q=户口").await;
    assert!(
        titles(&hukou).iter().any(|t| t.contains("落户")),
        "{:?}",
        titles(&hukou)
    );
    app.stop().await;
}

#[tokio::test]
async fn no_hit_is_an_empty_page_and_filters_combine() {
    let app = TestApp::spawn().await;
    let none = search(&app, "q=火星移民").await;
    assert_eq!(none["total"], 0);
    assert_eq!(none["items"], json!([]));
    let education = search(&app, "category=education&region_code=320115").await;
    assert!(education["total"].as_u64().unwrap() >= 1);
    assert!(
        education["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["category"] == "education")
    );
    let unknown = app.get("/api/v1/policies?region_code=999999").await;
    assert_problem(unknown, StatusCode::NOT_FOUND, "REGION_NOT_FOUND").await;
    app.stop().await;
}

async fn create_draft(app: &TestApp, editor: &str, region: &str, title: &str) -> Value {
    let body = json!({
        "title": title,
        "summary": "在县城打零工的农民工可以到零工驿站登记，免费找活干。",
        "body": "## 怎么办\n\n带上身份证到街道零工驿站登记。",
        "category": "employment",
        "region_code": region,
        "issuer": "南京市江宁区人社局",
        "tags": ["零工", "找活"],
    });
    let response = app.post_json("/api/v1/staff/policies", &body, Some(editor)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn lifecycle(app: &TestApp, editor: &str, id: &str, action: &str, version: i64) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/staff/policies/{id}/{action}"),
        &json!({"expected_version": version}),
        Some(editor),
    )
    .await
}

#[tokio::test]
async fn editors_draft_publish_and_archive_with_versions() {
    let app = TestApp::spawn().await;
    let admin = app.admin("320000").await;
    let editor = app
        .staff(&admin, "jiangning.editor", &["policy_editor"], "320115")
        .await;
    let draft = create_draft(&app, &editor.access_token, "320115", "江宁区夜市摊位免费登记").await;
    let id = draft["id"].as_str().unwrap();
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["version"], 1);

    assert_eq!(
        app.get(&format!("/api/v1/policies/{id}")).await.status(),
        StatusCode::NOT_FOUND,
        "drafts are not public"
    );
    assert_eq!(
        app.get_with(&format!("/api/v1/policies/{id}"), &editor.access_token)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(search(&app, "q=夜市摊位").await["total"], 0);

    let stale = lifecycle(&app, &editor.access_token, id, "publish", 7).await;
    let body = assert_problem(stale, StatusCode::CONFLICT, "VERSION_CONFLICT").await;
    assert_eq!(body["details"]["current_version"], 1);
    let published = lifecycle(&app, &editor.access_token, id, "publish", 1).await;
    assert_eq!(published.status(), StatusCode::OK);
    let published: Value = published.json().await.unwrap();
    assert_eq!(
        (published["status"].as_str(), published["version"].as_i64()),
        (Some("published"), Some(2))
    );
    assert_eq!(
        search(&app, "q=夜市摊位").await["total"],
        1,
        "the answer given before the publication is not given after it"
    );
    let found = search(&app, "q=夜市摊位&region_code=320115").await;
    assert_eq!(found["items"][0]["id"], id);
    assert_eq!(
        search(&app, "q=夜市摊位&region_code=320116").await["total"],
        0,
        "not for the neighbouring county"
    );

    let update = json!({
        "expected_version": 2, "title": "江宁区夜市摊位登记（更新）", "summary": "更新后的说明。", "body": "正文",
        "category": "employment", "region_code": "320115", "issuer": "南京市江宁区人社局"
    });
    let updated = app
        .client
        .put(app.url(&format!("/api/v1/staff/policies/{id}")))
        .bearer_auth(&editor.access_token)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.json::<Value>().await.unwrap()["version"], 3);
    let replayed = app
        .client
        .put(app.url(&format!("/api/v1/staff/policies/{id}")))
        .bearer_auth(&editor.access_token)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_problem(replayed, StatusCode::CONFLICT, "VERSION_CONFLICT").await;

    assert_eq!(
        lifecycle(&app, &editor.access_token, id, "archive", 3).await.status(),
        StatusCode::OK
    );
    assert_eq!(search(&app, "q=夜市摊位").await["total"], 0);
    let again = lifecycle(&app, &editor.access_token, id, "publish", 4).await;
    assert_problem(again, StatusCode::CONFLICT, "INVALID_STATE").await;
    app.stop().await;
}

#[tokio::test]
async fn an_editor_scoped_to_guangxi_cannot_edit_jiangsu_policies() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let guangxi = app.staff(&admin, "guangxi.editor", &["policy_editor"], "450000").await;
    let jiangsu_policy = search(&app, "q=创业&region_code=320115").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let archive = lifecycle(&app, &guangxi.access_token, &jiangsu_policy, "archive", 1).await;
    assert_problem(archive, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;
    let body = json!({
        "title": "x", "summary": "x", "body": "x", "category": "employment", "region_code": "320115", "issuer": "x"
    });
    let create = app
        .post_json("/api/v1/staff/policies", &body, Some(&guangxi.access_token))
        .await;
    assert_problem(create, StatusCode::FORBIDDEN, "OUT_OF_REGION_SCOPE").await;
    let reviewer = app.staff(&admin, "not.an.editor", &["reviewer"], "450000").await;
    let create = app
        .post_json("/api/v1/staff/policies", &body, Some(&reviewer.access_token))
        .await;
    assert_problem(create, StatusCode::FORBIDDEN, "ROLE_REQUIRED").await;
    app.stop().await;
}

/// A draft is read only by the policy editors whose region covers it: not
/// by an editor of another county, nor by other staff of its own county,
/// and not in another editor's list.
#[tokio::test]
async fn a_policy_editor_does_not_see_another_regions_drafts() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let jiangning = app
        .staff(&admin, "jiangning.writer", &["policy_editor"], "320115")
        .await;
    let liuhe = app.staff(&admin, "liuhe.writer", &["policy_editor"], "320116").await;
    let nanjing = app.staff(&admin, "nanjing.writer", &["policy_editor"], "320100").await;
    let reviewer = app.staff(&admin, "jiangning.reader", &["reviewer"], "320115").await;
    let draft = create_draft(&app, &jiangning.access_token, "320115", "江宁区零工驿站试点").await;
    let path = format!("/api/v1/policies/{}", draft["id"].as_str().unwrap());

    for outsider in [&liuhe, &reviewer] {
        assert_problem(
            app.get_with(&path, &outsider.access_token).await,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
    }
    for insider in [&jiangning, &nanjing] {
        assert_eq!(
            app.get_with(&path, &insider.access_token).await.status(),
            StatusCode::OK
        );
    }
    let listed = app
        .get_json_with("/api/v1/staff/policies?status=draft", &liuhe.access_token)
        .await;
    assert_eq!(listed["total"], 0, "{listed}");
    let listed = app
        .get_json_with("/api/v1/staff/policies?status=draft", &nanjing.access_token)
        .await;
    assert_eq!(listed["total"], 1, "{listed}");
    assert_problem(
        app.get_with("/api/v1/staff/policies", &reviewer.access_token).await,
        StatusCode::FORBIDDEN,
        "ROLE_REQUIRED",
    )
    .await;
    app.stop().await;
}

/// Polls `query` on `app` until `found` holds, for at most five seconds.
async fn eventually(app: &TestApp, query: &str, found: impl Fn(&Value) -> bool) -> bool {
    for _ in 0..50 {
        if found(&search(app, query).await) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn a_publication_through_one_instance_reaches_the_other_within_seconds() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_beside(&first).await;
    let admin = first.admin("320000").await;
    let editor = first.staff(&admin, "shared.editor", &["policy_editor"], "320000").await;
    let draft = create_draft(&first, &editor.access_token, "320000", "江苏省夜校技能提升计划").await;
    let id = draft["id"].as_str().unwrap().to_owned();
    assert_eq!(
        lifecycle(&first, &editor.access_token, &id, "publish", 1)
            .await
            .status(),
        StatusCode::OK
    );

    let has = |page: &Value| page["items"].as_array().unwrap().iter().any(|i| i["id"] == id.as_str());
    assert!(
        eventually(&second, "q=夜校技能提升", has).await,
        "published on one instance, not found on the other"
    );
    assert_eq!(
        lifecycle(&first, &editor.access_token, &id, "archive", 2)
            .await
            .status(),
        StatusCode::OK
    );
    assert!(
        eventually(&second, "q=夜校技能提升", |page| !has(page)).await,
        "archived, still found on the other"
    );
    second.stop().await;
    first.stop().await;
}

/// Each change makes a version, listed with who made it; editors of other
/// regions do not find the list, other staff are refused it.
#[tokio::test]
async fn a_policys_versions_say_who_created_published_and_archived_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin("320000").await;
    let editor = app
        .staff(&admin, "jiangning.versions", &["policy_editor"], "320115")
        .await;
    let liuhe = app.staff(&admin, "liuhe.versions", &["policy_editor"], "320116").await;
    let reviewer = app.staff(&admin, "jiangning.reviews", &["reviewer"], "320115").await;
    let draft = create_draft(&app, &editor.access_token, "320115", "江宁区零工驿站版本").await;
    let id = draft["id"].as_str().unwrap();
    for (action, version) in [("publish", 1), ("archive", 2)] {
        let changed = lifecycle(&app, &editor.access_token, id, action, version).await;
        assert_eq!(changed.status(), StatusCode::OK, "{action}");
    }
    let path = format!("/api/v1/staff/policies/{id}/versions");
    let versions = app.get_json_with(&path, &editor.access_token).await;
    let rows: Vec<(i64, &str, &str)> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["action"].as_str().unwrap(),
                v["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (1, "create", "draft"),
            (2, "publish", "published"),
            (3, "archive", "archived")
        ]
    );
    assert_eq!(versions[1]["by"], "测试jiangning.versions");
    assert!(versions[1]["at"].is_string(), "{versions}");
    assert_problem(
        app.get_with(&path, &liuhe.access_token).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_problem(
        app.get_with(&path, &reviewer.access_token).await,
        StatusCode::FORBIDDEN,
        "ROLE_REQUIRED",
    )
    .await;
    app.stop().await;
}

/// A restarted server opens the index it left in its directory and reads
/// only what changed since its last commit: a publication made through
/// another instance while it was down is found at once, and a row changed
/// behind the follower's back (its `updated_at` set long before) still
/// shows what was indexed, which a rebuild from the database would have
/// replaced.
#[tokio::test]
async fn a_restarted_server_opens_its_index_from_disk_and_catches_up() {
    let mut first = TestApp::spawn().await;
    let admin = first.admin("320000").await;
    let editor = first
        .staff(&admin, "restart.editor", &["policy_editor"], "320000")
        .await;
    let kept = create_draft(&first, &editor.access_token, "320000", "江苏省夜校技能提升计划").await;
    let kept = kept["id"].as_str().unwrap().to_owned();
    let published = lifecycle(&first, &editor.access_token, &kept, "publish", 1).await;
    assert_eq!(published.status(), StatusCode::OK);
    let index_dir = first.search_index_dir();
    first.halt().await;

    let second = TestApp::spawn_beside(&first).await;
    let editor = second.login_staff("restart.editor", "staff-password-0001").await;
    let added = create_draft(&second, &editor.access_token, "320000", "江苏省零工驿站登记办法").await;
    let added = added["id"].as_str().unwrap().to_owned();
    let published = lifecycle(&second, &editor.access_token, &added, "publish", 1).await;
    assert_eq!(published.status(), StatusCode::OK);
    let db = second.db().await;
    let behind = format!(
        "UPDATE policy SET title = '江苏省改名后的标题', updated_at = '2020-01-01T00:00:00+00:00' WHERE id = '{kept}'"
    );
    db.execute_raw(Statement::from_string(db.get_database_backend(), behind))
        .await
        .unwrap();

    let restarted = TestApp::spawn_beside_with(&second, |vars| {
        vars.insert("SHIMINHUA_SEARCH_INDEX_DIR", index_dir.clone());
    })
    .await;
    let page = search(&restarted, "q=零工驿站登记办法").await;
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == added.as_str()),
        "published while it was down, not found after the restart: {page}"
    );
    let page = search(&restarted, "q=夜校技能提升").await;
    let found = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == kept.as_str());
    assert_eq!(
        found.map(|i| i["title"].as_str().unwrap()),
        Some("江苏省夜校技能提升计划"),
        "the index was rebuilt, not opened: {page}"
    );
    restarted.stop().await;
    second.stop().await;
    first.stop().await;
}
