//! Paying approved cases through the bank. Finance gathers the approved
//! cases of its region whose applicants gave an account into a batch,
//! downloads it in the bank's import layout, and records the bank's answer
//! line by line: `paid` settles the case as a disbursement naming the
//! account, `returned` keeps it approved and asks the worker for a new
//! account, and the next batch takes it again once they gave one.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{application, payment_batch, payment_line, worker};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr, sea_query::Query,
};
use serde_json::json;

use super::{Step, staff_step, status::Action, take};
use crate::{
    access,
    auth::Principal,
    context::RequestContext,
    domain::{RegionCode, TextType},
    error::{AppError, AppResult, ErrorCode, Localized},
    infra::spreadsheet::{ByteStream, Cell, Format},
    services::{
        audit::{self, Event},
        counters,
        keyset::{Cut, Keyset, Window},
        payees::{self, LineOutcome, PayeeAccount},
    },
    state::AppState,
};

/// The most cases one batch pays; more wait for the next.
const MAX_LINES: u64 = 500;

/// The bank-import layout: one row a payment.
pub const FILE_COLUMNS: &[&str] = &[
    "序号",
    "收款人姓名",
    "收款账号",
    "开户银行",
    "金额（元）",
    "用途",
    "业务编号",
];

#[derive(Debug, Clone)]
pub struct Line {
    pub line_no: i32,
    pub application_id: String,
    pub application_no: String,
    pub worker_id: String,
    pub amount_fen: i64,
    pub account_masked: String,
    pub bank_name: String,
    pub outcome: LineOutcome,
    pub reason: Option<String>,
    pub bank_reference: Option<String>,
    pub recorded_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct Batch {
    pub id: String,
    pub batch_no: String,
    pub region_code: String,
    pub created_at: DateTime<Utc>,
    pub total_fen: i64,
    pub lines: Vec<Line>,
}

/// What the bank said of one line.
pub enum BankAnswer {
    Paid { bank_reference: String },
    Returned { reason: String },
}

/// The lines of `rows`, each with its case's number.
async fn lines_of(db: &impl ConnectionTrait, rows: Vec<payment_line::Model>) -> AppResult<Vec<Line>> {
    let numbers: HashMap<String, String> = application::Entity::find()
        .select_only()
        .column(application::Column::Id)
        .column(application::Column::ApplicationNo)
        .filter(application::Column::Id.is_in(rows.iter().map(|row| row.application_id.as_str())))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let application_no = numbers.get(&row.application_id).cloned().unwrap_or_default();
            line_of(row, application_no)
        })
        .collect())
}

fn line_of(row: payment_line::Model, application_no: String) -> Line {
    Line {
        line_no: row.line_no,
        application_id: row.application_id,
        application_no,
        worker_id: row.worker_id,
        amount_fen: row.amount_fen,
        account_masked: row.account_masked,
        bank_name: row.bank_name,
        outcome: LineOutcome::parse(&row.outcome).unwrap_or(LineOutcome::Pending),
        reason: row.reason,
        bank_reference: row.bank_reference,
        recorded_at: row.recorded_at,
    }
}

fn nothing_to_pay() -> AppError {
    AppError::new(ErrorCode::NothingToPay)
}

/// Approved cases of the scope not waiting for the bank already, oldest
/// decision first.
async fn approved_unsent(db: &impl ConnectionTrait, scope: Option<Vec<String>>) -> AppResult<Vec<application::Model>> {
    let pending = Query::select()
        .column(payment_line::Column::ApplicationId)
        .from(payment_line::Entity)
        .and_where(payment_line::Column::Outcome.eq(LineOutcome::Pending.as_str()))
        .to_owned();
    let mut query = application::Entity::find()
        .filter(application::Column::Status.eq(super::ApplicationStatus::Approved.as_str()))
        .filter(application::Column::Id.not_in_subquery(pending))
        .order_by_asc(application::Column::DecidedAt)
        .order_by_asc(application::Column::Id)
        .limit(MAX_LINES);
    if let Some(codes) = scope {
        query = query.filter(application::Column::RegionCode.is_in(codes));
    }
    Ok(query.all(db).await?)
}

