use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use serde::{Deserialize, Serialize};

use super::{ApiTags, Page, QueuePage, idempotent, personal_data::RevealBody, queue_window};
use crate::http::params::{IdempotencyKey, PageCursor, PageNumber, PageSize, Paging, RecordId, Version};
use crate::{
    auth::schemes::{StaffAuth, WorkerAuth},
    context::RequestContext,
    domain::{BoundedText, CreditCode, PhoneNumber, RegionCode, Sector},
    http::{
        json_body::{JsonBody, present},
        problem::{ApiResult, status},
    },
    services::{
        uploads::Attached,
        wage_reports::{
            self, CloseReason, Decision, Inspection, InspectorAction, NewReport, Report, ReportStatus, ReporterInClear,
            TimelineEntry,
        },
    },
    state::AppState,
};

pub struct WageReportApi;

#[derive(Debug, Object, Deserialize, Serialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct WageReportCreate {
    pub employer_name: BoundedText<1, 200>,
    /// 统一社会信用代码, if known (check character validated).
    #[serde(default, deserialize_with = "present")]
    pub employer_credit_code: Option<CreditCode>,
    #[serde(default, deserialize_with = "present")]
    pub project_name: Option<BoundedText<1, 200>>,
    /// The county (区/县) where the work was done: its inspectors handle the report.
    pub work_region_code: RegionCode,
    pub sector: Sector,
    /// Wages owed, in fen.
    #[oai(validator(minimum(value = "1"), maximum(value = "10000000000")))]
    pub amount_owed_fen: i64,
    pub owed_from: NaiveDate,
    /// Not after today.
    pub owed_to: NaiveDate,
    /// How many workers are owed (the reporter included).
    #[oai(validator(minimum(value = "1"), maximum(value = "100000")))]
    pub workers_affected: i32,
    pub description: BoundedText<1, 2000>,
    #[serde(default)]
    #[oai(default, validator(max_items = 20))]
    pub attachment_ids: Vec<BoundedText<1, 36>>,
    /// Defaults to the phone bound to the account.
    #[serde(default, deserialize_with = "present")]
    pub contact_phone: Option<PhoneNumber>,
}

impl From<WageReportCreate> for NewReport {
    fn from(body: WageReportCreate) -> Self {
        NewReport {
            employer_name: body.employer_name.into_inner(),
            credit_code: body.employer_credit_code,
            project_name: body.project_name.map(BoundedText::into_inner),
            work_region: body.work_region_code,
            sector: body.sector.as_str().to_owned(),
            amount_owed_fen: body.amount_owed_fen,
            owed_from: body.owed_from,
            owed_to: body.owed_to,
            workers_affected: body.workers_affected,
            description: body.description.into_inner(),
            attachment_ids: BoundedText::into_strings(body.attachment_ids),
            contact_phone: body.contact_phone,
        }
    }
}

#[derive(Debug, Object)]
pub struct WageReportCreated {
    pub id: String,
    /// e.g. QX-320115-20261122-000045.
    pub report_no: String,
    pub status: ReportStatus,
    /// The inspectors accept or refuse by this day (5 working days).
    pub accept_deadline: NaiveDate,
}

#[derive(ApiResponse)]
pub enum ReportFiled {
    /// Filed; the same Idempotency-Key and body replay this answer.
    #[oai(status = 201)]
    Created(Json<WageReportCreated>),
}

