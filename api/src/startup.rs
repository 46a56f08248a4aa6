//! Building and running the app: shared by `main`, the spec exporter and the tests.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use poem::{
    EndpointExt, Response, Route, Server,
    endpoint::{BoxEndpoint, make_sync},
    get,
    listener::{Acceptor, Listener, TcpListener},
};
use poem_openapi::{ContactObject, ExtraHeader, LicenseObject, OpenApiService, ServerObject};
use secrecy::ExposeSecret;
use tokio::{sync::oneshot, task::JoinHandle};

use crate::{
    auth::{guard::Guard, password::PasswordPool, sessions::Sessions, tokens::TokenIssuer},
    config::{CertificateProviderMode, Config, IdentityVerifierMode},
    http::{
        body_limit::{BodyLimit, MAX_BODY_BYTES},
        console, document,
        gateway::Gateway,
        route_table::RouteTable,
    },
    infra::{
        certificates::SandboxCertificates, crypto::DataProtector, db, files, identity::SandboxVerifier,
        memory_store::MemoryStore, redis_store::RedisStore, store::KeyValueStore, wechat::WechatClient,
    },
    regions::RegionDirectory,
    routes::{self, Apis},
    services::{
        applications, complaints,
        export_slots::ExportSlots,
        follow_ups, health, notifications,
        policies::{answers::SearchAnswers, index::PolicyIndex, sync as policy_sync},
        recommendations, transfers, uploads, wage_reports, webhooks,
    },
    state::AppState,
    telemetry,
};

/// Routes served beside the OpenAPI operations.
const DOCUMENT_ROUTES: &[&str] = &["/openapi.json", "/openapi.yaml", "/docs"];
/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

const DESCRIPTION: &str = "\
Shiminhua (市民化) puts the county-level migrant-worker urbanisation programme \
(县域农民工市民化质量提升行动, 人社部发〔2023〕8号) in a migrant worker's phone: policy \
lookup, subsidy applications, social-insurance transfers and unpaid-wage reports.

Conventions: JSON in and out, `snake_case` fields, money in integer fen (`*_fen`), \
dates `YYYY-MM-DD`, instants RFC 3339. Every non-2xx body is a problem object \
(`application/problem+json`: `code`, `message`, `request_id`, `details`); \
`message` is Chinese unless `Accept-Language: en`. Every response carries \
`X-Request-Id` (echoed when the client sent one). Region codes are GB/T 2260.";

pub fn openapi_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(routes::apis(), "Shiminhua API", env!("CARGO_PKG_VERSION"))
        .description(DESCRIPTION)
        .contact(
            ContactObject::new()
                .name("Shiminhua engineering")
                .email("shiminhua@example.org"),
        )
        .license(LicenseObject::new("MIT OR Apache-2.0"))
        .server(ServerObject::new("/").description("This deployment: the host that serves this document."))
        .extra_response_header::<String, _>(
            ExtraHeader::new("X-Request-Id").description("The id of this request, for support and the logs."),
        )
}

/// The OpenAPI document as JSON, as served at `/openapi.json` and committed in `openapi/`.
pub fn spec_json() -> String {
    serde_json::to_string_pretty(&document::plain(&openapi_service().spec())).expect("a document is JSON")
}

/// The same document as YAML, as served at `/openapi.yaml`.
pub fn spec_yaml() -> String {
    serde_yaml::to_string(&document::plain(&openapi_service().spec())).expect("a document is YAML")
}

