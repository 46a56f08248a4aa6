//! The one error vocabulary of the service.
//!
//! Services return [`AppError`]; the HTTP layer renders it as a problem body
//! (`crate::http::problem`). Each [`ErrorCode`] is stable: clients switch on
//! it, so a code is never renamed or reused for another meaning.

use std::{borrow::Cow, fmt, time::Duration};

use poem::http::StatusCode;
use serde_json::Value;

/// How long a client waits after a 429 or 503 that names no time of its own.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// A message in the two languages the API speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Localized {
    pub zh: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

impl Localized {
    pub const fn fixed(zh: &'static str, en: &'static str) -> Self {
        Self {
            zh: Cow::Borrowed(zh),
            en: Cow::Borrowed(en),
        }
    }

    pub fn new(zh: impl Into<Cow<'static, str>>, en: impl Into<Cow<'static, str>>) -> Self {
        Self {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn pick(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// The language of messages in responses: Chinese unless the client asks for English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Reads an `Accept-Language` header: the first range naming Chinese or
    /// English wins; anything else keeps the Chinese default.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let Some(header) = header else {
            return Lang::Zh;
        };
        for range in header.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                let p = p.trim();
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            if refused {
                continue;
            }
            if tag == "en" || tag.starts_with("en-") {
                return Lang::En;
            }
            if tag == "zh" || tag.starts_with("zh-") {
                return Lang::Zh;
            }
        }
        Lang::Zh
    }
}

macro_rules! error_codes {
    ($($variant:ident => ($status:ident, $code:literal, $zh:literal, $en:literal),)*) => {
        /// The stable codes of problem bodies.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }

            /// What the client is told when the error carries no message of its own.
            pub fn default_message(self) -> Localized {
                match self {
                    $(ErrorCode::$variant => Localized::fixed($zh, $en),)*
                }
            }
        }
    };
}

