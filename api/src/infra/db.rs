//! The database pool: SQLite (embedded default) or PostgreSQL.

use std::{path::Path, time::Duration};

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
    sea_query::{Alias, CommonTableExpression, Expr, Func, IntoColumnRef, SubQueryStatement, WithClause},
    sqlx::sqlite::SqliteJournalMode,
};

/// A pooled connection idle this long is pinged before it is handed out.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(10);

/// Opens the pool. Statement logging stays off: bound parameters carry
/// personal data and must never reach the logs.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let sqlite = url.starts_with("sqlite:");
    if sqlite {
        create_sqlite_parent_dir(url)?;
    }
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(Duration::from_secs(3))
        .max_connections(if sqlite { 8 } else { 32 })
        .min_connections(1)
        // A ping on every checkout doubled the round trips of a one-query
        // request; a connection is pinged only after sitting idle long
        // enough for the server, a proxy or a firewall to have dropped it.
        // One that broke while busy fails its request (503) and is replaced.
        .test_before_acquire_if_idle_for(PING_WHEN_IDLE_FOR)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    Database::connect(options).await.context("connecting to the database")
}

/// Runs the migrations still to run. When none is, nothing is written, so the
/// service starts under a role that may not create or alter tables (see the
/// README: migrations run as the owner, the service as a role that is not).
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    if migrations_pending(db).await {
        Migrator::up(db, None).await.context("running database migrations")?;
    }
    Ok(())
}

/// Read-only: the migrations table may not exist yet, and then all are pending.
async fn migrations_pending(db: &DatabaseConnection) -> bool {
    let listed = Statement::from_string(db.get_database_backend(), "SELECT version FROM seaql_migrations");
    let Ok(rows) = db.query_all_raw(listed).await else {
        return true;
    };
    let applied: Vec<String> = rows.iter().filter_map(|row| row.try_get("", "version").ok()).collect();
    Migrator::migrations()
        .iter()
        .any(|migration| !applied.iter().any(|version| version == migration.name()))
}

fn create_sqlite_parent_dir(url: &str) -> anyhow::Result<()> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the database directory {}", parent.display()))?;
    }
    Ok(())
}

/// Begins a transaction that will write. On SQLite it takes the write lock at
/// once (BEGIN IMMEDIATE): a deferred transaction that reads and then writes
/// fails outright when another writer got in between, where an immediate one
/// waits its turn (busy timeout). PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// SUM of `column` as a 64-bit integer on both databases (PostgreSQL sums
/// bigints as numeric), and 0 where there is nothing to sum.
pub fn sum_i64(column: impl IntoColumnRef) -> Expr {
    let sum: Expr = Func::sum(Expr::col(column)).into();
    Func::cast_as(Func::coalesce([sum, Expr::val(0)]), Alias::new("BIGINT")).into()
}

/// Writes of one transaction that need nothing read back, sent together. On
/// PostgreSQL they go as one statement, each but the last a data-modifying
/// `WITH` of it: one round trip, parse and plan instead of one per row, and
/// foreign keys are checked at the end of the statement, so a case and its
/// first history entry may go together. SQLite has no data-modifying `WITH`:
/// there they run one after another, in the order pushed. Either way they
/// share the caller's transaction, so they land together or not at all.
///
/// On PostgreSQL the parts run on one snapshot and cannot see each other's
/// rows: no two may touch the same row, none may depend on another's effect
/// beyond a foreign key, and two inserts into one table get their serial ids
/// in no set order (rows whose ids order them go in one multi-row insert).
#[derive(Debug, Default)]
pub struct Writes(Vec<SubQueryStatement>);

impl Writes {
    pub fn push(&mut self, statement: impl Into<SubQueryStatement>) -> &mut Self {
        self.0.push(statement.into());
        self
    }

    pub fn append(&mut self, mut other: Writes) -> &mut Self {
        self.0.append(&mut other.0);
        self
    }

    pub async fn send(self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        let mut statements = self.0;
        if db.get_database_backend() != DbBackend::Postgres {
            for statement in &statements {
                execute(db, statement).await?;
            }
            return Ok(());
        }
        let Some(last) = statements.pop() else {
            return Ok(());
        };
        if statements.is_empty() {
            return execute(db, &last).await;
        }
        let mut with = WithClause::new();
        for (n, statement) in statements.into_iter().enumerate() {
            with.cte(
                CommonTableExpression::new()
                    .query(statement)
                    .table_name(Alias::new(format!("w{n}")))
                    .to_owned(),
            );
        }
        db.execute(&with.query(last)).await?;
        Ok(())
    }
}

async fn execute(db: &impl ConnectionTrait, statement: &SubQueryStatement) -> Result<(), DbErr> {
    match statement {
        SubQueryStatement::SelectStatement(s) => db.execute(s).await?,
        SubQueryStatement::InsertStatement(s) => db.execute(s).await?,
        SubQueryStatement::UpdateStatement(s) => db.execute(s).await?,
        SubQueryStatement::DeleteStatement(s) => db.execute(s).await?,
        SubQueryStatement::WithStatement(s) => db.execute(s).await?,
    };
    Ok(())
}
