use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde::Deserialize;

use super::{ApiTags, Page, QueuePage, queue_window};
use crate::{
    auth::schemes::StaffAuth,
    context::RequestContext,
    domain::{BoundedText, yuan_text},
    http::{
        download::{Csv, Download},
        json_body::{JsonBody, present},
        params::{PageCursor, PageNumber, PageSize, Paging, RecordId},
        problem::{ApiResult, status},
    },
    services::{
        applications::batches::{self, BankAnswer, Batch, BatchSummary, Line, ReadyCase},
        payees::LineOutcome,
    },
    state::AppState,
};

pub struct PaymentApi;

/// One payment of a batch.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PaymentLineView {
    /// Its number in the batch file (序号).
    pub line_no: i32,
    pub application_id: String,
    pub application_no: String,
    pub amount_yuan: String,
    /// The account it is sent to, masked.
    pub account_number: String,
    pub bank_name: String,
    pub outcome: LineOutcome,
    /// Why the bank returned it.
    pub reason: Option<String>,
    pub bank_reference: Option<String>,
    pub recorded_at: Option<DateTime<Utc>>,
}

impl From<Line> for PaymentLineView {
    fn from(line: Line) -> Self {
        PaymentLineView {
            line_no: line.line_no,
            application_id: line.application_id,
            application_no: line.application_no,
            amount_yuan: yuan_text(line.amount_fen),
            account_number: line.account_masked,
            bank_name: line.bank_name,
            outcome: line.outcome,
            reason: line.reason,
            bank_reference: line.bank_reference,
            recorded_at: line.recorded_at,
        }
    }
}

/// A payment batch and its lines.
#[derive(Debug, Object)]
pub struct PaymentBatchView {
    pub id: String,
    /// e.g. `ZF-450100-20261130-000001`.
    pub batch_no: String,
    pub region_code: String,
    pub created_at: DateTime<Utc>,
    pub total_yuan: String,
    pub lines: Vec<PaymentLineView>,
}

impl From<Batch> for PaymentBatchView {
    fn from(batch: Batch) -> Self {
        PaymentBatchView {
            id: batch.id,
            batch_no: batch.batch_no,
            region_code: batch.region_code,
            created_at: batch.created_at,
            total_yuan: yuan_text(batch.total_fen),
            lines: batch.lines.into_iter().map(PaymentLineView::from).collect(),
        }
    }
}

/// A batch in the list: what it pays and where the bank's answers stand.
#[derive(Debug, Object)]
pub struct PaymentBatchSummary {
    pub id: String,
    pub batch_no: String,
    pub region_code: String,
    pub created_at: DateTime<Utc>,
    pub total_yuan: String,
    /// How many payments it holds.
    pub line_count: i32,
    /// Lines still waiting for the bank's answer.
    pub pending_lines: u64,
    pub paid_lines: u64,
    pub returned_lines: u64,
}

impl From<BatchSummary> for PaymentBatchSummary {
    fn from(batch: BatchSummary) -> Self {
        PaymentBatchSummary {
            id: batch.id,
            batch_no: batch.batch_no,
            region_code: batch.region_code,
            created_at: batch.created_at,
            total_yuan: yuan_text(batch.total_fen),
            line_count: batch.line_count,
            pending_lines: batch.pending_lines,
            paid_lines: batch.paid_lines,
            returned_lines: batch.returned_lines,
        }
    }
}

/// An approved case ready to pay: the next batch takes it.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PayableApplicationView {
    pub application_id: String,
    pub application_no: String,
    pub amount_yuan: String,
    /// The account it will be sent to, masked.
    pub account_number: String,
    pub bank_name: String,
    pub decided_at: Option<DateTime<Utc>>,
}

fn payable_view(case: &ReadyCase) -> PayableApplicationView {
    PayableApplicationView {
        application_id: case.application_id.clone(),
        application_no: case.application_no.clone(),
        amount_yuan: yuan_text(case.amount_fen),
        account_number: case.account_masked.clone(),
        bank_name: case.bank_name.clone(),
        decided_at: case.decided_at,
    }
}

#[derive(Debug, Clone, Copy, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AnsweredOutcome {
    Paid,
    Returned,
}

/// What the bank answered for one line.
#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct BankAnswerBody {
    pub outcome: AnsweredOutcome,
    /// The bank's reference of the payment; required when `paid`.
    #[serde(default, deserialize_with = "present")]
    pub bank_reference: Option<BoundedText<1, 64>>,
    /// Why the bank returned it; required when `returned`.
    #[serde(default, deserialize_with = "present")]
    pub reason: Option<BoundedText<1, 200>>,
}