error_codes! {
    ValidationFailed => (BAD_REQUEST, "VALIDATION_FAILED",
        "填写的内容有误，请按提示修改后再提交。",
        "Some of the input is invalid; correct it and try again."),
    MalformedJson => (BAD_REQUEST, "MALFORMED_JSON",
        "提交的数据格式不对，请刷新后重试。",
        "The request body is not valid JSON."),
    UnsupportedMediaType => (UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE",
        "提交的数据类型不支持。",
        "The request content type is not supported."),
    Unauthenticated => (UNAUTHORIZED, "UNAUTHENTICATED",
        "请先登录。",
        "Sign in first."),
    Forbidden => (FORBIDDEN, "FORBIDDEN",
        "您没有权限进行这项操作。",
        "You are not allowed to do this."),
    NotFound => (NOT_FOUND, "NOT_FOUND",
        "没有找到您要的内容，请检查后重试。",
        "The requested resource was not found."),
    InvalidCredentials => (UNAUTHORIZED, "INVALID_CREDENTIALS",
        "用户名或密码不对，请重新输入。",
        "The username or password is wrong."),
    TokenExpired => (UNAUTHORIZED, "TOKEN_EXPIRED",
        "登录已过期，请重新登录。",
        "The access token has expired; refresh it or sign in again."),
    SessionEnded => (UNAUTHORIZED, "SESSION_ENDED",
        "登录已失效，请重新登录。",
        "This session has ended; sign in again."),
    RefreshTokenInvalid => (UNAUTHORIZED, "REFRESH_TOKEN_INVALID",
        "登录已失效，请重新登录。",
        "The refresh token is not valid; sign in again."),
    AccountDisabled => (FORBIDDEN, "ACCOUNT_DISABLED",
        "账号已停用，请联系管理员。",
        "This account is disabled; contact an administrator."),
    RoleRequired => (FORBIDDEN, "ROLE_REQUIRED",
        "您的账号没有这项操作的权限。",
        "Your account lacks the role this needs."),
    OutOfRegionScope => (FORBIDDEN, "OUT_OF_REGION_SCOPE",
        "这个地区不在您的管辖范围内。",
        "This region is outside your scope."),
    InsufficientScope => (FORBIDDEN, "INSUFFICIENT_SCOPE",
        "该接入系统没有这项操作的授权。",
        "The client lacks the scope this needs."),
    WechatCodeInvalid => (BAD_REQUEST, "WECHAT_CODE_INVALID",
        "微信登录凭证无效或已用过，请退出小程序重新进入后再试。",
        "The WeChat code is invalid or already used; get a new one."),
    WechatRiskyUser => (FORBIDDEN, "WECHAT_RISKY_USER",
        "微信提示您的账号存在安全风险，暂时无法登录，请稍后再试。",
        "WeChat flagged this account as risky; sign-in is refused for now."),
    WechatRateLimited => (TOO_MANY_REQUESTS, "WECHAT_RATE_LIMITED",
        "微信服务繁忙，请稍后再试。",
        "WeChat is rate limiting us; try again shortly."),
    WechatUnavailable => (SERVICE_UNAVAILABLE, "WECHAT_UNAVAILABLE",
        "暂时连不上微信服务，请稍后再试。",
        "WeChat did not answer properly; try again later."),
    ConsentRequired => (BAD_REQUEST, "CONSENT_REQUIRED",
        "请先阅读并同意《个人信息保护说明》，再填写身份证号。",
        "Accept the current personal-data notice before giving an ID number."),
    IdNumberInUse => (CONFLICT, "ID_NUMBER_IN_USE",
        "这个身份证号已被另一个账号使用。如果这是您本人的号码，请带身份证到当地人社部门窗口，工作人员核实后会解除占用，您再来填写。",
        "Another account uses this ID number. If it is yours, bring your ID card to the local human-resources office: staff release it after checking."),
    IdNumberLocked => (CONFLICT, "ID_NUMBER_LOCKED",
        "您已经用这个身份证号办理过业务，不能自己修改。如果号码填错了，请带身份证到当地人社部门窗口办理。",
        "This ID number has cases or was verified, so it cannot be changed here; ask the local human-resources office."),
    IdNumberProven => (CONFLICT, "ID_NUMBER_PROVEN",
        "这个身份证号的持有人已经核验过是本人的号码，不能解除。",
        "The holder of this ID number has proven it; it cannot be released."),
    IdentityNotProven => (CONFLICT, "IDENTITY_NOT_PROVEN",
        "请先在“我的资料”里用微信绑定手机号或完成实名核验，再查找社保经办机构为您办理的业务；也可以输入经办机构给您的认领码。",
        "Bind your phone through WeChat or pass an identity check first, or enter the agency's claim code."),
    ClaimCodeInvalid => (NOT_FOUND, "CLAIM_CODE_INVALID",
        "认领码不对、已经用过或已过期，或者和您填写的身份证号对不上。请核对后重新输入，或找给您认领码的社保经办窗口。",
        "The claim code is wrong, used, expired or for another ID number."),
    ClaimTriesExhausted => (TOO_MANY_REQUESTS, "CLAIM_TRIES_EXHAUSTED",
        "认领码输错的次数太多了，请明天再试，或到社保经办窗口办理。",
        "Too many wrong claim codes; try again tomorrow or ask the agency."),
    InvitationCodeInvalid => (NOT_FOUND, "INVITATION_CODE_INVALID",
        "邀请码不对。请核对亲友发给您的邀请码后重新输入。",
        "The invitation code is wrong."),
    InvitationExpired => (CONFLICT, "INVITATION_EXPIRED",
        "这个邀请码已经过期了（发出后72小时内有效）。请让对方重新邀请您。",
        "The invitation has expired (codes work for 72 hours); ask for a new one."),
    InvitationUsed => (CONFLICT, "INVITATION_USED",
        "这个邀请码已经用过了，每个邀请码只能用一次。如需代办，请让对方重新邀请。",
        "The invitation code was already used; each works once."),
    InvitationWithdrawn => (CONFLICT, "INVITATION_WITHDRAWN",
        "对方已经撤回了这个邀请。",
        "The worker withdrew this invitation."),
    InvitationTriesExhausted => (TOO_MANY_REQUESTS, "INVITATION_TRIES_EXHAUSTED",
        "邀请码输错的次数太多了，请明天再试。",
        "Too many wrong invitation codes; try again tomorrow."),
    SelfInvitation => (BAD_REQUEST, "SELF_INVITATION",
        "不能接受自己发出的邀请。请把邀请码发给替您代办的亲友，由亲友用自己的微信登录后输入。",
        "You cannot accept your own invitation; a relative accepts it with their own account."),
    AlreadyRelative => (CONFLICT, "ALREADY_RELATIVE",
        "您已经可以替对方代办了，不用再接受邀请。",
        "You already act for this worker."),
    RelativesLimitReached => (CONFLICT, "RELATIVES_LIMIT_REACHED",
        "最多只能有8位代办亲友（包括还没接受的邀请）。请先撤销不再需要的亲友或邀请。",
        "At most 8 relatives, pending invitations included; revoke one first."),
    ActingGrantUnknown => (FORBIDDEN, "ACTING_GRANT_UNKNOWN",
        "没有找到这项代办授权，不能替对方办理。请在“我可以代办的人”里重新选择。",
        "No grant of yours has this id (X-Acting-For)."),
    ActingRevoked => (FORBIDDEN, "ACTING_REVOKED",
        "对方已经收回了代办授权，您不能再替对方办理了。",
        "The worker revoked this grant; you can no longer act for them."),
    ActingRightMissing => (FORBIDDEN, "ACTING_RIGHT_MISSING",
        "对方没有授权您代办这类业务。",
        "The grant does not include this kind of case (details.right)."),
    ActingNotDelegable => (FORBIDDEN, "ACTING_NOT_DELEGABLE",
        "这项操作只能由本人办理，亲友不能代办。",
        "Only the worker themself can do this; relatives cannot."),
    PersonalDataNotShared => (FORBIDDEN, "PERSONAL_DATA_NOT_SHARED",
        "对方没有允许您查看身份证件等个人信息。",
        "The worker has not let you see their personal data in clear."),
    IdentityCheckFailed => (BAD_REQUEST, "IDENTITY_CHECK_FAILED",
        "实名核验没有通过。请确认“我的资料”里的姓名和身份证号是您本人的，再重新核验。",
        "The identity check did not confirm the name and ID number in the profile."),
    IdentityCheckUnavailable => (SERVICE_UNAVAILABLE, "IDENTITY_CHECK_UNAVAILABLE",
        "实名核验暂时用不了。您可以输入社保经办机构给您的认领码，或用微信绑定手机号。",
        "Identity checks are not available; use the agency's claim code or the bound phone."),
    UsernameTaken => (CONFLICT, "USERNAME_TAKEN",
        "这个用户名已被使用，请换一个。",
        "This username is taken."),
    RegionNotFound => (NOT_FOUND, "REGION_NOT_FOUND",
        "没有这个地区代码，请检查后重试。",
        "No region has this code."),
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED",
        "不支持这种请求方式。",
        "This method is not allowed here."),
    VersionConflict => (CONFLICT, "VERSION_CONFLICT",
        "内容已被其他人修改，请刷新后重试。",
        "Someone else changed this meanwhile; reload it and try again."),
    InvalidState => (CONFLICT, "INVALID_STATE",
        "当前状态下不能进行这项操作。",
        "This is not possible in the resource's current state."),
    IdempotencyInFlight => (CONFLICT, "IDEMPOTENCY_IN_FLIGHT",
        "上一次提交还在处理中，请稍等几秒再查看结果。",
        "A request with this Idempotency-Key is still being processed."),
    DuplicateApplication => (CONFLICT, "DUPLICATE_APPLICATION",
        "您已经申请过这项补贴了，请在“我的申请”里查看进度。",
        "You already have an application to this program for this period."),
    ProgramClosed => (CONFLICT, "PROGRAM_CLOSED",
        "这项补贴现在不受理申请。",
        "This program is not taking applications now."),
    BudgetExhausted => (CONFLICT, "BUDGET_EXHAUSTED",
        "这项补贴的资金或名额已经用完。",
        "The program's budget or quota is used up."),
    NotEligible => (BAD_REQUEST, "NOT_ELIGIBLE",
        "暂不符合申请条件，请查看每一项的说明。",
        "Some eligibility criteria are not met; see details.checks."),
    DocumentsMissing => (BAD_REQUEST, "DOCUMENTS_MISSING",
        "还缺少需要上传的材料，请补齐后再提交。",
        "Required documents are missing; see details.missing."),
    RecommendationConsentRequired => (CONFLICT, "RECOMMENDATION_CONSENT_REQUIRED",
        "您还没有开启“政策找人”。开启后，我们会用您“我的资料”里的信息，为您找出可能符合条件的补贴，并在有新补贴时提醒您（每周最多一次）；您随时可以关闭。",
        "Recommendations need the worker's consent first (PUT /me/recommendation-consent); details.current_version names the text."),
    OfferNotConfirmed => (CONFLICT, "OFFER_NOT_CONFIRMED",
        "这项免申即享补贴还在等待工作人员确认，确认后会通知您，到时一键就能领取。",
        "This offer is not confirmed by a reviewer yet."),
    OfferClosed => (CONFLICT, "OFFER_CLOSED",
        "这项免申即享补贴已经不能领取了。",
        "This offer was withdrawn or declined; see details.status."),
    ProfileIncomplete => (BAD_REQUEST, "PROFILE_INCOMPLETE",
        "请先在“我的资料”里填写身份证号，再办理转移。",
        "Fill in the profile first; details.missing names what is needed."),
    PayeeAccountMissing => (CONFLICT, "PAYEE_ACCOUNT_MISSING",
        "申请人还没有填写收款账户，暂不能发放。请提醒申请人在小程序中填写本人的银行卡或社保卡金融账户。",
        "The applicant has not given a payee account yet."),
    PaymentPending => (CONFLICT, "PAYMENT_PENDING",
        "有一笔补贴正在发往您的账户，银行处理完之前不能更换收款账户。",
        "A payment to this account awaits the bank; the account cannot change until it is answered."),
    NothingToPay => (CONFLICT, "NOTHING_TO_PAY",
        "没有可以发放的申请：审核通过的申请都已在发放中，或申请人还没有填写（更换）收款账户。",
        "No approved case is ready to pay: each is in a batch already or its applicant has no new payee account."),
    StepNotInProcess => (CONFLICT, "STEP_NOT_IN_PROCESS",
        "这种转移没有这个办理环节。",
        "This step is not part of this insurance type's process; see details.steps."),
    StepOutOfOrder => (CONFLICT, "STEP_OUT_OF_ORDER",
        "上一个环节还没有办结，不能先办这一步。",
        "The previous step is not done (or happened later than this one)."),
    StepAlreadyDone => (CONFLICT, "STEP_ALREADY_DONE",
        "这个环节已经办结，记录的时间不同。",
        "This step is already done with another occurred_at."),
    ProgramRulesConflict => (UNPROCESSABLE_ENTITY, "PROGRAM_RULES_CONFLICT",
        "补贴的申请条件、申请表和补贴金额互相矛盾，请按提示修改。",
        "The program's criteria or form admit what its amount rule refuses; see details.fields."),
    IdempotencyKeyReused => (UNPROCESSABLE_ENTITY, "IDEMPOTENCY_KEY_REUSED",
        "这个提交编号已用于另一份内容，请刷新后重新提交。",
        "This Idempotency-Key was used with a different request body."),
    AccountLocked => (LOCKED, "ACCOUNT_LOCKED",
        "登录失败次数太多，账号暂时锁定（最多30分钟），请稍后再试。",
        "Too many failed sign-ins; the account is locked for up to 30 minutes."),
    Conflict => (CONFLICT, "CONFLICT",
        "内容已被其他人修改，请刷新后重试。",
        "The resource changed in the meantime; reload and try again."),
    PayloadTooLarge => (PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE",
        "提交的内容太大了。",
        "The request body is too large."),
    RateLimited => (TOO_MANY_REQUESTS, "RATE_LIMITED",
        "操作太频繁了，请稍后再试。",
        "Too many requests; wait a moment and try again."),
    ExportTooLarge => (BAD_REQUEST, "EXPORT_TOO_LARGE",
        "要导出的记录超过100万条，请缩小地区或日期范围后分次导出。",
        "The export would exceed a million rows; narrow the region or the dates."),
    TransferClosed => (CONFLICT, "TRANSFER_CLOSED",
        "这项社保转移已经办结、不予办理或取消，不能再记录办理环节。",
        "The transfer has ended (details.status); no step can be recorded."),
    NoMaterialsRequested => (CONFLICT, "NO_MATERIALS_REQUESTED",
        "经办机构没有要求补充这个环节的材料，或者已经收到了。",
        "This step is not waiting for materials from the person."),
    TransferAlreadyOpen => (CONFLICT, "TRANSFER_ALREADY_OPEN",
        "这项社保转移已经在办理中，请在“我的社保转移”里查看进度。",
        "A transfer of this insurance on this route is already in progress."),
    CursorInvalid => (BAD_REQUEST, "CURSOR_INVALID",
        "翻页位置无效：请使用上一页返回的 next_cursor，并保持筛选条件不变；或从第一页重新开始。",
        "The cursor is malformed, edited, or from another list, filters or scope (details.reason); start again from page 1."),
    PageTooDeep => (BAD_REQUEST, "PAGE_TOO_DEEP",
        "翻得太靠后了，请加上筛选条件，缩小范围后再查。",
        "This page is too deep (see details.max_rows); narrow the filters."),
    ExportInProgress => (TOO_MANY_REQUESTS, "EXPORT_IN_PROGRESS",
        "您还有一个导出没有下载完，请等它下载完再导出。",
        "You have an export still downloading; wait for it to finish."),
    ExportsBusy => (SERVICE_UNAVAILABLE, "EXPORTS_BUSY",
        "现在导出的人比较多，请过一会儿再试。",
        "Too many exports are running; try again shortly."),
    WindowConsentMissing => (BAD_REQUEST, "WINDOW_CONSENT_MISSING",
        "代办需要申请人本人同意：请上传申请人签字的《代办授权同意书》，或输入发到申请人小程序的确认码（二选一）。",
        "A window filing needs the worker's consent: a signed form's upload or the code sent to their account, one of the two."),
    ConsentCodeInvalid => (BAD_REQUEST, "CONSENT_CODE_INVALID",
        "确认码不对、已经用过或已过期（10分钟内有效）。请让申请人在小程序“消息”里核对确认码，或重新发送。",
        "The consent code is wrong, used or expired; check it or send a new one."),
    ConsentPhoneNotBound => (CONFLICT, "CONSENT_PHONE_NOT_BOUND",
        "这个手机号没有绑定市民化小程序账号，无法发送确认码。请让申请人签署书面的《代办授权同意书》并上传。",
        "No worker account has bound this phone; use a signed consent form instead."),
    CertificateNotFound => (NOT_FOUND, "CERTIFICATE_NOT_FOUND",
        "电子证照库里没有找到这张证照。请核对证照类型和编号，或上传证书照片。",
        "The licence service holds no such certificate."),
    CertificateNotHolder => (BAD_REQUEST, "CERTIFICATE_NOT_HOLDER",
        "这张电子证照的持有人不是您本人，不能使用。",
        "The certificate's holder is not this worker."),
    CertificateLevelMismatch => (BAD_REQUEST, "CERTIFICATE_LEVEL_MISMATCH",
        "填写的证书等级和电子证照上的不一致，以电子证照为准，请改正后再提交。",
        "The certificate_level answer contradicts the electronic certificate."),
    CertificateServiceUnavailable => (SERVICE_UNAVAILABLE, "CERTIFICATE_SERVICE_UNAVAILABLE",
        "电子证照服务暂时用不了，请稍后再试，或上传证书照片。",
        "The electronic licence service is not available; try later or upload a photo."),
    Internal => (INTERNAL_SERVER_ERROR, "INTERNAL_ERROR",
        "系统出了点问题，请稍后再试。",
        "Something went wrong on our side; try again later."),
    DependencyUnavailable => (SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE",
        "系统正忙或正在维护，请稍后再试。",
        "The service is temporarily unavailable; try again later."),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a service reports when it cannot do what was asked.
