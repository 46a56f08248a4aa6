//! The authorization matrix: every operation of the OpenAPI document, called
//! by every kind of caller, with the outcome each must get declared in one
//! table. An operation added to the API without its row fails the test, and
//! so does a row whose request does not match its operation.
//!
//! Requests carry valid bodies, so that a refusal is the authorization's and
//! not the body's. Within an operation the callers run in the table's order,
//! and the operations that change what others see (withdraw, logout) come last.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::{
    applications::{JPEG, apply, complete_application, guangxi_worker},
    integrators::integrator,
    support::{TestApp, app::Session},
};

/// What a caller must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Past authorization: a success, or a refusal of the request itself
    /// (400, 409, 422) — anything but 401, 403, 404 and 5xx.
    Y,
    /// 401: no credentials, or credentials of another audience.
    U,
    /// 403: signed in, but without the role, scope or region.
    F,
    /// 404: the resource exists but is not the caller's to see.
    H,
}

use Outcome::{F, H, U, Y};

/// The callers, in the order of each row's cells.
const CALLERS: [&str; 13] = [
    "anonymous",
    "worker A",
    "worker B",
    "reviewer X",
    "reviewer Y",
    "admin",
    "county admin",
    "city admin",
    "policy editor",
    "finance officer",
    "integrator with both scopes",
    "integrator with the read scope only",
    "integrator of another province",
];

const PUBLIC: [Outcome; 13] = [Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y];
const WORKERS: [Outcome; 13] = [U, Y, Y, U, U, U, U, U, U, U, U, U, U];
const WORKER_A_ONLY: [Outcome; 13] = [U, Y, H, U, U, U, U, U, U, U, U, U, U];
/// Any administrator, inside its own region.
const ADMIN_ONLY: [Outcome; 13] = [U, U, U, F, F, Y, Y, Y, F, F, U, U, U];
/// Administrators whose region covers 450102: the county administrator of
/// 450103 is refused (403) writing there.
const ADMINS_OVER_A: [Outcome; 13] = [U, U, U, F, F, Y, F, Y, F, F, U, U, U];
/// The same for a record of 450102: the county administrator does not find it (404).
const ADMINS_OVER_A_HIDDEN: [Outcome; 13] = [U, U, U, F, F, Y, H, Y, F, F, U, U, U];
const NATIONAL_ADMIN: [Outcome; 13] = [U, U, U, F, F, Y, F, F, F, F, U, U, U];
/// Inspectors (reviewers X and Y are also inspectors).
const REVIEWERS: [Outcome; 13] = [U, U, U, Y, Y, F, F, F, F, F, U, U, U];
/// The roles that work applications: reviewers and finance.
const APPLICATION_WORKERS: [Outcome; 13] = [U, U, U, Y, Y, F, F, F, F, Y, U, U, U];
const FINANCE_OF_A: [Outcome; 13] = [U, U, U, F, F, F, F, F, F, Y, U, U, U];
/// Finance's own operations on a batch that does not exist: every other
/// role is refused before it is looked for.
const FINANCE_NO_BATCH: [Outcome; 13] = [U, U, U, F, F, F, F, F, F, H, U, U, U];
const POLICY_EDITORS: [Outcome; 13] = [U, U, U, F, F, F, F, F, Y, F, U, U, U];
/// A policy of another region: its editors' records are not found by the
/// policy editor of 450102, and refused to other staff.
const POLICY_EDITORS_HIDDEN: [Outcome; 13] = [U, U, U, F, F, F, F, F, H, F, U, U, U];
const STAFF: [Outcome; 13] = [U, U, U, Y, Y, Y, Y, Y, Y, Y, U, U, U];
/// Every staff role but the policy editor's.
const STAFF_BUT_EDITORS: [Outcome; 13] = [U, U, U, Y, Y, Y, Y, Y, F, Y, U, U, U];
/// Administrators, reviewers and inspectors.
const STAFF_BUT_EDITORS_AND_FINANCE: [Outcome; 13] = [U, U, U, Y, Y, Y, Y, Y, F, F, U, U, U];
/// A document: its owner, and the reviewer who works its case; administrators,
/// policy editors and finance lack the role, as for revealing the applicant.
const OWNER_OR_CASE_REVIEWER: [Outcome; 13] = [U, Y, H, Y, H, F, F, F, F, F, U, U, U];
const NO_STAFF_ROLE: [Outcome; 13] = [U, U, U, F, F, F, F, F, F, F, U, U, U];
const INTEGRATORS: [Outcome; 13] = [U, U, U, U, U, U, U, U, U, U, Y, Y, Y];
/// Integrators reading a case of 450102 → 320115: the other province's does not find it.
const INTEGRATORS_IN_REGION: [Outcome; 13] = [U, U, U, U, U, U, U, U, U, U, Y, Y, H];
/// Opening a case: the other province's integrator is refused (403) a case with neither end in it.
const WRITE_SCOPE: [Outcome; 13] = [U, U, U, U, U, U, U, U, U, U, Y, F, F];
/// Changing a case of 450102 → 320115: the other province's integrator does not find it.
const WRITE_SCOPE_IN_REGION: [Outcome; 13] = [U, U, U, U, U, U, U, U, U, U, Y, F, H];
const NOBODY: [Outcome; 13] = [U, U, U, U, U, U, U, U, U, U, U, U, U];

