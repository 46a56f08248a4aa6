use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde::Deserialize;

use super::{ApiTags, Page};
use crate::http::params::{PageNumber, PageSize, Paging, RecordId, Version};
use crate::{
    auth::schemes::{OptionalStaffAuth, StaffAuth},
    context::RequestContext,
    domain::{BoundedText, RegionCode},
    error::{AppError, Localized},
    http::{
        json_body::{JsonBody, present},
        problem::{ApiResult, status},
        rendered_json::RenderedJson,
    },
    regions::RegionDirectory,
    services::policies::{
        self, Policy, PolicyCategory, PolicyContent, PolicyStatus, Search,
        history::PolicyChange,
        index::{Hit, Results},
    },
    state::AppState,
};

pub struct PolicyApi;

fn region_name(regions: &RegionDirectory, code: RegionCode) -> String {
    if code.is_national() {
        return "全国".to_owned();
    }
    regions.get(code).map(|r| r.name.clone()).unwrap_or_default()
}

/// One search result.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PolicyHit {
    pub id: String,
    pub title: String,
    pub summary: String,
    /// A short passage with the matched words in `<em>…</em>`; all other text is HTML-escaped.
    pub snippet: String,
    pub category: PolicyCategory,
    /// `000000` for national policies.
    pub region_code: RegionCode,
    pub region_name: String,
    pub issuer: String,
    pub doc_number: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub effective_from: Option<NaiveDate>,
    pub effective_until: Option<NaiveDate>,
    pub tags: Vec<String>,
    pub audience_tags: Vec<String>,
    /// Relevance (BM25F); 0 when no words were searched.
    pub score: f32,
}

fn hits_page(results: Results, regions: &RegionDirectory, paging: Paging) -> Page<PolicyHit> {
    let hits = results.hits.into_iter().map(|hit| hit_view(hit, regions)).collect();
    Page::new(hits, results.total as u64, paging)
}

fn hit_view(hit: Hit, regions: &RegionDirectory) -> PolicyHit {
    let policy = &hit.policy;
    PolicyHit {
        id: policy.id.clone(),
        title: policy.title.clone(),
        summary: policy.summary.clone(),
        snippet: hit.snippet,
        category: policy.category,
        region_code: policy.region,
        region_name: region_name(regions, policy.region),
        issuer: policy.issuer.clone(),
        doc_number: policy.doc_number.clone(),
        issued_on: policy.issued_on,
        effective_from: policy.effective_from,
        effective_until: policy.effective_until,
        tags: policy.tags.clone(),
        audience_tags: policy.audience_tags.clone(),
        score: hit.score,
    }
}

/// A whole policy.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PolicyView {
    pub id: String,
    /// The policy this one implements (e.g. the national notice).
    pub parent_id: Option<String>,
    pub title: String,
    pub summary: String,
    /// Markdown.
    pub body: String,
    pub category: PolicyCategory,
    pub region_code: RegionCode,
    pub region_name: String,
    pub issuer: String,
    /// 文号, e.g. 桂人社发〔2023〕32号.
    pub doc_number: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub effective_from: Option<NaiveDate>,
    pub effective_until: Option<NaiveDate>,
    pub source_url: Option<String>,
    pub tags: Vec<String>,
    pub audience_tags: Vec<String>,
    pub status: PolicyStatus,
    /// Send it back as `expected_version` when changing the policy.
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

fn view(policy: Policy, regions: &RegionDirectory) -> PolicyView {
    PolicyView {
        region_name: region_name(regions, policy.content.region_code),
        id: policy.id,
        parent_id: policy.content.parent_id,
        title: policy.content.title,
        summary: policy.content.summary,
        body: policy.content.body,
        category: policy.content.category,
        region_code: policy.content.region_code,
        issuer: policy.content.issuer,
        doc_number: policy.content.doc_number,
        issued_on: policy.content.issued_on,
        effective_from: policy.content.effective_from,
        effective_until: policy.content.effective_until,
        source_url: policy.content.source_url,
        tags: policy.content.tags,
        audience_tags: policy.content.audience_tags,
        status: policy.status,
        version: policy.version,
        updated_at: policy.updated_at,
        published_at: policy.published_at,
    }
}

