//! Finding a program's people, set-based: the consenting workers of the
//! program's regions are read a chunk at a time (one query each, keyed on
//! the worker's id), judged in memory by the program's rules, and what was
//! found is written a chunk at a time (a few statements each, never one a
//! worker). Re-running is harmless: a match or offer exists once per worker
//! and program. Also one worker against the open programs of their regions,
//! when their profile changes.

use std::collections::HashSet;

use chrono::Utc;
use entity::{application, program, program_match, recommendation_consent, worker};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, sea_query::OnConflict,
};

use super::{RECOMMENDATION_CONSENT_VERSION, notice, offers};
use crate::{
    domain::RegionCode,
    error::{AppError, AppResult, ErrorCode},
    services::{
        applications::{self, status::ApplicationStatus},
        notifications,
        programs::{
            self, Program, ProgramStatus,
            rules::{self, Check, Facts, ProfileAnswers},
        },
        workers,
    },
    state::AppState,
};

/// Workers read, judged and written at a time.
const CHUNK: u64 = 2000;
/// A worker is told of new matches at most this often.
const NOTICE_EVERY: chrono::Duration = chrono::Duration::days(7);

/// What the rules say of a worker and a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A criterion fails on what is known.
    Fails,
    /// None fails; some are not known yet (asked in the form, or missing
    /// from the profile).
    MayQualify,
    /// Every criterion passes on the profile alone.
    Qualifies,
}

pub fn verdict(checks: &[Check]) -> Verdict {
    if checks.iter().any(|c| !c.passed && !c.pending && !c.missing) {
        Verdict::Fails
    } else if checks.iter().all(|c| c.passed) {
        Verdict::Qualifies
    } else {
        Verdict::MayQualify
    }
}

/// The program's criteria applied today to what the profile says.
pub fn checks(state: &AppState, program: &Program, facts: &Facts<'_>) -> Vec<Check> {
    rules::evaluate(
        &program.terms.criteria,
        program.terms.region_code,
        facts,
        &state.regions,
        crate::domain::china_time::today(),
    )
}

pub async fn worker_row(db: &impl ConnectionTrait, worker_id: &str) -> AppResult<worker::Model> {
    worker::Entity::find_by_id(worker_id.to_owned())
        .one(db)
        .await?
        .filter(|row| row.closed_at.is_none())
        .ok_or_else(|| AppError::new(ErrorCode::SessionEnded))
}

/// The programs taking applications today that apply where the worker
/// lives or works (the region's own, its city's, province's and national).
pub async fn open_programs_for(state: &AppState, facts: &Facts<'_>) -> AppResult<Vec<Program>> {
    let places: Vec<RegionCode> = [facts.residence, facts.work].into_iter().flatten().collect();
    if places.is_empty() {
        return Ok(Vec::new());
    }
    let today = crate::domain::china_time::today();
    let rows = program::Entity::find()
        .filter(program::Column::Status.eq(ProgramStatus::Open.as_str()))
        .filter(program::Column::RegionCode.is_in(state.regions.covering(&places)))
        .order_by_asc(program::Column::Name)
        .all(&state.db)
        .await?;
    let open = rows.into_iter().map(programs::decode).collect::<AppResult<Vec<_>>>()?;
    Ok(open.into_iter().filter(|p| p.accepting(today)).collect())
}

/// The applications that hold a worker's place in a program and period.
fn live_applications() -> Condition {
    let ended = [ApplicationStatus::Withdrawn, ApplicationStatus::Rejected].map(ApplicationStatus::as_str);
    Condition::all().add(application::Column::Status.is_not_in(ended))
}

