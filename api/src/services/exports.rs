//! Spreadsheets of the cases in a staff member's scope, for the programme
//! office to hand to its superiors. Rows are read in keyset-ordered batches
//! and written while they arrive, so an export of any size holds a few
//! batches in memory. Personal data is masked unless the caller holds
//! [`Role::PersonalData`] and asks for it; every export is audited, with
//! whether it revealed anything.

use std::{collections::HashMap, future::Future, io};

use chrono::{DateTime, Utc};
use entity::{application, wage_report, worker};
use futures_util::StreamExt;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use serde_json::json;
use tokio::sync::mpsc;

use crate::{
    access,
    auth::{Principal, Role},
    context::RequestContext,
    domain::{
        IdNumber, PhoneNumber, RegionCode, Sector, TextType,
        china_time::{self, DaySpan},
        masked_name,
    },
    error::{AppError, AppResult, ErrorCode},
    infra::{
        crypto::Field,
        spreadsheet::{BATCHES_IN_FLIGHT, Batches, ByteStream, Cell, Format},
    },
    services::{
        applications::status::ApplicationStatus,
        audit::{self, Event, Outcome},
        calendar,
        export_slots::ExportSlot,
        keyset, programs,
        wage_reports::{self, CloseReason, ReportStatus},
    },
    state::AppState,
};

/// Rows per query: small enough to keep memory flat, large enough that the
/// round trips do not dominate.
const BATCH: u64 = 500;

/// An XLSX sheet holds 1,048,576 rows; beyond a million, narrow the query.
const MAX_ROWS: u64 = 1_000_000;

/// The bytes of a download that keep `slot` until the stream is dropped:
/// sent to the end, or given up by a client that went away.
fn holding(body: ByteStream, slot: ExportSlot) -> ByteStream {
    body.map(move |chunk| {
        let _running = &slot;
        chunk
    })
    .boxed()
}

/// Which cases to export.
#[derive(Debug, Clone)]
pub struct Filter<S> {
    pub region: Option<RegionCode>,
    pub status: Option<S>,
    /// Creation days, China time.
    pub span: DaySpan,
    /// Personal data in clear: needs [`Role::PersonalData`].
    pub reveal: bool,
}

/// A file on its way to the caller.
pub struct Export {
    pub file_name: String,
    /// Written while it is sent; the route adapts it to its response.
    pub body: ByteStream,
}

const APPLICATION_HEADERS: &[&str] = &[
    "申请编号",
    "补贴项目",
    "状态",
    "申请人",
    "身份证号",
    "手机号",
    "办理地区",
    "申请金额（元）",
    "核定金额（元）",
    "已发放金额（元）",
    "提交时间",
    "审核决定时间",
];

const WAGE_REPORT_HEADERS: &[&str] = &[
    "线索编号",
    "状态",
    "办理地区",
    "用人单位",
    "统一社会信用代码",
    "项目名称",
    "行业",
    "欠薪金额（元）",
    "涉及人数",
    "欠薪开始日期",
    "欠薪结束日期",
    "联系电话",
    "提交时间",
    "受理期限",
    "办结期限",
    "是否超期",
    "追回金额（元）",
    "已支付人数",
    "处理结果",
];

/// Applications in the caller's scope (drafts are the worker's own and stay out).
pub async fn applications(
    state: &AppState,
    request: &RequestContext,
    staff: &Principal,
    format: Format,
    filter: Filter<ApplicationStatus>,
) -> AppResult<Export> {
    access::require_any_role(staff, &[Role::Reviewer, Role::Finance, Role::Admin])?;
    let regions = prepare(state, staff, &filter)?;
    let slot = state.exports.take(&staff.subject)?;
    let mut query = application::Entity::find()
        .filter(application::Column::Status.ne(ApplicationStatus::Draft.as_str()))
        .filter(filter.span.condition(application::Column::CreatedAt));
    if let Some(status) = filter.status {
        query = query.filter(application::Column::Status.eq(status.as_str()));
    }
    let pages = Pages {
        query,
        regions,
        columns: [
            application::Column::RegionCode,
            application::Column::CreatedAt,
            application::Column::Id,
        ],
        key: |row: &application::Model| (row.created_at, row.id.clone()),
    };
    let rows = check_size(state, &pages).await?;
    record(state, request, staff, "export.applications", format, &filter, rows).await?;

    let programs = programs::names(&state.replica).await?;
    let source = ApplicationRows {
        state: state.clone(),
        pages,
        programs,
        reveal: filter.reveal,
    };
    let batches = spawn_batches(move |after| {
        let source = source.clone();
        async move { source.batch(after).await }
    });
    Ok(Export {
        file_name: file_name("applications", format),
        body: holding(format.render("补贴申请", APPLICATION_HEADERS, batches), slot),
    })
}

