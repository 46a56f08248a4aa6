//! Problem bodies (`application/problem+json`), and the typed error response
//! that documents, per operation, which problems it can answer with.

use poem::{
    IntoResponse, Response,
    error::{MethodNotAllowedError, NotFoundError, ReadBodyError, ResponseError},
    http::{HeaderValue, StatusCode, header},
};
use poem_openapi::{
    ApiResponse, Object,
    error::{ContentTypeError, ParseMultipartError, ParseParamError, ParsePathError, ParseRequestPayloadError},
    registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry},
    types::{Example, Type},
};
use serde_json::json;

use crate::{
    domain::FieldIssue,
    error::{AppError, ErrorCode, Lang, Localized},
};

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Every non-2xx body.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "Problem", example)]
pub struct ProblemBody {
    /// Stable, documented code; clients switch on it.
    pub code: String,
    /// For the person using the app: Chinese, or English with `Accept-Language: en`.
    pub message: String,
    /// Quote it when asking for help: it finds this request in the logs.
    pub request_id: String,
    /// Per-field problems (`fields`) or other structured facts about the error.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl Example for ProblemBody {
    fn example() -> Self {
        ProblemBody {
            code: "VALIDATION_FAILED".to_owned(),
            message: "地区代码应为6位数字，例如 320115。".to_owned(),
            request_id: "01936f6e-3c1a-7cc2-9d4e-5b2f0a8c1d23".to_owned(),
            details: Some(
                json!({"fields": [{"field": "parent", "zh": "地区代码应为6位数字，例如 320115。", "en": "A region code is six digits, e.g. 320115."}]}),
            ),
        }
    }
}

impl ResponseError for AppError {
    fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// Used only when no request context is at hand; the gateway middleware
    /// renders application errors itself, with the caller's language and request id.
    fn as_response(&self) -> Response {
        render(self, Lang::Zh, "")
    }
}