/// (program, period) of the worker's live applications: nothing to recommend there.
pub async fn applied_programs(db: &impl ConnectionTrait, worker_id: &str) -> AppResult<HashSet<(String, String)>> {
    let rows: Vec<(String, String)> = application::Entity::find()
        .select_only()
        .columns([application::Column::ProgramId, application::Column::Period])
        .filter(application::Column::WorkerId.eq(worker_id))
        .filter(live_applications())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// What the profile answers of a 免申即享 form, as a reviewer reads it.
pub fn profile_answers(state: &AppState, row: &worker::Model) -> ProfileAnswers {
    let place = |code: &Option<String>| code.as_deref().map(|c| state.regions.full_name(c));
    ProfileAnswers {
        real_name: row.real_name.clone(),
        hukou_type: row.hukou_type.clone(),
        hukou_region_code: place(&row.hukou_region_code),
        residence_region_code: place(&row.residence_region_code),
        work_region_code: place(&row.work_region_code),
    }
}

/// Whether a worker who qualifies for an `auto_offer` program is offered
/// it: the profile must answer every required question of its form.
fn offerable(state: &AppState, program: &Program, row: &worker::Model) -> bool {
    let answers = rules::prefill(&program.terms.form_fields, &profile_answers(state, row));
    rules::validate_answers(&program.terms.form_fields, &answers, true).is_ok()
}

/// What matching a program found, and did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub evaluated: i64,
    pub matched: i64,
    pub offered: i64,
    pub notified: i64,
}

/// Matches every consenting worker of the program's regions against it;
/// nothing when it takes no applications today.
pub async fn match_program(state: &AppState, program_id: &str) -> AppResult<Counts> {
    let program = programs::load(&state.db, program_id).await?;
    let mut counts = Counts::default();
    if !program.accepting(crate::domain::china_time::today()) {
        return Ok(counts);
    }
    let region = program.terms.region_code;
    let codes: Option<Vec<String>> = (!region.is_national()).then(|| {
        let below = state
            .regions
            .descendants(region)
            .into_iter()
            .map(|r| r.code.as_str().to_owned());
        std::iter::once(region.as_str().to_owned()).chain(below).collect()
    });
    let applied: HashSet<String> = application::Entity::find()
        .select_only()
        .column(application::Column::WorkerId)
        .filter(application::Column::ProgramId.eq(&program.id))
        .filter(application::Column::Period.eq(&program.terms.period))
        .filter(live_applications())
        .into_tuple::<String>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let mut after: Option<String> = None;
    loop {
        let rows = consenting_workers(state, codes.as_deref(), after.as_deref()).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id.clone());
        let read = rows.len() as u64;
        let mut found = Found::default();
        for row in rows.iter().filter(|row| !applied.contains(&row.id)) {
            let facts = workers::facts_of(&state.protector, row);
            match verdict(&checks(state, &program, &facts)) {
                Verdict::Fails => found.unqualified.push(row.id.clone()),
                Verdict::MayQualify => {
                    found.matched.push(row.id.clone());
                    found.unqualified.push(row.id.clone());
                }
                Verdict::Qualifies => {
                    found.matched.push(row.id.clone());
                    if program.terms.auto_offer && offerable(state, &program, row) {
                        let at = applications::routing_region(state, &program, &facts);
                        found.offers.push((row.id.clone(), at));
                    } else {
                        found.unqualified.push(row.id.clone());
                    }
                }
            }
        }
        counts.evaluated += read as i64;
        let transaction = crate::infra::db::begin_write(&state.db).await?;
        let written = write_chunk(&transaction, &program, found).await?;
        transaction.commit().await?;
        counts.matched += written.matched;
        counts.offered += written.offered;
        counts.notified += written.notified;
        if read < CHUNK {
            break;
        }
    }
    Ok(counts)
}

/// One chunk of the consenting, open accounts living or working in `codes`
/// (everywhere when `None`), by id after `after`.
async fn consenting_workers(
    state: &AppState,
    codes: Option<&[String]>,
    after: Option<&str>,
) -> AppResult<Vec<worker::Model>> {
    let mut query = worker::Entity::find()
        .join_rev(JoinType::InnerJoin, recommendation_consent::Relation::Worker.def())
        .filter(recommendation_consent::Column::ConsentVersion.eq(RECOMMENDATION_CONSENT_VERSION))
        .filter(worker::Column::ClosedAt.is_null())
        .order_by_asc(worker::Column::Id)
        .limit(CHUNK);
    if let Some(codes) = codes {
        query = query.filter(
            Condition::any()
                .add(worker::Column::ResidenceRegionCode.is_in(codes.iter().cloned()))
                .add(worker::Column::WorkRegionCode.is_in(codes.iter().cloned())),
        );
    }
    if let Some(after) = after {
        query = query.filter(worker::Column::Id.gt(after));
    }
    Ok(query.all(&state.db).await?)
}

