use chrono::NaiveDate;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde::Deserialize;

use super::ApiTags;
use crate::http::params::{PageNumber, PageSize, Paging, RecordId, Version};
use crate::{
    auth::schemes::{StaffAuth, WorkerAuth},
    context::RequestContext,
    domain::{BoundedText, RegionCode, yuan_text},
    error::{AppError, Localized},
    http::{
        json_body::{JsonBody, present},
        problem::{ApiResult, status},
    },
    routes::{Page, policies::VersionCheck},
    services::programs::{
        self, Program, ProgramFilter, ProgramKind, ProgramStatus, ProgramTerms,
        rules::{AmountRule, Check, Criterion, DocumentRequirement, FormField},
        staff::Pending,
    },
    state::AppState,
};

pub struct ProgramApi;

/// One eligibility rule, with its words.
#[derive(Debug, Object)]
pub struct CriterionView {
    /// e.g. `age_between`, `returning_worker`, `employees_at_least`.
    pub criterion: String,
    /// The rule in plain Chinese.
    pub description: String,
    /// The rule as data (`type` and its parameters).
    pub rule: serde_json::Value,
}

/// One question of the application form.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct FormFieldView {
    /// The key of the answer in `answers`.
    pub key: String,
    pub label: String,
    /// `text`, `integer`, `date` (YYYY-MM-DD), `boolean`, or `yuan`: an
    /// amount in yuan, more than 0 with at most two decimals (`3456.78`),
    /// its `min` and `max` in yuan too.
    pub kind: String,
    pub required: bool,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

#[derive(Debug, Object)]
pub struct DocumentView {
    /// Upload it with this `purpose`.
    pub kind: String,
    pub label: String,
}

/// A subsidy program.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ProgramView {
    pub id: String,
    pub name: String,
    pub kind: ProgramKind,
    pub region_code: RegionCode,
    pub description: String,
    /// The policy the program carries out.
    pub policy_id: Option<String>,
    /// How much, in words.
    pub amount: String,
    /// The most one application can get, in fen.
    pub max_amount_fen: i64,
    /// The same in yuan, for the worker to read: `2000.00`.
    pub max_amount_yuan: String,
    /// The amount rule as data.
    pub amount_rule: serde_json::Value,
    /// True for seeded programs: the amounts are examples each region confirms.
    pub amounts_are_examples: bool,
    /// 免申即享: workers who meet every criterion are offered the subsidy
    /// without applying; a reviewer confirms the offers and the worker
    /// accepts with one tap.
    pub auto_offer: bool,
    pub criteria: Vec<CriterionView>,
    pub required_documents: Vec<DocumentView>,
    pub form_fields: Vec<FormFieldView>,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    /// One application per person and period.
    pub period: String,
    pub budget_fen: Option<i64>,
    pub quota: Option<i32>,
    pub status: ProgramStatus,
    pub version: i32,
}

