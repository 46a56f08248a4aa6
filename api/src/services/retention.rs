//! The retention policy: a closed case keeps its personal data for the
//! retention period after its last change, then loses it; the case itself,
//! its status, amounts and region stay, so the statistics do not change.
//! Audit rows older than the period are deleted, never younger than 180
//! days (the database's triggers refuse that too). Idempotency keys are
//! forgotten after `idempotency::KEPT_FOR`.
//!
//! Each case is anonymised in a transaction of its own and marked with
//! `anonymised_at`, so a run that stops part-way loses nothing and the next
//! run carries on where it stopped.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{
    application, application_event, audit_log, si_transfer, si_transfer_change, si_transfer_step, upload, wage_report,
    wage_report_event,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, sea_query::Expr,
};
use serde::Serialize;
use serde_json::json;

use crate::{
    error::{AppError, AppResult},
    infra::{db::begin_write, files::FileStore},
    services::{
        applications::status::ApplicationStatus, audit, idempotency, transfers::status::TransferStatus,
        wage_reports::ReportStatus,
    },
};

/// What replaces free text a worker wrote.
pub const ANONYMISED: &str = "（已按保存期限删除）";

/// Applications that can no longer change; a draft untouched for the whole
/// period is abandoned and goes too.
const CLOSED_APPLICATIONS: [ApplicationStatus; 4] = [
    ApplicationStatus::Rejected,
    ApplicationStatus::Withdrawn,
    ApplicationStatus::Disbursed,
    ApplicationStatus::Draft,
];

const BATCH: u64 = 200;

/// What a run found (dry run) or did (apply).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub applied: bool,
    /// Cases whose last change is before this instant are past retention.
    pub cutoff: DateTime<Utc>,
    pub applications: u64,
    pub wage_reports: u64,
    pub si_transfers: u64,
    /// Documents of those cases.
    pub uploads: u64,
    pub audit_rows: u64,
    /// Idempotency keys past `idempotency::KEPT_FOR` (not the retention period).
    pub idempotency_keys: u64,
}

/// Closed cases that still hold personal data.
fn closed_applications() -> sea_orm::Select<application::Entity> {
    application::Entity::find()
        .filter(application::Column::Status.is_in(CLOSED_APPLICATIONS.map(ApplicationStatus::as_str)))
        .filter(application::Column::AnonymisedAt.is_null())
}

fn closed_reports() -> sea_orm::Select<wage_report::Entity> {
    wage_report::Entity::find()
        .filter(wage_report::Column::Status.is_in(ReportStatus::finished().map(ReportStatus::as_str)))
        .filter(wage_report::Column::AnonymisedAt.is_null())
}

fn closed_transfers() -> sea_orm::Select<si_transfer::Entity> {
    si_transfer::Entity::find()
        .filter(si_transfer::Column::Status.ne(TransferStatus::InProgress.as_str()))
        .filter(si_transfer::Column::AnonymisedAt.is_null())
}

fn past_applications(cutoff: DateTime<Utc>) -> sea_orm::Select<application::Entity> {
    closed_applications().filter(application::Column::UpdatedAt.lt(cutoff))
}

fn past_reports(cutoff: DateTime<Utc>) -> sea_orm::Select<wage_report::Entity> {
    closed_reports().filter(wage_report::Column::UpdatedAt.lt(cutoff))
}

fn past_transfers(cutoff: DateTime<Utc>) -> sea_orm::Select<si_transfer::Entity> {
    closed_transfers().filter(si_transfer::Column::UpdatedAt.lt(cutoff))
}

/// The next batch of the cases `cases` finds, or `None` when none is left:
/// an anonymised case no longer matches, so each batch is new.
async fn next_batch<E: EntityTrait>(
    db: &DatabaseConnection,
    cases: sea_orm::Select<E>,
    id: E::Column,
) -> AppResult<Option<Vec<String>>> {
    let batch: Vec<String> = cases.select_only().column(id).limit(BATCH).into_tuple().all(db).await?;
    Ok((!batch.is_empty()).then_some(batch))
}