/// Wage reports in the caller's scope.
pub async fn wage_reports(
    state: &AppState,
    request: &RequestContext,
    staff: &Principal,
    format: Format,
    filter: Filter<ReportStatus>,
) -> AppResult<Export> {
    access::require_any_role(staff, &[Role::Inspector, Role::Admin])?;
    let regions = prepare(state, staff, &filter)?;
    let slot = state.exports.take(&staff.subject)?;
    let mut query = wage_report::Entity::find().filter(filter.span.condition(wage_report::Column::CreatedAt));
    if let Some(status) = filter.status {
        query = query.filter(wage_report::Column::Status.eq(status.as_str()));
    }
    let pages = Pages {
        query,
        regions,
        columns: [
            wage_report::Column::RegionCode,
            wage_report::Column::CreatedAt,
            wage_report::Column::Id,
        ],
        key: |row: &wage_report::Model| (row.created_at, row.id.clone()),
    };
    let rows = check_size(state, &pages).await?;
    record(state, request, staff, "export.wage_reports", format, &filter, rows).await?;

    let source = WageReportRows {
        state: state.clone(),
        pages,
        calendars: calendar::load(&state.replica).await?,
        reveal: filter.reveal,
    };
    let batches = spawn_batches(move |after| {
        let source = source.clone();
        async move { source.batch(after).await }
    });
    Ok(Export {
        file_name: file_name("wage-reports", format),
        body: holding(format.render("欠薪线索", WAGE_REPORT_HEADERS, batches), slot),
    })
}

/// The region codes the export covers, in order, after the reveal
/// permission is checked.
fn prepare<S>(state: &AppState, staff: &Principal, filter: &Filter<S>) -> AppResult<Option<Vec<String>>> {
    if filter.reveal {
        access::require_role(staff, Role::PersonalData)?;
    }
    let mut regions = access::staff_scope(&state.regions, staff, filter.region)?;
    if let Some(regions) = &mut regions {
        regions.sort();
    }
    Ok(regions)
}

async fn check_size<E: EntityTrait>(state: &AppState, pages: &Pages<E>) -> AppResult<u64>
where
    E::Model: Sync,
{
    let mut query = pages.query.clone();
    if let Some(regions) = &pages.regions {
        query = query.filter(pages.columns[0].is_in(regions.clone()));
    }
    let rows = query.count(&state.replica).await?;
    if rows > MAX_ROWS {
        return Err(
            AppError::new(ErrorCode::ExportTooLarge).with_details(json!({ "rows": rows, "max_rows": MAX_ROWS }))
        );
    }
    Ok(rows)
}

async fn record<S: Copy + Into<&'static str>>(
    state: &AppState,
    request: &RequestContext,
    staff: &Principal,
    action: &'static str,
    format: Format,
    filter: &Filter<S>,
    rows: u64,
) -> AppResult<()> {
    audit::record(
        &state.db,
        Some(request),
        Event {
            actor: audit::Actor::Principal(staff),
            action,
            target: None,
            region: filter.region.or(staff.region),
            outcome: Outcome::Success,
            details: Some(json!({
                "format": format.as_str(),
                "revealed": filter.reveal,
                "region_code": filter.region,
                "status": filter.status.map(Into::into),
                "from": filter.span.from,
                "to": filter.span.to,
                "rows": rows,
            })),
        },
    )
    .await
}

fn file_name(what: &str, format: Format) -> String {
    let stamp = china_time::local(Utc::now()).format("%Y%m%d-%H%M");
    format!("{what}-{stamp}.{}", format.as_str())
}

/// Where the previous batch ended: the region (by its place in the sorted
/// scope) and, inside it, the last (created_at, id).
#[derive(Debug, Clone, Default)]
struct Position {
    region: usize,
    after: Option<(DateTime<Utc>, String)>,
}