/// Each case with the account it can be paid to: the applicant gave one,
/// and, if the bank returned an earlier payment, gave it after the return.
async fn payable(
    db: &impl ConnectionTrait,
    cases: Vec<application::Model>,
) -> AppResult<Vec<(application::Model, PayeeAccount)>> {
    let ids: Vec<&str> = cases.iter().map(|case| case.id.as_str()).collect();
    let mut last_return: HashMap<String, DateTime<Utc>> = HashMap::new();
    for line in payment_line::Entity::find()
        .filter(payment_line::Column::ApplicationId.is_in(ids))
        .filter(payment_line::Column::Outcome.eq(LineOutcome::Returned.as_str()))
        .all(db)
        .await?
    {
        let at = line.recorded_at.unwrap_or_default();
        let latest = last_return.entry(line.application_id).or_insert(at);
        *latest = (*latest).max(at);
    }
    // A case a service window filed has no payee until its worker joins it.
    let worker_ids: HashSet<&str> = cases.iter().filter_map(|case| case.worker_id.as_deref()).collect();
    let accounts: HashMap<String, PayeeAccount> = worker::Entity::find()
        .filter(worker::Column::Id.is_in(worker_ids))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| Some((row.id.clone(), payees::stored(&row)?)))
        .collect();
    Ok(cases
        .into_iter()
        .filter_map(|case| {
            let account = accounts.get(case.worker_id.as_deref()?)?.clone();
            let renewed = last_return
                .get(&case.id)
                .is_none_or(|returned| account.updated_at > *returned);
            renewed.then_some((case, account))
        })
        .collect())
}

/// An approved case ready to pay, as the next batch would take it.
#[derive(Debug, Clone)]
pub struct ReadyCase {
    pub application_id: String,
    pub application_no: String,
    pub amount_fen: i64,
    pub account_masked: String,
    pub bank_name: String,
    pub decided_at: Option<DateTime<Utc>>,
}

/// The cases the next batch of the officer's region would take, in its
/// order: approved, with an account to pay, not waiting for the bank.
pub async fn ready_cases(state: &AppState, finance: &Principal) -> AppResult<Vec<ReadyCase>> {
    access::require_paymaster(finance)?;
    let scope = access::staff_scope(&state.regions, finance, None)?;
    let cases = payable(&state.db, approved_unsent(&state.db, scope).await?).await?;
    Ok(cases
        .into_iter()
        .map(|(case, account)| ReadyCase {
            application_id: case.id,
            application_no: case.application_no,
            amount_fen: case.approved_amount_fen.unwrap_or(0),
            account_masked: account.account_masked,
            bank_name: account.bank_name,
            decided_at: case.decided_at,
        })
        .collect())
}

/// Gathers the payable cases of the officer's region into a new batch.
pub async fn create_batch(state: &AppState, request: &RequestContext, finance: &Principal) -> AppResult<Batch> {
    access::require_paymaster(finance)?;
    let region = finance
        .region
        .ok_or_else(|| AppError::new(ErrorCode::OutOfRegionScope))?;
    let scope = access::staff_scope(&state.regions, finance, None)?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let cases = payable(&transaction, approved_unsent(&transaction, scope).await?).await?;
    if cases.is_empty() {
        return Err(nothing_to_pay());
    }
    let batch_id = uuid::Uuid::new_v4().to_string();
    let batch_no = counters::readable_number(&transaction, "ZF", region.as_str()).await?;
    let total_fen = cases
        .iter()
        .map(|(case, _)| case.approved_amount_fen.unwrap_or(0))
        .sum();
    payment_batch::ActiveModel {
        id: Set(batch_id.clone()),
        batch_no: Set(batch_no.clone()),
        region_code: Set(region.as_str().to_owned()),
        created_by: Set(finance.subject.clone()),
        created_at: Set(Utc::now()),
        line_count: Set(i32::try_from(cases.len()).map_err(AppError::internal)?),
        total_fen: Set(total_fen),
    }
    .insert(&transaction)
    .await?;
    insert_lines(&transaction, &batch_id, cases).await?;
    let details = json!({ "batch_no": batch_no, "total_fen": total_fen });
    let event = Event::success(
        finance,
        "payment_batch.create",
        ("payment_batch", &batch_id),
        Some(region),
        Some(details),
    );
    audit::record(&transaction, Some(request), event).await?;
    let batch = load(&transaction, &batch_id).await?;
    transaction.commit().await?;
    Ok(batch)
}

