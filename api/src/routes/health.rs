use poem::web::Data;
use poem_openapi::{
    Object, OpenApi,
    payload::{Json, PlainText},
    types::Example,
};

use super::ApiTags;
use crate::{
    auth::schemes::MetricsAuth,
    error::{AppError, ErrorCode, Localized},
    http::problem::{ApiResult, status},
    services::health,
    state::AppState,
    telemetry,
};

pub struct HealthApi;

#[derive(Debug, Object)]
#[oai(example)]
struct Alive {
    /// Always `ok` while the process runs.
    status: String,
}

impl Example for Alive {
    fn example() -> Self {
        Alive {
            status: "ok".to_owned(),
        }
    }
}

#[derive(Debug, Object)]
#[oai(example)]
struct Ready {
    /// `ready`
    status: String,
    /// Each dependency checked and its state (`up`).
    checks: std::collections::BTreeMap<String, String>,
    /// What is wrong without making the service unready, e.g. a year whose
    /// official holiday schedule is not entered. Absent when nothing is.
    #[oai(skip_serializing_if_is_empty)]
    warnings: Vec<ReadyWarning>,
}

/// Something the operator should put right; the service still serves.
#[derive(Debug, Object)]
struct ReadyWarning {
    /// `calendar_year_missing`: deadlines across `year` count every weekday
    /// as working until a national administrator enters the State Council's
    /// holiday schedule for it.
    code: String,
    year: i32,
    message: String,
}

impl ReadyWarning {
    fn calendar_year_missing(year: i32) -> Self {
        ReadyWarning {
            code: "calendar_year_missing".to_owned(),
            year,
            message: format!("{year}年的法定节假日安排还没有录入，期间的办理时限按每个工作日（周一至周五）计算。"),
        }
    }
}

impl Example for Ready {
    fn example() -> Self {
        Ready {
            status: "ready".to_owned(),
            checks: [("database", "up"), ("redis", "up")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            warnings: vec![ReadyWarning::calendar_year_missing(2027)],
        }
    }
}

/// 503 naming the dependencies that did not answer, with every check.
fn not_ready(readiness: &health::Readiness, checks: std::collections::BTreeMap<String, String>) -> AppError {
    let failed: Vec<_> = readiness
        .checks
        .iter()
        .filter(|c| !c.up)
        .map(|c| c.dependency.as_str())
        .collect();
    AppError::new(ErrorCode::DependencyUnavailable)
        .with_message(Localized::new(
            format!("服务暂不可用：{} 无响应。", failed.join("、")),
            format!("Not ready: {} not answering.", failed.join(", ")),
        ))
        .with_details(serde_json::json!({ "checks": checks }))
}

#[OpenApi(tag = "ApiTags::Operations")]
impl HealthApi {
    /// Liveness: 200 while the process runs
    ///
    /// Answers without touching the database or Redis, so an orchestrator
    /// restarts the process only when it no longer answers at all.
    #[oai(path = "/healthz", method = "get", operation_id = "healthz")]
    async fn healthz(&self) -> Json<Alive> {
        Json(Alive::example())
    }

    /// Readiness: 200 when the database and Redis (if configured) answer.
    ///
    /// 503 otherwise, with `details.checks` naming what failed. A year whose
    /// deadlines are counted now (this year, and the next once deadlines
    /// reach into it) with no official holiday schedule entered is named in
    /// `warnings` (`calendar_year_missing`); the answer stays 200.
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self, state: Data<&AppState>) -> ApiResult<Json<Ready>, { status::UNAVAILABLE }> {
        let readiness = health::readiness(&state).await;
        let checks = readiness
            .checks
            .iter()
            .map(|c| (c.dependency.as_str().to_owned(), c.failure.unwrap_or("up").to_owned()))
            .collect();
        if readiness.ready() {
            let missing = health::missing_calendar_years(&state).await;
            return Ok(Json(Ready {
                status: "ready".to_owned(),
                checks,
                warnings: missing.into_iter().map(ReadyWarning::calendar_year_missing).collect(),
            }));
        }
        Err(not_ready(&readiness, checks).into())
    }

    /// Metrics in the Prometheus text format.
    ///
    /// `http_requests_total` and `http_request_duration_seconds` by method,
    /// route template and status; `shiminhua_dependency_up` by dependency.
    /// Only for the operator's scraper: here with the bearer token
    /// `SHIMINHUA_METRICS_TOKEN` (401 without it, and always when it is not
    /// set), or without a token on the listener of its own,
    /// `SHIMINHUA_METRICS_BIND`.
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(&self, _scraper: MetricsAuth) -> ApiResult<PlainText<String>, { status::UNAUTHORIZED }> {
        Ok(PlainText(telemetry::metrics_handle().render()))
    }
}
