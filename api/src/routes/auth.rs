use poem::{Request, web::Data};
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Form, payload::Json, types::Example};
use serde::Deserialize;

use super::{ApiTags, me::WorkerProfile};
use crate::{
    auth::{Scope, schemes::WorkerOrStaffAuth, sessions::Issued},
    context::RequestContext,
    domain::BoundedText,
    error::{ErrorCode, Lang},
    http::{
        json_body::JsonBody,
        problem::{ApiResult, status},
    },
    services::{
        applications,
        clients::{self, TokenRefusal, TokenRequest},
        sessions, staff, workers,
    },
    state::AppState,
};

pub struct AuthApi;

const BEARER: &str = "Bearer";

/// A `wx.login` code from the mini-program.
#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct WechatLogin {
    /// The code `wx.login` returned; single use, valid for five minutes.
    pub code: BoundedText<1, 128>,
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct RefreshRequest {
    /// The refresh token of the last sign-in or refresh; it works once.
    pub refresh_token: BoundedText<1, 256>,
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct StaffLogin {
    pub username: BoundedText<1, 64>,
    pub password: BoundedText<1, 128>,
}

/// Tokens of a session.
#[derive(Debug, Object)]
#[oai(example)]
pub struct TokenPair {
    /// JWT for the `Authorization: Bearer` header, valid for `expires_in` seconds.
    pub access_token: String,
    /// Opaque; exchange it at `POST /api/v1/auth/refresh` before the access token expires.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in: u64,
}

impl Example for TokenPair {
    fn example() -> Self {
        TokenPair {
            access_token: "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJ3b3JrZXIifQ.c2lnbmF0dXJl".to_owned(),
            refresh_token: "0b9c3f0e6a8d4e3f9a1b2c3d4e5f6a7b.Zm9vYmFyYmF6cXV4".to_owned(),
            token_type: BEARER.to_owned(),
            expires_in: 900,
        }
    }
}

impl From<Issued> for TokenPair {
    fn from(issued: Issued) -> Self {
        TokenPair {
            access_token: issued.access_token,
            refresh_token: issued.refresh_token.unwrap_or_default(),
            token_type: BEARER.to_owned(),
            expires_in: issued.expires_in,
        }
    }
}

/// A worker's tokens and profile.
#[derive(Debug, Object)]
pub struct WorkerSignedIn {
    #[oai(flatten)]
    pub tokens: TokenPair,
    pub user: WorkerProfile,
}

/// A staff member as administrators and the member themselves see them.
#[derive(Debug, Object)]
pub struct StaffView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<crate::auth::Role>,
    /// The region the member works in; they see its cases and its subregions'.
    pub region_code: crate::domain::RegionCode,
    pub disabled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<staff::StaffMember> for StaffView {
    fn from(member: staff::StaffMember) -> Self {
        StaffView {
            id: member.id,
            username: member.username,
            display_name: member.display_name,
            roles: member.roles,
            region_code: member.region_code,
            disabled: member.disabled,
            created_at: member.created_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct StaffSignedIn {
    #[oai(flatten)]
    pub tokens: TokenPair,
    pub staff: StaffView,
}

/// `application/x-www-form-urlencoded`, as RFC 6749 §4.4.2 has it. The client
/// may authenticate with HTTP Basic instead of `client_id`/`client_secret`.
#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct ClientCredentialsForm {
    /// `client_credentials`. Parsed leniently, so that any other value gets
    /// RFC 6749's `unsupported_grant_type` rather than a generic refusal.
    #[oai(validator(pattern = "^client_credentials$"))]
    #[serde(default)]
    pub grant_type: String,
    #[oai(validator(min_length = 1, max_length = 64))]
    pub client_id: Option<String>,
    #[oai(validator(min_length = 1, max_length = 128))]
    pub client_secret: Option<String>,
    /// Space-separated scopes; all granted scopes when left out.
    #[oai(validator(max_length = 512))]
    pub scope: Option<String>,
}

#[derive(Debug, Object)]
pub struct ClientToken {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in: u64,
    /// The scopes granted, space-separated.
    pub scope: String,
}

/// An RFC 6749 §5.2 error, with the problem fields of every other error.
#[derive(Debug, Object)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_scope` or `unsupported_grant_type`.
    pub error: String,
    pub error_description: String,
    pub code: String,
    pub message: String,
    pub request_id: String,
}

#[derive(ApiResponse)]
pub enum TokenResponse {
    /// The access token.
    #[oai(status = 200)]
    Issued(Json<ClientToken>, #[oai(header = "Cache-Control")] String),
    /// `invalid_request`, `invalid_scope` or `unsupported_grant_type`.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<OAuthError>),
    /// `invalid_client`: unknown client, wrong secret, or revoked.
    #[oai(status = 401, content_type = "application/problem+json")]
    InvalidClient(Json<OAuthError>),
}

#[derive(ApiResponse)]
pub enum LoggedOut {
    /// The session has ended; its tokens no longer work.
    #[oai(status = 204)]
    Done,
}

/// HTTP Basic credentials (RFC 6749 §2.3.1), percent-decoding not needed for
/// the client ids and secrets this service issues.
/// The grant's fields, the client's id and secret from HTTP Basic when it sent them.
fn token_request<'a>(basic: Option<&'a (String, String)>, form: &'a ClientCredentialsForm) -> TokenRequest<'a> {
    TokenRequest {
        grant_type: Some(form.grant_type.as_str()).filter(|g| !g.is_empty()),
        client_id: basic.map(|(id, _)| id.as_str()).or(form.client_id.as_deref()),
        client_secret: basic.map(|(_, s)| s.as_str()).or(form.client_secret.as_deref()),
        scope: form.scope.as_deref(),
    }
}

fn token_response(outcome: Result<(Issued, Vec<Scope>), TokenRefusal>, context: &RequestContext) -> TokenResponse {
    match outcome {
        Ok((issued, scopes)) => TokenResponse::Issued(
            Json(ClientToken {
                access_token: issued.access_token,
                token_type: BEARER.to_owned(),
                expires_in: issued.expires_in,
                scope: scopes.iter().map(|s: &Scope| s.as_str()).collect::<Vec<_>>().join(" "),
            }),
            "no-store".to_owned(),
        ),
        Err(TokenRefusal::InvalidClient) => {
            TokenResponse::InvalidClient(Json(oauth_error(TokenRefusal::InvalidClient, context)))
        }
        Err(refusal) => TokenResponse::BadRequest(Json(oauth_error(refusal, context))),
    }
}

fn basic_credentials(req: &Request) -> Option<(String, String)> {
    use base64::Engine;
    let value = req.headers().get(poem::http::header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (id, secret) = String::from_utf8(decoded)
        .ok()?
        .split_once(':')
        .map(|(a, b)| (a.to_owned(), b.to_owned()))?;
    Some((id, secret))
}

fn oauth_error(refusal: TokenRefusal, context: &RequestContext) -> OAuthError {
    let (zh, en) = match refusal {
        TokenRefusal::InvalidRequest => (
            "请求缺少必要参数。",
            "grant_type, client_id and client_secret are required.",
        ),
        TokenRefusal::InvalidClient => ("接入凭证无效。", "Unknown client, wrong secret, or revoked client."),
        TokenRefusal::InvalidScope => (
            "申请的权限范围无效或未授予。",
            "A requested scope is unknown or not granted.",
        ),
        TokenRefusal::UnsupportedGrantType => (
            "只支持 client_credentials 授权方式。",
            "Only client_credentials is supported.",
        ),
    };
    let code = match refusal {
        TokenRefusal::InvalidClient => ErrorCode::InvalidCredentials,
        _ => ErrorCode::ValidationFailed,
    };
    OAuthError {
        error: refusal.error().to_owned(),
        error_description: en.to_owned(),
        code: code.as_str().to_owned(),
        message: match context.lang {
            Lang::Zh => zh.to_owned(),
            Lang::En => en.to_owned(),
        },
        request_id: context.request_id.clone(),
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Sign in a worker with a mini-program login code
    ///
    /// Exchanges the `wx.login` code with WeChat (code2session), creates the
    /// worker on first sign-in, and returns the session's tokens. WeChat's
    /// refusals map to 400 `WECHAT_CODE_INVALID` (40029), 429 (45011),
    /// 403 `WECHAT_RISKY_USER` (40226) and 503 `WECHAT_UNAVAILABLE`.
    /// Applications a service window filed for the worker join the account
    /// here when the worker's evidence covers them (a proven ID number, or
    /// the phone the window recorded bound through WeChat).
    #[oai(path = "/auth/wechat/login", method = "post", operation_id = "wechatLogin")]
    async fn wechat_login(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        body: JsonBody<WechatLogin>,
    ) -> ApiResult<Json<WorkerSignedIn>, { status::BODY | status::FORBIDDEN | status::ANY }> {
        let (issued, profile, worker) = workers::login(&state, &context, body.0.code.as_str()).await?;
        // Cases a service window filed for the worker join now, on their evidence.
        applications::window::link_at_sign_in(&state, &context, &worker).await?;
        Ok(Json(WorkerSignedIn {
            tokens: issued.into(),
            user: profile.into(),
        }))
    }

    /// Exchange a refresh token for new tokens
    ///
    /// The refresh token works once. Presenting an already-used one ends the
    /// whole session, including the tokens that replaced it.
    #[oai(path = "/auth/refresh", method = "post", operation_id = "refreshTokens")]
    async fn refresh(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        body: JsonBody<RefreshRequest>,
    ) -> ApiResult<Json<TokenPair>, { status::BODY | status::UNAUTHORIZED | status::FORBIDDEN | status::ANY }> {
        Ok(Json(
            sessions::refresh(&state, &context, body.0.refresh_token.as_str())
                .await?
                .into(),
        ))
    }

    /// Sign out
    ///
    /// Ends the session at once: its access token and refresh token stop working.
    #[oai(path = "/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerOrStaffAuth,
    ) -> ApiResult<LoggedOut, { status::SIGNED_IN }> {
        sessions::logout(&state, &context, auth.principal()).await?;
        Ok(LoggedOut::Done)
    }

    /// Sign in a staff member
    ///
    /// Five failed sign-ins on one username from one client network (an IPv4
    /// address or an IPv6 /64) lock that username for that network until 30
    /// minutes after the first (423, with `Retry-After`); fifty from all
    /// networks together lock it for everyone. While it is locked even the
    /// right password is refused. Unknown usernames and disabled accounts
    /// answer exactly as a wrong password does.
    #[oai(path = "/staff/auth/login", method = "post", operation_id = "staffLogin")]
    async fn staff_login(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        body: JsonBody<StaffLogin>,
    ) -> ApiResult<Json<StaffSignedIn>, { status::BODY | status::UNAUTHORIZED | status::LOCKED | status::ANY }> {
        let (issued, member) =
            staff::login(&state, &context, body.0.username.as_str(), body.0.password.as_str()).await?;
        Ok(Json(StaffSignedIn {
            tokens: issued.into(),
            staff: member.into(),
        }))
    }

    /// Get an integrator access token (client credentials)
    ///
    /// RFC 6749 §4.4. Errors carry RFC 6749's `error` and `error_description`
    /// as well as the problem fields.
    #[oai(path = "/oauth/token", method = "post", operation_id = "oauthToken")]
    async fn token(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        req: &Request,
        form: Form<ClientCredentialsForm>,
    ) -> ApiResult<TokenResponse, { status::PAYLOAD_TOO_LARGE | status::UNSUPPORTED_MEDIA_TYPE | status::ANY }> {
        let basic = basic_credentials(req);
        let outcome = clients::issue_token(&state, &context, token_request(basic.as_ref(), &form.0)).await?;
        Ok(token_response(outcome, &context))
    }
}
