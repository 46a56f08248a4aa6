use poem::web::Data;
use poem_openapi::{
    OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::super::{
    ApiTags, Page,
    integrations::{DeliveryView, WebhookEndpoint, WebhookRegistered},
};
use super::views::{
    AgencyTransferOpened, AgencyTransferRequest, AgencyTransferView, ChangePage, ChangeView, StepUpdate, TransferView,
    transfer_view,
};
use crate::http::params::{PageNumber, PageSize, Paging};
use crate::{
    auth::schemes::IntegratorAuth,
    context::RequestContext,
    http::{
        json_body::JsonBody,
        problem::{ApiResult, status},
    },
    services::{
        transfers::{self, AgencyOpening, Opening},
        webhooks,
    },
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