/// What an editor writes.
#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct PolicyWrite {
    pub title: BoundedText<1, 200>,
    /// Plain words for a worker with little schooling: what it gives and what to do.
    pub summary: BoundedText<1, 1000>,
    /// Markdown.
    pub body: BoundedText<1, 20000>,
    pub category: PolicyCategory,
    /// `000000` for national.
    pub region_code: RegionCode,
    pub issuer: BoundedText<1, 200>,
    #[serde(default, deserialize_with = "present")]
    pub doc_number: Option<BoundedText<1, 100>>,
    #[serde(default, deserialize_with = "present")]
    pub issued_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "present")]
    pub effective_from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "present")]
    pub effective_until: Option<NaiveDate>,
    /// An http(s) link to the original document.
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(pattern = "^https?://\\S{1,490}$"))]
    pub source_url: Option<String>,
    /// Words a worker might search for.
    #[oai(validator(max_items = 12))]
    #[serde(default)]
    #[oai(default)]
    pub tags: Vec<BoundedText<1, 20>>,
    /// Who it is for, e.g. `returning_entrepreneurs`, `construction_workers`.
    #[oai(validator(max_items = 8))]
    #[serde(default)]
    #[oai(default)]
    pub audience_tags: Vec<BoundedText<1, 40>>,
    /// The policy this one implements.
    #[serde(default, deserialize_with = "present")]
    pub parent_id: Option<RecordId>,
}

impl PolicyWrite {
    fn into_content(self) -> Result<PolicyContent, AppError> {
        let source_url = match self.source_url {
            Some(url)
                if !(url.starts_with("https://") || url.starts_with("http://"))
                    || url.contains(char::is_whitespace) =>
            {
                return Err(AppError::invalid_field(
                    "source_url",
                    Localized::fixed(
                        "原文链接应以 http:// 或 https:// 开头。",
                        "source_url is an http(s) URL.",
                    ),
                ));
            }
            other => other,
        };
        Ok(PolicyContent {
            parent_id: self.parent_id.map(RecordId::into_inner),
            title: self.title.into_inner(),
            summary: self.summary.into_inner(),
            body: self.body.into_inner(),
            category: self.category,
            region_code: self.region_code,
            issuer: self.issuer.into_inner(),
            doc_number: self.doc_number.map(BoundedText::into_inner),
            issued_on: self.issued_on,
            effective_from: self.effective_from,
            effective_until: self.effective_until,
            source_url,
            tags: BoundedText::into_strings(self.tags),
            audience_tags: BoundedText::into_strings(self.audience_tags),
        })
    }
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct PolicyUpdate {
    /// The `version` last read; a stale one gets 409 `VERSION_CONFLICT`.
    pub expected_version: Version,
    #[oai(flatten)]
    #[serde(flatten)]
    pub policy: PolicyWrite,
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct VersionCheck {
    /// The `version` last read; a stale one gets 409 `VERSION_CONFLICT`.
    pub expected_version: Version,
}

/// One version of a policy: the change that made it.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PolicyVersionView {
    pub version: i32,
    /// `create`, `update`, `publish` or `archive`.
    pub action: String,
    /// The status the change left the policy in.
    pub status: PolicyStatus,
    pub at: DateTime<Utc>,
    /// The editor's display name.
    pub by: Option<String>,
}

impl From<PolicyChange> for PolicyVersionView {
    fn from(change: PolicyChange) -> Self {
        PolicyVersionView {
            version: change.version,
            action: change.action,
            status: change.status,
            at: change.at,
            by: change.by,
        }
    }
}

#[derive(ApiResponse)]
pub enum PolicyCreated {
    /// The draft was created.
    #[oai(status = 201)]
    Created(Json<PolicyView>),
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Policies")]
impl PolicyApi {
    /// Search policies
    ///
    /// Chinese full-text search over published policies, ranked (title above
    /// tags above text), with synonyms for everyday words (欠薪 / 拖欠工资 /
    /// 讨薪, 社保 / 社会保险, 补贴 / 补助, 落户 / 户口, 租房 / 住房). With
    /// `region_code`, only the policies that apply there: the region's own,
    /// its city's and province's, and national ones. Only policies in force
    /// today unless `include_inactive`. No match is an empty page.
    #[oai(path = "/policies", method = "get", operation_id = "searchPolicies")]
    #[allow(clippy::too_many_arguments)]
    async fn search(
        &self,
        state: Data<&AppState>,
        /// Words to search for, e.g. 创业补贴.
        #[oai(validator(max_length = 100))]
        q: Query<Option<String>>,
        /// Where the worker lives or works (six-digit code).
        region_code: Query<Option<RegionCode>>,
        category: Query<Option<PolicyCategory>>,
        /// A tag or audience tag, e.g. 返乡创业.
        #[oai(validator(max_length = 40))]
        tag: Query<Option<String>>,
        /// Also show policies not (or no longer) in force.
        #[oai(default)]
        include_inactive: Query<bool>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<RenderedJson<Page<PolicyHit>>, { status::BAD_REQUEST | status::NOT_FOUND | status::ANY }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let body = policies::search(
            &state,
            Search {
                text: q.0.as_deref(),
                region: region_code.0,
                category: category.0,
                tag: tag.0.as_deref(),
                include_inactive: include_inactive.0,
                page: paging.page,
                page_size: paging.page_size,
            },
            |results| RenderedJson::render(&hits_page(results, &state.regions, paging)),
        )?;
        Ok(RenderedJson::from_rendered(body))
    }