/// A report, as its worker and the inspectors see it (no inspector names).
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WageReportView {
    pub id: String,
    pub report_no: String,
    pub status: ReportStatus,
    pub employer_name: String,
    pub employer_credit_code: Option<String>,
    pub project_name: Option<String>,
    /// The queue it is in (where the work was done, or where it was transferred).
    pub region_code: RegionCode,
    pub sector: String,
    pub amount_owed_fen: i64,
    pub owed_from: NaiveDate,
    pub owed_to: NaiveDate,
    pub workers_affected: i32,
    pub description: String,
    pub accept_deadline: NaiveDate,
    /// 60 working days after acceptance (plus 30 if extended).
    pub close_deadline: Option<NaiveDate>,
    pub extended: bool,
    /// A working day has begun after the deadline that applies now.
    pub overdue: bool,
    pub amount_recovered_fen: Option<i64>,
    pub workers_paid: Option<i32>,
    /// `refused`, `unfounded`, `withdrawn` or `sent_to_arbitration`.
    pub outcome: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

fn report_view(report: Report) -> WageReportView {
    WageReportView {
        id: report.id,
        report_no: report.report_no,
        status: report.status,
        employer_name: report.employer_name,
        employer_credit_code: report.credit_code,
        project_name: report.project_name,
        region_code: report.region,
        sector: report.sector,
        amount_owed_fen: report.amount_owed_fen,
        owed_from: report.owed_from,
        owed_to: report.owed_to,
        workers_affected: report.workers_affected,
        description: report.description,
        accept_deadline: report.accept_deadline,
        close_deadline: report.close_deadline,
        extended: report.extended,
        overdue: report.overdue,
        amount_recovered_fen: report.amount_recovered_fen,
        workers_paid: report.workers_paid,
        outcome: report.outcome,
        version: report.version,
        created_at: report.created_at,
        accepted_at: report.accepted_at,
        closed_at: report.closed_at,
    }
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ReportStep {
    pub at: DateTime<Utc>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// 本人, 劳动保障监察员, or the relative who acted for the worker
    /// (亲情代办): `亲友代办（妻子 王*）`.
    pub by: String,
    pub comment: Option<String>,
}

fn steps(timeline: Vec<TimelineEntry>) -> Vec<ReportStep> {
    timeline
        .into_iter()
        .map(|e| ReportStep {
            at: e.at,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            by: e.by,
            comment: e.comment,
        })
        .collect()
}

#[derive(Debug, Object)]
pub struct WageReportDetail {
    #[oai(flatten)]
    pub report: WageReportView,
    pub timeline: Vec<ReportStep>,
}

/// A document attached to a report: fetch it at `GET /api/v1/uploads/{id}`
/// (audited).
#[derive(Debug, Object)]
pub struct ReportDocumentView {
    pub id: String,
    /// The document kind the worker gave, e.g. `pay_slip`.
    pub purpose: String,
    pub content_type: String,
    /// In bytes.
    pub size: i64,
    pub uploaded_at: DateTime<Utc>,
}

impl From<Attached> for ReportDocumentView {
    fn from(document: Attached) -> Self {
        ReportDocumentView {
            id: document.id,
            purpose: document.purpose,
            content_type: document.content_type,
            size: document.size,
            uploaded_at: document.uploaded_at,
        }
    }
}

/// The reporter, masked: `POST /api/v1/staff/wage-reports/{id}/reveal`
/// shows them in clear.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ReporterView {
    /// Masked, e.g. 韦*宝.
    pub name: Option<String>,
    /// The contact phone given with the report, else the bound one; masked,
    /// e.g. 138****5678.
    pub phone: Option<String>,
}

/// A report as the inspectors who work it see it.
#[derive(Debug, Object)]
pub struct WageReportInspection {
    #[oai(flatten)]
    pub report: WageReportView,
    pub reporter: ReporterView,
    /// Attached with the report and with supplements, oldest first.
    pub documents: Vec<ReportDocumentView>,
    pub timeline: Vec<ReportStep>,
}

impl From<Inspection> for WageReportInspection {
    fn from(inspection: Inspection) -> Self {
        WageReportInspection {
            report: report_view(inspection.report),
            reporter: ReporterView {
                name: inspection.reporter.name_masked,
                phone: inspection.reporter.phone_masked,
            },
            documents: inspection.documents.into_iter().map(ReportDocumentView::from).collect(),
            timeline: steps(inspection.timeline),
        }
    }
}

/// The reporter in clear. Each reveal is audited.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RevealedReporter {
    pub name: Option<String>,
    /// The contact phone given with the report, else the phone the worker
    /// bound (verified by WeChat).
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

impl From<ReporterInClear> for RevealedReporter {
    fn from(reporter: ReporterInClear) -> Self {
        RevealedReporter {
            name: reporter.name,
            phone: reporter.phone,
            id_number: reporter.id_number,
        }
    }
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct Supplement {
    pub text: BoundedText<1, 2000>,
    #[serde(default)]
    #[oai(default, validator(max_items = 20))]
    pub attachment_ids: Vec<BoundedText<1, 36>>,
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct InspectorActionBody {
    pub action: InspectorAction,
    /// Required to refuse, request information, transfer or extend.
    #[serde(default, deserialize_with = "present")]
    pub comment: Option<BoundedText<1, 2000>>,
    pub expected_version: Version,
    /// To resolve: the wages recovered, in fen.
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(minimum(value = "0"), maximum(value = "10000000000")))]
    pub amount_recovered_fen: Option<i64>,
    /// To resolve: how many workers were paid.
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(minimum(value = "0"), maximum(value = "100000")))]
    pub workers_paid: Option<i32>,
    /// To transfer: the county whose queue takes it.
    #[serde(default, deserialize_with = "present")]
    pub to_region_code: Option<RegionCode>,
    /// To close.
    #[serde(default, deserialize_with = "present")]
    pub close_reason: Option<CloseReason>,
}

