//! 政策找人 and 免申即享: the worker's consent, recommendations and offers,
//! and the reviewers' confirmation of offers.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde::Deserialize;

use super::{
    ApiTags, QueuePage,
    applications::views::{ApplicantView, ApplicationView, application_view},
    programs::{EligibilityCheck, ProgramView, program_view},
    queue_window,
};
use crate::{
    auth::schemes::{StaffAuth, WorkerAuth},
    context::RequestContext,
    domain::{BoundedText, RegionCode},
    http::{
        json_body::JsonBody,
        params::{PageCursor, PageNumber, PageSize, RecordId},
        problem::{ApiResult, status},
    },
    services::recommendations::{
        self, Consent, RECOMMENDATION_CONSENT_VERSION, Recommendation,
        offers::{self, Confirmation, Offer, OfferStatus, StaffOffer},
    },
    state::AppState,
};

pub struct RecommendationApi;

/// Where the worker stands with 政策找人.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ConsentView {
    /// Matching runs for the worker: they agreed to the current text.
    pub given: bool,
    /// The version agreed to; absent before agreeing and after revoking.
    pub consent_version: Option<String>,
    pub consented_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The text's current version: ask the worker to agree to it when it differs.
    pub current_version: String,
}

impl From<Consent> for ConsentView {
    fn from(consent: Consent) -> Self {
        ConsentView {
            given: consent.given(),
            consent_version: consent.consent_version,
            consented_at: consent.consented_at,
            revoked_at: consent.revoked_at,
            current_version: RECOMMENDATION_CONSENT_VERSION.to_owned(),
        }
    }
}

/// The worker agrees to 政策找人.
#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct ConsentWrite {
    /// The version of the text the worker has just agreed to: `recommend-2026-12`.
    pub consent_version: BoundedText<1, 32>,
}

/// A 免申即享 offer.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct OfferView {
    pub id: String,
    pub program_id: String,
    pub status: OfferStatus,
    /// Where it is confirmed: the worker's region inside the program's.
    pub region_code: RegionCode,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// When the worker accepted or declined it.
    pub decided_at: Option<DateTime<Utc>>,
    /// The application it became, once accepted.
    pub application_id: Option<String>,
}

impl From<Offer> for OfferView {
    fn from(offer: Offer) -> Self {
        OfferView {
            id: offer.id,
            program_id: offer.program_id,
            status: offer.status,
            region_code: offer.region_code,
            created_at: offer.created_at,
            confirmed_at: offer.confirmed_at,
            decided_at: offer.decided_at,
            application_id: offer.application_id,
        }
    }
}

/// A program the worker may qualify for.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RecommendationView {
    pub program: ProgramView,
    /// The criteria the profile meets, each with why.
    pub met: Vec<EligibilityCheck>,
    /// Those not known yet: asked in the application form (`pending`), or
    /// missing from the profile.
    pub unknown: Vec<EligibilityCheck>,
    /// What to do next, in Chinese.
    pub next_step: String,
    /// The 免申即享 offer: `confirmed` is accepted with `acceptMyOffer`.
    pub offer: Option<OfferView>,
}

impl From<Recommendation> for RecommendationView {
    fn from(found: Recommendation) -> Self {
        RecommendationView {
            program: program_view(found.program),
            met: found.met.into_iter().map(EligibilityCheck::from).collect(),
            unknown: found.unknown.into_iter().map(EligibilityCheck::from).collect(),
            next_step: found.next_step,
            offer: found.offer.map(OfferView::from),
        }
    }
}

#[derive(Debug, Object)]
pub struct Recommendations {
    pub items: Vec<RecommendationView>,
}

/// An accepted offer and the application it became.
#[derive(Debug, Object)]
pub struct AcceptedOffer {
    pub offer: OfferView,
    pub application: ApplicationView,
}

/// An offer as a reviewer confirms it: the worker masked.
#[derive(Debug, Object)]
pub struct StaffOfferView {
    #[oai(flatten)]
    pub offer: OfferView,
    pub applicant: ApplicantView,
}

