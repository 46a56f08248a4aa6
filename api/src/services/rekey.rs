//! `shiminhua rekey`: brings everything encrypted or hashed at rest under the
//! active keys, so that an old key (a leaked one) can then be removed from the
//! configuration. Ciphertexts in the old format or under an older data key are
//! re-encrypted, bound to their row; files stored in clear or under an older
//! key are encrypted; lookup hashes are recomputed under the active lookup key.
//!
//! Rows are visited in batches in id order, each batch in a transaction of its
//! own, and each row is rewritten only if it still holds what was read, so a
//! run that stops part-way, or races a worker changing their profile, loses
//! nothing: the next run finds only what is left to do.
//!
//! An agency case nobody has claimed keeps the ID-number hash it was opened
//! with (the number itself is not stored with it): it stays findable while its
//! lookup key is listed, and is counted in `transfer_hashes_kept`.

use entity::{integrator_client, si_transfer, upload, wage_report, window_filing, worker};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, SimpleExpr},
};
use serde::Serialize;
use serde_json::json;

use crate::{
    error::{AppError, AppResult},
    infra::{
        crypto::{DataProtector, Field, Purpose},
        db::begin_write,
        files::FileStore,
    },
    services::audit,
};

const BATCH: u64 = 200;

/// What a run found to do (dry run) or did (apply), in rows or files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub applied: bool,
    /// Workers whose ID or phone number, or their hashes, were not current.
    pub workers: u64,
    pub wage_reports: u64,
    pub integrator_clients: u64,
    /// Claimed transfer cases whose ID-number hash was not current.
    pub si_transfers: u64,
    /// Cases filed at a service window whose recorded ID number or phone,
    /// or their hashes, were not current.
    pub window_filings: u64,
    /// Files stored in clear or under an older key.
    pub uploads: u64,
    /// Unclaimed agency cases, whose hash is kept as it is (see above).
    pub transfer_hashes_kept: u64,
    /// Values no configured key opens, and files missing from the store:
    /// left as they are.
    pub unreadable: u64,
}

/// Calls `visit` with every row of `E`, a batch at a time, in id order.
async fn each_batch<E: EntityTrait>(
    db: &DatabaseConnection,
    id: E::Column,
    id_of: fn(&E::Model) -> &str,
    mut visit: impl AsyncFnMut(Vec<E::Model>) -> AppResult<()>,
) -> AppResult<()> {
    let mut after: Option<String> = None;
    loop {
        let mut query = E::find().order_by_asc(id).limit(BATCH);
        if let Some(last) = &after {
            query = query.filter(id.gt(last.as_str()));
        }
        let rows = query.all(db).await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = Some(id_of(last).to_owned());
        visit(rows).await?;
    }
}

/// Rewrites of one row: the columns to set, guarded by the values read.
struct Rewrite<C> {
    set: Vec<(C, SimpleExpr)>,
    unchanged: Vec<SimpleExpr>,
}

impl<C: ColumnTrait> Rewrite<C> {
    fn new() -> Self {
        Self {
            set: Vec::new(),
            unchanged: Vec::new(),
        }
    }

    fn was(&mut self, column: C, value: &Option<String>) {
        self.unchanged.push(match value {
            Some(value) => column.eq(value.as_str()),
            None => column.is_null(),
        });
    }

    /// The ciphertext in `column`, re-encrypted if it is not current; the
    /// plaintext, or `None` when nothing opens it.
    fn cipher(
        &mut self,
        protector: &DataProtector,
        column: C,
        field: Field,
        row: &str,
        stored: &Option<String>,
        unreadable: &mut u64,
    ) -> Option<String> {
        let sealed = stored.as_deref()?;
        let Ok(plain) = protector.decrypt(field, row, sealed) else {
            *unreadable += 1;
            return None;
        };
        self.was(column, stored);
        if !protector.is_current(sealed) {
            self.set
                .push((column, Expr::value(protector.encrypt(field, row, &plain))));
        }
        Some(plain)
    }

    fn hash(&mut self, protector: &DataProtector, column: C, purpose: Purpose, plain: &str, stored: &Option<String>) {
        let active = protector.lookup_hash(purpose, plain);
        if stored.as_deref() != Some(active.as_str()) {
            self.was(column, stored);
            self.set.push((column, Expr::value(active)));
        }
    }

    /// Writes the row if it still holds what was read; true if it needed writing.
    async fn apply<E: EntityTrait<Column = C>>(
        self,
        db: &impl ConnectionTrait,
        apply: bool,
        id: C,
        row: &str,
    ) -> AppResult<bool> {
        if self.set.is_empty() {
            return Ok(false);
        }
        if apply {
            let mut update = E::update_many().filter(id.eq(row));
            for condition in self.unchanged {
                update = update.filter(condition);
            }
            for (column, value) in self.set {
                update = update.col_expr(column, value);
            }
            update.exec(db).await?;
        }
        Ok(true)
    }
}

