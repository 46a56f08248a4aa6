//! Documents are personal data: only the staff member who works the case
//! fetches them, each fetch is audited, they are sent so that nothing keeps
//! or renders them, and they are encrypted on disk.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    applications::{JPEG, apply, complete_application, guangxi_worker},
    support::{
        TestApp,
        app::{Session, redis_url},
        stored_files::{FileStore, s3_server},
    },
};

async fn submitted_id_card(app: &TestApp, code: &str, id_number: &str, submit: bool) -> (String, String) {
    let worker = guangxi_worker(app, code, id_number).await;
    let mut body = complete_application(app, &worker).await;
    body["submit"] = json!(submit);
    let created = apply(app, &worker, code, &body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    (
        created["id"].as_str().unwrap().to_owned(),
        body["attachment_ids"][0].as_str().unwrap().to_owned(),
    )
}

fn refused(status: StatusCode) -> bool {
    status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND
}

#[tokio::test]
async fn only_the_reviewer_of_the_case_downloads_an_id_card_and_is_audited() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let owner = guangxi_worker(&app, "applicant", "450102198801011235").await;
    let body = complete_application(&app, &owner).await;
    let created: Value = apply(&app, &owner, "k", &body).await.json().await.unwrap();
    let application = created["id"].as_str().unwrap();
    let id_card = body["attachment_ids"][0].as_str().unwrap();
    let path = format!("/api/v1/uploads/{id_card}");

    for roles in [["policy_editor"], ["finance"]] {
        let staff = app.staff(&admin, &format!("docs.{}", roles[0]), &roles, "450102").await;
        let status = app.get_with(&path, &staff.access_token).await.status();
        assert!(refused(status), "{roles:?} got {status}");
    }
    // The administrator is refused the applicant in clear, and so the ID card.
    let reveal = app
        .post_json(
            &format!("/api/v1/staff/applications/{application}/reveal"),
            &json!({"reason": "核对身份证照片"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(reveal.status(), StatusCode::FORBIDDEN);
    let status = app.get_with(&path, &admin.access_token).await.status();
    assert!(refused(status), "the admin got {status}");

    let reviewer = app.staff(&admin, "docs.reviewer", &["reviewer"], "450102").await;
    let fetched = app.get_with(&path, &reviewer.access_token).await;
    assert_eq!(fetched.status(), StatusCode::OK);
    let headers = fetched.headers().clone();
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"id_card-") && disposition.ends_with(".jpg\""),
        "{disposition}"
    );
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), JPEG);

    let audit = app
        .get_json_with("/api/v1/admin/audit-logs?action=document.download", &admin.access_token)
        .await;
    assert_eq!(audit["total"], 1, "the reviewer's download only: {audit}");
    let entry = &audit["items"][0];
    assert_eq!(entry["actor_type"], "staff");
    assert_eq!(entry["target_type"], "upload");
    assert_eq!(entry["target_id"], id_card);
    assert_eq!(entry["region_code"], "450102");
    assert_eq!(entry["details"]["application_id"], application);
    assert_eq!(entry["details"]["purpose"], "id_card");

    // The owner's own downloads keep working, with the same headers.
    let own = app.get_with(&path, &owner.access_token).await;
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(own.headers()["cache-control"], "no-store");
    assert_eq!(own.bytes().await.unwrap().as_ref(), JPEG);
    app.stop().await;
}

#[tokio::test]
async fn a_draft_and_a_case_of_another_region_keep_their_documents() {
    let app = TestApp::spawn().await;
    let admin = app.admin("000000").await;
    let (_, draft_card) = submitted_id_card(&app, "drafter", "450102198801011235", false).await;
    let (_, submitted_card) = submitted_id_card(&app, "submitter", "450102199001011231", true).await;
    let reviewer = app.staff(&admin, "docs.here", &["reviewer"], "450102").await;
    let elsewhere = app.staff(&admin, "docs.there", &["reviewer"], "450103").await;
    let inspector = app.staff(&admin, "docs.inspector", &["inspector"], "450102").await;

    let draft = app
        .get_with(&format!("/api/v1/uploads/{draft_card}"), &reviewer.access_token)
        .await;
    assert_eq!(draft.status(), StatusCode::NOT_FOUND, "a draft is not a case yet");
    let submitted = format!("/api/v1/uploads/{submitted_card}");
    assert_eq!(
        app.get_with(&submitted, &reviewer.access_token).await.status(),
        StatusCode::OK
    );
    for (who, staff) in [("another region", &elsewhere), ("an inspector", &inspector)] {
        let status = app.get_with(&submitted, &staff.access_token).await.status();
        assert!(refused(status), "{who} got {status}");
    }
    app.stop().await;
}

/// Every file under `dir`, recursively.
/// Uploads `photo` as the worker's ID card; its id.
pub async fn upload_id_card(app: &TestApp, worker: &Session, photo: &[u8]) -> String {
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(photo.to_vec()).file_name("id.jpg"),
        )
        .text("purpose", "id_card");
    let uploaded = app
        .client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&worker.access_token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    uploaded.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn id_card_images_are_not_kept_in_clear_on_disk() {
    let app = TestApp::spawn().await;
    let worker = app.login_worker("photographer").await;
    let photo: Vec<u8> = JPEG.iter().copied().chain(*b"ID CARD 450102198801011235").collect();
    let uploaded = upload_id_card(&app, &worker, &photo).await;

    let keys = app.files.keys().await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let on_disk = app.files.read(&keys[0]).await.unwrap();
    assert!(!on_disk.starts_with(&JPEG[..3]), "stored as a JPEG");
    assert!(
        !on_disk.windows(18).any(|window| window == b"450102198801011235"),
        "the ID number is readable on disk"
    );
    let own = app
        .get_with(&format!("/api/v1/uploads/{uploaded}"), &worker.access_token)
        .await;
    assert_eq!(own.bytes().await.unwrap().as_ref(), photo.as_slice());
    app.stop().await;
}

/// Two instances behind a balancer share Redis and a bucket, as production
/// does; in every pass, on the local S3-compatible server.
#[tokio::test]
async fn a_document_uploaded_through_one_instance_downloads_through_another() {
    let bucket = FileStore::bucket(s3_server()).await;
    let first = TestApp::spawn_with(|vars| {
        vars.insert("REDIS_URL", redis_url());
        vars.extend(bucket.vars());
    })
    .await;
    let second = TestApp::spawn_beside_with(&first, |vars| vars.extend(bucket.vars())).await;
    let worker = first.login_worker("two-instances").await;
    let photo: Vec<u8> = JPEG.iter().copied().chain(*b"ID CARD 450102198801011235").collect();
    let uploaded = upload_id_card(&first, &worker, &photo).await;

    let fetched = second
        .get_with(&format!("/api/v1/uploads/{uploaded}"), &worker.access_token)
        .await;
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), photo.as_slice());

    let keys = bucket.keys().await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let stored = bucket.read(&keys[0]).await.unwrap();
    assert!(
        !stored.windows(18).any(|window| window == b"450102198801011235"),
        "the object store holds ciphertext only"
    );
    second.stop().await;
    first.stop().await;
}
