//! Subsidy applications: created (idempotently) and edited by workers,
//! reviewed by reviewers of the case's region, paid by finance. Each command
//! loads the case (`read`), checks the caller (`access`), asks the state
//! machine (`status`) and records the change (`case_log`), in one transaction.

mod admission;
pub mod batches;
mod notice;
mod payment;
pub mod read;
mod review;
pub mod status;
pub mod window;

use chrono::Utc;
use entity::application;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, SqlErr};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub use self::read::{Applicant, ApplicantInClear, Application, Attachment, Case, TimelineEntry};
pub use self::{
    admission::routing_region,
    notice::events,
    payment::{Payment, disburse, reveal_payee},
    review::{QueueFilter, StaffCase, case_for_personal_data, get_for_staff, queue, reveal},
};
use self::{
    admission::{admissible, invalid_answers},
    read::Listing,
    review::{applicant_facts, case_in_scope},
    status::{Action, ApplicationStatus},
};
use crate::{
    access,
    auth::Principal,
    context::RequestContext,
    domain::RegionCode,
    error::{AppError, AppResult, ErrorCode},
    services::{
        case_log::{self, By, Change},
        certificates, counters, evidence, idempotency,
        programs::{self, Program, rules},
        uploads::{self, CaseFile, Uploader},
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
    /// An electronic certificate of the worker's (`POST /me/certificates`):
    /// its level is read in place of a typed `certificate_level`.
    pub certificate_id: Option<String>,
    pub submit: bool,
}

fn not_found() -> AppError {
    AppError::new(ErrorCode::NotFound)
}

/// The case as its history and the audit log name it.
fn case_log_ref(case: &Case) -> case_log::CaseRef<'_> {
    case.reference()
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
    let certified = certified_level(state, &worker.subject, new.certificate_id.as_deref()).await?;
    let answers = admission::read_answers(&program, &new.answers, certified.as_ref())?;
    let facts = rules::Facts {
        certificate: certified,
        ..workers::facts(state, &worker.subject).await?
    };
    let region = routing_region(state, &program, &facts);
    let id_hashes = match evidence::claimant(&state.db, &state.protector, &worker.subject).await {
        Ok(claimant) => claimant.id_hashes,
        Err(err) if err.code == ErrorCode::ProfileIncomplete => Vec::new(),
        Err(err) => return Err(err),
    };
    idempotency::once(&state.db, worker, idempotency_key, request_hash, async |transaction| {
        window::refuse_waiting_filing(transaction, &program, &id_hashes).await?;
        let draft = Draft {
            by: By::Worker(worker),
            worker_id: Some(&worker.subject),
            program: &program,
            region,
            answers: &answers,
            certificate_id: new.certificate_id.as_deref(),
            action: "create",
            comment: None,
        };
        let case = insert_draft(transaction, request, draft).await?;
        let owner = Uploader::Worker(&worker.subject);
        let attached =
            uploads::attach(transaction, owner, CaseFile::Application(&case.id), &new.attachment_ids).await?;
        let mut status = case.status;
        if new.submit {
            let amount = admissible(state, &program, &facts, &answers, &attached)?;
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
    let draft = Draft {
        by: By::Worker(worker),
        worker_id: Some(&worker.subject),
        program,
        region,
        answers: &answers,
        certificate_id: None,
        action: "create",
        comment: None,
    };
    let case = insert_draft(transaction, request, draft).await?;
    let amount = admissible(state, program, &facts, &answers, &[])?;
    let step = Step::by_worker(worker, Action::Submit);
    take(transaction, request, &case, step, submission(amount)).await?;
    Ok(Created {
        id: case.id,
        application_no: case.application_no,
        status: ApplicationStatus::Submitted,
    })
}

/// The level of the worker's electronic certificate `certificate_id`, if
/// the application carries one (and it is a vocational certificate).
async fn certified_level(
    state: &AppState,
    worker_id: &str,
    certificate_id: Option<&str>,
) -> AppResult<Option<rules::CertifiedLevel>> {
    Ok(match certificate_id {
        Some(id) => certificates::for_application(&state.db, &state.protector, worker_id, id)
            .await?
            .certified_level(),
        None => None,
    })
}

/// What the rules know of a worker's case now, with its certificate.
async fn case_facts(state: &AppState, case: &Case) -> AppResult<rules::Facts<'static>> {
    let certificate = match (&case.worker_id, &case.certificate_id) {
        (Some(worker_id), Some(_)) => certified_level(state, worker_id, case.certificate_id.as_deref()).await?,
        _ => None,
    };
    Ok(rules::Facts {
        certificate,
        ..applicant_facts(state, case).await?
    })
}

/// A new draft: by whom, for whom, and how its history names its creation.
struct Draft<'a> {
    by: By<'a>,
    /// None for a case a service window filed, until the worker joins it.
    worker_id: Option<&'a str>,
    program: &'a Program,
    region: RegionCode,
    answers: &'a Map<String, Value>,
    certificate_id: Option<&'a str>,
    /// `create`, or `window_filed`.
    action: &'static str,
    comment: Option<&'a str>,
}

/// A new draft, in its history as created by whoever made it.
async fn insert_draft(
    transaction: &DatabaseTransaction,
    request: &RequestContext,
    draft: Draft<'_>,
) -> AppResult<Case> {
    let now = Utc::now();
    let id = uuid::Uuid::new_v4().to_string();
    let (program, region) = (draft.program, draft.region);
    let application_no = counters::readable_number(transaction, NUMBER_PREFIX, region.as_str()).await?;
    application::ActiveModel {
        id: Set(id.clone()),
        application_no: Set(application_no.clone()),
        program_id: Set(program.id.clone()),
        worker_id: Set(draft.worker_id.map(str::to_owned)),
        period: Set(program.terms.period.clone()),
        region_code: Set(region.as_str().to_owned()),
        status: Set(ApplicationStatus::Draft.as_str().to_owned()),
        answers: Set(Value::Object(draft.answers.clone()).to_string()),
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
        certificate_id: Set(draft.certificate_id.map(str::to_owned)),
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
        worker_id: draft.worker_id.map(str::to_owned),
        program_id: program.id.clone(),
        region,
        status: ApplicationStatus::Draft,
        version: 1,
        answers: draft.answers.clone(),
        requested_amount_fen: None,
        approved_amount_fen: None,
        certificate_id: draft.certificate_id.map(str::to_owned),
    };
    let change = Change {
        action: draft.action,
        step: None,
        from: None,
        to: ApplicationStatus::Draft.as_str(),
        comment: draft.comment,
        notice: None,
        audit_action: "application.create",
        audit_details: json!({ "application_no": case.application_no, "program_id": program.id, "by": draft.action }),
    };
    case_log::record(transaction, request, case.reference(), draft.by, change).await?;
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

/// What a worker changes of a draft or returned application: the answers,
/// the documents added, and the certificate it carries (none removes it).
pub struct ApplicationEdit {
    pub expected_version: i32,
    pub answers: Map<String, Value>,
    pub attachment_ids: Vec<String>,
    pub certificate_id: Option<String>,
}

/// Changes answers and documents while the application is a draft or returned.
pub async fn edit(
    state: &AppState,
    request: &RequestContext,
    worker: &Principal,
    id: &str,
    edit: ApplicationEdit,
) -> AppResult<Application> {
    let certified = certified_level(state, &worker.subject, edit.certificate_id.as_deref()).await?;
    let attachment_ids = edit.attachment_ids;
    worker_step(state, worker, id, async |transaction, case| {
        case.status.require_editable()?;
        versioned::check(Some(edit.expected_version), case.version)?;
        let program = programs::load(transaction, &case.program_id).await?;
        rules::validate_answers(&program.terms.form_fields, &edit.answers, false).map_err(invalid_answers)?;
        let answers = admission::read_answers(&program, &edit.answers, certified.as_ref())?;
        let changes = application::ActiveModel {
            answers: Set(Value::Object(answers).to_string()),
            certificate_id: Set(edit.certificate_id.clone()),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        versioned::update::<application::Entity>(transaction, &case.id, case.version, changes).await?;
        let owner = Uploader::Worker(&worker.subject);
        uploads::attach(transaction, owner, CaseFile::Application(&case.id), &attachment_ids).await?;
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
            let owner = Uploader::Worker(&worker.subject);
            let attached = uploads::attach(transaction, owner, CaseFile::Application(&case.id), &[]).await?;
            let facts = case_facts(state, &case).await?;
            let answers = admission::read_answers(&program, &case.answers, facts.certificate.as_ref())?;
            submission(admissible(state, &program, &facts, &answers, &attached)?)
        } else {
            Default::default()
        };
        take(transaction, request, &case, Step::by_worker(worker, action), changes).await
    })
    .await
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