/// An entity's rows in scope, region by region and each region in creation
/// order, so that every batch is a range of the (region_code, created_at,
/// id) index; a national scope reads the (created_at, id) index.
#[derive(Clone)]
struct Pages<E: EntityTrait> {
    query: Select<E>,
    /// Sorted; `None` is a national scope.
    regions: Option<Vec<String>>,
    /// Region code, creation time, id.
    columns: [E::Column; 3],
    key: fn(&E::Model) -> (DateTime<Utc>, String),
}

impl<E: EntityTrait> Pages<E>
where
    E::Model: Sync,
{
    /// The next batch and where it ended; `None` once every region is read.
    async fn next(
        &self,
        db: &DatabaseConnection,
        mut position: Position,
    ) -> AppResult<Option<(Vec<E::Model>, Position)>> {
        let [region_code, created_at, id] = self.columns;
        loop {
            let mut query = self.query.clone();
            match &self.regions {
                Some(regions) => match regions.get(position.region) {
                    Some(code) => query = query.filter(region_code.eq(code.as_str())),
                    None => return Ok(None),
                },
                None if position.region > 0 => return Ok(None),
                None => {}
            }
            if let Some((at, last_id)) = &position.after {
                query = query.filter(keyset::after(
                    &[created_at, id],
                    &[(*at).into(), last_id.as_str().into()],
                    false,
                ));
            }
            let rows = query
                .order_by_asc(created_at)
                .order_by_asc(id)
                .limit(BATCH)
                .all(db)
                .await?;
            match rows.last() {
                Some(last) => {
                    let next = Position {
                        region: position.region,
                        after: Some((self.key)(last)),
                    };
                    return Ok(Some((rows, next)));
                }
                None => {
                    position = Position {
                        region: position.region + 1,
                        after: None,
                    }
                }
            }
        }
    }
}

type Batch = Option<(Vec<Vec<Cell>>, Position)>;

/// Runs the batches on a task of their own, one ahead of the writer at most;
/// a client that goes away stops the queries.
fn spawn_batches<F, Fut>(mut next: F) -> Batches
where
    F: FnMut(Position) -> Fut + Send + 'static,
    Fut: Future<Output = AppResult<Batch>> + Send,
{
    let (sender, batches) = mpsc::channel(BATCHES_IN_FLIGHT);
    tokio::spawn(async move {
        let mut position = Position::default();
        loop {
            match next(position).await {
                Ok(Some((rows, next))) => {
                    if sender.send(Ok(rows)).await.is_err() {
                        return;
                    }
                    position = next;
                }
                Ok(None) => return,
                Err(err) => {
                    tracing::error!(error = %err, "an export stopped part-way");
                    let _ = sender.send(Err(io::Error::other("export interrupted"))).await;
                    return;
                }
            }
        }
    });
    batches
}

fn china_minutes(instant: Option<DateTime<Utc>>) -> Cell {
    instant
        .map(|at| china_time::local(at).format("%Y-%m-%d %H:%M").to_string())
        .into()
}

/// The applicant's columns of the worker table.
#[derive(Debug, Clone, Default, FromQueryResult)]
struct Applicant {
    id: String,
    real_name: Option<String>,
    id_number_cipher: Option<String>,
    phone_cipher: Option<String>,
}

#[derive(Clone)]
struct ApplicationRows {
    state: AppState,
    pages: Pages<application::Entity>,
    programs: HashMap<String, String>,
    reveal: bool,
}

impl ApplicationRows {
    async fn batch(&self, position: Position) -> AppResult<Batch> {
        let Some((rows, next)) = self.pages.next(&self.state.replica, position).await? else {
            return Ok(None);
        };
        let worker_ids: Vec<String> = rows.iter().filter_map(|row| row.worker_id.clone()).collect();
        let people: HashMap<String, Applicant> = worker::Entity::find()
            .select_only()
            .column(worker::Column::Id)
            .column(worker::Column::RealName)
            .column(worker::Column::IdNumberCipher)
            .column(worker::Column::PhoneCipher)
            .filter(worker::Column::Id.is_in(worker_ids))
            .into_model::<Applicant>()
            .all(&self.state.replica)
            .await?
            .into_iter()
            .map(|person| (person.id.clone(), person))
            .collect();
        let cells = rows
            .into_iter()
            .map(|row| {
                let person = row
                    .worker_id
                    .as_ref()
                    .and_then(|worker_id| people.get(worker_id))
                    .cloned()
                    .unwrap_or_default();
                let region = self.state.regions.full_name(&row.region_code);
                let status = ApplicationStatus::parse(&row.status).map_or(row.status.clone(), |s| s.label().to_owned());
                vec![
                    Cell::Text(row.application_no),
                    self.programs.get(&row.program_id).cloned().into(),
                    Cell::Text(status),
                    person
                        .real_name
                        .map(|name| if self.reveal { name } else { masked_name(&name) })
                        .into(),
                    self.personal(Field::WorkerIdNumber, &person.id, person.id_number_cipher.as_deref()),
                    self.personal(Field::WorkerPhone, &person.id, person.phone_cipher.as_deref()),
                    Cell::Text(region),
                    row.requested_amount_fen.map(Cell::Yuan).into(),
                    row.approved_amount_fen.map(Cell::Yuan).into(),
                    row.disbursed_amount_fen.map(Cell::Yuan).into(),
                    china_minutes(row.submitted_at),
                    china_minutes(row.decided_at),
                ]
            })
            .collect();
        Ok(Some((cells, next)))
    }

