use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use serde::{Deserialize, Deserializer, de::Error as _};

use super::ApiTags;
use crate::{
    auth::schemes::WorkerAuth,
    context::RequestContext,
    domain::{BoundedText, CaseType},
    http::{
        json_body::{JsonBody, present},
        params::RecordId,
        problem::{ApiResult, status},
    },
    services::{
        follow_ups::{FollowUp, FollowUpStatus},
        ratings::{self, Decision, Given, Rated, RatingTag, WorkerCase, rules},
    },
    state::AppState,
};

pub struct RatingApi;

/// 1 to 5 stars, refused with a message naming the range.
fn stars<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
    rules::score(i64::deserialize(deserializer)?).map_err(D::Error::custom)
}

/// Tags from the list, refused with a message naming the list.
fn tag_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<RatingTag>, D::Error> {
    rules::tags(&Vec::<String>::deserialize(deserializer)?).map_err(D::Error::custom)
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct RatingWrite {
    /// 1 to 5 stars. 1 or 2 opens a follow-up (回访) for the office of the case.
    #[serde(deserialize_with = "stars")]
    #[oai(validator(minimum(value = "1"), maximum(value = "5")))]
    pub score: i32,
    /// From the fixed list: `fast` 办事快, `courteous` 态度好, `few_documents`
    /// 材料少, `slow_reply` 回复慢, `many_trips` 跑了多次, `unclear` 说明不清.
    #[serde(default, deserialize_with = "tag_list")]
    #[oai(default, validator(max_items = 6))]
    pub tags: Vec<RatingTag>,
    /// Up to 500 characters; empty or left out for none.
    #[serde(default, deserialize_with = "present")]
    pub comment: Option<BoundedText<0, 500>>,
}

impl From<RatingWrite> for Given {
    fn from(body: RatingWrite) -> Self {
        Given {
            score: body.score,
            tags: body.tags,
            comment: body
                .comment
                .map(|text| text.as_str().trim().to_owned())
                .filter(|text| !text.is_empty()),
        }
    }
}

/// The follow-up a rating of 1 or 2 opened, as its worker sees it.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RatingFollowUp {
    pub id: String,
    pub status: FollowUpStatus,
    /// The office follows the rating up by this day (3 working days).
    pub deadline: NaiveDate,
    /// What the office did, once closed.
    pub what_was_done: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<FollowUp> for RatingFollowUp {
    fn from(follow_up: FollowUp) -> Self {
        RatingFollowUp {
            id: follow_up.id,
            status: follow_up.status,
            deadline: follow_up.deadline,
            what_was_done: follow_up.what_was_done,
            closed_at: follow_up.closed_at,
        }
    }
}

/// A worker's rating of one of their cases.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CaseRatingView {
    pub case_kind: CaseType,
    pub case_id: String,
    pub case_no: String,
    pub score: i32,
    pub tags: Vec<RatingTag>,
    pub comment: Option<String>,
    pub version: i32,
    /// When first given.
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The rating may change until then: 7 days after it was first given.
    pub changeable_until: DateTime<Utc>,
    /// Opened by a rating of 1 or 2; it stays if the rating is raised later.
    pub follow_up: Option<RatingFollowUp>,
}

impl From<Rated> for CaseRatingView {
    fn from(rated: Rated) -> Self {
        let rating = rated.rating;
        CaseRatingView {
            case_kind: rating.case_kind,
            case_id: rating.case_id,
            case_no: rating.case_no,
            score: rating.given.score,
            tags: rating.given.tags,
            comment: rating.given.comment,
            version: rating.version,
            created_at: rating.created_at,
            updated_at: rating.updated_at,
            changeable_until: rated.changeable_until,
            follow_up: rated.follow_up.map(RatingFollowUp::from),
        }
    }
}

/// A case of the worker's and their rating of it, if they gave one.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CaseRatingState {
    pub case_kind: CaseType,
    pub case_id: String,
    pub case_no: String,
    /// Finished: it may be rated.
    pub case_closed: bool,
    pub rating: Option<CaseRatingView>,
}

impl CaseRatingState {
    fn of(case: WorkerCase, rated: Option<Rated>) -> Self {
        CaseRatingState {
            case_kind: case.kind,
            case_id: case.id,
            case_no: case.number,
            case_closed: case.closed,
            rating: rated.map(CaseRatingView::from),
        }
    }
}

#[derive(ApiResponse)]
pub enum RatingSaved {
    /// The first rating of the case.
    #[oai(status = 201)]
    Created(Json<CaseRatingView>),
    /// Changed, or the same rating again (nothing changed).
    #[oai(status = 200)]
    Saved(Json<CaseRatingView>),
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Feedback")]
impl RatingApi {
    /// Rate one of my closed cases (好差评)
    ///
    /// One rating per closed case (`application`, `wage_report` or
    /// `transfer`): 1 to 5 stars, tags from the list, an optional comment.
    /// Sending it again changes it, for 7 days after it was first given
    /// (409 `INVALID_STATE` after); the same rating again changes nothing.
    /// 1 or 2 stars open a follow-up (回访) for the office of the case, due in
    /// 3 working days. A case still open is 409 `INVALID_STATE`; another
    /// worker's case is 404.
    #[oai(
        path = "/me/ratings/:case_kind/:case_id",
        method = "put",
        operation_id = "rateMyCase"
    )]
    async fn rate(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: WorkerAuth,
        case_kind: Path<CaseType>,
        case_id: Path<RecordId>,
        body: JsonBody<RatingWrite>,
    ) -> ApiResult<RatingSaved, { status::BODY | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN }> {
        let given = Given::from(body.0);
        let rated = ratings::rate(&state, &context, &auth.0, case_kind.0, &case_id.0, given).await?;
        Ok(match rated.decision {
            Decision::Create => RatingSaved::Created(Json(rated.into())),
            Decision::Change | Decision::Unchanged => RatingSaved::Saved(Json(rated.into())),
        })
    }

    /// My rating of one of my cases
    ///
    /// Whether the case is closed (and so may be rated), and the rating with
    /// its follow-up once given. Another worker's case is 404.
    #[oai(
        path = "/me/ratings/:case_kind/:case_id",
        method = "get",
        operation_id = "getMyCaseRating"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        case_kind: Path<CaseType>,
        case_id: Path<RecordId>,
    ) -> ApiResult<Json<CaseRatingState>, { status::BAD_REQUEST | status::NOT_FOUND | status::SIGNED_IN }> {
        let (case, rated) = ratings::get_own(&state, &auth.0, case_kind.0, &case_id.0).await?;
        Ok(Json(CaseRatingState::of(case, rated)))
    }
}
