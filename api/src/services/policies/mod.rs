//! The policy library: search (from this instance's tantivy index) and editing (by
//! policy editors inside their region, with optimistic versions).

pub mod answers;
pub mod history;
pub mod index;
pub mod sync;

use bytes::Bytes;
use chrono::{NaiveDate, Utc};
use entity::policy;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use serde_json::json;

use self::{
    answers::Lookup,
    index::{IndexedPolicy, Query, Results},
};
use crate::{
    access,
    auth::{Principal, Role},
    context::RequestContext,
    domain::{RegionCode, TextType},
    error::{AppError, AppResult, ErrorCode, Localized},
    regions::{RegionDirectory, RegionLevel},
    services::{
        audit::{self, Actor, Event, Outcome},
        versioned,
    },
    state::AppState,
};

crate::text_enum! {
    /// What a policy is about.
    PolicyCategory {
        Employment => "employment",
        Entrepreneurship => "entrepreneurship",
        Training => "training",
        WageRights => "wage_rights",
        SocialInsurance => "social_insurance",
        Education => "education",
        Housing => "housing",
        Hukou => "hukou",
        PublicService => "public_service",
    }
}

crate::text_enum! {
    /// Where a policy is in its life: only published ones are shown to workers.
    PolicyStatus {
        Draft => "draft",
        Published => "published",
        Archived => "archived",
    }
}

/// A policy as stored, with its lists decoded.
#[derive(Debug, Clone)]
pub struct Policy {
    pub id: String,
    /// What the editor wrote.
    pub content: PolicyContent,
    pub status: PolicyStatus,
    pub version: i32,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
    pub published_at: Option<chrono::DateTime<Utc>>,
}

/// What an editor writes.
#[derive(Debug, Clone)]
pub struct PolicyContent {
    pub parent_id: Option<String>,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub category: PolicyCategory,
    pub region_code: RegionCode,
    pub issuer: String,
    pub doc_number: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub effective_from: Option<NaiveDate>,
    pub effective_until: Option<NaiveDate>,
    pub source_url: Option<String>,
    pub tags: Vec<String>,
    pub audience_tags: Vec<String>,
}

fn decode(row: policy::Model) -> AppResult<Policy> {
    let corrupt = |what: &str| AppError::internal(anyhow::anyhow!("policy {} has a malformed {what}", row.id));
    Ok(Policy {
        content: PolicyContent {
            category: PolicyCategory::parse(&row.category).ok_or_else(|| corrupt("category"))?,
            region_code: RegionCode::parse(&row.region_code).map_err(|_| corrupt("region"))?,
            tags: serde_json::from_str(&row.tags).map_err(|_| corrupt("tag list"))?,
            audience_tags: serde_json::from_str(&row.audience_tags).map_err(|_| corrupt("audience list"))?,
            parent_id: row.parent_id,
            title: row.title,
            summary: row.summary,
            body: row.body,
            issuer: row.issuer,
            doc_number: row.doc_number,
            issued_on: row.issued_on,
            effective_from: row.effective_from,
            effective_until: row.effective_until,
            source_url: row.source_url,
        },
        status: PolicyStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?,
        id: row.id,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
        published_at: row.published_at,
    })
}

