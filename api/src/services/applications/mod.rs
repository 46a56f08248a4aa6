//! Subsidy applications: created (idempotently) and edited by workers,
//! reviewed by reviewers of the case's region, paid by finance. Each command
//! loads the case (`read`), checks the caller (`access`), asks the state
//! machine (`status`) and records the change (`case_log`), in one transaction.

mod admission;
pub mod batches;
mod notice;
mod payment;
pub mod read;
pub mod status;

use chrono::Utc;
use entity::application;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseTransaction, SqlErr};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub use self::read::{Applicant, ApplicantInClear, Application, Attachment, Case, TimelineEntry};
pub use self::{
    admission::routing_region,
    notice::events,
    payment::{Payment, disburse, reveal_payee},
};
use self::{
    admission::{admissible, invalid_answers},
    read::Listing,
    status::{Action, ApplicationStatus},
};
use crate::{
    access,
    auth::Principal,
    context::RequestContext,
    domain::RegionCode,
    error::{AppError, AppResult, ErrorCode},
    services::{
        audit::{self, Event},
        case_log::{self, By, Change},
        counters, idempotency,
        programs::{self, Program, rules},
        uploads::{self, CaseFile},
        versioned, workers,
    },
    state::AppState,
};

const NUMBER_PREFIX: &str = "SB";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    pub id: String,
    pub application_no: String,
    pub status: ApplicationStatus,
}

pub struct NewApplication {
    pub program_id: String,
    pub answers: Map<String, Value>,
    pub attachment_ids: Vec<String>,
    pub submit: bool,
}

fn not_found() -> AppError {
    AppError::new(ErrorCode::NotFound)
}

/// One step through the state machine, as someone asked for it.
struct Step<'a> {
    by: By<'a>,
    action: Action,
    /// The version the actor last saw, where a stale view must be refused.
    expected_version: Option<i32>,
    comment: Option<&'a str>,
    /// What the step settles: the amount approved or paid.
    amount_fen: Option<i64>,
}

impl<'a> Step<'a> {
    fn by_worker(worker: &'a Principal, action: Action) -> Step<'a> {
        Step {
            by: By::Worker(worker),
            action,
            expected_version: None,
            comment: None,
            amount_fen: None,
        }
    }

    fn by_staff(staff: &'a Principal, action: Action, expected_version: i32, comment: Option<&'a str>) -> Step<'a> {
        Step {
            by: By::Staff(staff),
            action,
            expected_version: Some(expected_version),
            comment,
            amount_fen: None,
        }
    }

    fn commented(self, comment: &'a str) -> Step<'a> {
        Step {
            comment: Some(comment),
            ..self
        }
    }

    fn settling(self, amount_fen: i64) -> Step<'a> {
        Step {
            amount_fen: Some(amount_fen),
            ..self
        }
    }
}

/// Takes `step` on `case` with `changes` to its row: the state machine and
/// the version decide, `case_log` records. The decision is the one place a
/// case's status changes.
async fn take(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    case: &Case,
    step: Step<'_>,
    mut changes: application::ActiveModel,
) -> AppResult<()> {
    let to = case.status.decide(step.action)?;
    versioned::check(step.expected_version, case.version)?;
    changes.status = Set(to.as_str().to_owned());
    changes.updated_at = Set(Utc::now());
    versioned::update::<application::Entity>(transaction, &case.id, case.version, changes).await?;
    let change = Change {
        action: step.action.as_str(),
        step: None,
        from: Some(case.status.as_str()),
        to: to.as_str(),
        comment: step.comment,
        notice: Some(notice::notice(
            &case.id,
            &case.application_no,
            step.action,
            to,
            step.amount_fen,
        )),
        audit_action: "application.transition",
        audit_details: json!({ "action": step.action.as_str(), "from": case.status.as_str(), "to": to.as_str() }),
    };
    case_log::record(transaction, request, case.reference(), step.by, change).await
}

/// The row changes of a submission: the amount asked and when.
fn submission(amount: i64) -> application::ActiveModel {
    application::ActiveModel {
        requested_amount_fen: Set(Some(amount)),
        submitted_at: Set(Some(Utc::now())),
        ..Default::default()
    }
}