async fn insert_lines(
    transaction: &DatabaseTransaction,
    batch_id: &str,
    cases: Vec<(application::Model, PayeeAccount)>,
) -> AppResult<()> {
    let lines = cases
        .into_iter()
        .zip(1..)
        .map(|((case, account), line_no)| payment_line::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            batch_id: Set(batch_id.to_owned()),
            line_no: Set(line_no),
            application_id: Set(case.id),
            // Only a case with a worker has a payee account to be here.
            worker_id: Set(case.worker_id.unwrap_or_default()),
            amount_fen: Set(case.approved_amount_fen.unwrap_or(0)),
            account_masked: Set(account.account_masked),
            bank_name: Set(account.bank_name),
            outcome: Set(LineOutcome::Pending.as_str().to_owned()),
            reason: Set(None),
            bank_reference: Set(None),
            recorded_at: Set(None),
            recorded_by: Set(None),
        });
    payment_line::Entity::insert_many(lines)
        .exec_without_returning(transaction)
        .await
        .map_err(|err| match err.sql_err() {
            // Another officer's batch took a case at the same moment.
            Some(SqlErr::UniqueConstraintViolation(_)) => AppError::new(ErrorCode::Conflict),
            _ => err.into(),
        })?;
    Ok(())
}

async fn load(db: &impl ConnectionTrait, id: &str) -> AppResult<Batch> {
    let batch = payment_batch::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    with_lines(db, batch).await
}

async fn with_lines(db: &impl ConnectionTrait, batch: payment_batch::Model) -> AppResult<Batch> {
    let lines = payment_line::Entity::find()
        .filter(payment_line::Column::BatchId.eq(&batch.id))
        .order_by_asc(payment_line::Column::LineNo)
        .all(db)
        .await?;
    Ok(Batch {
        id: batch.id,
        batch_no: batch.batch_no,
        region_code: batch.region_code,
        created_at: batch.created_at,
        total_fen: batch.total_fen,
        lines: lines_of(db, lines).await?,
    })
}

/// A batch as the list shows it: what it pays and where the bank's answers
/// stand.
#[derive(Debug, Clone)]
pub struct BatchSummary {
    pub id: String,
    pub batch_no: String,
    pub region_code: String,
    pub created_at: DateTime<Utc>,
    pub total_fen: i64,
    pub line_count: i32,
    pub pending_lines: u64,
    pub paid_lines: u64,
    pub returned_lines: u64,
}