/// What one chunk of a program's matching found.
#[derive(Debug, Default)]
struct Found {
    /// Workers no criterion fails for.
    matched: Vec<String>,
    /// Workers to offer it to, with the region that confirms the offer.
    offers: Vec<(String, RegionCode)>,
    /// Workers read who are not offered it: an open offer of theirs goes.
    unqualified: Vec<String>,
}

/// Writes a chunk: the new matches, the new offers (and the withdrawal of
/// those no longer earned), and the notices of the new matches.
async fn write_chunk(transaction: &DatabaseTransaction, program: &Program, found: Found) -> AppResult<Counts> {
    let known: HashSet<String> = program_match::Entity::find()
        .select_only()
        .column(program_match::Column::WorkerId)
        .filter(program_match::Column::ProgramId.eq(&program.id))
        .filter(program_match::Column::WorkerId.is_in(found.matched.iter().cloned()))
        .into_tuple::<String>()
        .all(transaction)
        .await?
        .into_iter()
        .collect();
    let new: Vec<String> = found.matched.into_iter().filter(|id| !known.contains(id)).collect();
    let pairs: Vec<(String, String)> = new.iter().map(|w| (w.clone(), program.id.clone())).collect();
    insert_matches(transaction, &pairs).await?;
    let mut counts = Counts {
        matched: new.len() as i64,
        ..Default::default()
    };
    if program.terms.auto_offer {
        counts.offered = offers::propose(transaction, program, &found.offers).await?;
        offers::withdraw_for_program(transaction, &program.id, &found.unqualified).await?;
    }
    let news: Vec<(String, &Program)> = new.into_iter().map(|w| (w, program)).collect();
    counts.notified = tell(transaction, &news).await?;
    Ok(counts)
}