    /// Get a policy
    ///
    /// Published policies for everyone; drafts and archived ones only for the
    /// policy editors whose region covers the policy (404 for anyone else).
    #[oai(path = "/policies/:id", method = "get", operation_id = "getPolicy")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: OptionalStaffAuth,
        id: Path<RecordId>,
    ) -> ApiResult<Json<PolicyView>, { status::BAD_REQUEST | status::NOT_FOUND | status::SIGNED_IN }> {
        let policy = policies::get(&state, &id.0, auth.principal()).await?;
        Ok(Json(view(policy, &state.regions)))
    }

    /// List policies for editing
    ///
    /// For policy editors (403 `ROLE_REQUIRED` otherwise): every policy of
    /// their region and below, any status, most recently changed first.
    #[oai(path = "/staff/policies", method = "get", operation_id = "listPoliciesForStaff")]
    async fn list_for_staff(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        status: Query<Option<PolicyStatus>>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<PolicyView>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let (items, total) = policies::list_for_staff(&state, &auth.0, status.0, paging.page, paging.page_size).await?;
        Ok(Json(Page::new(
            items.into_iter().map(|p| view(p, &state.regions)).collect(),
            total,
            paging,
        )))
    }

    /// List a policy's versions
    ///
    /// Every change that made a version (created, edited, published,
    /// archived), oldest first, with when and by whom. For the policy
    /// editors whose region covers the policy (404 for other editors, 403
    /// `ROLE_REQUIRED` for other staff).
    #[oai(
        path = "/staff/policies/:id/versions",
        method = "get",
        operation_id = "listPolicyVersions"
    )]
    async fn versions(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<RecordId>,
    ) -> ApiResult<
        Json<Vec<PolicyVersionView>>,
        { status::BAD_REQUEST | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN },
    > {
        let changes = policies::history::history(&state, &auth.0, &id.0).await?;
        Ok(Json(changes.into_iter().map(PolicyVersionView::from).collect()))
    }

    /// Create a policy draft
    ///
    /// For policy editors, inside their region.
    #[oai(path = "/staff/policies", method = "post", operation_id = "createPolicy")]
    async fn create(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        body: JsonBody<PolicyWrite>,
    ) -> ApiResult<PolicyCreated, { status::BODY | status::FORBIDDEN | status::SIGNED_IN }> {
        let draft = body.0.into_content()?;
        let policy = policies::create(&state, &context, &auth.0, draft).await?;
        Ok(PolicyCreated::Created(Json(view(policy, &state.regions))))
    }

    /// Update a policy
    ///
    /// Drafts and published policies can change (a published one's change is
    /// searchable within seconds); each change raises `version`.
    #[oai(path = "/staff/policies/:id", method = "put", operation_id = "updatePolicy")]
    async fn update(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<PolicyUpdate>,
    ) -> ApiResult<
        Json<PolicyView>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let expected = body.0.expected_version.get();
        let draft = body.0.policy.into_content()?;
        let policy = policies::update(&state, &context, &auth.0, &id.0, expected, draft).await?;
        Ok(Json(view(policy, &state.regions)))
    }

    /// Publish a policy draft
    ///
    /// The draft becomes public in search at once. `expected_version` is the
    /// version read; a stale one is 409 `VERSION_CONFLICT`.
    #[oai(
        path = "/staff/policies/:id/publish",
        method = "post",
        operation_id = "publishPolicy"
    )]
    async fn publish(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<VersionCheck>,
    ) -> ApiResult<
        Json<PolicyView>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let policy = policies::transition(
            &state,
            &context,
            &auth.0,
            &id.0,
            body.0.expected_version.get(),
            PolicyStatus::Published,
        )
        .await?;
        Ok(Json(view(policy, &state.regions)))
    }

    /// Archive a policy
    ///
    /// It disappears from searches on every instance within seconds.
    #[oai(
        path = "/staff/policies/:id/archive",
        method = "post",
        operation_id = "archivePolicy"
    )]
    async fn archive(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<VersionCheck>,
    ) -> ApiResult<
        Json<PolicyView>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let policy = policies::transition(
            &state,
            &context,
            &auth.0,
            &id.0,
            body.0.expected_version.get(),
            PolicyStatus::Archived,
        )
        .await?;
        Ok(Json(view(policy, &state.regions)))
    }
}