/// Visits every row of `E` as `each_batch` does, each batch in a transaction
/// of its own: `rewrite` says what one row needs (it may read in the
/// transaction), and `rewritten` counts the rows that needed it.
async fn rewrite_each<E: EntityTrait>(
    db: &DatabaseConnection,
    apply: bool,
    id: E::Column,
    id_of: fn(&E::Model) -> &str,
    rewritten: &mut u64,
    mut rewrite: impl AsyncFnMut(&DatabaseTransaction, &E::Model, &mut Rewrite<E::Column>) -> AppResult<()>,
) -> AppResult<()> {
    each_batch::<E>(db, id, id_of, async |rows| {
        let transaction = begin_write(db).await?;
        for row in rows {
            let mut changes = Rewrite::new();
            rewrite(&transaction, &row, &mut changes).await?;
            if changes.apply::<E>(&transaction, apply, id, id_of(&row)).await? {
                *rewritten += 1;
            }
        }
        transaction.commit().await?;
        Ok(())
    })
    .await
}

/// Counts what is not under the active keys; with `apply`, rewrites it.
pub async fn rekey(
    db: &DatabaseConnection,
    protector: &DataProtector,
    files: &dyn FileStore,
    apply: bool,
) -> AppResult<Summary> {
    let mut summary = Summary {
        applied: apply,
        ..Summary::default()
    };
    rekey_workers(db, protector, apply, &mut summary).await?;
    rekey_wage_reports(db, protector, apply, &mut summary).await?;
    rekey_clients(db, protector, apply, &mut summary).await?;
    // After the workers, whose ID numbers are now readable under the active key.
    rekey_transfers(db, protector, apply, &mut summary).await?;
    rekey_window_filings(db, protector, apply, &mut summary).await?;
    rekey_uploads(db, protector, files, apply, &mut summary).await?;
    if apply {
        audit::record_system_run(db, "crypto.rekey", json!(summary)).await?;
    }
    Ok(summary)
}

/// Workers' ID numbers, phones and payee accounts, and the lookup hashes.
async fn rekey_workers(
    db: &DatabaseConnection,
    protector: &DataProtector,
    apply: bool,
    summary: &mut Summary,
) -> AppResult<()> {
    rewrite_each::<worker::Entity>(
        db,
        apply,
        worker::Column::Id,
        |w| &w.id,
        &mut summary.workers,
        async |_, row, rewrite| {
            use worker::Column as C;
            let id_number = rewrite.cipher(
                protector,
                C::IdNumberCipher,
                Field::WorkerIdNumber,
                &row.id,
                &row.id_number_cipher,
                &mut summary.unreadable,
            );
            if let Some(id_number) = id_number {
                rewrite.hash(
                    protector,
                    C::IdNumberHash,
                    Purpose::IdNumber,
                    &id_number,
                    &row.id_number_hash,
                );
            }
            let phone = rewrite.cipher(
                protector,
                C::PhoneCipher,
                Field::WorkerPhone,
                &row.id,
                &row.phone_cipher,
                &mut summary.unreadable,
            );
            if let Some(phone) = phone {
                rewrite.hash(protector, C::PhoneHash, Purpose::Phone, &phone, &row.phone_hash);
            }
            rewrite.cipher(
                protector,
                C::PayeeAccountCipher,
                Field::WorkerPayeeAccount,
                &row.id,
                &row.payee_account_cipher,
                &mut summary.unreadable,
            );
            Ok(())
        },
    )
    .await
}

/// Wage reports' contact phones.
async fn rekey_wage_reports(
    db: &DatabaseConnection,
    protector: &DataProtector,
    apply: bool,
    summary: &mut Summary,
) -> AppResult<()> {
    rewrite_each::<wage_report::Entity>(
        db,
        apply,
        wage_report::Column::Id,
        |r| &r.id,
        &mut summary.wage_reports,
        async |_, row, rewrite| {
            rewrite.cipher(
                protector,
                wage_report::Column::ContactPhoneCipher,
                Field::WageReportContactPhone,
                &row.id,
                &row.contact_phone_cipher,
                &mut summary.unreadable,
            );
            Ok(())
        },
    )
    .await
}