/// The batches of the officer's region and below, newest first (the
/// unique batch number breaking ties), a page at a time, and how many there
/// are in all.
pub async fn batches(state: &AppState, finance: &Principal, window: Window) -> AppResult<Cut<BatchSummary>> {
    use payment_batch::Column::{BatchNo, CreatedAt};
    access::require_paymaster(finance)?;
    let scope = access::staff_scope(&state.regions, finance, None)?;
    let keyset = Keyset::open(
        &state.protector,
        "payment_batches",
        &scope,
        (vec![CreatedAt, BatchNo], true),
        window,
    )?;
    let mut query = payment_batch::Entity::find();
    if let Some(codes) = scope {
        query = query.filter(payment_batch::Column::RegionCode.is_in(codes));
    }
    let (rows, cut) = keyset
        .read(&state.db, query, |row| {
            vec![row.created_at.into(), row.batch_no.as_str().into()]
        })
        .await?
        .take_items();
    let counted: Vec<(String, String, i64)> = payment_line::Entity::find()
        .select_only()
        .column(payment_line::Column::BatchId)
        .column(payment_line::Column::Outcome)
        .column_as(payment_line::Column::Id.count(), "lines")
        .filter(payment_line::Column::BatchId.is_in(rows.iter().map(|row| row.id.as_str())))
        .group_by(payment_line::Column::BatchId)
        .group_by(payment_line::Column::Outcome)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut lines: HashMap<(String, LineOutcome), u64> = HashMap::new();
    for (batch_id, outcome, count) in counted {
        if let Some(outcome) = LineOutcome::parse(&outcome) {
            lines.insert((batch_id, outcome), u64::try_from(count).unwrap_or(0));
        }
    }
    let count = |id: &str, outcome| lines.get(&(id.to_owned(), outcome)).copied().unwrap_or(0);
    let summaries = rows
        .into_iter()
        .map(|row| BatchSummary {
            pending_lines: count(&row.id, LineOutcome::Pending),
            paid_lines: count(&row.id, LineOutcome::Paid),
            returned_lines: count(&row.id, LineOutcome::Returned),
            id: row.id,
            batch_no: row.batch_no,
            region_code: row.region_code,
            created_at: row.created_at,
            total_fen: row.total_fen,
            line_count: row.line_count,
        })
        .collect();
    Ok(cut.with_items(summaries))
}

/// The batch row, for finance whose region covers it; 404 for any other.
async fn reachable(state: &AppState, finance: &Principal, id: &str) -> AppResult<payment_batch::Model> {
    access::require_paymaster(finance)?;
    let batch = payment_batch::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    let region = RegionCode::parse(&batch.region_code)
        .map_err(|_| AppError::internal(anyhow::anyhow!("a batch's region is a code")))?;
    if !access::covers(&state.regions, finance, region) {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    Ok(batch)
}

/// A batch with its lines, for finance whose region covers it.
pub async fn batch_for(state: &AppState, finance: &Principal, id: &str) -> AppResult<Batch> {
    let batch = reachable(state, finance, id).await?;
    with_lines(&state.db, batch).await
}

/// One line of a batch.
async fn line_in(db: &impl ConnectionTrait, batch_id: &str, line_no: i32) -> AppResult<Line> {
    let row = payment_line::Entity::find()
        .filter(payment_line::Column::BatchId.eq(batch_id))
        .filter(payment_line::Column::LineNo.eq(line_no))
        .one(db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    lines_of(db, vec![row])
        .await?
        .pop()
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))
}

/// The batch's lines still waiting for the bank, with each account in
/// clear, in the bank's import layout; audited, as it reveals accounts.
pub async fn batch_file(
    state: &AppState,
    request: &RequestContext,
    finance: &Principal,
    id: &str,
) -> AppResult<(String, ByteStream)> {
    let batch = batch_for(state, finance, id).await?;
    let waiting: Vec<&Line> = batch
        .lines
        .iter()
        .filter(|line| line.outcome == LineOutcome::Pending)
        .collect();
    let workers: HashMap<String, worker::Model> = worker::Entity::find()
        .filter(worker::Column::Id.is_in(waiting.iter().map(|line| line.worker_id.as_str())))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|row| (row.id.clone(), row))
        .collect();
    let mut rows = Vec::with_capacity(waiting.len());
    for line in waiting {
        let account = workers
            .get(&line.worker_id)
            .ok_or_else(|| AppError::new(ErrorCode::PayeeAccountMissing))
            .and_then(|row| payees::clear_account(state, row))
            .map_err(|err| err.with_details(json!({ "line_no": line.line_no })))?;
        rows.push(vec![
            Cell::Count(i64::from(line.line_no)),
            Cell::Text(account.holder_name),
            Cell::Text(account.account_number),
            Cell::Text(account.bank_name),
            Cell::Yuan(line.amount_fen),
            Cell::Text("农民工补贴".to_owned()),
            Cell::Text(format!("{}-{}", batch.batch_no, line.line_no)),
        ]);
    }
    let details = json!({ "batch_no": batch.batch_no, "lines": rows.len() });
    let event = Event::success(
        finance,
        "payment_batch.export",
        ("payment_batch", &batch.id),
        None,
        Some(details),
    );
    audit::record(&state.db, Some(request), event).await?;
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    sender
        .send(Ok(rows))
        .await
        .map_err(|_| AppError::internal(anyhow::anyhow!("the file writer stopped before it began")))?;
    let file = Format::Csv.render("发放批次", FILE_COLUMNS, receiver);
    Ok((format!("{}.csv", batch.batch_no), file))
}