async fn insert_matches(transaction: &DatabaseTransaction, pairs: &[(String, String)]) -> AppResult<()> {
    let now = Utc::now();
    for chunk in pairs.chunks(CHUNK as usize) {
        let rows = chunk.iter().map(|(worker_id, program_id)| program_match::ActiveModel {
            worker_id: sea_orm::ActiveValue::Set(worker_id.clone()),
            program_id: sea_orm::ActiveValue::Set(program_id.clone()),
            matched_at: sea_orm::ActiveValue::Set(now),
            notified_at: sea_orm::ActiveValue::Set(None),
        });
        program_match::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([program_match::Column::WorkerId, program_match::Column::ProgramId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(transaction)
            .await?;
    }
    Ok(())
}

/// Tells each worker of their new match, unless they were told of one in
/// the last week (one conditional update decides, whoever matches them at
/// the same moment). Their untold matches count as told with it: the
/// notice leads to the list of all of them. Returns how many were told.
async fn tell(transaction: &DatabaseTransaction, news: &[(String, &Program)]) -> AppResult<i64> {
    if news.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    let told: HashSet<String> = recommendation_consent::Entity::update_many()
        .set(recommendation_consent::ActiveModel {
            last_notified_at: sea_orm::ActiveValue::Set(Some(now)),
            ..Default::default()
        })
        .filter(recommendation_consent::Column::WorkerId.is_in(news.iter().map(|(w, _)| w.clone())))
        .filter(recommendation_consent::Column::ConsentVersion.eq(RECOMMENDATION_CONSENT_VERSION))
        .filter(
            Condition::any()
                .add(recommendation_consent::Column::LastNotifiedAt.is_null())
                .add(recommendation_consent::Column::LastNotifiedAt.lt(now - NOTICE_EVERY)),
        )
        .exec_with_returning(transaction)
        .await?
        .into_iter()
        .map(|row| row.worker_id)
        .collect();
    let mut messages = Vec::with_capacity(told.len());
    let mut seen = HashSet::new();
    for (worker_id, program) in news {
        if told.contains(worker_id) && seen.insert(worker_id.as_str()) {
            messages.push((worker_id.clone(), notice::found(program)));
        }
    }
    if messages.is_empty() {
        return Ok(0);
    }
    notifications::enqueue_many(transaction, notice::MATCH_EVENT, &messages).await?;
    program_match::Entity::update_many()
        .set(program_match::ActiveModel {
            notified_at: sea_orm::ActiveValue::Set(Some(now)),
            ..Default::default()
        })
        .filter(program_match::Column::WorkerId.is_in(told))
        .filter(program_match::Column::NotifiedAt.is_null())
        .exec(transaction)
        .await?;
    Ok(messages.len() as i64)
}

/// Matches one consenting worker against the open programs of their
/// regions, in the caller's transaction: new matches recorded (and told
/// when `tell_new`), matches and open offers they no longer earn removed.
pub async fn rematch_worker(
    state: &AppState,
    transaction: &DatabaseTransaction,
    worker_id: &str,
    tell_new: bool,
) -> AppResult<()> {
    let consented = recommendation_consent::Entity::find_by_id(worker_id.to_owned())
        .one(transaction)
        .await?
        .is_some_and(|c| c.consent_version.as_deref() == Some(RECOMMENDATION_CONSENT_VERSION));
    if !consented {
        return Ok(());
    }
    let row = worker_row(transaction, worker_id).await?;
    let facts = workers::facts_of(&state.protector, &row);
    let applied = applied_programs(transaction, worker_id).await?;
    let mut matched: Vec<Program> = Vec::new();
    let mut offered: Vec<String> = Vec::new();
    for program in open_programs_for(state, &facts).await? {
        if applied.contains(&(program.id.clone(), program.terms.period.clone())) {
            continue;
        }
        let judged = verdict(&checks(state, &program, &facts));
        if judged == Verdict::Fails {
            continue;
        }
        if judged == Verdict::Qualifies && program.terms.auto_offer && offerable(state, &program, &row) {
            let at = applications::routing_region(state, &program, &facts);
            offers::propose(transaction, &program, &[(worker_id.to_owned(), at)]).await?;
            offered.push(program.id.clone());
        }
        matched.push(program);
    }
    offers::withdraw_for_worker(transaction, worker_id, &offered).await?;
    let matched_ids: Vec<String> = matched.iter().map(|p| p.id.clone()).collect();
    program_match::Entity::delete_many()
        .filter(program_match::Column::WorkerId.eq(worker_id))
        .filter(program_match::Column::ProgramId.is_not_in(matched_ids.iter().cloned()))
        .exec(transaction)
        .await?;
    let known: HashSet<String> = program_match::Entity::find()
        .select_only()
        .column(program_match::Column::ProgramId)
        .filter(program_match::Column::WorkerId.eq(worker_id))
        .into_tuple::<String>()
        .all(transaction)
        .await?
        .into_iter()
        .collect();
    let new: Vec<&Program> = matched.iter().filter(|p| !known.contains(&p.id)).collect();
    let pairs: Vec<(String, String)> = new.iter().map(|p| (worker_id.to_owned(), p.id.clone())).collect();
    insert_matches(transaction, &pairs).await?;
    if tell_new && let Some(first) = new.first() {
        tell(transaction, &[(worker_id.to_owned(), *first)]).await?;
    } else if !tell_new {
        // Found while the worker looks at the list: nothing to tell them.
        program_match::Entity::update_many()
            .set(program_match::ActiveModel {
                notified_at: sea_orm::ActiveValue::Set(Some(Utc::now())),
                ..Default::default()
            })
            .filter(program_match::Column::WorkerId.eq(worker_id))
            .filter(program_match::Column::NotifiedAt.is_null())
            .exec(transaction)
            .await?;
    }
    Ok(())
}