/// Writes `error` as the problem body a client sees.
pub fn render(error: &AppError, lang: Lang, request_id: &str) -> Response {
    let body = ProblemBody {
        code: error.code.as_str().to_owned(),
        message: error.message(lang).into_owned(),
        request_id: request_id.to_owned(),
        details: error.details.clone(),
    };
    let bytes = serde_json::to_vec(&body).expect("a problem body always serializes");
    let mut response = Response::builder()
        .status(error.code.status())
        .content_type(PROBLEM_CONTENT_TYPE)
        .body(bytes);
    if let Some(retry_after) = error.retry_after() {
        let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    response
}

/// Turns any error that reached the edge of the app into an [`AppError`]:
/// the service's own errors pass through; the framework's (routing, request
/// parsing) get their stable codes and localized messages here, in one place.
///
/// The framework names path parameters by position (`param0`, …);
/// `path_params` holds their real names, in order, for the route that matched.
pub fn from_poem_error(err: poem::Error, path_params: &[String]) -> AppError {
    let err = match err.downcast::<AppError>() {
        Ok(app) => return app,
        Err(err) => err,
    };
    if err.is::<NotFoundError>() {
        return AppError::new(ErrorCode::NotFound);
    }
    if err.is::<MethodNotAllowedError>() {
        return AppError::new(ErrorCode::MethodNotAllowed);
    }
    if let Some(param) = err.downcast_ref::<ParseParamError>() {
        return invalid_input(param.name, &param.reason);
    }
    if let Some(path) = err.downcast_ref::<ParsePathError>() {
        let name = path
            .name
            .strip_prefix("param")
            .and_then(|index| index.parse::<usize>().ok())
            .and_then(|index| path_params.get(index))
            .map_or(path.name, String::as_str);
        return invalid_input(name, &path.reason);
    }
    if let Some(payload) = err.downcast_ref::<ParseRequestPayloadError>() {
        return invalid_input("body", &payload.reason);
    }
    if let Some(multipart) = err.downcast_ref::<ParseMultipartError>() {
        // "failed to parse field `purpose`: …" names the form field.
        let field = multipart.reason.split('`').nth(1).unwrap_or("body");
        return invalid_input(field, &multipart.reason);
    }
    if err.is::<ContentTypeError>() {
        return AppError::new(ErrorCode::UnsupportedMediaType);
    }
    if matches!(
        err.downcast_ref::<ReadBodyError>(),
        Some(ReadBodyError::PayloadTooLarge)
    ) {
        return AppError::new(ErrorCode::PayloadTooLarge);
    }
    let code = match err.status() {
        StatusCode::BAD_REQUEST => ErrorCode::ValidationFailed,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::CONFLICT => ErrorCode::Conflict,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::DependencyUnavailable,
        _ => return AppError::internal(anyhow::anyhow!("unmapped framework error: {err}")),
    };
    AppError::new(code)
}

/// One input value refused by the framework's parser. The parser's own text
/// names internal types, so only the field name and a known issue leave the process.
pub(crate) fn invalid_input(field: &str, parser_reason: &str) -> AppError {
    let reason = FieldIssue::find_in(parser_reason)
        .map(FieldIssue::message)
        .unwrap_or_else(|| {
            Localized::new(
                format!("“{field}”的格式或取值不正确，请检查后重试。"),
                format!("The value of “{field}” is missing or not valid."),
            )
        });
    AppError::invalid_field(field, reason)
}

/// Bits naming the statuses an operation may answer with besides success.
pub mod status {
    pub const BAD_REQUEST: u32 = 1 << 0;
    pub const UNAUTHORIZED: u32 = 1 << 1;
    pub const FORBIDDEN: u32 = 1 << 2;
    pub const NOT_FOUND: u32 = 1 << 3;
    pub const CONFLICT: u32 = 1 << 4;
    pub const PAYLOAD_TOO_LARGE: u32 = 1 << 5;
    pub const UNSUPPORTED_MEDIA_TYPE: u32 = 1 << 6;
    pub const UNPROCESSABLE: u32 = 1 << 7;
    pub const LOCKED: u32 = 1 << 8;
    pub const TOO_MANY_REQUESTS: u32 = 1 << 9;
    pub const UNAVAILABLE: u32 = 1 << 10;

    /// Any `/api/v1` operation: rate limited, or a dependency down.
    pub const ANY: u32 = TOO_MANY_REQUESTS | UNAVAILABLE;
    /// Operations with a JSON request body.
    pub const BODY: u32 = BAD_REQUEST | PAYLOAD_TOO_LARGE | UNSUPPORTED_MEDIA_TYPE;
    /// Operations that need a token.
    pub const SIGNED_IN: u32 = UNAUTHORIZED | ANY;
}

const STATUS_TABLE: &[(u32, u16, &str)] = &[
    (
        status::BAD_REQUEST,
        400,
        "The input is invalid; `details.fields` names each field.",
    ),
    (
        status::UNAUTHORIZED,
        401,
        "Not signed in, or the token is expired, revoked or for another audience.",
    ),
    (status::FORBIDDEN, 403, "Signed in, but not allowed to do this."),
    (
        status::NOT_FOUND,
        404,
        "Not found (also for another person's resource).",
    ),
    (
        status::CONFLICT,
        409,
        "The resource is in a state that does not allow this, or changed meanwhile.",
    ),
    (status::PAYLOAD_TOO_LARGE, 413, "The request body is too large."),
    (
        status::UNSUPPORTED_MEDIA_TYPE,
        415,
        "The request body has an unsupported content type.",
    ),
    (
        status::UNPROCESSABLE,
        422,
        "The Idempotency-Key was used before with a different body, or the content contradicts itself (`details.fields`).",
    ),
    (
        status::LOCKED,
        423,
        "The account is locked for a while after repeated failures.",
    ),
    (
        status::TOO_MANY_REQUESTS,
        429,
        "Rate limited; see the Retry-After header.",
    ),
    (
        status::UNAVAILABLE,
        503,
        "A dependency (database, Redis, WeChat) is down; try again later.",
    ),
];

/// The error side of an operation's result. `S` is the set of [`status`]
/// bits it may answer with, so the OpenAPI document lists exactly those.
#[derive(Debug)]
pub struct Problem<const S: u32>(pub AppError);

impl<const S: u32> From<AppError> for Problem<S> {
    fn from(error: AppError) -> Self {
        Problem(error)
    }
}

impl<const S: u32> From<Problem<S>> for poem::Error {
    fn from(problem: Problem<S>) -> Self {
        poem::Error::from(problem.0)
    }
}

impl<const S: u32> IntoResponse for Problem<S> {
    fn into_response(self) -> Response {
        self.0.as_response()
    }
}

impl<const S: u32> ApiResponse for Problem<S> {
    fn meta() -> MetaResponses {
        let responses = STATUS_TABLE
            .iter()
            .filter(|(bit, _, _)| S & bit != 0)
            .map(|&(bit, status, description)| MetaResponse {
                description,
                status: Some(status),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: PROBLEM_CONTENT_TYPE,
                    schema: ProblemBody::schema_ref(),
                }],
                headers: if bit == status::TOO_MANY_REQUESTS || bit == status::UNAVAILABLE {
                    vec![MetaHeader {
                        name: "Retry-After".to_owned(),
                        description: Some("Seconds until a request may be sent again.".to_owned()),
                        required: true,
                        deprecated: false,
                        schema: MetaSchemaRef::Inline(Box::new(poem_openapi::registry::MetaSchema::new_with_format(
                            "integer", "int64",
                        ))),
                    }]
                } else {
                    Vec::new()
                },
            })
            .collect();
        MetaResponses { responses }
    }

    fn register(registry: &mut Registry) {
        ProblemBody::register(registry);
    }
}

/// The result of an operation: its success payload, or one of the problems `S` names.
pub type ApiResult<T, const S: u32> = Result<T, Problem<S>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_error_names_the_field_and_hides_the_parser_text() {
        let err = poem::Error::from(ParseParamError {
            name: "parent",
            reason: r#"failed to parse "RegionCode": REGION_CODE_FORMAT"#.to_owned(),
        });
        let app = from_poem_error(err, &[]);
        assert_eq!(app.code, ErrorCode::ValidationFailed);
        let details = app.details.unwrap().to_string();
        assert!(details.contains("\"parent\""));
        assert!(!details.contains("RegionCode"));
        assert!(app.message.unwrap().zh.contains("6位数字"));
    }

    #[test]
    fn the_documented_statuses_follow_the_bits() {
        let statuses: Vec<_> = Problem::<{ status::BAD_REQUEST | status::NOT_FOUND }>::meta()
            .responses
            .iter()
            .map(|r| r.status)
            .collect();
        assert_eq!(statuses, [Some(400), Some(404)]);
    }
}