/// Anonymises every case the three queries find, a batch at a time, and
/// counts in `summary` the cases anonymised and their documents removed.
async fn anonymise_cases(
    db: &DatabaseConnection,
    files: &dyn FileStore,
    now: DateTime<Utc>,
    applications: sea_orm::Select<application::Entity>,
    reports: sea_orm::Select<wage_report::Entity>,
    transfers: sea_orm::Select<si_transfer::Entity>,
    summary: &mut Summary,
) -> AppResult<()> {
    while let Some(batch) = next_batch(db, applications.clone(), application::Column::Id).await? {
        for id in batch {
            if let Some(keys) = anonymise_application(db, &id, now).await? {
                summary.applications += 1;
                summary.uploads += remove_files(files, keys).await;
            }
        }
    }
    while let Some(batch) = next_batch(db, reports.clone(), wage_report::Column::Id).await? {
        for id in batch {
            if let Some(keys) = anonymise_report(db, &id, now).await? {
                summary.wage_reports += 1;
                summary.uploads += remove_files(files, keys).await;
            }
        }
    }
    while let Some(batch) = next_batch(db, transfers.clone(), si_transfer::Column::Id).await? {
        for id in batch {
            if anonymise_transfer(db, &id, now).await? {
                summary.si_transfers += 1;
            }
        }
    }
    Ok(())
}

/// Counts what is past retention; with `apply`, removes it.
pub async fn purge(
    db: &DatabaseConnection,
    files: &dyn FileStore,
    retention: Duration,
    apply: bool,
) -> AppResult<Summary> {
    let now = Utc::now();
    let cutoff = now - chrono::Duration::from_std(retention).map_err(AppError::internal)?;
    if !apply {
        return count(db, cutoff, now).await;
    }
    let mut summary = Summary {
        applied: true,
        cutoff,
        ..Summary::default()
    };
    anonymise_cases(
        db,
        files,
        now,
        past_applications(cutoff),
        past_reports(cutoff),
        past_transfers(cutoff),
        &mut summary,
    )
    .await?;
    summary.audit_rows = audit_log::Entity::delete_many()
        .filter(audit_log::Column::At.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected;
    summary.idempotency_keys = idempotency::forget_expired(db, now, true).await?;
    audit::record_system_run(db, "retention.purge", json!(summary)).await?;
    Ok(summary)
}

/// What closing an account removes at once: the personal data of the
/// worker's closed cases, as the retention period would later, and their
/// documents. Open cases keep theirs until they close and their retention
/// period ends, because the offices must still finish them.
pub async fn forget_closed_cases_of(
    db: &DatabaseConnection,
    files: &dyn FileStore,
    worker_id: &str,
) -> AppResult<Summary> {
    let now = Utc::now();
    let mut summary = Summary {
        applied: true,
        cutoff: now,
        ..Summary::default()
    };
    anonymise_cases(
        db,
        files,
        now,
        closed_applications().filter(application::Column::WorkerId.eq(worker_id)),
        closed_reports().filter(wage_report::Column::WorkerId.eq(worker_id)),
        closed_transfers().filter(si_transfer::Column::WorkerId.eq(worker_id)),
        &mut summary,
    )
    .await?;
    Ok(summary)
}

async fn count(db: &DatabaseConnection, cutoff: DateTime<Utc>, now: DateTime<Utc>) -> AppResult<Summary> {
    let application_ids = past_applications(cutoff).select_only().column(application::Column::Id);
    let report_ids = past_reports(cutoff).select_only().column(wage_report::Column::Id);
    let uploads = upload::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(upload::Column::ApplicationId.in_subquery(sea_orm::QueryTrait::into_query(application_ids)))
                .add(upload::Column::WageReportId.in_subquery(sea_orm::QueryTrait::into_query(report_ids))),
        )
        .count(db)
        .await?;
    Ok(Summary {
        applied: false,
        cutoff,
        applications: past_applications(cutoff).count(db).await?,
        wage_reports: past_reports(cutoff).count(db).await?,
        si_transfers: past_transfers(cutoff).count(db).await?,
        uploads,
        audit_rows: audit_log::Entity::find()
            .filter(audit_log::Column::At.lt(cutoff))
            .count(db)
            .await?,
        idempotency_keys: idempotency::forget_expired(db, now, false).await?,
    })
}

