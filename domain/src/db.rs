//! Connecting to the database, migrating it, and opening write transactions.
//!
//! SQLite (the default) runs in WAL mode with foreign keys on and a busy timeout, and every write
//! transaction starts IMMEDIATE so two writers queue instead of failing on a lock upgrade.
//! PostgreSQL is chosen by a `postgres://` URL; the same migrations and queries run on both.

use crate::Error;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseTransaction, DbBackend,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

pub use sea_orm::{DatabaseConnection, DbErr};
use std::time::Duration;

/// How long a SQLite writer waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection pool for `url` (`sqlite://path?mode=rwc` or `postgres://…`).
///
/// # Errors
/// The driver's error when the database cannot be reached or opened.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        // Pinging a pooled connection before every use added ~20 µs to every query (SELECT 1
        // on SQLite: 51 µs with, 29 µs without); a broken connection still surfaces as the
        // query's error and is replaced.
        .test_before_acquire(false);
    if url.starts_with("sqlite:") {
        options.max_connections(8).map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                // Up to 64 MiB of page cache per connection (grown only as used), and reads
                // through a memory map instead of a system call per page.
                .pragma("cache_size", "-65536")
                .pragma("mmap_size", "268435456")
        });
    } else {
        // Plan every statement for its own values: a plan cached for `LIKE $1` cannot know
        // whether the search matches ten users or all of them, and the two want opposite plans.
        options
            .max_connections(16)
            .map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_custom_plan")]));
    }
    Database::connect(options).await
}

/// Brings the schema up to date.
///
/// # Errors
/// The first migration that fails.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    crate::migration::Migrator::up(db, None).await
}

/// Whether the database answers a trivial query.
pub async fn is_reachable(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

/// Starts a transaction that will write: IMMEDIATE on SQLite, the default on PostgreSQL.
///
/// # Errors
/// [`Error::Internal`] when the transaction cannot start.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, Error> {
    let mut options = TransactionOptions::default();
    if db.get_database_backend() == DbBackend::Sqlite {
        options.sqlite_transaction_mode = Some(SqliteTransactionMode::Immediate);
    }
    Ok(db.begin_with_options(options).await?)
}

/// Starts a transaction that only reads, all of it as of one moment: on PostgreSQL REPEATABLE
/// READ (each statement would otherwise see its own moment), on SQLite a deferred transaction
/// (its first read fixes the snapshot). For reads that must agree with each other, such as the
/// gateway's routes and the providers they name.
///
/// # Errors
/// [`Error::Internal`] when the transaction cannot start.
pub async fn begin_snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, Error> {
    let mut options = TransactionOptions::default();
    if db.get_database_backend() == DbBackend::Postgres {
        options.isolation_level = Some(sea_orm::IsolationLevel::RepeatableRead);
        options.access_mode = Some(sea_orm::AccessMode::ReadOnly);
    }
    Ok(db.begin_with_options(options).await?)
}

/// The key of the PostgreSQL advisory lock every ledger write holds: "ledger" in ASCII.
const LEDGER_LOCK: i64 = 0x6c65_6467_6572;

/// Starts a write of the gateway's ledger — a writer's round, a sweep of dead processes' leases,
/// a journal's replay: a [`begin_write`] transaction that, on PostgreSQL, first takes the ledger
/// lock.
///
/// Why: a round updates the month rows of every budget its batch touched — teams', people's,
/// keys' — and rows of one person or team are shared by every process; two rounds that lock two
/// such rows in opposite orders would deadlock, and PostgreSQL would abort one (its waiting
/// requests answered 503). Rounds are short and batched, so taking turns costs little. On
/// SQLite the IMMEDIATE transaction already takes turns.
///
/// # Errors
/// [`Error::Internal`] when the transaction cannot start or the lock cannot be taken.
pub async fn begin_ledger_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, Error> {
    let txn = begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({LEDGER_LOCK})"))
            .await?;
    }
    Ok(txn)
}

/// The key of the PostgreSQL advisory lock every access-list write holds: "tollgate" in ASCII.
const ACCESS_LOCK: i64 = 0x746f_6c6c_6761_7465;

/// Starts a write to the access list (users, roles, invites, setup, teams, keys): a
/// [`begin_write`] transaction that, on PostgreSQL, first takes the access lock
/// ([`lock_access`]). Every service whose decision reads a rule and then relies on it — the
/// last active Owner, a team that still exists, a token not yet used, nobody set up yet — starts
/// its transaction here, before it reads anything.
///
/// # Errors
/// [`Error::Internal`] when the transaction cannot start or the lock cannot be taken.
pub async fn begin_access_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, Error> {
    let txn = begin_write(db).await?;
    lock_access(&txn).await?;
    Ok(txn)
}

/// The longest an access-list write waits for the one before it.
const ACCESS_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Makes `txn` the only access-list write running until it ends.
///
/// Why: PostgreSQL runs our writes at READ COMMITTED without row locks, so two transactions can
/// both read "two Owners are left", each demote one, and both commit — leaving none; a key can
/// be inserted for a team whose deletion has already revoked that team's keys; one invite token
/// can be accepted twice. The rules read counts and the absence of rows (no user yet, no such
/// team), which `SELECT … FOR UPDATE` cannot lock. So every access-list write takes one
/// transaction-scoped advisory lock before its first read: they run one at a time, and as each
/// statement at READ COMMITTED reads what is committed when it starts — and the lock is released
/// only after the previous holder's commit is visible — every decision sees every earlier one.
/// Such writes are rare (people clicking in the dashboard), so one lock costs nothing that
/// matters; the gateway's request path (leases, metering) never takes it.
///
/// On SQLite it does nothing: [`begin_write`]'s IMMEDIATE transaction already holds the
/// database's single write lock from its first statement, which serialises writers the same way.
///
/// # Errors
/// [`Error::Internal`] when the lock cannot be taken.
pub async fn lock_access(txn: &DatabaseTransaction) -> Result<(), Error> {
    if txn.get_database_backend() == DbBackend::Postgres {
        // A write queued behind others holds a pooled connection while it waits: it gives up
        // (and its connection) after a while rather than wait without end.
        txn.execute_unprepared(&format!(
            "SET LOCAL lock_timeout = '{}ms'",
            ACCESS_LOCK_WAIT.as_millis()
        ))
        .await?;
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({ACCESS_LOCK})"))
            .await?;
    }
    Ok(())
}

impl From<DbErr> for Error {
    /// Database failures are ours, not the person's: log the detail, answer generically.
    fn from(err: DbErr) -> Self {
        tracing::error!(error = %err, "database error");
        Error::internal()
    }
}

/// Maps a write's error to [`Error`], answering a unique-constraint violation with
/// `duplicate()` (the person's mistake) and anything else as internal:
/// `.insert(&txn).await.map_err(duplicate_as(taken_name))?`.
pub fn duplicate_as(duplicate: impl FnOnce() -> Error) -> impl FnOnce(DbErr) -> Error {
    move |err| {
        if is_unique_violation(&err) {
            duplicate()
        } else {
            err.into()
        }
    }
}

/// Whether `err` is a unique-constraint violation (detected by the driver's error code).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