pub async fn create(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    idempotency_key: &str,
    request_hash: String,
    new: NewApplication,
) -> AppResult<Created> {
    let program = admission::program_to_apply_for(state, &new.program_id, &new.answers).await?;
    let facts = workers::facts(state, &worker.subject).await?;
    let region = routing_region(state, &program, &facts);
    idempotency::once(&state.db, worker, idempotency_key, request_hash, async |transaction| {
        let case = insert_draft(transaction, request, worker, &program, region, &new.answers).await?;
        let attached = uploads::attach(
            transaction,
            &worker.subject,
            CaseFile::Application(&case.id),
            &new.attachment_ids,
        )
        .await?;
        let mut status = case.status;
        if new.submit {
            let amount = admissible(state, &program, &worker.subject, &new.answers, &attached).await?;
            let step = Step::by_worker(worker, Action::Submit);
            take(transaction, request, &case, step, submission(amount)).await?;
            status = ApplicationStatus::Submitted;
        }
        Ok(Created {
            id: case.id,
            application_no: case.application_no,
            status,
        })
    })
    .await
}

/// A confirmed 免申即享 offer made an application, in the caller's transaction:
/// `create`'s steps, with the profile's answers and no document (none is asked).
pub async fn create_from_offer(
    state: &AppState,
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    worker: &Principal,
    program: &Program,
    answers: Map<String, Value>,
) -> AppResult<Created> {
    let facts = workers::facts(state, &worker.subject).await?;
    let region = routing_region(state, program, &facts);
    let case = insert_draft(transaction, request, worker, program, region, &answers).await?;
    let amount = admissible(state, program, &worker.subject, &answers, &[]).await?;
    let step = Step::by_worker(worker, Action::Submit);
    take(transaction, request, &case, step, submission(amount)).await?;
    Ok(Created {
        id: case.id,
        application_no: case.application_no,
        status: ApplicationStatus::Submitted,
    })
}

/// A new draft, in its history as created by the worker.
async fn insert_draft(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    worker: &Principal,
    program: &Program,
    region: RegionCode,
    answers: &Map<String, Value>,
) -> AppResult<Case> {
    let now = Utc::now();
    let id = uuid::Uuid::new_v4().to_string();
    let application_no = counters::readable_number(transaction, NUMBER_PREFIX, region.as_str()).await?;
    application::ActiveModel {
        id: Set(id.clone()),
        application_no: Set(application_no.clone()),
        program_id: Set(program.id.clone()),
        worker_id: Set(worker.subject.clone()),
        period: Set(program.terms.period.clone()),
        region_code: Set(region.as_str().to_owned()),
        status: Set(ApplicationStatus::Draft.as_str().to_owned()),
        answers: Set(Value::Object(answers.clone()).to_string()),
        requested_amount_fen: Set(None),
        approved_amount_fen: Set(None),
        disbursed_amount_fen: Set(None),
        disbursement_reference: Set(None),
        payee_account_masked: Set(None),
        payee_bank_name: Set(None),
        version: Set(1),
        submitted_at: Set(None),
        decided_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        anonymised_at: Set(None),
    }
    .insert(transaction)
    .await
    .map_err(|err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::new(ErrorCode::DuplicateApplication),
        _ => err.into(),
    })?;
    let case = Case {
        id,
        application_no,
        worker_id: worker.subject.clone(),
        program_id: program.id.clone(),
        region,
        status: ApplicationStatus::Draft,
        version: 1,
        answers: answers.clone(),
        requested_amount_fen: None,
        approved_amount_fen: None,
    };
    let change = Change {
        action: "create",
        step: None,
        from: None,
        to: ApplicationStatus::Draft.as_str(),
        comment: None,
        notice: None,
        audit_action: "application.create",
        audit_details: json!({ "application_no": case.application_no, "program_id": program.id }),
    };
    case_log::record(transaction, request, case.reference(), By::Worker(worker), change).await?;
    Ok(case)
}

pub async fn list_own(
    state: &AppState,
    worker: &Principal,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Application>, u64)> {
    let mine = Listing {
        worker_id: Some(worker.subject.clone()),
        ..Default::default()
    };
    read::page(&state.db, mine, page, page_size).await
}

/// The worker's own application with its timeline.
pub async fn get_own(state: &AppState, worker: &Principal, id: &str) -> AppResult<(Application, Vec<TimelineEntry>)> {
    read::own_with_timeline(&state.db, &worker.subject, id).await
}

/// Runs `decide` on a case in one write transaction and returns the case as
/// it is afterwards: the frame of every command.
async fn change_case(
    state: &AppState,
    id: &str,
    load: impl AsyncFnOnce(&DatabaseTransaction) -> AppResult<Case>,
    decide: impl AsyncFnOnce(&DatabaseTransaction, Case) -> AppResult<()>,
) -> AppResult<Application> {
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let case = load(&transaction).await?;
    decide(&transaction, case).await?;
    let application = read::application(&transaction, id).await?;
    transaction.commit().await?;
    Ok(application)
}