/// Markdown reduced to the words, for snippets and the index.
fn plain_text(markdown: &str) -> String {
    markdown
        .lines()
        .map(|line| {
            line.trim_start_matches(['#', '-', '*', '>', ' '])
                .replace("**", "")
                .replace('`', "")
        })
        .filter(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn indexed(policy: &Policy, regions: &RegionDirectory) -> IndexedPolicy {
    let locality = match regions.get(policy.content.region_code).map(|r| r.level) {
        _ if policy.content.region_code.is_national() => 0,
        Some(RegionLevel::Province) => 1,
        Some(RegionLevel::City) => 2,
        Some(RegionLevel::County) => 3,
        None => 0,
    };
    IndexedPolicy {
        id: policy.id.clone(),
        version: policy.version,
        title: policy.content.title.clone(),
        summary: policy.content.summary.clone(),
        text: format!("{} {}", policy.content.summary, plain_text(&policy.content.body)),
        category: policy.content.category,
        region: policy.content.region_code,
        issuer: policy.content.issuer.clone(),
        doc_number: policy.content.doc_number.clone(),
        issued_on: policy.content.issued_on,
        effective_from: policy.content.effective_from,
        effective_until: policy.content.effective_until,
        tags: policy.content.tags.clone(),
        audience_tags: policy.content.audience_tags.clone(),
        locality,
    }
}

/// A search as the API asks it.
pub struct Search<'a> {
    pub text: Option<&'a str>,
    pub region: Option<RegionCode>,
    pub category: Option<PolicyCategory>,
    pub tag: Option<&'a str>,
    pub include_inactive: bool,
    pub page: u32,
    pub page_size: u32,
}

/// Searches published policies: never a database query. The same search on
/// the same day, with the index unchanged, is answered with the body
/// rendered the first time; `render` renders a fresh one.
pub fn search(state: &AppState, search: Search<'_>, render: impl FnOnce(Results) -> Bytes) -> AppResult<Bytes> {
    let generation = state.policies.generation();
    let day = crate::domain::china_time::today();
    match state.policy_answers.lookup(&search, generation, day) {
        Lookup::Hit(body) => Ok(body),
        Lookup::Miss(slot) => {
            let body = render(search_index(state, search, day)?);
            slot.fill(body.clone());
            Ok(body)
        }
    }
}

fn search_index(state: &AppState, search: Search<'_>, day: NaiveDate) -> AppResult<Results> {
    let regions = match search.region {
        Some(code) => {
            state.regions.require(code)?;
            let mut applicable: Vec<RegionCode> = state.regions.ancestors(code).iter().map(|r| r.code).collect();
            applicable.push(code);
            applicable.push(RegionCode::NATIONAL);
            Some(applicable)
        }
        None => None,
    };
    let text = search.text.map(str::trim).filter(|t| !t.is_empty());
    Ok(state.policies.search(&Query {
        text,
        regions,
        category: search.category,
        tag: search.tag,
        in_force_on: (!search.include_inactive).then_some(day),
        offset: (search.page.saturating_sub(1) as usize) * search.page_size as usize,
        limit: search.page_size as usize,
    }))
}

async fn load(db: &impl ConnectionTrait, id: &str) -> AppResult<Policy> {
    let row = policy::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    decode(row)
}

/// A policy by id, if the caller may read it; otherwise not found.
pub async fn get(state: &AppState, id: &str, staff: Option<&Principal>) -> AppResult<Policy> {
    let policy = load(&state.db, id).await?;
    if !access::may_read_policy(
        &state.regions,
        staff,
        policy.status == PolicyStatus::Published,
        policy.content.region_code,
    ) {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    Ok(policy)
}

async fn check_content(db: &impl ConnectionTrait, state: &AppState, draft: &PolicyContent) -> AppResult<()> {
    if !draft.region_code.is_national() {
        state
            .regions
            .require(draft.region_code)
            .map_err(|_| AppError::invalid_field("region_code", ErrorCode::RegionNotFound.default_message()))?;
    }
    if let (Some(from), Some(until)) = (draft.effective_from, draft.effective_until)
        && until < from
    {
        return Err(AppError::invalid_field(
            "effective_until",
            Localized::fixed(
                "失效日期不能早于生效日期。",
                "effective_until is before effective_from.",
            ),
        ));
    }
    if let Some(parent) = &draft.parent_id
        && policy::Entity::find_by_id(parent.clone()).one(db).await?.is_none()
    {
        return Err(AppError::invalid_field(
            "parent_id",
            Localized::fixed("上级政策不存在。", "No policy has this parent_id."),
        ));
    }
    Ok(())
}

fn apply(active: &mut policy::ActiveModel, draft: PolicyContent) {
    active.parent_id = Set(draft.parent_id);
    active.title = Set(draft.title);
    active.summary = Set(draft.summary);
    active.body = Set(draft.body);
    active.category = Set(draft.category.as_str().to_owned());
    active.region_code = Set(draft.region_code.as_str().to_owned());
    active.issuer = Set(draft.issuer);
    active.doc_number = Set(draft.doc_number);
    active.issued_on = Set(draft.issued_on);
    active.effective_from = Set(draft.effective_from);
    active.effective_until = Set(draft.effective_until);
    active.source_url = Set(draft.source_url);
    active.tags = Set(serde_json::to_string(&draft.tags).expect("strings serialize"));
    active.audience_tags = Set(serde_json::to_string(&draft.audience_tags).expect("strings serialize"));
}

async fn audit_change(
    db: &impl ConnectionTrait,
    request: &RequestContext,
    editor: &Principal,
    action: &'static str,
    policy: &Policy,
) -> AppResult<()> {
    audit::record(
        db,
        Some(request),
        Event {
            actor: Actor::Principal(editor),
            action,
            target: Some(("policy", &policy.id)),
            region: Some(policy.content.region_code),
            outcome: Outcome::Success,
            details: Some(json!({ "version": policy.version, "status": policy.status.as_str() })),
        },
    )
    .await
}

/// Makes the change visible to this instance's searches at once; the other
/// instances follow within a second or two (see `sync`).
fn reindex(state: &AppState, policy: &Policy) {
    let done = if policy.status == PolicyStatus::Published {
        state.policies.upsert(&indexed(policy, &state.regions))
    } else {
        state.policies.remove(&policy.id)
    };
    if let Err(err) = done {
        // The change is in the database: the follower applies it at its
        // next poll.
        tracing::warn!(error = %err, policy = %policy.id, "policy index: change not applied at once");
    }
}

pub async fn create(
    state: &AppState,
    request: &RequestContext,
    editor: &Principal,
    draft: PolicyContent,
) -> AppResult<Policy> {
    access::require_policy_editor(&state.regions, editor, draft.region_code)?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    check_content(&transaction, state, &draft).await?;
    let now = Utc::now();
    let mut active = policy::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        slug: Set(None),
        status: Set(PolicyStatus::Draft.as_str().to_owned()),
        version: Set(1),
        created_by: Set(Some(editor.subject.clone())),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set(None),
        ..Default::default()
    };
    apply(&mut active, draft);
    let policy = decode(active.insert(&transaction).await?)?;
    audit_change(&transaction, request, editor, "policy.create", &policy).await?;
    transaction.commit().await?;
    Ok(policy)
}

/// Loads a policy for a change, checking the editor's scope and the version
/// the editor last saw.
async fn for_change(
    db: &impl ConnectionTrait,
    state: &AppState,
    editor: &Principal,
    id: &str,
    expected_version: i32,
) -> AppResult<Policy> {
    let current = load(db, id).await?;
    access::require_policy_editor(&state.regions, editor, current.content.region_code)?;
    versioned::check(Some(expected_version), current.version)?;
    Ok(current)
}

/// Saves `active` to the policy `id` only if it is still at
/// `expected_version` (optimistic locking in the database, so two editors
/// cannot both win).
async fn save_versioned(
    transaction: &DatabaseTransaction,
    id: &str,
    mut active: policy::ActiveModel,
    expected_version: i32,
) -> AppResult<Policy> {
    active.updated_at = Set(Utc::now());
    versioned::update::<policy::Entity>(transaction, id, expected_version, active).await?;
    load(transaction, id).await
}

pub async fn update(
    state: &AppState,
    request: &RequestContext,
    editor: &Principal,
    id: &str,
    expected_version: i32,
    draft: PolicyContent,
) -> AppResult<Policy> {
    access::require_policy_editor(&state.regions, editor, draft.region_code)?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let current = for_change(&transaction, state, editor, id, expected_version).await?;
    if current.status == PolicyStatus::Archived {
        return Err(AppError::new(ErrorCode::InvalidState).with_message(Localized::fixed(
            "已归档的政策不能再修改。",
            "An archived policy cannot be changed.",
        )));
    }
    check_content(&transaction, state, &draft).await?;
    let mut active = policy::ActiveModel { ..Default::default() };
    apply(&mut active, draft);
    let policy = save_versioned(&transaction, &current.id, active, expected_version).await?;
    audit_change(&transaction, request, editor, "policy.update", &policy).await?;
    transaction.commit().await?;
    reindex(state, &policy);
    Ok(policy)
}

/// Publishes or archives: the only two status changes there are.
pub async fn transition(
    state: &AppState,
    request: &RequestContext,
    editor: &Principal,
    id: &str,
    expected_version: i32,
    to: PolicyStatus,
) -> AppResult<Policy> {
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let current = for_change(&transaction, state, editor, id, expected_version).await?;
    let allowed = matches!(
        (current.status, to),
        (PolicyStatus::Draft, PolicyStatus::Published)
            | (PolicyStatus::Draft | PolicyStatus::Published, PolicyStatus::Archived)
    );
    if !allowed {
        return Err(AppError::new(ErrorCode::InvalidState).with_details(json!({
            "status": current.status.as_str(),
            "requested": to.as_str(),
        })));
    }
    let mut active = policy::ActiveModel {
        status: Set(to.as_str().to_owned()),
        ..Default::default()
    };
    if to == PolicyStatus::Published {
        active.published_at = Set(Some(Utc::now()));
    }
    let policy = save_versioned(&transaction, &current.id, active, expected_version).await?;
    let action = if to == PolicyStatus::Published {
        "policy.publish"
    } else {
        "policy.archive"
    };
    audit_change(&transaction, request, editor, action, &policy).await?;
    transaction.commit().await?;
    reindex(state, &policy);
    Ok(policy)
}

/// Policies in the policy editor's region, any status, newest change first.
pub async fn list_for_staff(
    state: &AppState,
    staff: &Principal,
    status: Option<PolicyStatus>,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Policy>, u64)> {
    access::require_role(staff, Role::PolicyEditor)?;
    let mut query = policy::Entity::find().order_by_desc(policy::Column::UpdatedAt);
    if let Some(status) = status {
        query = query.filter(policy::Column::Status.eq(status.as_str()));
    }
    if let Some(codes) = access::staff_scope(&state.regions, staff, None)? {
        query = query.filter(policy::Column::RegionCode.is_in(codes));
    }
    let paginator = query.paginate(&state.db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    let policies = rows.into_iter().map(decode).collect::<AppResult<Vec<_>>>()?;
    Ok((policies, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_reduced_to_its_words() {
        let text = plain_text("## 这是什么\n\n- **江苏**：`十八条`\n> 引用\n");
        assert_eq!(text, "这是什么 江苏：十八条 引用");
    }
}