impl From<InspectorActionBody> for Decision {
    fn from(body: InspectorActionBody) -> Self {
        Decision {
            action: body.action,
            comment: body.comment.map(BoundedText::into_inner),
            expected_version: body.expected_version.get(),
            amount_recovered_fen: body.amount_recovered_fen,
            workers_paid: body.workers_paid,
            to_region: body.to_region_code,
            close_reason: body.close_reason,
        }
    }
}

#[derive(Debug, Object)]
pub struct WageAlert {
    /// The credit code (`code:…`) or normalised name (`name:…`) reports are grouped by.
    pub employer_key: String,
    pub employer_name: String,
    /// `repeated_reports`, `many_workers`, `large_amount`.
    pub reasons: Vec<String>,
    pub reports: Vec<WageReportView>,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::WageReports")]
impl WageReportApi {
    /// Report unpaid wages
    ///
    /// Goes to the labour inspectors of the county where the work was done;
    /// they accept or refuse within 5 working days. `Idempotency-Key` is
    /// required. A worker may file a few reports a day (429 beyond).
    #[oai(path = "/wage-reports", method = "post", operation_id = "fileWageReport")]
    async fn file(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        /// 1 to 255 characters, new for every new report (e.g. a UUID).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<IdempotencyKey>,
        body: JsonBody<WageReportCreate>,
    ) -> ApiResult<ReportFiled, { status::BODY | status::CONFLICT | status::UNPROCESSABLE | status::SIGNED_IN }> {
        let (once, body) = idempotent("fileWageReport", idempotency_key, body);
        let created =
            wage_reports::submit(&state, &context, &auth.0, &once.key, once.hash, NewReport::from(body)).await?;
        Ok(ReportFiled::Created(Json(WageReportCreated {
            id: created.id,
            report_no: created.report_no,
            status: created.status,
            accept_deadline: created.accept_deadline,
        })))
    }

    /// List my wage reports
    ///
    /// The reports the signed-in worker filed, newest first, a page at a time.
    #[oai(path = "/wage-reports", method = "get", operation_id = "listMyWageReports")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<WageReportView>>, { status::BAD_REQUEST | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let (reports, total) = wage_reports::list_own(&state, &auth.0, paging.page, paging.page_size).await?;
        Ok(Json(Page::of(reports, total, paging, report_view)))
    }