/// Serves `body` as it is, with `content_type`.
fn served(content_type: &'static str, body: String) -> impl poem::Endpoint + 'static {
    make_sync(move |_| Response::builder().content_type(content_type).body(body.clone()))
}

/// The subscribe templates against the events the lifecycles raise: a
/// template named for no event, or showing an amount its events lack, stops
/// the start rather than failing silently on every message.
fn check_templates(config: &Config) -> anyhow::Result<()> {
    let events = [
        applications::events(),
        wage_reports::events(),
        transfers::events(),
        follow_ups::events(),
        complaints::events(),
        recommendations::events(),
    ]
    .concat();
    notifications::check_templates(&config.wechat.templates, &events)
        .map_err(|problems| anyhow::anyhow!("SHIMINHUA_WECHAT_TEMPLATES: {}", problems.join("; ")))
}

/// Connects to the database and the store, migrates, and loads what stays in memory.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    telemetry::metrics_handle();
    check_templates(&config)?;
    let db = db::connect(config.database_url.expose_secret()).await?;
    db::migrate(&db).await?;
    let replica = match &config.database_replica_url {
        Some(url) => db::connect(url.expose_secret()).await.context("DATABASE_REPLICA_URL")?,
        None => db.clone(),
    };
    let store: Arc<dyn KeyValueStore> = match &config.redis_url {
        Some(url) => Arc::new(RedisStore::connect(url.expose_secret(), &config.redis_key_prefix).context("REDIS_URL")?),
        None => Arc::new(MemoryStore::default()),
    };
    let regions = RegionDirectory::load(&db).await.context("loading the region table")?;
    let files = files::open(&config.files).context("the upload store (SHIMINHUA_S3_*)")?;
    let exports_at_once = config.exports_at_once;
    let sessions = Sessions::new(store.clone(), TokenIssuer::new(&config.jwt_secret), config.rate_limits);
    let protector = DataProtector::new(&config.data_keys, &config.lookup_keys);
    let wechat = WechatClient::new(&config.wechat, store.clone()).context("building the WeChat client")?;
    tracing::info!(
        database = if config.uses_sqlite() { "sqlite" } else { "postgres" },
        store = store.kind(),
        regions = regions.len(),
        "state ready"
    );
    let config_identity = config.identity_verifier;
    let config_certificates = config.certificate_provider;
    let passwords = Arc::new(PasswordPool::new(config.password_hashing_concurrency));
    let policies = PolicyIndex::open(&config.search_index_dir).await?;
    Ok(AppState {
        config: Arc::new(config),
        db,
        replica,
        store,
        regions: Arc::new(regions),
        sessions: Arc::new(sessions),
        protector: Arc::new(protector),
        wechat: Arc::new(wechat),
        identity: match config_identity {
            IdentityVerifierMode::Off => None,
            IdentityVerifierMode::Sandbox => Some(Arc::new(SandboxVerifier)),
        },
        certificates: match config_certificates {
            CertificateProviderMode::Off => None,
            CertificateProviderMode::Sandbox => Some(Arc::new(SandboxCertificates)),
        },
        policies: Arc::new(policies),
        policy_answers: Arc::new(SearchAnswers::default()),
        files,
        exports: ExportSlots::new(exports_at_once),
        passwords,
        calendars: Arc::default(),
    })
}

pub fn build_app(state: AppState) -> BoxEndpoint<'static> {
    let api = openapi_service();
    let spec: serde_json::Value = serde_json::from_str(&api.spec()).expect("the generated spec is JSON");
    let route_table = Arc::new(RouteTable::from_spec(&spec, DOCUMENT_ROUTES));
    Route::new()
        .at("/openapi.json", served("application/json", spec_json()))
        .at("/openapi.yaml", served("application/x-yaml", spec_yaml()))
        // Swagger UI embeds poem-openapi's own document, wrapped references
        // and all: it reads them as the plain ones.
        .nest("/docs", api.swagger_ui())
        // The staff console: the API's first client, served beside it.
        .nest(console::MOUNT, console::endpoint())
        .nest("/", api)
        .data(state.clone())
        .with(Guard::new(state.clone(), route_table.clone()))
        .with(
            BodyLimit::new(MAX_BODY_BYTES)
                .route(
                    "/api/v1/uploads",
                    routes::uploads::MAX_UPLOAD_REQUEST_BYTES,
                    uploads::too_large,
                )
                .route(
                    "/api/v1/staff/window/uploads",
                    routes::window::MAX_SCAN_REQUEST_BYTES,
                    uploads::too_large,
                ),
        )
        .with(Gateway::new(route_table, &state.config.trusted_proxies))
        .boxed()
}