impl BankAnswerBody {
    fn answer(self) -> Result<BankAnswer, crate::error::AppError> {
        let missing = |field: &str, zh: &'static str, en: &'static str| {
            crate::error::AppError::invalid_field(field, crate::error::Localized::fixed(zh, en))
        };
        match self.outcome {
            AnsweredOutcome::Paid => Ok(BankAnswer::Paid {
                bank_reference: self
                    .bank_reference
                    .ok_or_else(|| {
                        missing(
                            "bank_reference",
                            "请填写银行的交易流水号。",
                            "bank_reference is required when paid.",
                        )
                    })?
                    .into_inner(),
            }),
            AnsweredOutcome::Returned => Ok(BankAnswer::Returned {
                reason: self
                    .reason
                    .ok_or_else(|| missing("reason", "请填写银行退回的原因。", "reason is required when returned."))?
                    .into_inner(),
            }),
        }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Applications")]
impl PaymentApi {
    /// Approved cases ready to pay
    ///
    /// For finance: the cases the next batch of my region would take, in
    /// its order (oldest decision first, at most 500): approved, with a
    /// payee account given (after a returned payment, a new one), not
    /// waiting for the bank. `total` is how many there are.
    #[oai(
        path = "/staff/payable-applications",
        method = "get",
        operation_id = "listPayableApplications"
    )]
    async fn payable(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<PayableApplicationView>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }>
    {
        let paging = Paging::new(page.0, page_size.0)?;
        let cases = batches::ready_cases(&state, &auth.0).await?;
        Ok(Json(Page::slice(&cases, paging, payable_view)))
    }

    /// The payment batches
    ///
    /// For finance: the batches of my region and below, newest first, each
    /// with how many of its lines the bank paid, returned or has not
    /// answered yet.
    ///
    /// Pages by number, or by `cursor`: the `next_cursor` of the page
    /// before, at any depth for the cost of the first (`page` is then
    /// ignored).
    #[oai(path = "/staff/payment-batches", method = "get", operation_id = "listPaymentBatches")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
        /// The `next_cursor` of the page before (opaque); `page` is then ignored.
        cursor: Query<Option<PageCursor>>,
    ) -> ApiResult<Json<QueuePage<PaymentBatchSummary>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }>
    {
        let window = queue_window(page.0, page_size.0, cursor.0)?;
        let cut = batches::batches(&state, &auth.0, window).await?;
        Ok(Json(QueuePage::of(cut, PaymentBatchSummary::from)))
    }

    /// Gather approved cases into a payment batch
    ///
    /// For finance: every approved case of my region and below whose
    /// applicant gave a payee account (after the bank returned an earlier
    /// payment, a new one), not already waiting for the bank, up to 500,
    /// oldest decision first. 409 `NOTHING_TO_PAY` when none is ready.
    #[oai(
        path = "/staff/payment-batches",
        method = "post",
        operation_id = "createPaymentBatch"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
    ) -> ApiResult<Json<PaymentBatchView>, { status::FORBIDDEN | status::CONFLICT | status::SIGNED_IN }> {
        Ok(Json(batches::create_batch(&state, &context, &auth.0).await?.into()))
    }

    /// A payment batch
    ///
    /// Its lines with the accounts masked and the bank's answers so far; for
    /// finance whose region covers it (404 for others).
    #[oai(
        path = "/staff/payment-batches/:id",
        method = "get",
        operation_id = "getPaymentBatch"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<RecordId>,
    ) -> ApiResult<
        Json<PaymentBatchView>,
        { status::BAD_REQUEST | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN },
    > {
        Ok(Json(batches::batch_for(&state, &auth.0, &id.0).await?.into()))
    }

    /// Download a payment batch for the bank
    ///
    /// The lines still waiting for the bank's answer, in the bank-import
    /// layout (UTF-8 CSV with a byte-order mark): 序号, 收款人姓名, 收款账号
    /// (in clear), 开户银行, 金额（元）, 用途, 业务编号 (`batch_no-line_no`).
    /// Audited, as it reveals the accounts.
    #[oai(
        path = "/staff/payment-batches/:id/file",
        method = "get",
        operation_id = "downloadPaymentBatch"
    )]
    async fn file(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
    ) -> ApiResult<
        Download<Csv>,
        { status::BAD_REQUEST | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let (file_name, body) = batches::batch_file(&state, &context, &auth.0, &id.0).await?;
        Ok(Download::new(file_name, body))
    }

    /// Record the bank's answer for one payment
    ///
    /// `paid` (with the bank's reference) settles the case as disbursed to
    /// the line's account; `returned` (with the bank's reason) keeps it
    /// approved, tells the worker to give a new account, and the next batch
    /// takes it once they did. Each line is answered once (409 after).
    #[oai(
        path = "/staff/payment-batches/:id/lines/:line_no/answer",
        method = "post",
        operation_id = "recordPaymentAnswer"
    )]
    async fn answer(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        line_no: Path<i32>,
        body: JsonBody<BankAnswerBody>,
    ) -> ApiResult<
        Json<PaymentLineView>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let answer = body.0.answer()?;
        let line = batches::record_answer(&state, &context, &auth.0, &id.0, line_no.0, answer).await?;
        Ok(Json(line.into()))
    }
}