///
/// `message` and `details` reach the client; `source` is for logs only and
/// never leaves the process.
#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: Option<Localized>,
    pub details: Option<Value>,
    pub retry_after: Option<Duration>,
    pub source: Option<anyhow::Error>,
}

impl AppError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: None,
            details: None,
            retry_after: None,
            source: None,
        }
    }

    pub fn with_message(mut self, message: Localized) -> Self {
        self.message = Some(message);
        self
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = Some(retry_after);
        self
    }

    /// When the client may try again: what the error says, or, for a refusal
    /// that is only for now (429, 503) and says nothing, a few seconds, so
    /// that the mini-program and integrators always know when to retry.
    pub fn retry_after(&self) -> Option<Duration> {
        let for_now = matches!(
            self.code.status(),
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        );
        self.retry_after.or(for_now.then_some(DEFAULT_RETRY_AFTER))
    }

    /// An unexpected failure: the client learns nothing of it, the log does.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(ErrorCode::Internal)
        }
    }

    /// A dependency (database, Redis, WeChat) did not answer.
    pub fn unavailable(source: impl Into<anyhow::Error>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(ErrorCode::DependencyUnavailable)
        }
    }

    /// One input field is wrong; `field` is its name as the client sent it.
    pub fn invalid_field(field: &str, reason: Localized) -> Self {
        Self::new(ErrorCode::ValidationFailed)
            .with_message(reason.clone())
            .with_details(serde_json::json!({
                "fields": [{ "field": field, "zh": reason.zh, "en": reason.en }]
            }))
    }

    pub fn message(&self, lang: Lang) -> Cow<'_, str> {
        match &self.message {
            Some(message) => Cow::Borrowed(message.pick(lang)),
            None => Cow::Owned(self.code.default_message().pick(lang).to_owned()),
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source:#}", self.code),
            None => write!(f, "{}", self.code),
        }
    }
}