/// The listener of `SHIMINHUA_METRICS_BIND`: `/metrics` and nothing else.
fn metrics_app(config: &Config) -> BoxEndpoint<'static> {
    let route_table = Arc::new(RouteTable::from_spec(&serde_json::Value::Null, &["/metrics"]));
    Route::new()
        .at("/metrics", get(make_sync(|_| telemetry::metrics_handle().render())))
        .with(Gateway::new(route_table, &config.trusted_proxies))
        .boxed()
}

async fn bind(addr: SocketAddr) -> anyhow::Result<(impl Acceptor + 'static, SocketAddr)> {
    let acceptor = TcpListener::bind(addr)
        .into_acceptor()
        .await
        .with_context(|| format!("binding {addr}"))?;
    let bound = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .context("the listener has no socket address")?;
    Ok((acceptor, bound))
}

/// A server running in the background, as the tests and `serve` use it.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// Where `/metrics` is served on a listener of its own, if it is.
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// The dependency probe and the policy-index follower.
    background: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// Stops accepting, lets in-flight requests finish, and waits for the server.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _already_stopped = shutdown.send(());
        }
        self.stop_background();
        (&mut self.task).await.context("the server task")?.context("the server")
    }

    /// Runs until the server ends (after a shutdown signal).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let result = (&mut self.task).await;
        self.stop_background();
        result.context("the server task")?.context("the server")
    }
}

impl RunningServer {
    fn stop_background(&self) {
        for task in &self.background {
            task.abort();
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop_background();
        self.task.abort();
    }
}

/// Binds `addr` (port 0 picks a free one) and serves in the background until
/// `stop`, or until `shutdown_signal` completes.
pub async fn start(
    config: Config,
    shutdown_signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<RunningServer> {
    let state = build_state(config).await?;
    let loaded_at = policy_sync::load(&state).await.context("loading the policy index")?;
    tracing::info!(policies = state.policies.len(), "policy index ready");
    let (acceptor, addr) = bind(state.config.bind).await?;
    let metrics = match state.config.metrics_bind {
        Some(metrics_bind) => Some(bind(metrics_bind).await?),
        None => None,
    };
    let (shutdown, stopped) = oneshot::channel::<()>();
    let app = build_app(state.clone());
    let task = tokio::spawn(async move {
        let signal = async move {
            tokio::select! {
                _ = stopped => {}
                () = shutdown_signal => {}
            }
            tracing::info!("shutting down: finishing in-flight requests");
        };
        Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(app, signal, Some(SHUTDOWN_GRACE))
            .await
    });
    let metrics_addr = metrics.as_ref().map(|(_, addr)| *addr);
    let mut background = vec![
        health::spawn_probe(state.clone()),
        policy_sync::spawn_follower(state.clone(), loaded_at),
        uploads::spawn_cleanup(state.clone()),
        notifications::spawn_deliverer(state.clone()),
        recommendations::spawn_matcher(state.clone()),
        webhooks::spawn_deliverer(state.clone()).context("building the webhook client")?,
    ];
    if let Some((acceptor, metrics_addr)) = metrics {
        let app = metrics_app(&state.config);
        background.push(tokio::spawn(async move {
            if let Err(err) = Server::new_with_acceptor(acceptor).run(app).await {
                tracing::error!(error = %err, "the metrics listener stopped");
            }
        }));
        tracing::info!(%metrics_addr, "serving /metrics");
    }
    tracing::info!(%addr, "listening");
    Ok(RunningServer {
        addr,
        metrics_addr,
        state,
        shutdown: Some(shutdown),
        task,
        background,
    })
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn termination_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