pub fn program_view(program: Program) -> ProgramView {
    ProgramView {
        amount: program.terms.amount_rule.describe(),
        max_amount_fen: program.terms.amount_rule.ceiling(),
        max_amount_yuan: yuan_text(program.terms.amount_rule.ceiling()),
        amount_rule: serde_json::to_value(&program.terms.amount_rule).unwrap_or_default(),
        criteria: program
            .terms
            .criteria
            .iter()
            .map(|c| CriterionView {
                criterion: c.key().to_owned(),
                description: c.describe(),
                rule: serde_json::to_value(c).unwrap_or_default(),
            })
            .collect(),
        required_documents: program
            .terms
            .required_documents
            .into_iter()
            .map(|d| DocumentView {
                kind: d.kind,
                label: d.label,
            })
            .collect(),
        form_fields: program
            .terms
            .form_fields
            .into_iter()
            .map(|f| FormFieldView {
                kind: serde_json::to_value(f.kind)
                    .ok()
                    .and_then(|k| k.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                key: f.key,
                label: f.label,
                required: f.required,
                min: f.min,
                max: f.max,
            })
            .collect(),
        id: program.id,
        name: program.terms.name,
        kind: program.terms.kind,
        region_code: program.terms.region_code,
        description: program.terms.description,
        policy_id: program.terms.policy_id,
        amounts_are_examples: program.amounts_are_examples,
        auto_offer: program.terms.auto_offer,
        opens_on: program.terms.opens_on,
        closes_on: program.terms.closes_on,
        period: program.terms.period,
        budget_fen: program.terms.budget_fen,
        quota: program.terms.quota,
        status: program.status,
        version: program.version,
    }
}

/// A program as its administrators follow it: its terms, and how much of
/// its budget and quota is used.
#[derive(Debug, Object)]
pub struct StaffProgramView {
    #[oai(flatten)]
    pub program: ProgramView,
    /// Taken from the budget by approved (and paid) applications, in fen:
    /// compare with `budget_fen`.
    pub committed_fen: i64,
    /// Approved applications: compare with `quota`.
    pub approved_count: i32,
    /// Applications submitted, under review or returned: not yet counted,
    /// but they may be.
    pub pending_count: i64,
    /// What those applications ask for, in fen.
    pub pending_requested_fen: i64,
}

fn staff_program_view((program, pending): (Program, Pending)) -> StaffProgramView {
    StaffProgramView {
        committed_fen: program.approved_fen,
        approved_count: program.approved_count,
        pending_count: pending.count,
        pending_requested_fen: pending.requested_fen,
        program: program_view(program),
    }
}

#[derive(Debug, Object)]
pub struct EligibilityCheck {
    pub criterion: String,
    pub passed: bool,
    /// Asked in the application form: decided when the worker applies.
    pub pending: bool,
    /// Why, in plain Chinese.
    pub detail: String,
}

impl From<Check> for EligibilityCheck {
    fn from(check: Check) -> Self {
        EligibilityCheck {
            criterion: check.criterion.to_owned(),
            passed: check.passed,
            pending: check.pending,
            detail: check.detail,
        }
    }
}

#[derive(Debug, Object)]
pub struct Eligibility {
    /// No criterion fails on what is known (pending ones are decided at application).
    pub eligible: bool,
    pub checks: Vec<EligibilityCheck>,
}

/// A program as an administrator writes it. The rules are data: see the
/// `rule` of each criterion and `amount_rule` in `ProgramView` for their form.
#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct ProgramWrite {
    pub name: BoundedText<1, 200>,
    pub kind: ProgramKind,
    pub region_code: RegionCode,
    pub description: BoundedText<1, 4000>,
    #[serde(default, deserialize_with = "present")]
    pub policy_id: Option<RecordId>,
    /// `{"type": "fixed", "amount_fen": 500000}`, `{"type": "by_certificate_level", "amounts_fen": {"5": 100000}}` or `{"type": "up_to", "max_fen": 1000000}`.
    pub amount_rule: serde_json::Value,
    /// e.g. `[{"type": "age_between", "min": 16, "max": 60}, {"type": "returning_worker"}]`.
    pub criteria: serde_json::Value,
    /// e.g. `[{"kind": "id_card", "label": "身份证正反面照片"}]`.
    pub required_documents: serde_json::Value,
    /// e.g. `[{"key": "employees", "label": "带动就业人数", "kind": "integer", "required": true, "min": 0}]`.
    pub form_fields: serde_json::Value,
    #[serde(default, deserialize_with = "present")]
    pub opens_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "present")]
    pub closes_on: Option<NaiveDate>,
    /// One application per person and period, e.g. `2026`.
    pub period: BoundedText<1, 16>,
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(minimum(value = "1")))]
    pub budget_fen: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(minimum(value = "1")))]
    pub quota: Option<i32>,
    /// 免申即享 (default false): workers who meet every criterion get an
    /// offer a reviewer confirms and they accept with one tap. Only for a
    /// program the profile decides alone: a `fixed` amount, criteria
    /// `age_between`, `hukou_type` or `lives_or_works_in_region`, no
    /// required document, and required form fields only those the profile
    /// answers (`real_name`, `hukou_type`, `hukou_region_code`,
    /// `residence_region_code`, `work_region_code`, kind `text`); else 422
    /// `PROGRAM_RULES_CONFLICT`.
    #[serde(default, deserialize_with = "present")]
    pub auto_offer: Option<bool>,
}