/// Integrator clients' webhook secrets.
async fn rekey_clients(
    db: &DatabaseConnection,
    protector: &DataProtector,
    apply: bool,
    summary: &mut Summary,
) -> AppResult<()> {
    rewrite_each::<integrator_client::Entity>(
        db,
        apply,
        integrator_client::Column::Id,
        |c| &c.id,
        &mut summary.integrator_clients,
        async |_, row, rewrite| {
            rewrite.cipher(
                protector,
                integrator_client::Column::WebhookSecret,
                Field::IntegratorWebhookSecret,
                &row.client_id,
                &row.webhook_secret,
                &mut summary.unreadable,
            );
            Ok(())
        },
    )
    .await
}

/// Transfers' agency phones and hashes; the ID number's hash only where the
/// worker's number is known to be the case's.
async fn rekey_transfers(
    db: &DatabaseConnection,
    protector: &DataProtector,
    apply: bool,
    summary: &mut Summary,
) -> AppResult<()> {
    rewrite_each::<si_transfer::Entity>(
        db,
        apply,
        si_transfer::Column::Id,
        |t| &t.id,
        &mut summary.si_transfers,
        async |transaction, row, rewrite| {
            let id_number = match &row.worker_id {
                Some(worker_id) => worker::Entity::find_by_id(worker_id.clone())
                    .one(transaction)
                    .await?
                    .and_then(|person| {
                        let sealed = person.id_number_cipher.as_deref()?;
                        protector.decrypt(Field::WorkerIdNumber, &person.id, sealed).ok()
                    }),
                None => None,
            };
            // The worker's number is the case's only if the case's hash is one of its hashes.
            let id_number = id_number.filter(|number| {
                protector
                    .lookup_hashes(Purpose::IdNumber, number)
                    .contains(&row.id_number_hash)
            });
            match id_number {
                Some(id_number) => rewrite.hash(
                    protector,
                    si_transfer::Column::IdNumberHash,
                    Purpose::IdNumber,
                    &id_number,
                    &Some(row.id_number_hash.clone()),
                ),
                None if row.anonymised_at.is_none() => summary.transfer_hashes_kept += 1,
                None => {}
            }
            let phone = rewrite.cipher(
                protector,
                si_transfer::Column::PhoneCipher,
                Field::TransferAgencyPhone,
                &row.id,
                &row.phone_cipher,
                &mut summary.unreadable,
            );
            if let Some(phone) = phone {
                rewrite.hash(
                    protector,
                    si_transfer::Column::PhoneHash,
                    Purpose::Phone,
                    &phone,
                    &row.phone_hash,
                );
            }
            Ok(())
        },
    )
    .await
}

/// The person a service window recorded, until their account joins the
/// case (then only the ID number's hash is left, kept as it is, like an
/// unclaimed agency case's).
async fn rekey_window_filings(
    db: &DatabaseConnection,
    protector: &DataProtector,
    apply: bool,
    summary: &mut Summary,
) -> AppResult<()> {
    rewrite_each::<window_filing::Entity>(
        db,
        apply,
        window_filing::Column::ApplicationId,
        |f| &f.application_id,
        &mut summary.window_filings,
        async |_, row, rewrite| {
            use window_filing::Column as C;
            let id = &row.application_id;
            let unreadable = &mut summary.unreadable;
            if let Some(number) = rewrite.cipher(
                protector,
                C::IdNumberCipher,
                Field::WindowIdNumber,
                id,
                &row.id_number_cipher,
                unreadable,
            ) {
                let stored = Some(row.id_number_hash.clone());
                rewrite.hash(protector, C::IdNumberHash, Purpose::IdNumber, &number, &stored);
            }
            if let Some(phone) = rewrite.cipher(
                protector,
                C::PhoneCipher,
                Field::WindowPhone,
                id,
                &row.phone_cipher,
                unreadable,
            ) {
                rewrite.hash(protector, C::PhoneHash, Purpose::Phone, &phone, &row.phone_hash);
            }
            Ok(())
        },
    )
    .await
}

/// Uploaded documents, re-sealed under the active key.
async fn rekey_uploads(
    db: &DatabaseConnection,
    protector: &DataProtector,
    files: &dyn FileStore,
    apply: bool,
    summary: &mut Summary,
) -> AppResult<()> {
    each_batch::<upload::Entity>(
        db,
        upload::Column::Id,
        |u| &u.id,
        async |rows| {
            for row in rows {
                let Ok(stored) = files.get(&row.storage_key).await else {
                    summary.unreadable += 1;
                    continue;
                };
                if protector.file_is_current(&stored) {
                    continue;
                }
                let Ok(plain) = protector.open_file(&row.id, stored) else {
                    summary.unreadable += 1;
                    continue;
                };
                if apply {
                    // Written aside and renamed by the store: the file is whole in either form.
                    files
                        .put(&row.storage_key, &protector.seal_file(&row.id, &plain))
                        .await
                        .map_err(AppError::internal)?;
                }
                summary.uploads += 1;
            }
            Ok(())
        },
    )
    .await
}
