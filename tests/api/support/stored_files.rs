//! What the server stored of uploads, read from where it keeps them: the
//! test's upload directory, or, in the object-store pass
//! (`SHIMINHUA_TEST_S3_ENDPOINT`), a bucket of its own on the local
//! S3-compatible server, read with signed requests as any client would.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle, actions::ListObjectsV2};

/// Where one test server keeps its uploads.
#[derive(Debug, Clone)]
pub enum FileStore {
    Directory(PathBuf),
    Bucket { endpoint: String, bucket: String },
}

/// The local object store of the suite's object-store pass, if this is it.
fn s3_endpoint() -> Option<String> {
    std::env::var("SHIMINHUA_TEST_S3_ENDPOINT")
        .ok()
        .filter(|url| !url.is_empty())
}

/// The local S3-compatible server `scripts/services.sh` starts, which the
/// tests that need an object store use in every pass.
pub fn s3_server() -> String {
    std::env::var("SHIMINHUA_TEST_S3_SERVER").unwrap_or_else(|_| "http://127.0.0.1:9100".to_owned())
}

/// The access key pair the tests sign with.
pub const S3_ACCESS_KEY: &str = "shiminhua-test";
pub const S3_SECRET_KEY: &str = "shiminhua-test-secret";
const SIGNED_FOR: Duration = Duration::from_secs(60);

impl FileStore {
    /// A fresh bucket on the pass's object store, or `dir`.
    pub async fn create(dir: &Path) -> FileStore {
        match s3_endpoint() {
            None => FileStore::Directory(dir.to_owned()),
            Some(endpoint) => FileStore::bucket(endpoint).await,
        }
    }

    /// A fresh bucket of its own on the object store at `endpoint`.
    pub async fn bucket(endpoint: String) -> FileStore {
        api::infra::outbound::install_tls_provider();
        let bucket = format!("shiminhua-test-{}", uuid::Uuid::new_v4().simple());
        // Created unsigned: moto takes a presigned URL's query for a bucket
        // sub-resource, and it checks no signature anyway.
        let created = reqwest::Client::new()
            .put(format!("{endpoint}/{bucket}"))
            .header(reqwest::header::CONTENT_LENGTH, "0")
            .send()
            .await
            .unwrap_or_else(|err| {
                panic!(
                    "the local object store at {endpoint} did not answer ({err}): scripts/test.sh starts one, or set SHIMINHUA_TEST_S3_SERVER"
                )
            });
        assert!(created.status().is_success(), "creating a bucket: {}", created.status());
        FileStore::Bucket { endpoint, bucket }
    }

    /// The server's environment for this store.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        match self {
            FileStore::Directory(dir) => vec![("SHIMINHUA_UPLOAD_DIR", dir.display().to_string())],
            FileStore::Bucket { endpoint, bucket } => vec![
                ("SHIMINHUA_S3_ENDPOINT", endpoint.clone()),
                ("SHIMINHUA_S3_BUCKET", bucket.clone()),
                ("SHIMINHUA_S3_ACCESS_KEY", S3_ACCESS_KEY.to_owned()),
                ("SHIMINHUA_S3_SECRET_KEY", S3_SECRET_KEY.to_owned()),
            ],
        }
    }

    fn signer(&self) -> (Bucket, Credentials) {
        let FileStore::Bucket { endpoint, bucket } = self else {
            unreachable!("only a bucket is signed for")
        };
        let s3 = Bucket::new(endpoint.parse().unwrap(), UrlStyle::Path, bucket.clone(), "us-east-1").unwrap();
        (s3, Credentials::new(S3_ACCESS_KEY, S3_SECRET_KEY))
    }

    /// Every stored key.
    pub async fn keys(&self) -> Vec<String> {
        match self {
            FileStore::Directory(dir) => files_under(dir)
                .into_iter()
                .map(|path| path.strip_prefix(dir).unwrap().display().to_string())
                .collect(),
            FileStore::Bucket { .. } => {
                let (s3, credentials) = self.signer();
                let url = s3.list_objects_v2(Some(&credentials)).sign(SIGNED_FOR);
                let listing = reqwest::get(url).await.unwrap().text().await.unwrap();
                ListObjectsV2::parse_response(&listing)
                    .unwrap()
                    .contents
                    .into_iter()
                    .map(|object| object.key)
                    .collect()
            }
        }
    }

    /// The stored bytes of `key`, `None` when nothing is stored under it.
    pub async fn read(&self, key: &str) -> Option<Vec<u8>> {
        match self {
            FileStore::Directory(dir) => std::fs::read(dir.join(key)).ok(),
            FileStore::Bucket { .. } => {
                let (s3, credentials) = self.signer();
                let url = s3.get_object(Some(&credentials), key).sign(SIGNED_FOR);
                let response = reqwest::get(url).await.unwrap();
                if response.status().is_success() {
                    Some(response.bytes().await.unwrap().to_vec())
                } else {
                    None
                }
            }
        }
    }

    /// Replaces what is stored under `key`, as an older release would have stored it.
    pub async fn overwrite(&self, key: &str, bytes: &[u8]) {
        match self {
            FileStore::Directory(dir) => std::fs::write(dir.join(key), bytes).unwrap(),
            FileStore::Bucket { .. } => {
                let (s3, credentials) = self.signer();
                let response = reqwest::Client::new()
                    .put(s3.put_object(Some(&credentials), key).sign(SIGNED_FOR))
                    .body(bytes.to_vec())
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
            }
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}
