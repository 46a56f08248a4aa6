//! What a submission must pass before an application enters review, and
//! where it is reviewed: the program open, the form complete, every
//! criterion met, every required document attached.

use serde_json::{Map, Value, json};

use crate::{
    domain::RegionCode,
    error::{AppError, AppResult, ErrorCode, Localized},
    services::programs::{self, Program, rules},
    state::AppState,
};

/// The program's criteria checked today against what is known of the
/// applicant (their profile, or what a service window recorded, and the
/// certificate the application carries) and these answers: what a
/// submission must pass, and what a reviewer sees.
pub fn criteria_checks(
    state: &AppState,
    program: &Program,
    facts: &rules::Facts<'_>,
    answers: &Map<String, Value>,
) -> Vec<rules::Check> {
    let facts = rules::Facts {
        answers: Some(answers),
        ..facts.clone()
    };
    rules::evaluate(
        &program.terms.criteria,
        program.terms.region_code,
        &facts,
        &state.regions,
        crate::domain::china_time::today(),
    )
}

/// The answers as the rules read them: with an electronic certificate, its
/// level in place of the typed one; a typed level it contradicts is 400
/// `CERTIFICATE_LEVEL_MISMATCH`, naming both.
pub fn read_answers(
    program: &Program,
    answers: &Map<String, Value>,
    certificate: Option<&rules::CertifiedLevel>,
) -> AppResult<Map<String, Value>> {
    match certificate {
        None => Ok(answers.clone()),
        Some(certified) => {
            rules::with_certified_level(&program.terms.form_fields, answers, certified).map_err(|reason| {
                AppError::new(ErrorCode::CertificateLevelMismatch)
                    .with_message(Localized::new(
                        format!("{reason}请改正证书等级，或不填由电子证照带出。"),
                        "The certificate_level answer contradicts the electronic certificate.",
                    ))
                    .with_details(json!({ "field": format!("answers.{}", rules::answer::CERTIFICATE_LEVEL) }))
            })
        }
    }
}

/// The document kind of a certificate's photograph, which an electronic
/// certificate replaces.
const CERTIFICATE_DOCUMENT: &str = "certificate";

pub fn invalid_answers((field, reason): (String, String)) -> AppError {
    AppError::invalid_field(
        &field,
        Localized::new(reason, format!("{field} is not valid for this program's form.")),
    )
}

/// Where the case is reviewed: where the worker works or lives inside the
/// program's region, else the program's region itself.
pub fn routing_region(state: &AppState, program: &Program, facts: &rules::Facts<'_>) -> RegionCode {
    [facts.work, facts.residence]
        .into_iter()
        .flatten()
        .find(|r| state.regions.covers(program.terms.region_code, *r))
        .unwrap_or(program.terms.region_code)
}

/// The checks a submission must pass: program open, form complete, every
/// criterion met, every required document attached. Returns the amount asked.
pub fn admissible(
    state: &AppState,
    program: &Program,
    facts: &rules::Facts<'_>,
    answers: &Map<String, Value>,
    attached: &[String],
) -> AppResult<i64> {
    let today = crate::domain::china_time::today();
    if !program.accepting(today) {
        return Err(AppError::new(ErrorCode::ProgramClosed));
    }
    rules::validate_answers(&program.terms.form_fields, answers, true).map_err(invalid_answers)?;
    let checks = criteria_checks(state, program, facts, answers);
    if checks.iter().any(|c| !c.passed) {
        let details: Vec<Value> = checks
            .iter()
            .map(|c| json!({ "criterion": c.criterion, "passed": c.passed, "detail": c.detail }))
            .collect();
        return Err(AppError::new(ErrorCode::NotEligible).with_details(json!({ "checks": details })));
    }
    // An electronic certificate stands for the certificate's photograph.
    let referenced = |kind: &str| kind == CERTIFICATE_DOCUMENT && facts.certificate.is_some();
    let missing: Vec<&str> = program
        .terms
        .required_documents
        .iter()
        .filter(|doc| !attached.contains(&doc.kind) && !referenced(&doc.kind))
        .map(|doc| doc.label.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(AppError::new(ErrorCode::DocumentsMissing).with_details(json!({ "missing": missing })));
    }
    program.terms.amount_rule.amount(answers).map_err(|reason| {
        AppError::invalid_field(
            "answers",
            Localized::new(reason, "The amount cannot be worked out from the answers."),
        )
    })
}

/// The program a new application is for: published, taking applications,
/// and the answers so far fitting its form.
pub async fn program_to_apply_for(state: &AppState, id: &str, answers: &Map<String, Value>) -> AppResult<Program> {
    let program = programs::get_public(state, id).await.map_err(|err| {
        if err.code == ErrorCode::NotFound {
            AppError::invalid_field(
                "program_id",
                Localized::fixed("没有这项补贴。", "No program has this id."),
            )
        } else {
            err
        }
    })?;
    if !program.accepting(crate::domain::china_time::today()) {
        return Err(AppError::new(ErrorCode::ProgramClosed));
    }
    rules::validate_answers(&program.terms.form_fields, answers, false).map_err(invalid_answers)?;
    Ok(program)
}
