use std::collections::HashMap;

use api::{
    config::Config,
    startup::{self, RunningServer},
};
use reqwest::{Response, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use super::{
    fake_wechat::{self, FakeWechat},
    stored_files::FileStore,
};

/// The operator's metrics token every test server is given.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789abcdef";

/// Which storage the suite runs on, from `SHIMINHUA_TEST_BACKEND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite + the in-process store: the embedded default.
    Embedded,
    /// PostgreSQL + Redis: production's combination.
    External,
}

impl Backend {
    pub fn from_env() -> Self {
        match std::env::var("SHIMINHUA_TEST_BACKEND").as_deref() {
            Ok("external") => Backend::External,
            Ok("embedded") | Err(_) => Backend::Embedded,
            Ok(other) => panic!("SHIMINHUA_TEST_BACKEND must be embedded or external, not {other:?}"),
        }
    }
}

pub fn redis_url() -> String {
    std::env::var("SHIMINHUA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// True when the suite runs against a Redis Cluster (its nodes, comma-separated).
pub fn redis_is_cluster() -> bool {
    redis_url().contains(',')
}

/// The address of one Redis node, for the drills that cut Redis away
/// through a proxy: a proxy stands for one node, so in the Redis Cluster
/// pass they cut the single node that `scripts/services.sh` also runs.
pub fn redis_node_address() -> std::net::SocketAddr {
    let url = if redis_is_cluster() {
        std::env::var("SHIMINHUA_TEST_REDIS_NODE_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
    } else {
        redis_url()
    };
    url.trim_start_matches("redis://")
        .trim_end_matches('/')
        .parse()
        .expect("the Redis URL is redis://host:port with an IP address")
}

fn postgres_admin_url() -> String {
    std::env::var("SHIMINHUA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Where PostgreSQL listens, from the admin URL (an IP address and port).
pub fn postgres_address() -> std::net::SocketAddr {
    let url = postgres_admin_url();
    let (_, rest) = url.rsplit_once('@').unwrap_or(("", url.as_str()));
    let (address, _) = rest.split_once('/').unwrap_or((rest, ""));
    address
        .parse()
        .unwrap_or_else(|_| panic!("SHIMINHUA_TEST_POSTGRES_URL names its host by IP address and port: {url}"))
}

/// A database that exists for one test only.
enum TestDatabase {
    Sqlite { _dir: tempfile::TempDir },
    Postgres { name: String },
}

impl TestDatabase {
    async fn create(backend: Backend) -> (Self, String) {
        match backend {
            Backend::Embedded => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
                (TestDatabase::Sqlite { _dir: dir }, url)
            }
            Backend::External => {
                let admin_url = postgres_admin_url();
                let admin = Database::connect(&admin_url).await.unwrap_or_else(|err| {
                    panic!("PostgreSQL is required for SHIMINHUA_TEST_BACKEND=external and did not answer at {admin_url}: {err}")
                });
                let name = format!("shiminhua_test_{}", uuid::Uuid::new_v4().simple());
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("creating the test database");
                let (base, _) = admin_url.rsplit_once('/').expect("the admin URL names a database");
                (TestDatabase::Postgres { name: name.clone() }, format!("{base}/{name}"))
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let TestDatabase::Postgres { name } = self else {
            return;
        };
        let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        // Drop cannot await, and the test's runtime may be shutting down: use
        // a runtime of our own on a thread of our own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;

            runtime.block_on(async {
                let admin = Database::connect(&postgres_admin_url()).await?;
                admin.execute_unprepared(&statement).await?;
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop the test database {name}");
        }
    }
}

/// The data key of every test server.
pub const DATA_KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// The lookup-hash key of every test server.
pub const LOOKUP_KEY: &str = "h1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

/// One running service with its own database, Redis key prefix and fake WeChat.
pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub database_url: String,
    pub wechat: FakeWechat,
    server: Option<RunningServer>,
    /// Dropped last: the database outlives the server. `None` for a second
    /// instance on another app's database.
    _database: Option<TestDatabase>,
    /// Where its uploads are kept: `_uploads`, or a bucket in the object-store pass.
    pub files: FileStore,
    _uploads: tempfile::TempDir,
    /// Its own policy search index, as every instance has.
    search_index: tempfile::TempDir,
    vars: Vars,
}

/// The tokens of a signed-in worker or staff member.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub body: Value,
}

impl Session {
    fn from_body(body: Value) -> Session {
        Session {
            access_token: body["access_token"].as_str().expect("an access token").to_owned(),
            refresh_token: body["refresh_token"].as_str().unwrap_or_default().to_owned(),
            body,
        }
    }
}

pub type Vars = HashMap<&'static str, String>;

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server; `customize` may change its environment variables.
    pub async fn spawn_with(customize: impl FnOnce(&mut Vars)) -> TestApp {
        let (database, database_url) = TestDatabase::create(Backend::from_env()).await;
        Self::start(Some(database), database_url, customize).await
    }

    /// A server on a PostgreSQL database of its own, whatever the suite's
    /// backend, reached at the address `reach` gives for PostgreSQL's (a
    /// proxy the test can cut): for drills that take the database away.
    pub async fn spawn_on_postgres(
        reach: impl FnOnce(std::net::SocketAddr) -> std::net::SocketAddr,
        customize: impl FnOnce(&mut Vars),
    ) -> TestApp {
        let (database, url) = TestDatabase::create(Backend::External).await;
        let server = postgres_address();
        let reached = url.replace(&server.to_string(), &reach(server).to_string());
        Self::start(Some(database), reached, customize).await
    }

    /// A second instance on the same database and key-value store prefix, as
    /// behind a load balancer.
    pub async fn spawn_beside(other: &TestApp) -> TestApp {
        Self::spawn_beside_with(other, |_| {}).await
    }

    /// As `spawn_beside`; `customize` may change its environment variables.
    pub async fn spawn_beside_with(other: &TestApp, customize: impl FnOnce(&mut Vars)) -> TestApp {
        let shared = other.vars.clone();
        Self::start(None, other.database_url.clone(), move |vars| {
            for name in ["SHIMINHUA_REDIS_PREFIX", "REDIS_URL"] {
                match shared.get(name) {
                    Some(value) => vars.insert(name, value.clone()),
                    None => vars.remove(name),
                };
            }
            customize(vars);
        })
        .await
    }

    async fn start(database: Option<TestDatabase>, database_url: String, customize: impl FnOnce(&mut Vars)) -> TestApp {
        let backend = Backend::from_env();
        let uploads = tempfile::tempdir().expect("a temporary directory");
        let search_index = tempfile::tempdir().expect("a temporary directory");
        let files = FileStore::create(uploads.path()).await;
        let wechat = FakeWechat::start().await;
        let mut vars: Vars = HashMap::from([
            ("SHIMINHUA_BIND", "127.0.0.1:0".to_owned()),
            ("DATABASE_URL", database_url.clone()),
            ("SHIMINHUA_WECHAT_MODE", "live".to_owned()),
            ("SHIMINHUA_WECHAT_APPID", fake_wechat::APP_ID.to_owned()),
            ("SHIMINHUA_WECHAT_SECRET", fake_wechat::APP_SECRET.to_owned()),
            ("SHIMINHUA_WECHAT_API_BASE", wechat.base_url.clone()),
            ("SHIMINHUA_WECHAT_TIMEOUT_MS", "1000".to_owned()),
            (
                "SHIMINHUA_REDIS_PREFIX",
                format!("shiminhua-test:{}:", uuid::Uuid::new_v4().simple()),
            ),
            (
                "SHIMINHUA_JWT_SECRET",
                "test-jwt-secret-0123456789abcdef0123456789".to_owned(),
            ),
            ("SHIMINHUA_DATA_KEY", DATA_KEY.to_owned()),
            ("SHIMINHUA_LOOKUP_KEY", LOOKUP_KEY.to_owned()),
            // The tests' webhook receivers listen on loopback.
            ("SHIMINHUA_WEBHOOK_ALLOW_LOOPBACK", "1".to_owned()),
            ("SHIMINHUA_METRICS_TOKEN", METRICS_TOKEN.to_owned()),
            ("SHIMINHUA_SEARCH_INDEX_DIR", search_index.path().display().to_string()),
        ]);
        if backend == Backend::External {
            vars.insert("REDIS_URL", redis_url());
        }
        vars.extend(files.vars());
        customize(&mut vars);
        let config = Config::from_lookup(|name| vars.get(name).cloned())
            .expect("the test configuration is valid")
            .config;
        api::telemetry::init_tracing(config.log_format);
        let server = startup::start(config, std::future::pending())
            .await
            .expect("the test server starts");
        TestApp {
            base_url: format!("http://{}", server.addr),
            client: reqwest::Client::new(),
            database_url,
            wechat,
            server: Some(server),
            _database: database,
            files,
            _uploads: uploads,
            search_index,
            vars,
        }
    }

    /// Where this server keeps its policy search index: a server started
    /// with it as `SHIMINHUA_SEARCH_INDEX_DIR` opens what this one left.
    pub fn search_index_dir(&self) -> String {
        self.search_index.path().display().to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the request is answered")
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("a JSON body")
    }

    pub async fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the request is answered")
    }

    pub async fn put_json(&self, path: &str, body: &Value, token: &str) -> Response {
        self.client
            .put(self.url(path))
            .json(body)
            .bearer_auth(token)
            .send()
            .await
            .expect("the request is answered")
    }

    pub async fn get_with(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("the request is answered")
    }

    pub async fn get_json_with(&self, path: &str, token: &str) -> Value {
        let response = self.get_with(path, token).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("a JSON body")
    }

    /// The metrics as the operator's scraper reads them, with the token.
    pub async fn metrics(&self) -> String {
        let response = self.get_with("/metrics", METRICS_TOKEN).await;
        assert_eq!(response.status(), StatusCode::OK, "GET /metrics with the token");
        response.text().await.expect("the metrics")
    }

    /// The address of the metrics listener, when `SHIMINHUA_METRICS_BIND` set one.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.server.as_ref().and_then(|server| server.metrics_addr)
    }

    /// The server's address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.as_ref().expect("the server runs").addr
    }

    /// Signs a worker in through the fake WeChat with login code `code`.
    pub async fn login_worker(&self, code: &str) -> Session {
        let response = self
            .post_json("/api/v1/auth/wechat/login", &json!({ "code": code }), None)
            .await;
        assert_eq!(response.status(), StatusCode::OK, "worker login with {code}");
        Session::from_body(response.json().await.unwrap())
    }

    /// Creates an administrator with `shiminhua create-admin`, as an operator would.
    pub fn create_admin(&self, username: &str, password: &str, region: &str) {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shiminhua"))
            .args(["create-admin", "--username", username, "--region", region])
            .env("DATABASE_URL", &self.database_url)
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs");
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "create-admin: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pub async fn login_staff(&self, username: &str, password: &str) -> Session {
        let response = self
            .post_json(
                "/api/v1/staff/auth/login",
                &json!({ "username": username, "password": password }),
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "staff login of {username}");
        Session::from_body(response.json().await.unwrap())
    }

    /// An administrator of `region`, signed in.
    pub async fn admin(&self, region: &str) -> Session {
        let username = format!("admin{region}");
        self.create_admin(&username, "admin-password-0001", region);
        self.login_staff(&username, "admin-password-0001").await
    }

    /// A staff member with `roles` in `region`, created by `admin` and signed in.
    pub async fn staff(&self, admin: &Session, username: &str, roles: &[&str], region: &str) -> Session {
        let body = json!({
            "username": username,
            "display_name": format!("测试{username}"),
            "password": "staff-password-0001",
            "roles": roles,
            "region_code": region,
        });
        let response = self
            .post_json("/api/v1/admin/staff", &body, Some(&admin.access_token))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "creating {username}");
        self.login_staff(username, "staff-password-0001").await
    }

    /// A direct connection to the test's database, for checks no API shows
    /// (what is stored at rest).
    pub async fn db(&self) -> sea_orm::DatabaseConnection {
        Database::connect(&self.database_url).await.expect("the test database")
    }

    /// Stops the server and keeps its database, for another instance to go on with.
    pub async fn halt(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("the server stops cleanly");
        }
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("the server stops cleanly");
        }
    }
}

/// Asserts a problem body: status, stable code, content type, request id, and
/// that nothing internal leaks. Returns the body for further checks.
pub async fn assert_problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    if [StatusCode::TOO_MANY_REQUESTS, StatusCode::SERVICE_UNAVAILABLE].contains(&status) {
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        assert!(
            retry_after.is_some_and(|seconds| seconds.parse::<u64>().is_ok_and(|s| s >= 1)),
            "a {status} says when to retry"
        );
    }
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/problem+json");
    let header_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let text = response.text().await.unwrap();
    for internal in [
        "::",
        "panicked",
        "poem",
        "sea_orm",
        "sqlx",
        "SELECT",
        "backtrace",
        "RegionCode",
    ] {
        assert!(!text.contains(internal), "the problem body leaks {internal:?}: {text}");
    }
    let body: Value = serde_json::from_str(&text).expect("a JSON problem body");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["request_id"], header_id.as_str());
    assert!(!body["message"].as_str().unwrap().is_empty());
    body
}