/// A command of the worker on their own case.
async fn worker_step(
    state: &AppState,
    worker: &Principal,
    id: &str,
    decide: impl AsyncFnOnce(&DatabaseTransaction, Case) -> AppResult<()>,
) -> AppResult<Application> {
    change_case(
        state,
        id,
        async |tx| read::own_case(tx, &worker.subject, id).await,
        decide,
    )
    .await
}

/// Changes answers and documents while the application is a draft or returned.
pub async fn edit(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    id: &str,
    expected_version: i32,
    answers: Map<String, Value>,
    attachment_ids: Vec<String>,
) -> AppResult<Application> {
    worker_step(state, worker, id, async |transaction, case| {
        case.status.require_editable()?;
        versioned::check(Some(expected_version), case.version)?;
        let program = programs::load(transaction, &case.program_id).await?;
        rules::validate_answers(&program.terms.form_fields, &answers, false).map_err(invalid_answers)?;
        let changes = application::ActiveModel {
            answers: Set(Value::Object(answers).to_string()),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        versioned::update::<application::Entity>(transaction, &case.id, case.version, changes).await?;
        uploads::attach(
            transaction,
            &worker.subject,
            CaseFile::Application(&case.id),
            &attachment_ids,
        )
        .await?;
        let change = Change {
            action: "edit",
            step: None,
            from: Some(case.status.as_str()),
            to: case.status.as_str(),
            comment: None,
            notice: None,
            audit_action: "application.edit",
            audit_details: json!({ "attachments": attachment_ids.len() }),
        };
        case_log::record(transaction, request, case.reference(), By::Worker(worker), change).await
    })
    .await
}

/// The worker's own steps on their case: submitting a draft or a returned
/// application (checked in full), or withdrawing it.
pub async fn worker_action(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    id: &str,
    action: Action,
) -> AppResult<Application> {
    access::require_taker(worker, action.taker())?;
    worker_step(state, worker, id, async |transaction, case| {
        let changes = if action == Action::Submit {
            case.status.decide(action)?;
            let program = programs::load(transaction, &case.program_id).await?;
            let attached = uploads::attach(transaction, &worker.subject, CaseFile::Application(&case.id), &[]).await?;
            submission(admissible(state, &program, &worker.subject, &case.answers, &attached).await?)
        } else {
            Default::default()
        };
        take(transaction, request, &case, Step::by_worker(worker, action), changes).await
    })
    .await
}

/// Filters of the review queue.
#[derive(Debug, Default)]
pub struct QueueFilter {
    pub status: Option<ApplicationStatus>,
    pub program_id: Option<String>,
    pub region: Option<RegionCode>,
    /// Only cases waiting at least this many whole days since submission.
    pub min_age_days: Option<u32>,
}

/// Cases in the reviewer's region, oldest submission first.
pub async fn queue(
    state: &AppState,
    staff: &Principal,
    filter: QueueFilter,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<Application>, u64)> {
    access::require_case_worker(staff)?;
    let listing = Listing {
        submitted_only: true,
        regions: access::staff_scope(&state.regions, staff, filter.region)?,
        status: filter.status,
        program_id: filter.program_id,
        submitted_before: filter
            .min_age_days
            .map(|days| Utc::now() - chrono::Duration::days(i64::from(days))),
        ..Default::default()
    };
    read::page(&state.db, listing, page, page_size).await
}

/// A case a reviewer or finance works: in their region, past its draft.
/// Any other is "not found".
async fn case_in_scope(db: &impl ConnectionTrait, state: &AppState, staff: &Principal, id: &str) -> AppResult<Case> {
    access::require_case_worker(staff)?;
    read::case(db, id)
        .await?
        .filter(|case| access::reaches_application(&state.regions, staff, case.region, !case.status.visible_to_staff()))
        .ok_or_else(not_found)
}

/// A case as staff read it.
#[derive(Debug)]
pub struct StaffCase {
    pub application: Application,
    /// Masked.
    pub applicant: Applicant,
    pub timeline: Vec<TimelineEntry>,
    /// The program's criteria checked now against the applicant's profile
    /// and answers, as a submission is checked.
    pub eligibility: Vec<rules::Check>,
}

/// A case for staff, the applicant masked. Reading a case never changes it:
/// a reviewer takes it up with `start_review`.
pub async fn get_for_staff(state: &AppState, staff: &Principal, id: &str) -> AppResult<StaffCase> {
    let case = case_in_scope(&state.db, state, staff, id).await?;
    let applicant = read::applicant_in_clear(&state.db, &state.protector, &case.worker_id).await?;
    let program = programs::load(&state.db, &case.program_id).await?;
    let eligibility = admission::criteria_checks(state, &program, &case.worker_id, &case.answers).await?;
    Ok(StaffCase {
        application: read::application(&state.db, &case.id).await?,
        applicant: applicant.masked(),
        timeline: read::timeline(&state.db, &case.id).await?,
        eligibility,
    })
}

/// The case whose applicant a staff member may see in clear: a reviewer's,
/// in their region, past its draft. The one rule for revealing the applicant
/// and for fetching the documents they attached (the ID-card image).
pub async fn case_for_personal_data(state: &AppState, staff: &Principal, id: &str) -> AppResult<Case> {
    access::require_applicant_reader(staff)?;
    case_in_scope(&state.db, state, staff, id).await
}

/// The applicant's personal data in clear, for a reviewer who must check it;
/// every reveal is audited.
pub async fn reveal(
    state: &AppState,
    request: &RequestContext,
    staff: &Principal,
    id: &str,
    reason: &str,
) -> AppResult<ApplicantInClear> {
    let case = case_for_personal_data(state, staff, id).await?;
    let applicant = read::applicant_in_clear(&state.db, &state.protector, &case.worker_id).await?;
    let details = json!({ "worker_id": case.worker_id });
    let reveal = Event::reveal(staff, ("application", &case.id), case.region, details, reason);
    audit::record(&state.db, Some(request), reveal).await?;
    Ok(applicant)
}

/// A command of a reviewer or finance on a case of their region.
async fn staff_step(
    state: &AppState,
    staff: &Principal,
    id: &str,
    action: Action,
    decide: impl AsyncFnOnce(&DatabaseTransaction, Case) -> AppResult<()>,
) -> AppResult<Application> {
    access::require_taker(staff, action.taker())?;
    change_case(state, id, async |tx| case_in_scope(tx, state, staff, id).await, decide).await
}

/// A reviewer takes a submitted case up, on the version they saw.
pub async fn start_review(
    state: &AppState,
    request: &RequestContext,
    reviewer: &Principal,
    id: &str,
    expected_version: i32,
) -> AppResult<Application> {
    staff_step(state, reviewer, id, Action::StartReview, async |transaction, case| {
        let step = Step::by_staff(reviewer, Action::StartReview, expected_version, None);
        take(transaction, request, &case, step, Default::default()).await
    })
    .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    Return,
}

impl Decision {
    fn action(self) -> Action {
        match self {
            Decision::Approve => Action::Approve,
            Decision::Reject => Action::Reject,
            Decision::Return => Action::Return,
        }
    }
}

/// What a reviewer decides about a case.
#[derive(Debug, Clone)]
pub struct Review {
    pub decision: Decision,
    pub comment: Option<String>,
    /// The version the reviewer saw: of two reviewers deciding at once, one wins.
    pub expected_version: i32,
    /// Defaults to what the program's rule gives; never more.
    pub approved_amount_fen: Option<i64>,
}

/// A reviewer's decision. Reject and return need a comment; approval commits
/// the amount against the program's budget and quota atomically.
pub async fn review(
    state: &AppState,
    request: &RequestContext,
    reviewer: &Principal,
    id: &str,
    review: Review,
) -> AppResult<Application> {
    let action = review.decision.action();
    access::require_taker(reviewer, action.taker())?;
    status::check_comment(action, review.comment.as_deref())?;
    staff_step(state, reviewer, id, action, async |transaction, case| {
        let step = Step::by_staff(reviewer, action, review.expected_version, review.comment.as_deref());
        match review.decision {
            Decision::Return => take(transaction, request, &case, step, Default::default()).await,
            Decision::Reject => take(transaction, request, &case, step, decided(None)).await,
            Decision::Approve => {
                let program = programs::load(transaction, &case.program_id).await?;
                // The amount worked out at submission, in fen, from the answers
                // then valid: the rule is applied once, at submission.
                let entitled = match case.requested_amount_fen {
                    Some(asked) => asked.min(program.terms.amount_rule.ceiling()),
                    None => program.terms.amount_rule.ceiling(),
                };
                let amount = status::approved_amount(review.approved_amount_fen, entitled)?;
                take(
                    transaction,
                    request,
                    &case,
                    step.settling(amount),
                    decided(Some(amount)),
                )
                .await?;
                programs::commit_budget(transaction, &program, amount).await
            }
        }
    })
    .await
}

/// The row changes of a decision: when, and the amount approved if any.
fn decided(approved_amount_fen: Option<i64>) -> application::ActiveModel {
    let mut changes = application::ActiveModel {
        decided_at: Set(Some(Utc::now())),
        ..Default::default()
    };
    if approved_amount_fen.is_some() {
        changes.approved_amount_fen = Set(approved_amount_fen);
    }
    changes
}