/// Operation id, request (`METHOD path`, `{NAME}` for a fixture), body, outcomes.
/// Bodies are JSON, `form:` for a form, `upload` for a multipart document.
/// Reviewer X is a reviewer and inspector of 450102 (兴宁区), where worker A's
/// cases are; reviewer Y the same of 450103 (青秀区); the admin is national;
/// the county admin is of 450103 (青秀区), the city admin of 450100 (南宁市,
/// above 兴宁区); the policy editor and the finance officer are of 450102.
/// The integrators with both scopes and with the read scope are of 450000
/// (Guangxi) and national; the other province's (330000, Zhejiang) has both
/// scopes. Worker A's transfer runs from 450102 to 320115.
#[rustfmt::skip]
const MATRIX: &[(&str, &str, &str, [Outcome; 13])] = &[
    ("healthz", "GET /healthz", "", PUBLIC),
    ("readyz", "GET /readyz", "", PUBLIC),
    ("metrics", "GET /metrics", "", NOBODY),
    ("listRegions", "GET /api/v1/regions", "", PUBLIC),
    ("getRegion", "GET /api/v1/regions/450102", "", PUBLIC),
    ("wechatLogin", "POST /api/v1/auth/wechat/login", r#"{"code": "matrix-login"}"#, PUBLIC),
    ("refreshTokens", "POST /api/v1/auth/refresh", r#"{"refresh_token": "not-a-token"}"#, NOBODY),
    ("staffLogin", "POST /api/v1/staff/auth/login", r#"{"username": "nobody.here", "password": "wrong-password-1"}"#, NOBODY),
    ("oauthToken", "POST /api/v1/oauth/token", "form:grant_type=client_credentials&client_id=nobody&client_secret=wrong", NOBODY),
    ("getMe", "GET /api/v1/me", "", WORKERS),
    ("updateMyProfile", "PUT /api/v1/me/profile", r#"{"residence_region_code": "450102"}"#, WORKERS),
    ("listMyNotifications", "GET /api/v1/me/notifications", "", WORKERS),
    ("countMyUnreadNotifications", "GET /api/v1/me/notifications/unread-count", "", WORKERS),
    ("markMyNotificationRead", "POST /api/v1/me/notifications/{NOTIFICATION}/read", "", WORKER_A_ONLY),
    ("markAllMyNotificationsRead", "POST /api/v1/me/notifications/read-all", "", WORKERS),
    ("bindMyPhone", "POST /api/v1/me/phone", r#"{"code": "matrix-phone"}"#, WORKERS),
    ("exportMyData", "GET /api/v1/me/data", "", WORKERS),
    ("saveMyPayeeAccount", "PUT /api/v1/me/payee-account", r#"{"kind": "bank_card", "bank_name": "中国工商银行", "account_number": "6222021234567890128", "consent_version": "payee-2026-11"}"#, WORKERS),
    ("getMyPayeeAccount", "GET /api/v1/me/payee-account", "", WORKERS),
    ("getMyRecommendationConsent", "GET /api/v1/me/recommendation-consent", "", WORKERS),
    ("giveMyRecommendationConsent", "PUT /api/v1/me/recommendation-consent", r#"{"consent_version": "recommend-2026-12"}"#, WORKERS),
    // Worker A agreed just before; worker B did not (409).
    ("listMyRecommendations", "GET /api/v1/me/recommendations", "", WORKERS),
    ("revokeMyRecommendationConsent", "DELETE /api/v1/me/recommendation-consent", "", WORKERS),
    // No offer has this id: each worker finds only their own offers.
    ("acceptMyOffer", "POST /api/v1/me/offers/{APPLICATION}/accept", "", [U, H, H, U, U, U, U, U, U, U, U, U, U]),
    ("declineMyOffer", "POST /api/v1/me/offers/{APPLICATION}/decline", "", [U, H, H, U, U, U, U, U, U, U, U, U, U]),
    ("verifyMyIdentity", "POST /api/v1/me/identity-check", r#"{"result_token": "sandbox-refuses-this"}"#, WORKERS),
    ("createStaff", "POST /api/v1/admin/staff", r#"{"username": "matrix.created", "display_name": "矩阵", "password": "staff-password-0001", "roles": ["reviewer"], "region_code": "450102"}"#, ADMINS_OVER_A),
    ("listStaff", "GET /api/v1/admin/staff", "", ADMIN_ONLY),
    ("changeStaff", "PATCH /api/v1/admin/staff/{STAFF}", r#"{"display_name": "改名"}"#, ADMINS_OVER_A_HIDDEN),
    ("listClients", "GET /api/v1/admin/clients", "", ADMIN_ONLY),
    ("createClient", "POST /api/v1/admin/clients", r#"{"name": "矩阵平台", "scopes": ["si_transfer:read"]}"#, ADMIN_ONLY),
    ("rotateClientSecret", "POST /api/v1/admin/clients/{CLIENT}/rotate", "", ADMINS_OVER_A_HIDDEN),
    ("revokeClient", "DELETE /api/v1/admin/clients/{CLIENT}", "", ADMINS_OVER_A_HIDDEN),
    ("listAuditLogs", "GET /api/v1/admin/audit-logs", "", ADMIN_ONLY),
    ("listCalendarDays", "GET /api/v1/admin/calendar?year=2027&region_code=450000&with_national=true", "", ADMIN_ONLY),
    // Guangxi's own days: neither the county nor the city administrator keeps them.
    ("setCalendarDay", "PUT /api/v1/admin/calendar/2027-01-04?region_code=450000", r#"{"kind": "holiday", "name": "测试"}"#, NATIONAL_ADMIN),
    ("clearCalendarDay", "DELETE /api/v1/admin/calendar/2027-01-04?region_code=450000", "", NATIONAL_ADMIN),
    ("integratorWhoami", "GET /api/v1/integrations/whoami", "", INTEGRATORS),
    ("searchPolicies", "GET /api/v1/policies?q=%E5%B0%B1%E4%B8%9A", "", PUBLIC),
    ("getPolicy", "GET /api/v1/policies/{POLICY}", "", PUBLIC),
    ("listPoliciesForStaff", "GET /api/v1/staff/policies", "", POLICY_EDITORS),
    ("listPolicyVersions", "GET /api/v1/staff/policies/{POLICY}/versions", "", POLICY_EDITORS_HIDDEN),
    ("createPolicy", "POST /api/v1/staff/policies", r#"{"title": "零工驿站", "summary": "登记找活。", "body": "带身份证登记。", "category": "employment", "region_code": "450102", "issuer": "兴宁区人社局", "tags": []}"#, POLICY_EDITORS),
    ("updatePolicy", "PUT /api/v1/staff/policies/{POLICY}", r#"{"title": "零工驿站", "summary": "登记找活。", "body": "带身份证登记。", "category": "employment", "region_code": "450102", "issuer": "兴宁区人社局", "tags": [], "expected_version": 1}"#, NO_STAFF_ROLE),
    ("publishPolicy", "POST /api/v1/staff/policies/{POLICY}/publish", r#"{"expected_version": 1}"#, NO_STAFF_ROLE),
    ("archivePolicy", "POST /api/v1/staff/policies/{POLICY}/archive", r#"{"expected_version": 1}"#, NO_STAFF_ROLE),
    ("listPrograms", "GET /api/v1/programs?region_code=450102", "", PUBLIC),
    ("getProgram", "GET /api/v1/programs/{PROGRAM}", "", PUBLIC),
    ("checkEligibility", "GET /api/v1/programs/{PROGRAM}/eligibility", "", WORKERS),
    ("listProgramsForStaff", "GET /api/v1/staff/programs", "", ADMIN_ONLY),
    ("getProgramForStaff", "GET /api/v1/staff/programs/{NEW_PROGRAM}", "", ADMINS_OVER_A_HIDDEN),
    ("createProgram", "POST /api/v1/staff/programs", PROGRAM_BODY, ADMINS_OVER_A),
    ("updateProgram", "PUT /api/v1/staff/programs/{NEW_PROGRAM}", PROGRAM_UPDATE, ADMINS_OVER_A),
    ("openProgram", "POST /api/v1/staff/programs/{NEW_PROGRAM}/open", r#"{"expected_version": 1}"#, ADMINS_OVER_A),
    ("closeProgram", "POST /api/v1/staff/programs/{NEW_PROGRAM}/close", r#"{"expected_version": 2}"#, ADMINS_OVER_A),
    // Reviewers whose region reaches the program's (450102), who are told
    // it is not 免申即享 (409); reviewer Y of 450103 is refused.
    ("listProgramOffers", "GET /api/v1/staff/programs/{NEW_PROGRAM}/offers", "", [U, U, U, Y, F, F, F, F, F, F, U, U, U]),
    ("confirmProgramOffers", "POST /api/v1/staff/programs/{NEW_PROGRAM}/offers", r#"{"offer_ids": ["no-such-offer"]}"#, [U, U, U, Y, F, F, F, F, F, F, U, U, U]),
    ("createApplication", "POST /api/v1/applications", r#"{"program_id": "{PROGRAM}", "answers": {}, "attachment_ids": [], "submit": false}"#, WORKERS),
    ("listMyApplications", "GET /api/v1/applications", "", WORKERS),
    ("getMyApplication", "GET /api/v1/applications/{APPLICATION}", "", WORKER_A_ONLY),
    ("updateMyApplication", "PUT /api/v1/applications/{APPLICATION}", r#"{"expected_version": 1, "answers": {}, "attachment_ids": []}"#, WORKER_A_ONLY),
    ("submitMyApplication", "POST /api/v1/applications/{APPLICATION}/submit", "", WORKER_A_ONLY),
    ("listApplicationsForReview", "GET /api/v1/staff/applications", "", APPLICATION_WORKERS),
    ("getApplicationForReview", "GET /api/v1/staff/applications/{APPLICATION}", "", [U, U, U, Y, H, F, F, F, F, Y, U, U, U]),
    ("revealApplicant", "POST /api/v1/staff/applications/{APPLICATION}/reveal", r#"{"reason": "核对身份证照片"}"#, [U, U, U, Y, H, F, F, F, F, F, U, U, U]),
    ("revealApplicantPayee", "POST /api/v1/staff/applications/{APPLICATION}/payee/reveal", r#"{"reason": "核对收款账户"}"#, FINANCE_OF_A),
    ("listPayableApplications", "GET /api/v1/staff/payable-applications", "", FINANCE_OF_A),
    ("listPaymentBatches", "GET /api/v1/staff/payment-batches", "", FINANCE_OF_A),
    ("createPaymentBatch", "POST /api/v1/staff/payment-batches", "", FINANCE_OF_A),
    ("getPaymentBatch", "GET /api/v1/staff/payment-batches/{APPLICATION}", "", FINANCE_NO_BATCH),
    ("downloadPaymentBatch", "GET /api/v1/staff/payment-batches/{APPLICATION}/file", "", FINANCE_NO_BATCH),
    ("recordPaymentAnswer", "POST /api/v1/staff/payment-batches/{APPLICATION}/lines/1/answer", r#"{"outcome": "paid", "bank_reference": "ICBC-1"}"#, FINANCE_NO_BATCH),
    ("startApplicationReview", "POST /api/v1/staff/applications/{APPLICATION}/start-review", r#"{"expected_version": 99}"#, [U, U, U, Y, H, F, F, F, F, F, U, U, U]),
    ("reviewApplication", "POST /api/v1/staff/applications/{APPLICATION}/review", r#"{"decision": "return", "comment": "请补充", "expected_version": 99}"#, [U, U, U, Y, H, F, F, F, F, F, U, U, U]),
    ("disburseApplication", "POST /api/v1/staff/applications/{APPLICATION}/disburse", r#"{"amount_fen": 100, "reference": "PAY-1", "expected_version": 99}"#, FINANCE_OF_A),
    ("uploadDocument", "POST /api/v1/uploads", "upload", WORKERS),
    ("downloadDocument", "GET /api/v1/uploads/{UPLOAD}", "", OWNER_OR_CASE_REVIEWER),
    ("openTransfer", "POST /api/v1/si-transfers", r#"{"insurance_type": "medical", "from_region_code": "450102", "to_region_code": "320115"}"#, WORKERS),
    ("listMyTransfers", "GET /api/v1/si-transfers", "", WORKERS),
    ("getMyTransfer", "GET /api/v1/si-transfers/{TRANSFER}", "", WORKER_A_ONLY),
    // Worker A holds the case's ID number and claims it; worker B has no ID number (400).
    ("claimTransfer", "POST /api/v1/si-transfers/claim", r#"{"code": "{CLAIM_CODE}"}"#, WORKERS),
    ("linkMyTransfers", "POST /api/v1/si-transfers/link", "", WORKERS),
    // Nobody in the matrix files at a service window: every staff role is refused.
    ("uploadWindowDocument", "POST /api/v1/staff/window/uploads", "upload", NO_STAFF_ROLE),
    ("sendWindowConsentCode", "POST /api/v1/staff/window/consent-codes", r#"{"phone": "13877009999"}"#, NO_STAFF_ROLE),
    ("fileAtWindow", "POST /api/v1/staff/window/applications", WINDOW_FILING, NO_STAFF_ROLE),
    // Worker A holds an ID number and the code is nobody's (404); worker B has no ID number (400).
    ("claimApplication", "POST /api/v1/applications/claim", r#"{"code": "K7M2-Q9XP-4HTD"}"#, [U, H, Y, U, U, U, U, U, U, U, U, U, U]),
    ("linkMyApplications", "POST /api/v1/applications/link", "", WORKERS),
    ("fetchMyCertificate", "POST /api/v1/me/certificates", r#"{"kind": "vocational", "authorization_version": "certificate-2026-12"}"#, WORKERS),
    ("listMyCertificates", "GET /api/v1/me/certificates", "", WORKERS),
    // After the claim worker A's number is proven: administrators over 450102 get 409.
    ("releaseIdNumber", "POST /api/v1/admin/id-number-releases", r#"{"id_number": "450102198801011235", "reason": "矩阵"}"#, ADMINS_OVER_A),
    ("listTransfersForStaff", "GET /api/v1/staff/si-transfers", "", STAFF_BUT_EDITORS_AND_FINANCE),
    ("agencyOpenTransfer", "POST /api/v1/integrations/si-transfers", r#"{"id_number": "450103199002022342", "insurance_type": "medical", "from_region_code": "450103", "to_region_code": "320115"}"#, WRITE_SCOPE),
    ("agencyTransferFeed", "GET /api/v1/integrations/si-transfers", "", INTEGRATORS),
    ("agencyRecordStep", "PUT /api/v1/integrations/si-transfers/{TRANSFER_NO}/steps/application_accepted", r#"{"status": "done", "occurred_at": "2026-11-20T09:00:00+08:00"}"#, WRITE_SCOPE_IN_REGION),
    ("agencyGetTransfer", "GET /api/v1/integrations/si-transfers/{TRANSFER_NO}", "", INTEGRATORS_IN_REGION),
    // No materials were asked for: worker A gets 409, worker B does not find the case.
    ("answerTransferMaterials", "POST /api/v1/si-transfers/{TRANSFER}/steps/application_accepted/answer", r#"{"answer": "已交到窗口"}"#, WORKER_A_ONLY),
    // Staff following transfers whose region reaches either end (450102 or 320115).
    ("getTransferForStaff", "GET /api/v1/staff/si-transfers/{TRANSFER}", "", [U, U, U, Y, H, Y, H, Y, F, F, U, U, U]),
    // Administrators of the step's office (320115 accepts): the city
    // administrator of 450100 reaches the case but not that office.
    ("staffRecordTransferStep", "PUT /api/v1/staff/si-transfers/{TRANSFER}/steps/application_accepted", r#"{"status": "done", "occurred_at": "2026-11-20T09:00:00+08:00"}"#, [U, U, U, F, F, Y, H, F, F, F, U, U, U]),
    // A client receives only the events its scopes and region cover, so any
    // client may register an endpoint and read its own delivery log.
    ("setWebhook", "PUT /api/v1/integrations/webhook", r#"{"url": "https://example.com/hook"}"#, INTEGRATORS),
    ("listWebhookDeliveries", "GET /api/v1/integrations/webhook/deliveries", "", INTEGRATORS),
    ("fileWageReport", "POST /api/v1/wage-reports", WAGE_REPORT, WORKERS),
    ("listMyWageReports", "GET /api/v1/wage-reports", "", WORKERS),
    ("getMyWageReport", "GET /api/v1/wage-reports/{REPORT}", "", WORKER_A_ONLY),
    ("supplementWageReport", "POST /api/v1/wage-reports/{REPORT}/supplement", r#"{"text": "补充材料"}"#, WORKER_A_ONLY),
    ("listWageReportsForInspection", "GET /api/v1/staff/wage-reports", "", REVIEWERS),
    ("getWageReportForInspection", "GET /api/v1/staff/wage-reports/{REPORT}", "", [U, U, U, Y, H, F, F, F, F, F, U, U, U]),
    ("revealWageReporter", "POST /api/v1/staff/wage-reports/{REPORT}/reveal", r#"{"reason": "联系举报人"}"#, [U, U, U, Y, H, F, F, F, F, F, U, U, U]),
    ("actOnWageReport", "POST /api/v1/staff/wage-reports/{REPORT}/actions", r#"{"action": "accept", "expected_version": 99}"#, [U, U, U, Y, H, F, F, F, F, F, U, U, U]),
    ("listWageAlerts", "GET /api/v1/staff/wage-alerts", "", REVIEWERS),
    ("statsOverview", "GET /api/v1/staff/stats/overview?from=2026-01-01&to=2026-12-31", "", STAFF_BUT_EDITORS),
    ("statsBreakdown", "GET /api/v1/staff/stats/breakdown?from=2026-01-01&to=2026-12-31", "", STAFF_BUT_EDITORS),
    ("statsSatisfaction", "GET /api/v1/staff/stats/satisfaction?from=2026-01-01&to=2026-12-31", "", STAFF_BUT_EDITORS),
    // Worker A's report is still open: rating it is refused (409) past authorization.
    ("rateMyCase", "PUT /api/v1/me/ratings/wage_report/{REPORT}", r#"{"score": 4}"#, WORKER_A_ONLY),
    ("getMyCaseRating", "GET /api/v1/me/ratings/wage_report/{RATED_REPORT}", "", WORKER_A_ONLY),
    ("listFollowUps", "GET /api/v1/staff/follow-ups", "", STAFF_BUT_EDITORS_AND_FINANCE),
    // A wage report's follow-up in 450102: its inspectors close it; administrators
    // work transfers' follow-ups and do not find it.
    ("closeFollowUp", "POST /api/v1/staff/follow-ups/{FOLLOW_UP}/close", r#"{"what_was_done": "已回访"}"#, [U, U, U, Y, H, H, H, H, F, F, U, U, U]),
    ("fileMyComplaint", "POST /api/v1/me/complaints", r#"{"kind": "suggestion", "region_code": "450102", "text": "建议延长办理时间"}"#, WORKERS),
    ("listMyComplaints", "GET /api/v1/me/complaints", "", WORKERS),
    ("getMyComplaint", "GET /api/v1/me/complaints/{COMPLAINT}", "", WORKER_A_ONLY),
    ("listComplaints", "GET /api/v1/staff/complaints", "", ADMIN_ONLY),
    ("replyToComplaint", "POST /api/v1/staff/complaints/{COMPLAINT}/reply", r#"{"reply": "已处理"}"#, ADMINS_OVER_A_HIDDEN),
    ("exportApplicationsCsv", "GET /api/v1/staff/exports/applications.csv", "", STAFF_BUT_EDITORS),
    ("exportApplicationsXlsx", "GET /api/v1/staff/exports/applications.xlsx", "", STAFF_BUT_EDITORS),
    ("exportWageReportsCsv", "GET /api/v1/staff/exports/wage-reports.csv", "", STAFF_BUT_EDITORS_AND_FINANCE),
    ("exportWageReportsXlsx", "GET /api/v1/staff/exports/wage-reports.xlsx", "", STAFF_BUT_EDITORS_AND_FINANCE),
    // 亲情代办: worker B acts for worker A under GRANT; INVITATION_CODE is
    // another open invitation of A's (A accepting it is refused with 400,
    // B already acts for A: 409).
    ("inviteRelative", "POST /api/v1/me/relatives/invitations", r#"{"relation": "妻子", "rights": ["wage_reports"]}"#, WORKERS),
    ("listMyRelatives", "GET /api/v1/me/relatives", "", WORKERS),
    ("listRelativeActs", "GET /api/v1/me/relatives/acts", "", WORKERS),
    ("listActsOfRelative", "GET /api/v1/me/relatives/{GRANT}/acts", "", WORKER_A_ONLY),
    ("acceptRelativeInvitation", "POST /api/v1/me/relatives/accept", r#"{"code": "{INVITATION_CODE}"}"#, WORKERS),
    ("listWhomIActFor", "GET /api/v1/me/acting-for", "", WORKERS),
    ("stopActingFor", "DELETE /api/v1/me/acting-for/{GRANT}", "", [U, H, Y, U, U, U, U, U, U, U, U, U, U]),
    ("revokeRelative", "DELETE /api/v1/me/relatives/{GRANT}", "", WORKER_A_ONLY),
    ("withdrawMyApplication", "POST /api/v1/applications/{APPLICATION}/withdraw", "", WORKER_A_ONLY),
    ("closeMyAccount", "DELETE /api/v1/me", "", WORKERS),
    // The workers closed their accounts just before, which ended their sessions.
    ("logout", "POST /api/v1/auth/logout", "", STAFF),
];

pub(crate) const PROGRAM_BODY: &str = r#"{"name": "矩阵测试补助", "kind": "employment_subsidy", "region_code": "450102", "description": "示例", "period": "2026", "amount_rule": {"type": "fixed", "amount_fen": 80000}, "criteria": [], "required_documents": [], "form_fields": []}"#;
const PROGRAM_UPDATE: &str = r#"{"name": "矩阵测试补助", "kind": "employment_subsidy", "region_code": "450102", "description": "改过", "period": "2026", "amount_rule": {"type": "fixed", "amount_fen": 80000}, "criteria": [], "required_documents": [], "form_fields": [], "expected_version": 1}"#;
const WINDOW_FILING: &str = r#"{"window_name": "兴宁区窗口", "applicant": {"name": "黄秀英", "id_number": "450102199203150539", "phone": "13877009999"}, "identity_check": "id_card_visual", "consent": {"code": "123456"}, "program_id": "{PROGRAM}", "answers": {}}"#;
pub(crate) const WAGE_REPORT: &str = r#"{"employer_name": "兴宁某劳务公司", "work_region_code": "450102", "sector": "construction", "amount_owed_fen": 500000, "owed_from": "2026-06-01", "owed_to": "2026-09-30", "workers_affected": 2, "description": "两个月工资没发。"}"#;

/// `/a/{x}/b` and `/a/450102/b` alike become `/a/*/b`; a literal segment
/// the spec names as a parameter matches too.
pub(crate) fn shape(path: &str, spec_path: &str) -> bool {
    let ours: Vec<&str> = path.split('?').next().unwrap().split('/').collect();
    let theirs: Vec<&str> = spec_path.split('/').collect();
    ours.len() == theirs.len()
        && ours
            .iter()
            .zip(&theirs)
            .all(|(ours, theirs)| ours == theirs || theirs.starts_with('{'))
}

#[test]
fn every_operation_has_one_row_and_every_row_its_operation() {
    let spec: Value = serde_json::from_str(&api::startup::spec_json()).unwrap();
    let mut operations = BTreeMap::new();
    for (path, methods) in spec["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            operations.insert(
                operation["operationId"].as_str().unwrap().to_owned(),
                (method.to_uppercase(), path.clone()),
            );
        }
    }
    let mut seen = BTreeSet::new();
    for (id, request, _, _) in MATRIX {
        assert!(seen.insert(*id), "{id} has two rows");
        let (method, path) = operations
            .get(*id)
            .unwrap_or_else(|| panic!("{id} is in the matrix but not in the API"));
        let (row_method, row_path) = request.split_once(' ').unwrap();
        assert_eq!(row_method, method, "{id}: method");
        assert!(shape(row_path, path), "{id}: {row_path} is not {path}");
    }
    let missing: Vec<&String> = operations.keys().filter(|id| !seen.contains(id.as_str())).collect();
    assert!(
        missing.is_empty(),
        "operations without a row in the matrix: {missing:?}"
    );
}

pub(crate) struct Fixtures {
    pub(crate) tokens: [Option<String>; 13],
    pub(crate) values: BTreeMap<&'static str, String>,
}

pub(crate) async fn fixtures(app: &TestApp) -> Fixtures {
    let admin = app.admin("000000").await;
    let worker_a = guangxi_worker(app, "matrix-a", "450102198801011235").await;
    let worker_b = app.login_worker("matrix-b").await;
    let body = complete_application(app, &worker_a).await;
    let application: Value = apply(app, &worker_a, "matrix-a", &body).await.json().await.unwrap();
    let application_id = application["id"].as_str().unwrap().to_owned();
    let upload = app
        .get_json_with(
            &format!("/api/v1/applications/{application_id}"),
            &worker_a.access_token,
        )
        .await["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let report: Value = send(
        app,
        &worker_a.access_token,
        Method::POST,
        "/api/v1/wage-reports",
        WAGE_REPORT,
    )
    .await
    .json()
    .await
    .unwrap();
    let transfer: Value = send(
        app,
        &worker_a.access_token,
        Method::POST,
        "/api/v1/si-transfers",
        r#"{"insurance_type": "pension", "from_region_code": "450102", "to_region_code": "320115"}"#,
    )
    .await
    .json()
    .await
    .unwrap();
    let reviewer_x = app
        .staff(&admin, "matrix.x", &["reviewer", "inspector"], "450102")
        .await;
    let reviewer_y = app
        .staff(&admin, "matrix.y", &["reviewer", "inspector"], "450103")
        .await;
    let (rated_report, follow_up, complaint) = feedback(app, &worker_a, &reviewer_x).await;
    let spare: Value = send(
        app,
        &admin.access_token,
        Method::POST,
        "/api/v1/admin/staff",
        r#"{"username": "matrix.spare", "display_name": "备用", "password": "staff-password-0001", "roles": ["reviewer"], "region_code": "450102"}"#,
    )
    .await
    .json()
    .await
    .unwrap();
    let county_admin = app.admin("450103").await;
    let city_admin = app.admin("450100").await;
    let policy_editor = app.staff(&admin, "matrix.editor", &["policy_editor"], "450102").await;
    let finance = app.staff(&admin, "matrix.finance", &["finance"], "450102").await;
    let both_scopes = ["si_transfer:read", "si_transfer:write"];
    let with_scopes = integrator(app, &admin.access_token, &both_scopes, Some("450000")).await;
    let read_only = integrator(app, &admin.access_token, &["si_transfer:read"], None).await;
    let other_province = integrator(app, &admin.access_token, &both_scopes, Some("330000")).await;
    let agency_case: Value = send(
        app,
        &with_scopes,
        Method::POST,
        "/api/v1/integrations/si-transfers",
        r#"{"id_number": "450102198801011235", "insurance_type": "unemployment", "from_region_code": "450102", "to_region_code": "320115"}"#,
    )
    .await
    .json()
    .await
    .unwrap();
    let spare_client: Value = send(
        app,
        &admin.access_token,
        Method::POST,
        "/api/v1/admin/clients",
        r#"{"name": "备用", "scopes": ["si_transfer:read"], "region_code": "450102"}"#,
    )
    .await
    .json()
    .await
    .unwrap();
    let program: Value = send(
        app,
        &admin.access_token,
        Method::POST,
        "/api/v1/staff/programs",
        PROGRAM_BODY,
    )
    .await
    .json()
    .await
    .unwrap();
    let policy = app.get_json("/api/v1/policies?q=%E5%B0%B1%E4%B8%9A").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let notification = first_notification(app, &worker_a).await;
    let (grant, invitation_code) = relatives(app, &worker_a, &worker_b).await;
    let token = |session: &Session| Some(session.access_token.clone());
    Fixtures {
        tokens: [
            None,
            token(&worker_a),
            token(&worker_b),
            token(&reviewer_x),
            token(&reviewer_y),
            token(&admin),
            token(&county_admin),
            token(&city_admin),
            token(&policy_editor),
            token(&finance),
            Some(with_scopes),
            Some(read_only),
            Some(other_province),
        ],
        values: BTreeMap::from([
            ("APPLICATION", application_id),
            ("UPLOAD", upload),
            ("REPORT", report["id"].as_str().unwrap().to_owned()),
            ("TRANSFER", transfer["id"].as_str().unwrap().to_owned()),
            ("TRANSFER_NO", transfer["transfer_no"].as_str().unwrap().to_owned()),
            ("PROGRAM", body["program_id"].as_str().unwrap().to_owned()),
            ("NEW_PROGRAM", program["id"].as_str().unwrap().to_owned()),
            ("POLICY", policy),
            ("STAFF", spare["id"].as_str().unwrap().to_owned()),
            ("CLIENT", spare_client["id"].as_str().unwrap().to_owned()),
            ("CLAIM_CODE", agency_case["claim_code"].as_str().unwrap().to_owned()),
            ("NOTIFICATION", notification),
            ("RATED_REPORT", rated_report),
            ("FOLLOW_UP", follow_up),
            ("COMPLAINT", complaint),
            ("GRANT", grant),
            ("INVITATION_CODE", invitation_code),
        ]),
    }
}

/// A second report of `worker`'s, refused by `inspector` and rated one star
/// (which opened a follow-up in 450102), and a complaint to 450102: the ids
/// of the report, the follow-up and the complaint.
async fn feedback(app: &TestApp, worker: &Session, inspector: &Session) -> (String, String, String) {
    let id_of = |value: &Value| value["id"].as_str().unwrap().to_owned();
    let token = &worker.access_token;
    let report: Value = send(app, token, Method::POST, "/api/v1/wage-reports", WAGE_REPORT)
        .await
        .json()
        .await
        .unwrap();
    let report = id_of(&report);
    let refuse = r#"{"action": "refuse", "comment": "请申请劳动仲裁。", "expected_version": 1}"#;
    let path = format!("/api/v1/staff/wage-reports/{report}/actions");
    let refused = send(app, &inspector.access_token, Method::POST, &path, refuse).await;
    assert_eq!(refused.status(), StatusCode::OK);
    let path = format!("/api/v1/me/ratings/wage_report/{report}");
    let rating: Value = send(app, token, Method::PUT, &path, r#"{"score": 1}"#)
        .await
        .json()
        .await
        .unwrap();
    let complaint = r#"{"kind": "complaint", "region_code": "450102", "text": "窗口提前下班。"}"#;
    let complaint: Value = send(app, token, Method::POST, "/api/v1/me/complaints", complaint)
        .await
        .json()
        .await
        .unwrap();
    (report, id_of(&rating["follow_up"]), id_of(&complaint))
}

/// Worker B acts for worker A: the grant's id, and the code of another
/// invitation of A's, still open.
async fn relatives(app: &TestApp, a: &Session, b: &Session) -> (String, String) {
    let invitation = r#"{"relation": "妻子", "rights": ["wage_reports"]}"#;
    let path = "/api/v1/me/relatives/invitations";
    let first: Value = send(app, &a.access_token, Method::POST, path, invitation)
        .await
        .json()
        .await
        .unwrap();
    let acceptance = format!(r#"{{"code": "{}"}}"#, first["code"].as_str().unwrap());
    let accepted = send(
        app,
        &b.access_token,
        Method::POST,
        "/api/v1/me/relatives/accept",
        &acceptance,
    )
    .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let second: Value = send(app, &a.access_token, Method::POST, path, invitation)
        .await
        .json()
        .await
        .unwrap();
    (
        first["id"].as_str().unwrap().to_owned(),
        second["code"].as_str().unwrap().to_owned(),
    )
}

/// The id of a message in the worker's inbox, once the outbox delivered one.
async fn first_notification(app: &TestApp, worker: &Session) -> String {
    for _ in 0..100 {
        let inbox = app
            .get_json_with("/api/v1/me/notifications", &worker.access_token)
            .await;
        if let Some(id) = inbox["items"][0]["id"].as_str() {
            return id.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the worker's inbox stayed empty");
}

async fn send(app: &TestApp, token: &str, method: Method, path: &str, body: &str) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .bearer_auth(token);
    if !body.is_empty() {
        request = request.header("content-type", "application/json").body(body.to_owned());
    }
    request.send().await.unwrap()
}

fn outcome_of(status: StatusCode) -> Option<Outcome> {
    match status.as_u16() {
        // Sign-in refused by the lockout (every caller's wrong password
        // counts against the same username and address): still not signed in.
        401 | 423 => Some(U),
        403 => Some(F),
        404 => Some(H),
        500.. => None,
        _ => Some(Y),
    }
}

#[tokio::test]
async fn every_caller_gets_what_the_matrix_declares() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SHIMINHUA_RATE_PUBLIC_WRITE", "100000".to_owned());
        vars.insert("SHIMINHUA_OUTBOX_INTERVAL_MS", "100".to_owned());
    })
    .await;
    let fixtures = fixtures(&app).await;
    let mut wrong = Vec::new();
    for (id, request, body, cells) in MATRIX {
        let (method, path) = request.split_once(' ').unwrap();
        let mut path = path.to_owned();
        let mut body = body.to_string();
        for (name, value) in &fixtures.values {
            path = path.replace(&format!("{{{name}}}"), value);
            body = body.replace(&format!("{{{name}}}"), value);
        }
        for ((caller, token), expected) in CALLERS.iter().zip(&fixtures.tokens).zip(cells) {
            let mut call = app
                .client
                .request(method.parse().unwrap(), app.url(&path))
                .header("Idempotency-Key", uuid::Uuid::new_v4().to_string());
            if let Some(token) = token {
                call = call.bearer_auth(token);
            }
            call = match body.as_str() {
                "" => call,
                "upload" => call.multipart(
                    reqwest::multipart::Form::new()
                        .part(
                            "file",
                            reqwest::multipart::Part::bytes(JPEG.to_vec()).file_name("photo.jpg"),
                        )
                        .text("purpose", "id_card"),
                ),
                form if form.starts_with("form:") => call
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form["form:".len()..].to_owned()),
                json => call.header("content-type", "application/json").body(json.to_owned()),
            };
            let status = call.send().await.unwrap().status();
            if outcome_of(status) != Some(*expected) {
                wrong.push(format!("{id} by {caller}: expected {expected:?}, got {status}"));
            }
        }
    }
    assert!(wrong.is_empty(), "cells that do not hold:\n{}", wrong.join("\n"));
    app.stop().await;
}

#[tokio::test]
async fn a_forged_token_is_refused_even_where_signing_in_is_optional() {
    let app = TestApp::spawn().await;
    let policy = app.get_json("/api/v1/policies?q=%E5%B0%B1%E4%B8%9A").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let forged = app
        .get_with(&format!("/api/v1/policies/{policy}"), "e30.e30.forged")
        .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let worker = app.login_worker("public-reader").await;
    let as_worker = app
        .get_with(&format!("/api/v1/policies/{policy}"), &worker.access_token)
        .await;
    assert_eq!(
        as_worker.status(),
        StatusCode::OK,
        "a worker reads a public page as anyone does"
    );
    app.stop().await;
}