fn rule<T: serde::de::DeserializeOwned>(field: &str, value: serde_json::Value) -> Result<T, AppError> {
    serde_json::from_value(value).map_err(|_| {
        AppError::invalid_field(
            field,
            Localized::new(
                format!("“{field}”的写法不对，请参照文档。"),
                format!("{field} is not in the documented form."),
            ),
        )
    })
}

impl ProgramWrite {
    fn into_terms(self) -> Result<ProgramTerms, AppError> {
        Ok(ProgramTerms {
            amount_rule: rule::<AmountRule>("amount_rule", self.amount_rule)?,
            criteria: rule::<Vec<Criterion>>("criteria", self.criteria)?,
            required_documents: rule::<Vec<DocumentRequirement>>("required_documents", self.required_documents)?,
            form_fields: rule::<Vec<FormField>>("form_fields", self.form_fields)?,
            name: self.name.into_inner(),
            kind: self.kind,
            region_code: self.region_code,
            description: self.description.into_inner(),
            policy_id: self.policy_id.map(RecordId::into_inner),
            opens_on: self.opens_on,
            closes_on: self.closes_on,
            period: self.period.into_inner(),
            budget_fen: self.budget_fen,
            quota: self.quota,
            auto_offer: self.auto_offer.unwrap_or(false),
        })
    }
}

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct ProgramUpdate {
    /// The `version` last read; a stale one gets 409 `VERSION_CONFLICT`.
    pub expected_version: Version,
    #[oai(flatten)]
    #[serde(flatten)]
    pub program: ProgramWrite,
}

#[derive(ApiResponse)]
pub enum ProgramCreated {
    /// The program was created as a draft; open it to take applications.
    #[oai(status = 201)]
    Created(Json<ProgramView>),
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Programs")]
impl ProgramApi {
    /// List open subsidy programs
    ///
    /// With `region_code`, the programs that apply there: the region's own,
    /// its city's and province's, and national ones. By name, a page at a
    /// time (`{items, total, page, page_size}`).
    #[oai(path = "/programs", method = "get", operation_id = "listPrograms")]
    async fn list(
        &self,
        state: Data<&AppState>,
        region_code: Query<Option<RegionCode>>,
        kind: Query<Option<ProgramKind>>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<ProgramView>>, { status::BAD_REQUEST | status::NOT_FOUND | status::ANY }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let filter = ProgramFilter {
            region: region_code.0,
            kind: kind.0,
        };
        let (programs, total) = programs::list_open(&state, filter, paging.page, paging.page_size).await?;
        Ok(Json(Page::of(programs, total, paging, program_view)))
    }

    /// Get a subsidy program
    ///
    /// Its criteria, required documents, amount rule, form and window.
    #[oai(path = "/programs/:id", method = "get", operation_id = "getProgram")]
    async fn get(
        &self,
        state: Data<&AppState>,
        id: Path<RecordId>,
    ) -> ApiResult<Json<ProgramView>, { status::BAD_REQUEST | status::NOT_FOUND | status::ANY }> {
        Ok(Json(program_view(programs::get_public(&state, &id.0).await?)))
    }

