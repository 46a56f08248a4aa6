//! Subsidy programs: what each region offers, who qualifies, and how much.

pub mod rules;
pub mod staff;

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use entity::{matching_job, program};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, ExprTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use serde_json::json;

use self::rules::{AmountRule, Check, Criterion, DocumentRequirement, Facts, FormField};
use crate::{
    access,
    auth::Principal,
    context::RequestContext,
    domain::{RegionCode, TextType},
    error::{AppError, AppResult, ErrorCode, Localized},
    services::{
        audit::{self, Actor, Event, Outcome},
        versioned, workers,
    },
    state::AppState,
};

crate::text_enum! {
    /// The kinds of subsidy the programme pays.
    ProgramKind {
        TrainingSubsidy => "training_subsidy",
        StartupSubsidy => "startup_subsidy",
        StartupLoanInterest => "startup_loan_interest",
        RentSubsidy => "rent_subsidy",
        EmploymentSubsidy => "employment_subsidy",
    }
}

crate::text_enum! {
    /// Whether a program takes applications.
    ProgramStatus {
        Draft => "draft",
        Open => "open",
        Closed => "closed",
    }
}

#[derive(Debug, Clone)]
pub struct Program {
    pub id: String,
    /// What the administrator wrote.
    pub terms: ProgramTerms,
    pub approved_fen: i64,
    pub approved_count: i32,
    pub status: ProgramStatus,
    pub amounts_are_examples: bool,
    pub version: i32,
}

impl Program {
    /// Open for applications today: open, and inside its window.
    pub fn accepting(&self, today: NaiveDate) -> bool {
        self.status == ProgramStatus::Open
            && self.terms.opens_on.is_none_or(|from| from <= today)
            && self.terms.closes_on.is_none_or(|until| until >= today)
    }
}

pub fn decode(row: program::Model) -> AppResult<Program> {
    let corrupt = |what: &str| AppError::internal(anyhow::anyhow!("program {} has a malformed {what}", row.id));
    Ok(Program {
        terms: ProgramTerms {
            kind: ProgramKind::parse(&row.kind).ok_or_else(|| corrupt("kind"))?,
            region_code: RegionCode::parse(&row.region_code).map_err(|_| corrupt("region"))?,
            amount_rule: serde_json::from_str(&row.amount_rule).map_err(|_| corrupt("amount rule"))?,
            criteria: serde_json::from_str(&row.criteria).map_err(|_| corrupt("criteria"))?,
            required_documents: serde_json::from_str(&row.required_documents).map_err(|_| corrupt("document list"))?,
            form_fields: serde_json::from_str(&row.form_fields).map_err(|_| corrupt("form"))?,
            name: row.name,
            description: row.description,
            policy_id: row.policy_id,
            opens_on: row.opens_on,
            closes_on: row.closes_on,
            period: row.period,
            budget_fen: row.budget_fen,
            quota: row.quota,
            auto_offer: row.auto_offer,
        },
        status: ProgramStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?,
        id: row.id,
        approved_fen: row.approved_fen,
        approved_count: row.approved_count,
        amounts_are_examples: row.amounts_are_examples,
        version: row.version,
    })
}

