//! Every query of transfers and how their rows become the cases the API
//! shows: limits and due days read through the process version each case
//! was opened under.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{si_transfer, si_transfer_change, si_transfer_step, worker};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Expr, ExprTrait, Query},
};
use serde_json::json;

use super::{
    process::{self, InsuranceType, Office, StepSpec},
    status::{Progress, StepStatus, TransferStatus},
};
use crate::{
    domain::{RegionCode, TextType, china_time},
    error::{AppError, AppResult, ErrorCode},
    infra::crypto::DataProtector,
    services::{
        calendar::{self, Calendars, OverdueCutoffs},
        keyset::{Cut, Keyset, Window},
        relatives::labels,
    },
};

#[derive(Debug, Clone)]
pub struct Step {
    pub step: String,
    pub label: &'static str,
    pub office: Office,
    pub office_region: RegionCode,
    pub status: StepStatus,
    /// The limit of the case's process version.
    pub limit_days: Option<i32>,
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
    pub occurred_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    /// The person's answer to a request for materials.
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

impl Step {
    pub fn progress(&self) -> Progress {
        Progress {
            status: self.status,
            occurred_at: self.occurred_at,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Transfer {
    pub id: String,
    pub transfer_no: String,
    pub insurance_type: InsuranceType,
    pub from_region_code: RegionCode,
    pub to_region_code: RegionCode,
    pub source: String,
    pub status: TransferStatus,
    pub overdue: bool,
    /// The office that holds the case now (the next pending step's); none when completed.
    pub responsible: Option<(Office, RegionCode)>,
    pub steps: Vec<Step>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A case as a command sees it: what the API shows, and what a change
/// checks and records.
pub(super) struct Case {
    pub transfer: Transfer,
    /// None until the person links an agency's case.
    pub worker_id: Option<String>,
    pub version: i32,
    /// The steps of the process version the case was opened under.
    pub process: &'static [StepSpec],
    /// Until when the agency's claim code works; none once claimed.
    pub claim_expires_at: Option<DateTime<Utc>>,
}

/// One entry of the feed.
#[derive(Debug, Clone)]
pub struct Change {
    pub seq: i64,
    pub transfer_no: String,
    pub kind: String,
    pub step: Option<String>,
    pub at: DateTime<Utc>,
}

/// One entry of a case's history, as staff read it.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// The feed's kind: `created`, `step`, `refused`, `materials_needed`,
    /// `materials_answered` or `cancelled`.
    pub kind: String,
    pub step: Option<String>,
    /// 本人, 工作人员, 经办机构, or a relative who acted for the worker
    /// (`亲友代办（妻子 王*）`): never a name in clear.
    pub by: String,
    /// The reason, the materials asked for, or the person's answer.
    pub note: Option<String>,
}

/// The case's history from the feed, oldest first.
pub(super) async fn timeline(db: &impl ConnectionTrait, id: &str) -> AppResult<Vec<TimelineEntry>> {
    let entries = si_transfer_change::Entity::find()
        .filter(si_transfer_change::Column::TransferId.eq(id))
        .order_by_asc(si_transfer_change::Column::Seq)
        .all(db)
        .await?;
    let relatives = labels::of_history(db, entries.iter().map(|e| e.relative_grant_id.as_ref())).await?;
    Ok(entries
        .into_iter()
        .map(|entry| TimelineEntry {
            by: match entry.actor_type.as_deref() {
                Some("worker") => labels::acted_by("本人", entry.relative_grant_id.as_ref(), &relatives),
                Some("staff") => "工作人员".to_owned(),
                _ => "经办机构".to_owned(),
            },
            at: entry.at,
            kind: entry.kind,
            step: entry.step,
            note: entry.note,
        })
        .collect())
}

/// A case with its stored steps (in position order) as the API shows it;
/// a step's days are those of the province of the office that acts on it.
fn assemble(calendars: &Calendars, row: si_transfer::Model, stored: Vec<si_transfer_step::Model>) -> AppResult<Case> {
    let corrupt = |what: &str| AppError::internal(anyhow::anyhow!("transfer {} has a malformed {what}", row.id));
    let insurance = InsuranceType::parse(&row.insurance_type).ok_or_else(|| corrupt("insurance type"))?;
    let process = process::steps(insurance, row.process_version).ok_or_else(|| corrupt("process version"))?;
    let from = RegionCode::parse(&row.from_region_code).map_err(|_| corrupt("region"))?;
    let to = RegionCode::parse(&row.to_region_code).map_err(|_| corrupt("region"))?;
    let status = TransferStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?;
    let today = china_time::today();
    let case_open = status.is_open();
    let steps = stored
        .into_iter()
        .map(|s| {
            let spec = process.iter().find(|spec| spec.key == s.step);
            let office = spec.map_or(Office::To, |spec| spec.office);
            let status = StepStatus::parse(&s.status).ok_or_else(|| corrupt("step status"))?;
            let office_region = if office == Office::From { from } else { to };
            let calendar = calendars.of(office_region);
            Ok(Step {
                overdue: case_open
                    && status == StepStatus::Pending
                    && s.due_on.is_some_and(|due| calendar.is_overdue(due, today)),
                label: spec.map_or("", |spec| spec.label),
                office_region,
                office,
                step: s.step,
                status,
                limit_days: spec.and_then(|spec| spec.limit_days).map(|d| d as i32),
                due_on: s.due_on,
                occurred_at: s.occurred_at,
                note: s.note,
                answer: s.answer,
                answered_at: s.answered_at,
            })
        })
        .collect::<AppResult<Vec<Step>>>()?;
    let transfer = Transfer {
        overdue: steps.iter().any(|s| s.overdue),
        responsible: steps
            .iter()
            .filter(|_| case_open)
            .find(|s| StepStatus::OPEN.contains(&s.status))
            .map(|s| (s.office, s.office_region)),
        steps,
        insurance_type: insurance,
        from_region_code: from,
        to_region_code: to,
        id: row.id,
        transfer_no: row.transfer_no,
        source: row.source,
        status,
        created_at: row.created_at,
        updated_at: row.updated_at,
    };
    Ok(Case {
        transfer,
        worker_id: row.worker_id,
        version: row.version,
        process,
        claim_expires_at: row.claim_expires_at,
    })
}

async fn hydrate(db: &impl ConnectionTrait, calendars: &Calendars, row: si_transfer::Model) -> AppResult<Case> {
    let stored = si_transfer_step::Entity::find()
        .filter(si_transfer_step::Column::TransferId.eq(&row.id))
        .order_by_asc(si_transfer_step::Column::Position)
        .all(db)
        .await?;
    assemble(calendars, row, stored)
}

async fn first(db: &impl ConnectionTrait, condition: Condition) -> AppResult<Option<Case>> {
    let Some(row) = si_transfer::Entity::find().filter(condition).one(db).await? else {
        return Ok(None);
    };
    let calendars = calendar::load(db).await?;
    hydrate(db, &calendars, row).await.map(Some)
}

pub(super) async fn by_number(db: &impl ConnectionTrait, transfer_no: &str) -> AppResult<Option<Case>> {
    first(
        db,
        Condition::all().add(si_transfer::Column::TransferNo.eq(transfer_no)),
    )
    .await
}

pub(super) async fn by_id(db: &impl ConnectionTrait, id: &str) -> AppResult<Option<Case>> {
    first(db, Condition::all().add(si_transfer::Column::Id.eq(id))).await
}

/// The worker's case `id`; none when it is someone else's.
pub(super) async fn of_worker(db: &impl ConnectionTrait, worker_id: &str, id: &str) -> AppResult<Option<Case>> {
    first(
        db,
        Condition::all()
            .add(si_transfer::Column::Id.eq(id))
            .add(si_transfer::Column::WorkerId.eq(worker_id)),
    )
    .await
}

/// One page of the worker's cases, newest first, with how many they have.
pub(super) async fn worker_page(
    db: &impl ConnectionTrait,
    worker_id: &str,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Transfer>, u64)> {
    let query = si_transfer::Entity::find()
        .filter(si_transfer::Column::WorkerId.eq(worker_id))
        .order_by_desc(si_transfer::Column::CreatedAt)
        .order_by_desc(si_transfer::Column::Id);
    let calendars = calendar::load(db).await?;
    page_of(db, &calendars, query, page, page_size).await
}

/// The keyed hash of the ID number in the worker's profile, which the
/// agencies match a case by.
pub(super) async fn id_number_hash(db: &impl ConnectionTrait, worker_id: &str) -> AppResult<String> {
    let person = worker::Entity::find_by_id(worker_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::SessionEnded))?;
    person
        .id_number_hash
        .ok_or_else(|| AppError::new(ErrorCode::ProfileIncomplete).with_details(json!({ "missing": ["id_number"] })))
}

/// The cases with either end in one of `codes`, as a condition on `si_transfer`.
fn with_an_end_in(codes: Vec<String>) -> Condition {
    Condition::any()
        .add(si_transfer::Column::FromRegionCode.is_in(codes.clone()))
        .add(si_transfer::Column::ToRegionCode.is_in(codes))
}

/// The feed after `cursor`, in order, of the cases with an end in `codes`
/// (all cases when none).
pub(super) async fn changes(
    db: &impl ConnectionTrait,
    codes: Option<Vec<String>>,
    cursor: i64,
    limit: u64,
) -> AppResult<Vec<Change>> {
    let mut query = si_transfer_change::Entity::find()
        .filter(si_transfer_change::Column::Seq.gt(cursor))
        .order_by_asc(si_transfer_change::Column::Seq)
        .limit(limit);
    if let Some(codes) = codes {
        query = query.filter(
            si_transfer_change::Column::TransferId.in_subquery(
                Query::select()
                    .column(si_transfer::Column::Id)
                    .from(si_transfer::Entity)
                    .cond_where(with_an_end_in(codes))
                    .to_owned(),
            ),
        );
    }
    Ok(query
        .all(db)
        .await?
        .into_iter()
        .map(|c| Change {
            seq: c.seq,
            transfer_no: c.transfer_no,
            kind: c.kind,
            step: c.step,
            at: c.at,
        })
        .collect())
}

/// The cases with an overdue step, as a condition on `si_transfer`: a
/// pending step whose due day lies before the cutoff of the province of the
/// office that acts on it (`Calendars::overdue_cutoffs`); a completed case
/// has none. The query form of a step's `overdue`.
pub fn overdue_cases(cutoffs: &OverdueCutoffs) -> Condition {
    let office_in = |office: Office, region: si_transfer::Column, prefix: &str| {
        Condition::all()
            .add(si_transfer_step::Column::Office.eq(office.as_str()))
            .add(region.starts_with(prefix))
    };
    let in_province = |prefix: &str| {
        Condition::any()
            .add(office_in(Office::From, si_transfer::Column::FromRegionCode, prefix))
            .add(office_in(Office::To, si_transfer::Column::ToRegionCode, prefix))
    };
    let due_before = |cutoff: NaiveDate| Condition::all().add(si_transfer_step::Column::DueOn.lt(cutoff));
    let overdue_steps = Query::select()
        .expr(Expr::val(1))
        .from(si_transfer_step::Entity)
        .cond_where(
            Condition::all()
                .add(
                    Expr::col((si_transfer_step::Entity, si_transfer_step::Column::TransferId))
                        .equals((si_transfer::Entity, si_transfer::Column::Id)),
                )
                .add(si_transfer_step::Column::Status.eq(StepStatus::Pending.as_str()))
                .add(cutoffs.condition(in_province, due_before)),
        )
        .to_owned();
    // A case that ended has no overdue step.
    Condition::all()
        .add(si_transfer::Column::Status.eq(TransferStatus::InProgress.as_str()))
        .add(Expr::exists(overdue_steps))
}

/// Cases in progress now with an end in these regions, and the overdue among
/// them, by their two ends: `((from, to), in progress, overdue)`.
pub async fn in_progress_by_ends(
    db: &impl ConnectionTrait,
    codes: Option<&[String]>,
    cutoffs: &OverdueCutoffs,
) -> AppResult<Vec<((String, String), i64, i64)>> {
    let counted = |condition: Condition| {
        let mut query = si_transfer::Entity::find()
            .select_only()
            .column(si_transfer::Column::FromRegionCode)
            .column(si_transfer::Column::ToRegionCode)
            .column_as(Expr::cust("COUNT(*)"), "count")
            .filter(si_transfer::Column::Status.eq(TransferStatus::InProgress.as_str()))
            .filter(condition)
            .group_by(si_transfer::Column::FromRegionCode)
            .group_by(si_transfer::Column::ToRegionCode);
        if let Some(codes) = codes {
            query = query.filter(
                Condition::any()
                    .add(si_transfer::Column::FromRegionCode.is_in(codes.iter().map(String::as_str)))
                    .add(si_transfer::Column::ToRegionCode.is_in(codes.iter().map(String::as_str))),
            );
        }
        query.into_tuple::<(String, String, i64)>().all(db)
    };
    let overdue: HashMap<(String, String), i64> = counted(overdue_cases(cutoffs))
        .await?
        .into_iter()
        .map(|(from, to, count)| ((from, to), count))
        .collect();
    Ok(counted(Condition::all())
        .await?
        .into_iter()
        .map(|(from, to, count)| {
            let ends = (from, to);
            let late = overdue.get(&ends).copied().unwrap_or(0);
            (ends, count, late)
        })
        .collect())
}

/// Which cases a staff list shows, as the query sees them.
#[derive(Debug)]
pub(super) struct StaffQuery {
    /// Cases with an end in these regions; all when none.
    pub codes: Option<Vec<String>>,
    pub status: Option<TransferStatus>,
    pub overdue_only: bool,
}

/// One page of a staff list, oldest first (the id breaking ties), with how
/// many match. Every filter is part of the query.
pub(super) async fn staff_page(
    db: &impl ConnectionTrait,
    protector: &DataProtector,
    filter: StaffQuery,
    window: Window,
) -> AppResult<Cut<Transfer>> {
    use si_transfer::Column::{CreatedAt, Id};
    let keyset = Keyset::open(protector, "si_transfers", &filter, (vec![CreatedAt, Id], false), window)?;
    let calendars = calendar::load(db).await?;
    let mut query = si_transfer::Entity::find();
    if let Some(codes) = filter.codes {
        query = query.filter(with_an_end_in(codes));
    }
    if let Some(status) = filter.status {
        query = query.filter(si_transfer::Column::Status.eq(status.as_str()));
    }
    if filter.overdue_only {
        query = query.filter(overdue_cases(&calendars.overdue_cutoffs(china_time::today())));
    }
    let cut = keyset
        .read(db, query, |row| vec![row.created_at.into(), row.id.as_str().into()])
        .await?;
    let (rows, cut) = cut.take_items();
    Ok(cut.with_items(with_steps(db, &calendars, rows).await?))
}

/// One page of `query` with how many rows it matches in all. The page's
/// steps come in one more query: three queries whatever the page size.
async fn page_of(
    db: &impl ConnectionTrait,
    calendars: &Calendars,
    query: Select<si_transfer::Entity>,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Transfer>, u64)> {
    let paginator = query.paginate(db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    Ok((with_steps(db, calendars, rows).await?, total))
}

/// The transfers of `rows` with their steps, read in one query.
async fn with_steps(
    db: &impl ConnectionTrait,
    calendars: &Calendars,
    rows: Vec<si_transfer::Model>,
) -> AppResult<Vec<Transfer>> {
    let mut steps: HashMap<String, Vec<si_transfer_step::Model>> = HashMap::new();
    if !rows.is_empty() {
        for step in si_transfer_step::Entity::find()
            .filter(si_transfer_step::Column::TransferId.is_in(rows.iter().map(|row| row.id.clone())))
            .order_by_asc(si_transfer_step::Column::TransferId)
            .order_by_asc(si_transfer_step::Column::Position)
            .all(db)
            .await?
        {
            steps.entry(step.transfer_id.clone()).or_default().push(step);
        }
    }
    rows.into_iter()
        .map(|row| {
            let stored = steps.remove(&row.id).unwrap_or_default();
            assemble(calendars, row, stored).map(|case| case.transfer)
        })
        .collect::<AppResult<Vec<_>>>()
}