fn staff_offer_view(listed: StaffOffer) -> StaffOfferView {
    StaffOfferView {
        offer: listed.offer.into(),
        applicant: ApplicantView {
            name: listed.applicant.name_masked,
            id_number: listed.applicant.id_number_masked,
            phone: listed.applicant.phone_masked,
        },
    }
}

/// The offers to confirm.
#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct OfferBatch {
    /// Ids of the program's proposed offers, 1 to 500.
    #[oai(validator(min_items = 1, max_items = 500))]
    pub offer_ids: Vec<RecordId>,
}

#[derive(Debug, Object)]
pub struct SkippedOffer {
    pub offer_id: String,
    /// `not_found`, `out_of_region`, `confirmed`, `accepted`, `declined`,
    /// `withdrawn` or `changed` (someone else acted on it meanwhile).
    pub reason_code: String,
    /// Why, in Chinese.
    pub reason: String,
}

#[derive(Debug, Object)]
pub struct ConfirmedOffers {
    /// How many were confirmed now.
    pub confirmed: u64,
    pub confirmed_ids: Vec<String>,
    pub skipped: Vec<SkippedOffer>,
}

impl From<Confirmation> for ConfirmedOffers {
    fn from(done: Confirmation) -> Self {
        ConfirmedOffers {
            confirmed: done.confirmed.len() as u64,
            confirmed_ids: done.confirmed,
            skipped: done
                .skipped
                .into_iter()
                .map(|s| SkippedOffer {
                    offer_id: s.offer_id,
                    reason_code: s.reason_code.to_owned(),
                    reason: s.reason.to_owned(),
                })
                .collect(),
        }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Programs")]
impl RecommendationApi {
    /// My 政策找人 consent
    ///
    /// Whether matching runs for me, and the current version of its text.
    #[oai(
        path = "/me/recommendation-consent",
        method = "get",
        operation_id = "getMyRecommendationConsent",
        tag = "ApiTags::Me"
    )]
    async fn consent(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
    ) -> ApiResult<Json<ConsentView>, { status::SIGNED_IN }> {
        Ok(Json(recommendations::consent(&state, &auth.0).await?.into()))
    }