    /// Get my wage report with its timeline
    ///
    /// The report with every change in order, the inspectors' questions
    /// included; another worker's is 404.
    #[oai(path = "/wage-reports/:id", method = "get", operation_id = "getMyWageReport")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        id: Path<RecordId>,
    ) -> ApiResult<Json<WageReportDetail>, { status::BAD_REQUEST | status::NOT_FOUND | status::SIGNED_IN }> {
        let (report, timeline) = wage_reports::get_own(&state, &auth.0, &id.0).await?;
        Ok(Json(WageReportDetail {
            report: report_view(report),
            timeline: steps(timeline),
        }))
    }

    /// Add the information the inspectors asked for
    ///
    /// Answers a request for information; the case goes back to the
    /// inspectors. Only while information is asked for (409 otherwise).
    #[oai(
        path = "/wage-reports/:id/supplement",
        method = "post",
        operation_id = "supplementWageReport"
    )]
    async fn supplement(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        id: Path<RecordId>,
        body: JsonBody<Supplement>,
    ) -> ApiResult<Json<WageReportView>, { status::BODY | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN }>
    {
        let body = body.0;
        let report = wage_reports::supplement(
            &state,
            &context,
            &auth.0,
            &id.0,
            body.text.as_str(),
            &BoundedText::into_strings(body.attachment_ids),
        )
        .await?;
        Ok(Json(report_view(report)))
    }

    /// The inspectors' queue
    ///
    /// Reports in the inspector's region and below, oldest first; `overdue`
    /// keeps only those past their deadline. Oldest first, the id breaking
    /// ties.
    ///
    /// Pages by number, or by `cursor`: the `next_cursor` of the page
    /// before, at any depth for the cost of the first (`page` is then
    /// ignored).
    #[oai(
        path = "/staff/wage-reports",
        method = "get",
        operation_id = "listWageReportsForInspection"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn queue(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        status: Query<Option<ReportStatus>>,
        region_code: Query<Option<RegionCode>>,
        #[oai(default)] overdue: Query<bool>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
        /// The `next_cursor` of the page before (opaque); `page` is then ignored.
        cursor: Query<Option<PageCursor>>,
    ) -> ApiResult<Json<QueuePage<WageReportView>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }>
    {
        let window = queue_window(page.0, page_size.0, cursor.0)?;
        let filter = (status.0, region_code.0, overdue.0);
        let cut = wage_reports::queue(&state, &auth.0, filter, window).await?;
        Ok(Json(QueuePage::of(cut, report_view)))
    }

    /// A report, for inspectors
    ///
    /// For inspectors whose region covers the report's queue (404 for
    /// others, 403 `ROLE_REQUIRED` to staff without the role): the report,
    /// the documents attached to it (each at `GET /api/v1/uploads/{id}`),
    /// the reporter's name and phone masked, and the timeline.
    #[oai(
        path = "/staff/wage-reports/:id",
        method = "get",
        operation_id = "getWageReportForInspection"
    )]
    async fn staff_get(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<RecordId>,
    ) -> ApiResult<
        Json<WageReportInspection>,
        { status::BAD_REQUEST | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN },
    > {
        let inspection = wage_reports::get_for_inspector(&state, &auth.0, &id.0).await?;
        Ok(Json(WageReportInspection::from(inspection)))
    }

    /// Reveal the reporter
    ///
    /// The reporter's name, phone (the contact phone given with the report,
    /// else the phone the worker bound) and ID number in clear, for an
    /// inspector whose region covers the report, who must reach them. Each
    /// reveal writes a `personal_data.reveal` audit row for the report,
    /// with the reason given (`reason`, required: 400 without one).
    #[oai(
        path = "/staff/wage-reports/:id/reveal",
        method = "post",
        operation_id = "revealWageReporter"
    )]
    async fn reveal(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<RevealBody>,
    ) -> ApiResult<Json<RevealedReporter>, { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN }>
    {
        let reason = body.0.reason.into_inner();
        let reporter = wage_reports::reveal(&state, &context, &auth.0, &id.0, &reason).await?;
        Ok(Json(RevealedReporter::from(reporter)))
    }

    /// Act on a report
    ///
    /// `accept`, `refuse`, `request_info`, `start`, `resolve` (with the amount
    /// recovered and the workers paid), `transfer` (to another county's queue),
    /// `close` (with a reason) or `extend` (the close deadline by 30 working
    /// days, once). A stale `expected_version` is 409.
    #[oai(
        path = "/staff/wage-reports/:id/actions",
        method = "post",
        operation_id = "actOnWageReport"
    )]
    async fn act(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<InspectorActionBody>,
    ) -> ApiResult<
        Json<WageReportView>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let decision = Decision::from(body.0);
        Ok(Json(report_view(
            wage_reports::act(&state, &context, &auth.0, &id.0, decision).await?,
        )))
    }

    /// Early warnings
    ///
    /// Employers with several reports in 30 days, or many workers or a large
    /// sum owed in open reports, each with its reports; by employer key, a
    /// page at a time.
    #[oai(path = "/staff/wage-alerts", method = "get", operation_id = "listWageAlerts")]
    async fn alerts(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<WageAlert>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let (alerts, total) = wage_reports::alerts(&state, &auth.0, paging.page, paging.page_size).await?;
        Ok(Json(Page::of(alerts, total, paging, |a| WageAlert {
            employer_key: a.employer_key,
            employer_name: a.employer_name,
            reasons: a.reasons.into_iter().map(str::to_owned).collect(),
            reports: a.reports.into_iter().map(report_view).collect(),
        })))
    }
}