    /// Check my eligibility for a program
    ///
    /// Each criterion applied to the worker's profile, with the reason in
    /// Chinese. Criteria asked in the form are `pending` until the application.
    #[oai(
        path = "/programs/:id/eligibility",
        method = "get",
        operation_id = "checkEligibility"
    )]
    async fn eligibility(
        &self,
        state: Data<&AppState>,
        auth: WorkerAuth,
        id: Path<RecordId>,
    ) -> ApiResult<Json<Eligibility>, { status::BAD_REQUEST | status::NOT_FOUND | status::SIGNED_IN }> {
        let checks = programs::eligibility(&state, &auth.0.subject, &id.0).await?;
        Ok(Json(Eligibility {
            eligible: checks.iter().all(|c| c.passed || c.pending),
            checks: checks.into_iter().map(EligibilityCheck::from).collect(),
        }))
    }

    /// List programs for administrators
    ///
    /// For administrators (403 `ROLE_REQUIRED` otherwise): every program of
    /// their region and below, in any status (or `status`), by name, each
    /// with its budget and quota use and its applications still undecided.
    #[oai(path = "/staff/programs", method = "get", operation_id = "listProgramsForStaff")]
    async fn list_for_staff(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        status: Query<Option<ProgramStatus>>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<StaffProgramView>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let (programs, total) = programs::staff::list(&state, &auth.0, status.0, paging.page, paging.page_size).await?;
        Ok(Json(Page::of(programs, total, paging, staff_program_view)))
    }

    /// Get a program for administrators
    ///
    /// A program of the administrator's region or below in any status (a
    /// draft too), with its budget and quota use; 404 for another region's.
    #[oai(path = "/staff/programs/:id", method = "get", operation_id = "getProgramForStaff")]
    async fn get_for_staff(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<RecordId>,
    ) -> ApiResult<
        Json<StaffProgramView>,
        { status::BAD_REQUEST | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN },
    > {
        Ok(Json(staff_program_view(
            programs::staff::get(&state, &auth.0, &id.0).await?,
        )))
    }

    /// Create a subsidy program
    ///
    /// For administrators of the program's region. It starts as a draft.
    /// The rules are read as a whole: a criterion or form field that admits
    /// what the amount rule refuses (a certificate level without an amount,
    /// a requested amount above an `up_to` cap, an answer a rule reads that
    /// the form does not ask, required) is 422 `PROGRAM_RULES_CONFLICT`, with
    /// each contradiction's path and reason in `details.fields`.
    #[oai(path = "/staff/programs", method = "post", operation_id = "createProgram")]
    async fn create(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        body: JsonBody<ProgramWrite>,
    ) -> ApiResult<ProgramCreated, { status::BODY | status::UNPROCESSABLE | status::FORBIDDEN | status::SIGNED_IN }>
    {
        let program = programs::create(&state, &context, &auth.0, body.0.into_terms()?).await?;
        Ok(ProgramCreated::Created(Json(program_view(program))))
    }

    /// Update a subsidy program
    ///
    /// Replaces the program's terms as a whole (`expected_version` the one
    /// read; a stale one is 409 `VERSION_CONFLICT`), checked as a whole as on
    /// creation (422 `PROGRAM_RULES_CONFLICT` when they contradict each
    /// other). Applications already made keep the terms they were made under.
    #[oai(path = "/staff/programs/:id", method = "put", operation_id = "updateProgram")]
    async fn update(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<ProgramUpdate>,
    ) -> ApiResult<
        Json<ProgramView>,
        {
            status::BODY
                | status::UNPROCESSABLE
                | status::FORBIDDEN
                | status::NOT_FOUND
                | status::CONFLICT
                | status::SIGNED_IN
        },
    > {
        let expected = body.0.expected_version.get();
        let draft = body.0.program.into_terms()?;
        Ok(Json(program_view(
            programs::update(&state, &context, &auth.0, &id.0, expected, draft).await?,
        )))
    }

    /// Open a program for applications
    ///
    /// Workers can apply from now until it is closed or its `closes_on` day
    /// has passed. `expected_version` is the version read.
    #[oai(path = "/staff/programs/:id/open", method = "post", operation_id = "openProgram")]
    async fn open(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<VersionCheck>,
    ) -> ApiResult<
        Json<ProgramView>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let program = programs::set_status(
            &state,
            &context,
            &auth.0,
            &id.0,
            body.0.expected_version.get(),
            ProgramStatus::Open,
        )
        .await?;
        Ok(Json(program_view(program)))
    }

    /// Close a program to new applications
    ///
    /// Applications already submitted go on being reviewed and paid.
    /// `expected_version` is the version read.
    #[oai(path = "/staff/programs/:id/close", method = "post", operation_id = "closeProgram")]
    async fn close(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<VersionCheck>,
    ) -> ApiResult<
        Json<ProgramView>,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let program = programs::set_status(
            &state,
            &context,
            &auth.0,
            &id.0,
            body.0.expected_version.get(),
            ProgramStatus::Closed,
        )
        .await?;
        Ok(Json(program_view(program)))
    }
}