    /// Turn on 政策找人
    ///
    /// With my consent to the current text (`consent_version`
    /// `recommend-2026-12`, else 400 `CONSENT_REQUIRED`), my profile is
    /// matched against the open programs of my regions now and whenever a
    /// program opens or my profile changes; I am told of a new match at
    /// most once a week. Audited.
    #[oai(
        path = "/me/recommendation-consent",
        method = "put",
        operation_id = "giveMyRecommendationConsent",
        tag = "ApiTags::Me"
    )]
    async fn give(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        body: JsonBody<ConsentWrite>,
    ) -> ApiResult<Json<ConsentView>, { status::BODY | status::SIGNED_IN }> {
        let version = body.0.consent_version.into_inner();
        Ok(Json(
            recommendations::give_consent(&state, &context, &auth.0, &version)
                .await?
                .into(),
        ))
    }

    /// Turn off 政策找人
    ///
    /// Matching and its notices stop; my matches are forgotten and the
    /// 免申即享 offers I have not taken are withdrawn. Applications I made
    /// stay. Audited; again, nothing more happens.
    #[oai(
        path = "/me/recommendation-consent",
        method = "delete",
        operation_id = "revokeMyRecommendationConsent",
        tag = "ApiTags::Me"
    )]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
    ) -> ApiResult<Json<ConsentView>, { status::SIGNED_IN }> {
        Ok(Json(
            recommendations::revoke_consent(&state, &context, &auth.0).await?.into(),
        ))
    }

    /// Programs I may qualify for (政策找人)
    ///
    /// The open programs of my residence and work regions that no criterion
    /// rules me out of, worked out from my profile now, each with the
    /// criteria met, those still unknown (asked in the form, or missing from
    /// my profile) and what to do next, and its 免申即享 offer if any.
    /// Programs I already applied to are left out. 409
    /// `RECOMMENDATION_CONSENT_REQUIRED` until I turn 政策找人 on.
    #[oai(
        path = "/me/recommendations",
        method = "get",
        operation_id = "listMyRecommendations",
        tag = "ApiTags::Me"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
    ) -> ApiResult<Json<Recommendations>, { status::CONFLICT | status::SIGNED_IN }> {
        let found = recommendations::recommendations(&state, &auth.0).await?;
        Ok(Json(Recommendations {
            items: found.into_iter().map(RecommendationView::from).collect(),
        }))
    }

    /// Accept a 免申即享 offer
    ///
    /// One tap: the application is filed and submitted with the answers my
    /// profile gives, and the offer is accepted. Again: the same
    /// application. 409 `OFFER_NOT_CONFIRMED` while a reviewer has still to
    /// confirm it, `OFFER_CLOSED` once withdrawn or declined; another
    /// worker's offer is 404.
    #[oai(
        path = "/me/offers/:id/accept",
        method = "post",
        operation_id = "acceptMyOffer",
        tag = "ApiTags::Me"
    )]
    async fn accept(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        id: Path<RecordId>,
    ) -> ApiResult<
        Json<AcceptedOffer>,
        { status::BAD_REQUEST | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let (offer, application) = offers::accept(&state, &context, &auth.0, &id.0).await?;
        Ok(Json(AcceptedOffer {
            offer: offer.into(),
            application: application_view(application),
        }))
    }

    /// Decline a 免申即享 offer
    ///
    /// A confirmed offer I do not want (again: the same answer). 409
    /// `OFFER_CLOSED` once accepted or withdrawn, `OFFER_NOT_CONFIRMED`
    /// before it is confirmed; another worker's offer is 404.
    #[oai(
        path = "/me/offers/:id/decline",
        method = "post",
        operation_id = "declineMyOffer",
        tag = "ApiTags::Me"
    )]
    async fn decline(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        id: Path<RecordId>,
    ) -> ApiResult<Json<OfferView>, { status::BAD_REQUEST | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN }>
    {
        Ok(Json(offers::decline(&state, &context, &auth.0, &id.0).await?.into()))
    }

    /// List a 免申即享 program's offers
    ///
    /// For reviewers (403 `ROLE_REQUIRED` otherwise) whose region covers the
    /// program's (every offer) or lies inside it (the offers of their
    /// region); another region's program is 403 `OUT_OF_REGION_SCOPE`, a
    /// program that is not 免申即享 409 `INVALID_STATE`. Oldest first, of
    /// `status` or all, the workers masked; the id breaks ties.
    ///
    /// Pages by number, or by `cursor`: the `next_cursor` of the page
    /// before, at any depth for the cost of the first (`page` is then
    /// ignored).
    #[oai(
        path = "/staff/programs/:id/offers",
        method = "get",
        operation_id = "listProgramOffers"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list_offers(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<RecordId>,
        status: Query<Option<OfferStatus>>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
        /// The `next_cursor` of the page before (opaque); `page` is then ignored.
        cursor: Query<Option<PageCursor>>,
    ) -> ApiResult<
        Json<QueuePage<StaffOfferView>>,
        { status::BAD_REQUEST | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let window = queue_window(page.0, page_size.0, cursor.0)?;
        let cut = offers::list_for_reviewer(&state, &auth.0, &id.0, status.0, window).await?;
        Ok(Json(QueuePage::of(cut, staff_offer_view)))
    }

    /// Confirm a batch of 免申即享 offers
    ///
    /// Confirms the program's proposed offers among `offer_ids` in the
    /// reviewer's region, and tells each worker they can accept it; each
    /// confirmation is audited. Answers how many were confirmed and, for
    /// each other id, why not. Same rules of role and region as the list;
    /// a closed program is 409 `PROGRAM_CLOSED`.
    #[oai(
        path = "/staff/programs/:id/offers",
        method = "post",
        operation_id = "confirmProgramOffers"
    )]
    async fn confirm(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<OfferBatch>,
    ) -> ApiResult<
        Json<ConfirmedOffers>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let ids: Vec<String> = body.0.offer_ids.into_iter().map(RecordId::into_inner).collect();
        Ok(Json(
            offers::confirm(&state, &context, &auth.0, &id.0, &ids).await?.into(),
        ))
    }
}