/// Records the bank's answer for line `line_no` of batch `id`, once.
pub async fn record_answer(
    state: &AppState,
    request: &RequestContext,
    finance: &Principal,
    id: &str,
    line_no: i32,
    answer: BankAnswer,
) -> AppResult<Line> {
    reachable(state, finance, id).await?;
    let line = line_in(&state.db, id, line_no).await?;
    let action = match answer {
        BankAnswer::Paid { .. } => Action::Disburse,
        BankAnswer::Returned { .. } => Action::ReturnPayment,
    };
    staff_step(
        state,
        finance,
        &line.application_id,
        action,
        async |transaction, case| {
            settle_line(transaction, id, line_no, finance, &answer).await?;
            let step = Step::by_staff(finance, action, case.version, None).settling(line.amount_fen);
            match &answer {
                BankAnswer::Paid { bank_reference } => {
                    let paid = application::ActiveModel {
                        disbursed_amount_fen: Set(Some(line.amount_fen)),
                        disbursement_reference: Set(Some(bank_reference.clone())),
                        payee_account_masked: Set(Some(line.account_masked.clone())),
                        payee_bank_name: Set(Some(line.bank_name.clone())),
                        ..Default::default()
                    };
                    take(transaction, request, &case, step, paid).await
                }
                BankAnswer::Returned { reason } => {
                    take(transaction, request, &case, step.commented(reason), Default::default()).await
                }
            }
        },
    )
    .await?;
    line_in(&state.db, id, line_no).await
}

/// Marks the line answered, unless it already was.
async fn settle_line(
    transaction: &DatabaseTransaction,
    batch_id: &str,
    line_no: i32,
    finance: &Principal,
    answer: &BankAnswer,
) -> AppResult<()> {
    let (outcome, reason, reference) = match answer {
        BankAnswer::Paid { bank_reference } => (LineOutcome::Paid, None, Some(bank_reference.clone())),
        BankAnswer::Returned { reason } => (LineOutcome::Returned, Some(reason.clone()), None),
    };
    let settled = payment_line::Entity::update_many()
        .set(payment_line::ActiveModel {
            outcome: Set(outcome.as_str().to_owned()),
            reason: Set(reason),
            bank_reference: Set(reference),
            recorded_at: Set(Some(Utc::now())),
            recorded_by: Set(Some(finance.subject.clone())),
            ..Default::default()
        })
        .filter(payment_line::Column::BatchId.eq(batch_id))
        .filter(payment_line::Column::LineNo.eq(line_no))
        .filter(payment_line::Column::Outcome.eq(LineOutcome::Pending.as_str()))
        .exec(transaction)
        .await?;
    if settled.rows_affected == 0 {
        return Err(AppError::new(ErrorCode::InvalidState).with_message(Localized::fixed(
            "这一笔的银行结果已经记录过了。",
            "The bank's answer for this line is already recorded.",
        )));
    }
    Ok(())
}