impl std::error::Error for AppError {}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        use sea_orm::{DbErr, RuntimeErr};
        match &err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => AppError::unavailable(err),
            DbErr::Exec(RuntimeErr::SqlxError(cause)) | DbErr::Query(RuntimeErr::SqlxError(cause))
                if connection_lost(cause) =>
            {
                AppError::unavailable(err)
            }
            _ => AppError::internal(err),
        }
    }
}

/// A statement that failed because the database went away mid-way (a cut
/// connection, a pool that could not replace it): the database is
/// unavailable, not the request wrong.
fn connection_lost(cause: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    matches!(
        cause,
        Error::Io(_) | Error::Tls(_) | Error::PoolTimedOut | Error::PoolClosed | Error::WorkerCrashed
    )
}

impl From<crate::infra::store::StoreError> for AppError {
    fn from(err: crate::infra::store::StoreError) -> Self {
        AppError::unavailable(err)
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_lost_mid_statement_is_unavailable_not_internal() {
        use std::sync::Arc;

        use sea_orm::{DbErr, RuntimeErr, sqlx};

        let lost = |cause: sqlx::Error| DbErr::Exec(RuntimeErr::SqlxError(Arc::new(cause)));
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(
            AppError::from(lost(sqlx::Error::Io(reset))).code,
            ErrorCode::DependencyUnavailable
        );
        assert_eq!(
            AppError::from(lost(sqlx::Error::PoolTimedOut)).code,
            ErrorCode::DependencyUnavailable
        );
        assert_eq!(AppError::from(lost(sqlx::Error::RowNotFound)).code, ErrorCode::Internal);
    }

    #[test]
    fn accept_language_prefers_the_first_known_range() {
        assert_eq!(Lang::from_accept_language(None), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("en")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("zh-CN,en;q=0.8")), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("fr, en-GB;q=0.5")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("en;q=0, zh")), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("de")), Lang::Zh);
    }

    #[test]
    fn codes_are_unique_upper_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{s}");
            assert!(!code.default_message().zh.is_empty());
        }
    }
}
