use poem::web::Data;
use poem_openapi::{
    OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};

use super::super::{
    ApiTags, Page,
    integrations::{DeliveryView, WebhookEndpoint, WebhookRegistered},
};
use super::agency_views::{AgencyTransferDetail, agency_detail, opened_view};
use super::views::{
    AgencyTransferOpened, AgencyTransferRequest, ChangePage, ChangeView, StepUpdate, TransferView, transfer_view,
};
use crate::http::params::{IdempotencyKey, PageNumber, PageSize, Paging};
use crate::{
    auth::schemes::IntegratorAuth,
    context::RequestContext,
    http::{
        json_body::JsonBody,
        problem::{ApiResult, status},
    },
    services::{transfers, webhooks},
    state::AppState,
};

pub struct TransferIntegrationApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Integrations")]
impl TransferIntegrationApi {
    /// Open a transfer from the agency's side
    ///
    /// Scope `si_transfer:write`. The old or the new place must lie in the
    /// client's region (403 `OUT_OF_REGION_SCOPE` otherwise). The case joins
    /// a worker's account at once only when the holder of the ID number has
    /// proven it (an identity check, or an earlier case claimed). Otherwise it
    /// waits, whoever has typed the number, until the person links it: with
    /// the one-time `claim_code` in the answer (valid 30 days, stored only as
    /// a keyed hash), or with the `phone` given here matching the phone
    /// WeChat verified for them.
    ///
    /// `Idempotency-Key` is required, as for every create: a retry with the
    /// same key and body answers the same case, as it is now, and opens
    /// none; the same key with another body is 422
    /// `IDEMPOTENCY_KEY_REUSED`. The claim code is never stored in clear, so
    /// a retry while the case still waits for its person carries a fresh
    /// code that replaces the first one (valid until the same
    /// `claim_expires_at`): hand the person the code of the last answer.
    ///
    /// One case in progress per person, insurance type and route: when the
    /// person already has one (opened by them or by an agency), 409
    /// `TRANSFER_ALREADY_OPEN` with its number in `details.transfer_no`.
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
        /// 1 to 255 characters, new for every new request (e.g. a UUID).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<IdempotencyKey>,
        body: JsonBody<AgencyTransferRequest>,
    ) -> ApiResult<
        AgencyTransferOpened,
        { status::BODY | status::FORBIDDEN | status::CONFLICT | status::UNPROCESSABLE | status::SIGNED_IN },
    > {
        let opened = transfers::open_for_agency(&state, &context, &auth.0, &idempotency_key.0, body.0.into()).await?;
        Ok(AgencyTransferOpened::Created(Json(opened_view(opened))))
    }

    /// Report a step of a transfer
    ///
    /// Scope `si_transfer:write`; a case with neither end in the client's
    /// region is 404. The outcome of the step the office acts on now:
    /// `done`; `materials_needed`, with the materials in `note` (the worker
    /// is told and answers with `answerTransferMaterials`; the step's clock
    /// stops, and restarts with its full limit from the answer); `refused`
    /// or `cancelled`, with the reason in `note`, which end the case.
    /// Every change raises a webhook (`si_transfer.step`,
    /// `si_transfer.refused`, …). Idempotent: the same outcome at the same
    /// `occurred_at` again changes nothing. A step before its predecessor is
    /// 409 `STEP_OUT_OF_ORDER`; a step the process does not have, 409
    /// `STEP_NOT_IN_PROCESS`; another report of a done step, 409
    /// `STEP_ALREADY_DONE`; anything on a case that ended, 409
    /// `TRANSFER_CLOSED`.
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
        let report = body.0.into_report();
        let transfer = transfers::record_step(&state, &context, &auth.0, &transfer_no.0, &step.0, report).await?;
        Ok(Json(transfer_view(transfer)))
    }

    /// Get a transfer, with the person whose insurance it moves
    ///
    /// Scope `si_transfer:read`; a case with neither end in the client's
    /// region is 404. For a client bound to a region (not national), the
    /// answer names the `person` in clear: name, ID number and phone, each
    /// with how it was verified. Every such read is audited
    /// (`personal_data.reveal`, naming the client and the case). The feed
    /// and the webhooks carry no person: read it here.
    #[oai(
        path = "/integrations/si-transfers/:transfer_no",
        method = "get",
        operation_id = "agencyGetTransfer"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: IntegratorAuth,
        #[oai(validator(max_length = 32))] transfer_no: Path<String>,
    ) -> ApiResult<
        Json<AgencyTransferDetail>,
        { status::BAD_REQUEST | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN },
    > {
        let read = transfers::get_for_agency(&state, &context, &auth.0, &transfer_no.0).await?;
        Ok(Json(agency_detail(read)))
    }

    /// Set my webhook endpoint
    ///
    /// Events (for now `si_transfer.created` of worker-opened cases with
    /// either end in the client's region, with scope `si_transfer:read`:
    /// the case's number, insurance type and regions, never the person,
    /// whom `agencyGetTransfer` names) are POSTed there with `X-Shiminhua-Timestamp`
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
    /// regions, so numbers of other regions' entries are missing. Entries
    /// name cases, never their person: read that with `agencyGetTransfer`.
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