    fn personal(&self, field: Field, row: &str, cipher: Option<&str>) -> Cell {
        reveal_or_mask(&self.state, self.reveal, field, row, cipher)
    }
}

/// A stored ID or phone number, masked unless the export reveals it.
fn reveal_or_mask(state: &AppState, reveal: bool, field: Field, row: &str, cipher: Option<&str>) -> Cell {
    let Some(clear) = cipher.and_then(|cipher| state.protector.decrypt(field, row, cipher).ok()) else {
        return Cell::Empty;
    };
    if reveal {
        return Cell::Text(clear);
    }
    let masked = match field {
        Field::WorkerIdNumber => IdNumber::parse(&clear).ok().map(|id| id.masked()),
        _ => PhoneNumber::parse(&clear).ok().map(|phone| phone.masked()),
    };
    masked.into()
}

#[derive(Clone)]
struct WageReportRows {
    state: AppState,
    pages: Pages<wage_report::Entity>,
    calendars: calendar::Calendars,
    reveal: bool,
}

/// A finished report's outcome as people read it: refused, or its close reason.
fn outcome_label(outcome: &str) -> Option<&'static str> {
    match outcome {
        _ if outcome == ReportStatus::Refused.as_str() => Some(ReportStatus::Refused.label()),
        other => CloseReason::parse(other).map(CloseReason::label),
    }
}

impl WageReportRows {
    async fn batch(&self, position: Position) -> AppResult<Batch> {
        let Some((rows, next)) = self.pages.next(&self.state.replica, position).await? else {
            return Ok(None);
        };
        let cells = rows
            .into_iter()
            .map(|row| {
                let report = wage_reports::read::decode(&self.calendars, row)?;
                let region = self.state.regions.full_name(report.region.as_str());
                let date = |day: Option<chrono::NaiveDate>| Cell::from(day.map(|d| d.to_string()));
                Ok(vec![
                    Cell::Text(report.report_no),
                    Cell::Text(report.status.label().to_owned()),
                    Cell::Text(region),
                    Cell::Text(report.employer_name),
                    report.credit_code.into(),
                    report.project_name.into(),
                    Cell::Text(Sector::parse(&report.sector).map_or(report.sector, |s| s.label().to_owned())),
                    Cell::Yuan(report.amount_owed_fen),
                    Cell::Count(i64::from(report.workers_affected)),
                    date(Some(report.owed_from)),
                    date(Some(report.owed_to)),
                    reveal_or_mask(
                        &self.state,
                        self.reveal,
                        Field::WageReportContactPhone,
                        &report.id,
                        report.contact_phone_cipher.as_deref(),
                    ),
                    china_minutes(Some(report.created_at)),
                    date(Some(report.accept_deadline)),
                    date(report.close_deadline),
                    Cell::Text(if report.overdue { "是" } else { "否" }.to_owned()),
                    report.amount_recovered_fen.map(Cell::Yuan).into(),
                    report.workers_paid.map(|paid| Cell::Count(i64::from(paid))).into(),
                    report
                        .outcome
                        .map(|o| outcome_label(&o).map_or(o, str::to_owned))
                        .into(),
                ])
            })
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Some((cells, next)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_written_in_chinese() {
        assert_eq!(outcome_label("refused"), Some("不予受理"));
        for reason in CloseReason::ALL {
            assert_eq!(outcome_label(reason.as_str()), Some(reason.label()));
            assert!(!reason.label().is_ascii());
        }
        assert_eq!(outcome_label("something else"), None);
    }
}
