use chrono::NaiveDate;
use poem::web::Data;
use poem_openapi::{OpenApi, param::Query};

use super::ApiTags;
use crate::{
    auth::{Principal, schemes::StaffAuth},
    context::RequestContext,
    domain::{RegionCode, china_time::DaySpan},
    error::AppResult,
    http::{
        download::{Csv, Download, SheetFile, Xlsx},
        problem::{ApiResult, status},
    },
    infra::spreadsheet::Format,
    services::{
        applications::status::ApplicationStatus,
        exports::{self, Export, Filter},
        wage_reports::ReportStatus,
    },
    state::AppState,
};

pub struct ExportApi;

type ExportResult<F> = ApiResult<Download<F>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }>;

/// What every export handler does with its filters, whatever the cases
/// (`run`, the service's export) and the file type.
async fn export<F: SheetFile, S>(
    state: &AppState,
    context: &RequestContext,
    auth: &StaffAuth,
    filter: Filter<S>,
    run: impl AsyncFnOnce(&AppState, &RequestContext, &Principal, Format, Filter<S>) -> AppResult<Export>,
) -> ExportResult<F> {
    let export = run(state, context, &auth.0, F::FORMAT, filter).await?;
    Ok(Download::new(export.file_name, export.body))
}

fn filter<S>(
    region_code: Option<RegionCode>,
    status: Option<S>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    reveal: bool,
) -> AppResult<Filter<S>> {
    Ok(Filter {
        region: region_code,
        status,
        span: DaySpan::new(from, to)?,
        reveal,
    })
}

/// Each export takes the same filters: `region_code` inside the caller's
/// region (by default all of it), `status`, `from` and `to` as creation days
/// in China time, and `reveal` for personal data in clear, which needs the
/// `personal_data` role and is audited.
#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Statistics")]
impl ExportApi {
    /// Export applications as CSV
    ///
    /// UTF-8 with a byte-order mark, so Excel shows the Chinese; Chinese
    /// column headers; the applicant's name, ID and phone number masked
    /// unless `reveal` is set by a holder of the `personal_data` role. For
    /// reviewers, finance and administrators, inside their region.
    ///
    /// One export at a time per staff member, until its download ends (429
    /// `EXPORT_IN_PROGRESS`), and `SHIMINHUA_EXPORTS_AT_ONCE` per instance
    /// (503 `EXPORTS_BUSY`); both with `Retry-After`.
    #[oai(
        path = "/staff/exports/applications.csv",
        method = "get",
        operation_id = "exportApplicationsCsv"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn applications_csv(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        region_code: Query<Option<RegionCode>>,
        status: Query<Option<ApplicationStatus>>,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
        #[oai(default)] reveal: Query<bool>,
    ) -> ExportResult<Csv> {
        let filter = filter(region_code.0, status.0, from.0, to.0, reveal.0)?;
        export(&state, &context, &auth, filter, exports::applications).await
    }

    /// Export applications as XLSX
    ///
    /// The same rows and columns as the CSV export, as an Excel workbook.
    ///
    /// One export at a time per staff member, until its download ends (429
    /// `EXPORT_IN_PROGRESS`), and `SHIMINHUA_EXPORTS_AT_ONCE` per instance
    /// (503 `EXPORTS_BUSY`); both with `Retry-After`.
    #[oai(
        path = "/staff/exports/applications.xlsx",
        method = "get",
        operation_id = "exportApplicationsXlsx"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn applications_xlsx(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        region_code: Query<Option<RegionCode>>,
        status: Query<Option<ApplicationStatus>>,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
        #[oai(default)] reveal: Query<bool>,
    ) -> ExportResult<Xlsx> {
        let filter = filter(region_code.0, status.0, from.0, to.0, reveal.0)?;
        export(&state, &context, &auth, filter, exports::applications).await
    }

    /// Export wage reports as CSV
    ///
    /// UTF-8 with a byte-order mark; Chinese column headers; the contact
    /// phone masked unless `reveal` is set by a holder of the `personal_data`
    /// role. The worker's own description stays out of exports. For
    /// inspectors and administrators, inside their region.
    ///
    /// One export at a time per staff member, until its download ends (429
    /// `EXPORT_IN_PROGRESS`), and `SHIMINHUA_EXPORTS_AT_ONCE` per instance
    /// (503 `EXPORTS_BUSY`); both with `Retry-After`.
    #[oai(
        path = "/staff/exports/wage-reports.csv",
        method = "get",
        operation_id = "exportWageReportsCsv"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn wage_reports_csv(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        region_code: Query<Option<RegionCode>>,
        status: Query<Option<ReportStatus>>,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
        #[oai(default)] reveal: Query<bool>,
    ) -> ExportResult<Csv> {
        let filter = filter(region_code.0, status.0, from.0, to.0, reveal.0)?;
        export(&state, &context, &auth, filter, exports::wage_reports).await
    }

    /// Export wage reports as XLSX
    ///
    /// The same rows and columns as the CSV export, as an Excel workbook.
    ///
    /// One export at a time per staff member, until its download ends (429
    /// `EXPORT_IN_PROGRESS`), and `SHIMINHUA_EXPORTS_AT_ONCE` per instance
    /// (503 `EXPORTS_BUSY`); both with `Retry-After`.
    #[oai(
        path = "/staff/exports/wage-reports.xlsx",
        method = "get",
        operation_id = "exportWageReportsXlsx"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn wage_reports_xlsx(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        region_code: Query<Option<RegionCode>>,
        status: Query<Option<ReportStatus>>,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
        #[oai(default)] reveal: Query<bool>,
    ) -> ExportResult<Xlsx> {
        let filter = filter(region_code.0, status.0, from.0, to.0, reveal.0)?;
        export(&state, &context, &auth, filter, exports::wage_reports).await
    }
}
