use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
    types::Example,
};
use serde::{Deserialize, Serialize};

use super::{
    ApiTags, Page, idempotent,
    integrations::{DeliveryView, WebhookEndpoint, WebhookRegistered},
};
use crate::http::params::{IdempotencyKey, PageNumber, PageSize, Paging, RecordId};
use crate::{
    auth::schemes::{IntegratorAuth, StaffAuth, WorkerAuth},
    context::RequestContext,
    domain::{BoundedText, IdNumber, PhoneNumber, RegionCode, TextType},
    http::{
        json_body::{JsonBody, present},
        problem::{ApiResult, status},
    },
    services::{
        transfers::{
            self, AgencyOpening, Opening, StaffFilter, StepReport, Transfer, claims,
            process::{InsuranceType, Office},
        },
        webhooks,
    },
    state::AppState,
};

pub struct TransferApi;
pub struct TransferIntegrationApi;

/// One legal step of a transfer.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct StepView {
    /// e.g. `contact_letter_issued`.
    pub step: String,
    /// What happens, in plain Chinese.
    pub label: String,
    /// Which office acts: `from` (old place) or `to` (new place).
    pub office: Office,
    pub office_region_code: RegionCode,
    /// `pending` or `done`.
    pub status: String,
    /// The legal limit in working days from the previous step.
    pub limit_days: Option<i32>,
    /// The last day of the limit, once the previous step is done.
    pub due_on: Option<NaiveDate>,
    /// Past its due day by at least one working day.
    pub overdue: bool,
    pub occurred_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// A transfer case with its steps.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TransferView {
    pub id: String,
    /// e.g. ZJ-320115-20261122-000001.
    pub transfer_no: String,
    pub insurance_type: InsuranceType,
    pub from_region_code: RegionCode,
    pub to_region_code: RegionCode,
    /// `worker` or `agency`: who opened it.
    pub source: String,
    /// `in_progress` or `completed`.
    pub status: String,
    pub overdue: bool,
    /// The office holding the case now.
    pub responsible_office: Option<Office>,
    pub responsible_region_code: Option<RegionCode>,
    pub steps: Vec<StepView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn transfer_view(transfer: Transfer) -> TransferView {
    TransferView {
        responsible_office: transfer.responsible.map(|(office, _)| office),
        responsible_region_code: transfer.responsible.map(|(_, region)| region),
        steps: transfer
            .steps
            .into_iter()
            .map(|s| StepView {
                step: s.step,
                label: s.label.to_owned(),
                office: s.office,
                office_region_code: s.office_region,
                status: s.status.as_str().to_owned(),
                limit_days: s.limit_days,
                due_on: s.due_on,
                overdue: s.overdue,
                occurred_at: s.occurred_at,
                note: s.note,
            })
            .collect(),
        id: transfer.id,
        transfer_no: transfer.transfer_no,
        insurance_type: transfer.insurance_type,
        from_region_code: transfer.from_region_code,
        to_region_code: transfer.to_region_code,
        source: transfer.source,
        status: transfer.status.as_str().to_owned(),
        overdue: transfer.overdue,
        created_at: transfer.created_at,
        updated_at: transfer.updated_at,
    }
}

#[derive(Debug, Object, Deserialize, Serialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct TransferRequest {
    pub insurance_type: InsuranceType,
    /// Where the insurance was paid until now.
    pub from_region_code: RegionCode,
    /// Where it continues.
    pub to_region_code: RegionCode,
}

#[derive(Debug, Object)]
pub struct TransferCreated {
    pub id: String,
    pub transfer_no: String,
    pub status: String,
}

#[derive(ApiResponse)]
pub enum TransferOpened {
    /// Opened; the same Idempotency-Key and body replay this answer.
    #[oai(status = 201)]
    Created(Json<TransferCreated>),
}

#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct AgencyTransferRequest {
    /// The insured person's ID number. It does not link the case to an
    /// account by itself: see `claim_code` and `phone`.
    pub id_number: IdNumber,
    pub insurance_type: InsuranceType,
    pub from_region_code: RegionCode,
    pub to_region_code: RegionCode,
    /// The person's mobile number as the agency knows it (stored encrypted).
    /// A worker whose phone, verified by WeChat, is this one links the case
    /// without a code.
    #[serde(default, deserialize_with = "present")]
    pub phone: Option<PhoneNumber>,
}

impl Example for AgencyTransferRequest {
    fn example() -> Self {
        AgencyTransferRequest {
            id_number: IdNumber::parse("450103199002022342").expect("a valid example"),
            insurance_type: InsuranceType::Medical,
            from_region_code: RegionCode::parse("450103").expect("a valid example"),
            to_region_code: RegionCode::parse("320115").expect("a valid example"),
            phone: PhoneNumber::parse("13812345678").ok(),
        }
    }
}

