//! Uploads in an S3-compatible object store (MinIO, Alibaba OSS, Tencent
//! COS, Huawei OBS, AWS S3), so that every instance behind the balancer reads
//! what any of them stored. Documents are encrypted by the service before
//! they get here (`services/uploads.rs`), so the store only ever holds
//! ciphertext. Requests are signed with AWS Signature V4 by `rusty-s3`,
//! which signs and leaves the HTTP to the client the service already has.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use secrecy::ExposeSecret;

use super::files::{FileStore, checked_key};
use crate::config::S3Config;

/// How long a signed request stays valid: it is sent at once.
const SIGNED_FOR: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// A 10 MB document over a slow link inside the data centre.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub struct ObjectStore {
    bucket: Bucket,
    credentials: Credentials,
    http: reqwest::Client,
}

impl ObjectStore {
    pub fn new(config: &S3Config) -> anyhow::Result<Self> {
        let style = if config.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(
            config.endpoint.parse()?,
            style,
            config.bucket.clone(),
            config.region.clone(),
        )?;
        let credentials = Credentials::new(config.access_key.clone(), config.secret_key.expose_secret().to_owned());
        super::outbound::install_tls_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Self {
            bucket,
            credentials,
            http,
        })
    }
}

fn failed(operation: &str, status: StatusCode) -> std::io::Error {
    let kind = if status == StatusCode::NOT_FOUND {
        std::io::ErrorKind::NotFound
    } else {
        std::io::ErrorKind::Other
    };
    std::io::Error::new(kind, format!("the object store answered {operation} with {status}"))
}

fn unreachable(err: reqwest::Error) -> std::io::Error {
    std::io::Error::other(format!("the object store did not answer: {}", err.without_url()))
}

#[async_trait]
impl FileStore for ObjectStore {
    async fn put(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        let url = self
            .bucket
            .put_object(Some(&self.credentials), checked_key(key)?)
            .sign(SIGNED_FOR);
        let response = self
            .http
            .put(url)
            .body(bytes.to_vec())
            .send()
            .await
            .map_err(unreachable)?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(failed("PUT", response.status()))
        }
    }

    async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        let url = self
            .bucket
            .get_object(Some(&self.credentials), checked_key(key)?)
            .sign(SIGNED_FOR);
        let response = self.http.get(url).send().await.map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(failed("GET", response.status()));
        }
        Ok(response.bytes().await.map_err(unreachable)?.to_vec())
    }

    async fn delete(&self, key: &str) -> std::io::Result<()> {
        let url = self
            .bucket
            .delete_object(Some(&self.credentials), checked_key(key)?)
            .sign(SIGNED_FOR);
        let response = self.http.delete(url).send().await.map_err(unreachable)?;
        // S3 answers 204 whether or not the object was there; some
        // compatible stores answer 404 for a missing one, which is as good.
        if response.status().is_success() || response.status() == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(failed("DELETE", response.status()))
        }
    }
}