/// Clears the answers and the staff comments, and takes the documents out;
/// returns the storage keys to delete once the transaction is committed, or
/// `None` when another run got there first.
async fn anonymise_application(
    db: &DatabaseConnection,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<Vec<String>>> {
    let transaction = begin_write(db).await?;
    let marked = application::Entity::update_many()
        .col_expr(application::Column::Answers, Expr::value("{}"))
        .col_expr(application::Column::AnonymisedAt, Expr::value(now))
        .filter(application::Column::Id.eq(id))
        .filter(application::Column::AnonymisedAt.is_null())
        .exec(&transaction)
        .await?;
    if marked.rows_affected == 0 {
        return Ok(None);
    }
    application_event::Entity::update_many()
        .col_expr(application_event::Column::Comment, Expr::value(Option::<String>::None))
        .filter(application_event::Column::ApplicationId.eq(id))
        .exec(&transaction)
        .await?;
    let keys = detach_uploads(&transaction, upload::Column::ApplicationId, id).await?;
    // The person a service window recorded, if the case was filed there.
    crate::services::applications::window::forget(&transaction, id).await?;
    transaction.commit().await?;
    Ok(Some(keys))
}

async fn anonymise_report(db: &DatabaseConnection, id: &str, now: DateTime<Utc>) -> AppResult<Option<Vec<String>>> {
    let transaction = begin_write(db).await?;
    let marked = wage_report::Entity::update_many()
        .col_expr(wage_report::Column::Description, Expr::value(ANONYMISED))
        .col_expr(
            wage_report::Column::ContactPhoneCipher,
            Expr::value(Option::<String>::None),
        )
        .col_expr(wage_report::Column::AnonymisedAt, Expr::value(now))
        .filter(wage_report::Column::Id.eq(id))
        .filter(wage_report::Column::AnonymisedAt.is_null())
        .exec(&transaction)
        .await?;
    if marked.rows_affected == 0 {
        return Ok(None);
    }
    wage_report_event::Entity::update_many()
        .col_expr(wage_report_event::Column::Comment, Expr::value(Option::<String>::None))
        .filter(wage_report_event::Column::ReportId.eq(id))
        .exec(&transaction)
        .await?;
    let keys = detach_uploads(&transaction, upload::Column::WageReportId, id).await?;
    transaction.commit().await?;
    Ok(Some(keys))
}

/// The ID-number hash is what ties a transfer to a person: a random value
/// takes its place, so it matches nobody; the phone the agency recorded
/// goes, and so does the free text of its steps and history (reasons,
/// materials asked for, the person's answers). False when another run got
/// there first.
async fn anonymise_transfer(db: &DatabaseConnection, id: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let transaction = begin_write(db).await?;
    let random_hash = hex::encode(rand::random::<[u8; 32]>());
    let unlinked = si_transfer::Entity::update_many()
        .col_expr(si_transfer::Column::IdNumberHash, Expr::value(random_hash))
        .col_expr(si_transfer::Column::PhoneCipher, Expr::value(Option::<String>::None))
        .col_expr(si_transfer::Column::PhoneHash, Expr::value(Option::<String>::None))
        .col_expr(si_transfer::Column::AnonymisedAt, Expr::value(now))
        .filter(si_transfer::Column::Id.eq(id))
        .filter(si_transfer::Column::AnonymisedAt.is_null())
        .exec(&transaction)
        .await?;
    if unlinked.rows_affected == 0 {
        return Ok(false);
    }
    si_transfer_step::Entity::update_many()
        .col_expr(si_transfer_step::Column::Note, Expr::value(Option::<String>::None))
        .col_expr(si_transfer_step::Column::Answer, Expr::value(Option::<String>::None))
        .filter(si_transfer_step::Column::TransferId.eq(id))
        .exec(&transaction)
        .await?;
    si_transfer_change::Entity::update_many()
        .col_expr(si_transfer_change::Column::Note, Expr::value(Option::<String>::None))
        .filter(si_transfer_change::Column::TransferId.eq(id))
        .exec(&transaction)
        .await?;
    transaction.commit().await?;
    Ok(true)
}

async fn detach_uploads(
    transaction: &sea_orm::DatabaseTransaction,
    owner: upload::Column,
    id: &str,
) -> AppResult<Vec<String>> {
    let keys: Vec<String> = upload::Entity::find()
        .select_only()
        .column(upload::Column::StorageKey)
        .filter(owner.eq(id))
        .into_tuple()
        .all(transaction)
        .await?;
    upload::Entity::delete_many()
        .filter(owner.eq(id))
        .exec(transaction)
        .await?;
    Ok(keys)
}

/// Deletes the files of committed removals. A file that cannot be deleted is
/// logged and left: no row points at it any more.
pub async fn remove_files(files: &dyn FileStore, keys: Vec<String>) -> u64 {
    let mut removed = 0;
    for key in keys {
        match files.delete(&key).await {
            Ok(()) => removed += 1,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => removed += 1,
            Err(err) => tracing::warn!(error = %err, "a document past retention could not be deleted"),
        }
    }
    removed
}