/// Every program's name by id: statistics and exports name the program of
/// many rows with one read.
pub async fn names(db: &impl ConnectionTrait) -> AppResult<HashMap<String, String>> {
    Ok(program::Entity::find()
        .select_only()
        .columns([program::Column::Id, program::Column::Name])
        .into_tuple::<(String, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

pub async fn load(db: &impl ConnectionTrait, id: &str) -> AppResult<Program> {
    let row = program::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    decode(row)
}

/// Which open programs a list shows: those that apply in `region` (its own,
/// its city's, its province's and national) when one is given, of `kind`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProgramFilter {
    pub region: Option<RegionCode>,
    pub kind: Option<ProgramKind>,
}

/// One page of the open programs the filter selects, by name, with how many
/// it selects: the database filters, counts and cuts the page.
pub async fn list_open(
    state: &AppState,
    filter: ProgramFilter,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Program>, u64)> {
    let ProgramFilter { region, kind } = filter;
    let mut query = program::Entity::find()
        .filter(program::Column::Status.eq(ProgramStatus::Open.as_str()))
        .order_by_asc(program::Column::Name)
        .order_by_asc(program::Column::Id);
    if let Some(kind) = kind {
        query = query.filter(program::Column::Kind.eq(kind.as_str()));
    }
    if let Some(code) = region {
        state.regions.require(code)?;
        let mut applicable: Vec<String> = state
            .regions
            .ancestors(code)
            .iter()
            .map(|r| r.code.as_str().to_owned())
            .collect();
        applicable.push(code.as_str().to_owned());
        applicable.push(RegionCode::NATIONAL.as_str().to_owned());
        query = query.filter(program::Column::RegionCode.is_in(applicable));
    }
    let paginator = query.paginate(&state.db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    let programs = rows.into_iter().map(decode).collect::<AppResult<Vec<_>>>()?;
    Ok((programs, total))
}

/// A program for everyone: drafts are not shown.
pub async fn get_public(state: &AppState, id: &str) -> AppResult<Program> {
    let program = load(&state.db, id).await?;
    if program.status == ProgramStatus::Draft {
        return Err(AppError::new(ErrorCode::NotFound));
    }
    Ok(program)
}

/// The eligibility preview: the rules applied to the worker's profile; the
/// questions of the form are pending until the application.
pub async fn eligibility(state: &AppState, worker_id: &str, program_id: &str) -> AppResult<Vec<Check>> {
    let program = get_public(state, program_id).await?;
    let facts = workers::facts(state, worker_id).await?;
    Ok(rules::evaluate(
        &program.terms.criteria,
        program.terms.region_code,
        &Facts { answers: None, ..facts },
        &state.regions,
        crate::domain::china_time::today(),
    ))
}

/// What an administrator writes about a program: its terms.
#[derive(Debug, Clone)]
pub struct ProgramTerms {
    pub name: String,
    pub kind: ProgramKind,
    pub region_code: RegionCode,
    pub description: String,
    pub policy_id: Option<String>,
    pub amount_rule: AmountRule,
    pub criteria: Vec<Criterion>,
    pub required_documents: Vec<DocumentRequirement>,
    pub form_fields: Vec<FormField>,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    pub period: String,
    pub budget_fen: Option<i64>,
    pub quota: Option<i32>,
    /// 免申即享: workers who meet every criterion are offered the subsidy,
    /// confirmed by a reviewer and accepted with one tap.
    pub auto_offer: bool,
}

fn check_terms(state: &AppState, draft: &ProgramTerms) -> AppResult<()> {
    if !draft.region_code.is_national() {
        state
            .regions
            .require(draft.region_code)
            .map_err(|_| AppError::invalid_field("region_code", ErrorCode::RegionNotFound.default_message()))?;
    }
    if let (Some(from), Some(until)) = (draft.opens_on, draft.closes_on)
        && until < from
    {
        return Err(AppError::invalid_field(
            "closes_on",
            Localized::fixed("截止日期不能早于开始日期。", "closes_on is before opens_on."),
        ));
    }
    if !draft.amount_rule.is_sound() {
        return Err(AppError::invalid_field(
            "amount_rule",
            Localized::fixed(
                "补贴金额要大于0，证书等级只能是1到5级。",
                "Amounts must be positive and certificate levels 1 to 5.",
            ),
        ));
    }
    let mut keys: Vec<&str> = draft.form_fields.iter().map(|f| f.key.as_str()).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(AppError::invalid_field(
            "form_fields",
            Localized::fixed("申请表里有重复的项目。", "Two form fields share a key."),
        ));
    }
    let mut found = rules::conflicts(&draft.amount_rule, &draft.criteria, &draft.form_fields);
    if draft.auto_offer {
        found.extend(rules::auto_offer_conflicts(
            &draft.amount_rule,
            &draft.criteria,
            &draft.required_documents,
            &draft.form_fields,
        ));
    }
    if let Some(first) = found.first() {
        let fields: Vec<serde_json::Value> = found
            .iter()
            .map(|c| json!({ "field": c.field, "zh": c.zh, "en": c.en }))
            .collect();
        return Err(AppError::new(ErrorCode::ProgramRulesConflict)
            .with_message(Localized::new(
                format!("补贴规则互相矛盾（{}）：{}", first.field, first.zh),
                format!(
                    "The program's rules contradict each other ({}): {}",
                    first.field, first.en
                ),
            ))
            .with_details(json!({ "fields": fields })));
    }
    Ok(())
}

fn apply(active: &mut program::ActiveModel, draft: ProgramTerms) {
    let json = |value: serde_json::Value| value.to_string();
    active.name = Set(draft.name);
    active.kind = Set(draft.kind.as_str().to_owned());
    active.region_code = Set(draft.region_code.as_str().to_owned());
    active.description = Set(draft.description);
    active.policy_id = Set(draft.policy_id);
    active.amount_rule = Set(json(json!(draft.amount_rule)));
    active.criteria = Set(json(json!(draft.criteria)));
    active.required_documents = Set(json(json!(draft.required_documents)));
    active.form_fields = Set(json(json!(draft.form_fields)));
    active.opens_on = Set(draft.opens_on);
    active.closes_on = Set(draft.closes_on);
    active.period = Set(draft.period);
    active.budget_fen = Set(draft.budget_fen);
    active.quota = Set(draft.quota);
    active.auto_offer = Set(draft.auto_offer);
}

async fn audit_change(
    db: &impl ConnectionTrait,
    request: &RequestContext,
    admin: &Principal,
    action: &'static str,
    program: &Program,
) -> AppResult<()> {
    audit::record(
        db,
        Some(request),
        Event {
            actor: Actor::Principal(admin),
            action,
            target: Some(("program", &program.id)),
            region: Some(program.terms.region_code),
            outcome: Outcome::Success,
            details: Some(json!({ "version": program.version, "status": program.status.as_str() })),
        },
    )
    .await
}

pub async fn create(
    state: &AppState,
    request: &RequestContext,
    admin: &Principal,
    draft: ProgramTerms,
) -> AppResult<Program> {
    access::require_admin_of(&state.regions, admin, draft.region_code)?;
    check_terms(state, &draft)?;
    let now = Utc::now();
    let mut active = program::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        slug: Set(None),
        approved_fen: Set(0),
        approved_count: Set(0),
        status: Set(ProgramStatus::Draft.as_str().to_owned()),
        amounts_are_examples: Set(false),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    apply(&mut active, draft);
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let program = decode(active.insert(&transaction).await?)?;
    audit_change(&transaction, request, admin, "program.create", &program).await?;
    transaction.commit().await?;
    Ok(program)
}

/// An administrator's change of a program: which, on the version they saw,
/// and its name in the audit log.
struct Edit<'a> {
    id: &'a str,
    expected_version: i32,
    action: &'static str,
}

/// Changes a program if it is still at `expected_version`.
async fn change(
    state: &AppState,
    request: &RequestContext,
    admin: &Principal,
    edit: Edit<'_>,
    apply_to: impl FnOnce(&Program, &mut program::ActiveModel) -> AppResult<()>,
) -> AppResult<Program> {
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let current = load(&transaction, edit.id).await?;
    access::require_admin_of(&state.regions, admin, current.terms.region_code)?;
    // Compared first, so that the next version counts from a stored one.
    versioned::check(Some(edit.expected_version), current.version)?;
    let mut active = program::ActiveModel {
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    apply_to(&current, &mut active)?;
    versioned::update::<program::Entity>(&transaction, edit.id, current.version, active).await?;
    let program = load(&transaction, edit.id).await?;
    audit_change(&transaction, request, admin, edit.action, &program).await?;
    if program.status == ProgramStatus::Open {
        // Opened, or its rules changed while open: its people are found
        // again by the background matcher, not while the administrator waits.
        record_matching_job(&transaction, &program.id).await?;
    }
    transaction.commit().await?;
    Ok(program)
}

/// A durable job to match every consenting worker of the program's regions
/// against it (`services::recommendations` runs it), in the caller's
/// transaction: committed with the change that calls for it, or not at all.
async fn record_matching_job(db: &impl ConnectionTrait, program_id: &str) -> AppResult<()> {
    matching_job::ActiveModel {
        program_id: Set(program_id.to_owned()),
        created_at: Set(Utc::now()),
        attempts: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn update(
    state: &AppState,
    request: &RequestContext,
    admin: &Principal,
    id: &str,
    expected_version: i32,
    draft: ProgramTerms,
) -> AppResult<Program> {
    access::require_admin_of(&state.regions, admin, draft.region_code)?;
    check_terms(state, &draft)?;
    let edit = Edit {
        id,
        expected_version,
        action: "program.update",
    };
    change(state, request, admin, edit, |_, active| {
        apply(active, draft);
        Ok(())
    })
    .await
}

pub async fn set_status(
    state: &AppState,
    request: &RequestContext,
    admin: &Principal,
    id: &str,
    expected_version: i32,
    to: ProgramStatus,
) -> AppResult<Program> {
    let action = if to == ProgramStatus::Open {
        "program.open"
    } else {
        "program.close"
    };
    let edit = Edit {
        id,
        expected_version,
        action,
    };
    change(state, request, admin, edit, |current, active| {
        if current.status == to {
            return Err(AppError::new(ErrorCode::InvalidState).with_details(json!({ "status": to.as_str() })));
        }
        active.status = Set(to.as_str().to_owned());
        Ok(())
    })
    .await
}

/// Takes `amount` and one place from the program's budget and quota, in one
/// conditional update: concurrent approvals cannot overspend.
pub async fn commit_budget(transaction: &DatabaseTransaction, program: &Program, amount: i64) -> AppResult<()> {
    let mut update = program::Entity::update_many()
        .col_expr(
            program::Column::ApprovedFen,
            Expr::col(program::Column::ApprovedFen).add(amount),
        )
        .col_expr(
            program::Column::ApprovedCount,
            Expr::col(program::Column::ApprovedCount).add(1),
        )
        .filter(program::Column::Id.eq(&program.id));
    if program.terms.budget_fen.is_some() {
        update = update.filter(
            Expr::col(program::Column::ApprovedFen)
                .add(amount)
                .lte(Expr::col(program::Column::BudgetFen)),
        );
    }
    if program.terms.quota.is_some() {
        update = update.filter(
            Expr::col(program::Column::ApprovedCount)
                .add(1)
                .lte(Expr::col(program::Column::Quota)),
        );
    }
    if update.exec(transaction).await?.rows_affected == 0 {
        return Err(AppError::new(ErrorCode::BudgetExhausted));
    }
    Ok(())
}