/// A case the agency opened, with the code to hand the person.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AgencyTransferView {
    #[oai(flatten)]
    pub transfer: TransferView,
    /// One-time code for the person to claim the case in the mini-program
    /// (e.g. printed on the receipt). Shown this once; works once, until
    /// `claim_expires_at`. Absent when the case already joined the account
    /// of a worker who had proven this ID number.
    pub claim_code: Option<String>,
    pub claim_expires_at: Option<DateTime<Utc>>,
}

#[derive(ApiResponse)]
pub enum AgencyTransferOpened {
    /// Opened.
    #[oai(status = 201)]
    Created(Json<AgencyTransferView>),
}

/// The claim code an agency handed the worker.
#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct ClaimRequest {
    /// As printed, e.g. `K7M2-Q9XP-4HTD`; spaces, dashes and small letters are fine.
    pub code: BoundedText<1, 32>,
}

impl Example for ClaimRequest {
    fn example() -> Self {
        ClaimRequest {
            code: BoundedText::parse("K7M2-Q9XP-4HTD").expect("a valid example"),
        }
    }
}

#[derive(Debug, Clone, Copy, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Done,
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct StepUpdate {
    /// Only `done`: steps are reported when they happen.
    pub status: StepState,
    /// When it happened (RFC 3339); the past is fine, the future is not.
    pub occurred_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "present")]
    pub note: Option<BoundedText<1, 500>>,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ChangeView {
    /// Strictly increasing; numbers of other regions' entries are missing.
    pub seq: i64,
    pub transfer_no: String,
    /// `created` or `step`.
    pub kind: String,
    pub step: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct ChangePage {
    pub items: Vec<ChangeView>,
    /// Pass it as `cursor` next time (unchanged when there was nothing new).
    pub next_cursor: i64,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::SiTransfers")]
impl TransferApi {
    /// Ask for a social-insurance transfer
    ///
    /// Needs the ID number in the profile (the agencies match the case by it).
    /// `Idempotency-Key` is required, as for every create. A worker opens at
    /// most `SHIMINHUA_TRANSFERS_PER_DAY` (5) a day, China time (429
    /// `RATE_LIMITED` with `Retry-After`; a replay of the same key does not
    /// count); a second case of the same insurance and route while the first
    /// is in progress is 409 `TRANSFER_ALREADY_OPEN`.
    #[oai(path = "/si-transfers", method = "post", operation_id = "openTransfer")]
    async fn open(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        /// 1 to 255 characters, new for every new request (e.g. a UUID).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<IdempotencyKey>,
        body: JsonBody<TransferRequest>,
    ) -> ApiResult<TransferOpened, { status::BODY | status::CONFLICT | status::UNPROCESSABLE | status::SIGNED_IN }>
    {
        let (once, body) = idempotent("openTransfer", idempotency_key, body);
        let opening = Opening {
            insurance_type: body.insurance_type,
            from: body.from_region_code,
            to: body.to_region_code,
        };
        let created = transfers::open_for_worker(&state, &context, &auth.0, &once.key, once.hash, opening).await?;
        Ok(TransferOpened::Created(Json(TransferCreated {
            id: created.id,
            transfer_no: created.transfer_no,
            status: created.status.as_str().to_owned(),
        })))
    }

    /// List my transfers
    ///
    /// The cases the worker opened and those they linked (`claimTransfer`,
    /// `linkMyTransfers`), newest first, a page at a time; a typed ID number
    /// alone brings none.
    #[oai(path = "/si-transfers", method = "get", operation_id = "listMyTransfers")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<TransferView>>, { status::BAD_REQUEST | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let (transfers, total) = transfers::list_for_worker(&state, &auth.0, paging.page, paging.page_size).await?;
        Ok(Json(Page::of(transfers, total, paging, transfer_view)))
    }

    /// Claim a transfer with the agency's code
    ///
    /// The social-insurance agency that opened the case gave the worker a
    /// one-time code. The case joins the worker's account when the code is
    /// right, unused and unexpired and the profile holds the case's ID
    /// number; that number then counts as proven. Anything else is 404
    /// `CLAIM_CODE_INVALID`, which says nothing about whose number has cases.
    /// Five wrong codes a day, then 429 `CLAIM_TRIES_EXHAUSTED`.
    #[oai(path = "/si-transfers/claim", method = "post", operation_id = "claimTransfer")]
    async fn claim(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        body: JsonBody<ClaimRequest>,
    ) -> ApiResult<Json<TransferView>, { status::BODY | status::NOT_FOUND | status::SIGNED_IN }> {
        let transfer = claims::claim(&state, &context, &auth.0, body.0.code.as_str()).await?;
        Ok(Json(transfer_view(transfer)))
    }

    /// Link the transfers agencies opened for me
    ///
    /// Links the cases agencies opened for the ID number in the profile that
    /// the worker's evidence covers: every one once the number is proven
    /// (an identity check, or a case claimed with a code), otherwise those
    /// for which the agency recorded the phone WeChat verified for the
    /// worker (`POST /me/phone`). Answers the cases linked now (perhaps none).
    /// With neither evidence: 409 `IDENTITY_NOT_PROVEN`.
    #[oai(path = "/si-transfers/link", method = "post", operation_id = "linkMyTransfers")]
    async fn link(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
    ) -> ApiResult<Json<Vec<TransferView>>, { status::BAD_REQUEST | status::CONFLICT | status::SIGNED_IN }> {
        let transfers = claims::link(&state, &context, &auth.0).await?;
        Ok(Json(transfers.into_iter().map(transfer_view).collect()))
    }

    /// Get my transfer with its steps and deadlines
    ///
    /// Each step with its legal limit in working days, its due day and
    /// whether it is overdue; another worker's case is 404.
    #[oai(path = "/si-transfers/:id", method = "get", operation_id = "getMyTransfer")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        id: Path<RecordId>,
    ) -> ApiResult<Json<TransferView>, { status::BAD_REQUEST | status::NOT_FOUND | status::SIGNED_IN }> {
        let transfer = transfers::get_for_worker(&state, &auth.0, &id.0).await?;
        Ok(Json(transfer_view(transfer)))
    }

    /// Transfers of my region
    ///
    /// For administrators, reviewers and inspectors (403 `ROLE_REQUIRED`
    /// otherwise). Cases whose old or new place is in the staff member's
    /// region, oldest first, a page at a time; filter by `status`
    /// (`in_progress`, `completed`), `overdue` and `region_code`.
    #[oai(path = "/staff/si-transfers", method = "get", operation_id = "listTransfersForStaff")]
    #[allow(clippy::too_many_arguments)]
    async fn staff_list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// `in_progress` or `completed`.
        status: Query<Option<transfers::status::TransferStatus>>,
        #[oai(default)] overdue: Query<bool>,
        /// Only cases whose old or new place is in this region (inside the staff member's).
        region_code: Query<Option<RegionCode>>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<TransferView>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let filter = StaffFilter {
            region: region_code.0,
            status: status.0,
            overdue_only: overdue.0,
        };
        let (transfers, total) =
            transfers::list_for_staff(&state, &auth.0, filter, paging.page, paging.page_size).await?;
        Ok(Json(Page::of(transfers, total, paging, transfer_view)))
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Integrations")]
impl TransferIntegrationApi {
    /// Open a transfer from the agency's side
    ///
    /// Scope `si_transfer:write`. The old or the new place must lie in the
    /// client's region (403 `OUT_OF_REGION_SCOPE` otherwise). The case joins
    /// a worker's account at once only when the holder of the ID number has
    /// proven it (an identity check, or an earlier case claimed). Otherwise it
    /// waits, whoever has typed the number, until the person links it: with
    /// the one-time `claim_code` in the answer (shown once, valid 30 days), or
    /// with the `phone` given here matching the phone WeChat verified for them.
    #[oai(
        path = "/integrations/si-transfers",
        method = "post",
        operation_id = "agencyOpenTransfer"
    )]
    async fn open(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: IntegratorAuth,
        body: JsonBody<AgencyTransferRequest>,
    ) -> ApiResult<AgencyTransferOpened, { status::BODY | status::FORBIDDEN | status::SIGNED_IN }> {
        let body = body.0;
        let agency = AgencyOpening {
            opening: Opening {
                insurance_type: body.insurance_type,
                from: body.from_region_code,
                to: body.to_region_code,
            },
            id_number: body.id_number,
            phone: body.phone,
        };
        let opened = transfers::open_for_agency(&state, &context, &auth.0, agency).await?;
        Ok(AgencyTransferOpened::Created(Json(AgencyTransferView {
            transfer: transfer_view(opened.transfer),
            claim_code: opened.claim_code,
            claim_expires_at: opened.claim_expires_at,
        })))
    }

    /// Report a step of a transfer
    ///
    /// Scope `si_transfer:write`; a case with neither end in the client's
    /// region is 404. Idempotent: the same report again changes
    /// nothing. A step before its predecessor is 409 `STEP_OUT_OF_ORDER`; a
    /// step the process does not have, 409 `STEP_NOT_IN_PROCESS`.
    #[oai(
        path = "/integrations/si-transfers/:transfer_no/steps/:step",
        method = "put",
        operation_id = "agencyRecordStep"
    )]
    async fn record_step(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: IntegratorAuth,
        #[oai(validator(max_length = 32))] transfer_no: Path<String>,
        #[oai(validator(max_length = 32))] step: Path<String>,
        body: JsonBody<StepUpdate>,
    ) -> ApiResult<
        Json<TransferView>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let report = StepReport {
            occurred_at: body.0.occurred_at,
            note: body.0.note.map(BoundedText::into_inner),
        };
        let transfer = transfers::record_step(&state, &context, &auth.0, &transfer_no.0, &step.0, report).await?;
        Ok(Json(transfer_view(transfer)))
    }

    /// Get a transfer
    ///
    /// Scope `si_transfer:read`; a case with neither end in the client's
    /// region is 404.
    #[oai(
        path = "/integrations/si-transfers/:transfer_no",
        method = "get",
        operation_id = "agencyGetTransfer"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: IntegratorAuth,
        #[oai(validator(max_length = 32))] transfer_no: Path<String>,
    ) -> ApiResult<
        Json<TransferView>,
        { status::BAD_REQUEST | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN },
    > {
        let transfer = transfers::get_for_agency(&state, &auth.0, &transfer_no.0).await?;
        Ok(Json(transfer_view(transfer)))
    }

    /// Set my webhook endpoint
    ///
    /// Events (for now `si_transfer.created` of worker-opened cases with
    /// either end in the client's region, with scope `si_transfer:read`) are
    /// POSTed there with `X-Shiminhua-Timestamp`
    /// and `X-Shiminhua-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`,
    /// retried with backoff until a 2xx. Redirects are not followed. An
    /// endpoint whose host is, or resolves only to, a loopback, private,
    /// link-local or other special-use address is refused (400), and is
    /// checked again at every delivery against the address connected to.
    #[oai(path = "/integrations/webhook", method = "put", operation_id = "setWebhook")]
    async fn set_webhook(
        &self,
        state: Data<&AppState>,
        auth: IntegratorAuth,
        body: JsonBody<WebhookEndpoint>,
    ) -> ApiResult<Json<WebhookRegistered>, { status::BODY | status::SIGNED_IN }> {
        let secret = webhooks::register(&state, &auth.0, &body.0.url).await?;
        Ok(Json(WebhookRegistered {
            url: body.0.url,
            secret,
        }))
    }

    /// My webhook deliveries
    ///
    /// The deliveries, newest first, a page at a time, with their attempts
    /// and the outcome of the last: `delivered`, `http_error` (with
    /// `last_status`), `timeout`, `refused_address`, `connect_failed`,
    /// `no_endpoint` or `internal_error`.
    #[oai(
        path = "/integrations/webhook/deliveries",
        method = "get",
        operation_id = "listWebhookDeliveries"
    )]
    async fn deliveries(
        &self,
        state: Data<&AppState>,
        auth: IntegratorAuth,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<DeliveryView>>, { status::BAD_REQUEST | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let (deliveries, total) = webhooks::log(&state, &auth.0, paging.page, paging.page_size).await?;
        Ok(Json(Page::of(deliveries, total, paging, DeliveryView::from)))
    }

    /// The change feed of transfers
    ///
    /// Scope `si_transfer:read`. Every case opened and every step recorded
    /// of the cases with either end in the client's region, in order, after
    /// `cursor` (0 for the beginning): nothing skipped and no repeats, even
    /// while cases change concurrently. The sequence is shared by all
    /// regions, so numbers of other regions' entries are missing.
    #[oai(
        path = "/integrations/si-transfers",
        method = "get",
        operation_id = "agencyTransferFeed"
    )]
    async fn feed(
        &self,
        state: Data<&AppState>,
        auth: IntegratorAuth,
        #[oai(default, validator(minimum(value = "0")))] cursor: Query<i64>,
        #[oai(default = "feed_limit", validator(minimum(value = "1"), maximum(value = "500")))] limit: Query<u64>,
    ) -> ApiResult<Json<ChangePage>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let changes = transfers::changes(&state, &auth.0, cursor.0, limit.0).await?;
        let next_cursor = changes.last().map_or(cursor.0, |c| c.seq);
        Ok(Json(ChangePage {
            items: changes
                .into_iter()
                .map(|c| ChangeView {
                    seq: c.seq,
                    transfer_no: c.transfer_no,
                    kind: c.kind,
                    step: c.step,
                    at: c.at,
                })
                .collect(),
            next_cursor,
        }))
    }
}

fn feed_limit() -> u64 {
    100
}
