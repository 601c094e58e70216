//! The access epoch: a counter the database's triggers bump whenever a key is revoked, expires
//! early, moves or is deleted, a user is suspended or deleted, a user's role or team changes,
//! or a team's limit changes or the team is deleted (migrations `m20261127_000004` and
//! `m20261130_000007`). What the gateway remembers about keys and
//! budgets is only good while the epoch it was read at is current.
//!
//! Reading that row on every request would cost a database round trip each, so each process
//! keeps an [`AccessWatch`]: a local version that moves when the database epoch is seen to
//! have moved — by the dashboard's writes in this process, which look once before answering
//! ([`AccessWatch::catch_up`], so the very next request sees their change), or by watching for
//! another process's. On PostgreSQL that is `LISTEN`: a trigger announces every move when it
//! commits (migration `m20261130_000008`), so an idle process sends no query but a look every
//! [`SAFETY_POLL_EVERY`], should a notification be lost with its connection. SQLite has no
//! notifications and is one machine's file: every [`POLL_EVERY`] the database file and its
//! write-ahead log are looked at (their size and modification time: no query, no thread), and
//! the epoch is read when either changed — and every [`SAFETY_POLL_EVERY`] regardless.
//! Writes that changed nothing that bears on access (refused, unauthenticated, reads sent as
//! POST) leave the epoch, and so what the gateway remembers, alone.

use crate::Error;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};
use tokio::sync::Notify;

/// How often another process's changes are looked for on SQLite.
pub const POLL_EVERY: Duration = Duration::from_millis(5);

/// How often the epoch is read whatever else says it has not moved: on PostgreSQL in case a
/// notification was lost (a dropped connection loses those sent meanwhile; the reconnect also
/// looks at once), on SQLite in case a write left the files' size and time as they were.
pub const SAFETY_POLL_EVERY: Duration = Duration::from_secs(1);

/// The PostgreSQL channel the epoch's moves are announced on, with the new value.
pub const CHANNEL: &str = "tollgate_access_epoch";

/// The current epoch in the database.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn current(db: &impl ConnectionTrait) -> Result<i64, Error> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT value FROM access_epoch WHERE id = 1",
        ))
        .await?
        .ok_or_else(Error::internal)?;
    Ok(row.try_get_by_index(0)?)
}

/// This process's view of the epoch: a version that moves whenever access may have changed.
#[derive(Debug)]
pub struct AccessWatch {
    version: AtomicU64,
    /// The database epoch last read (`i64::MIN` before the first look).
    seen: AtomicI64,
    /// Told when the watch is dropped, so a listener waiting for a notification ends (and gives
    /// its connection back) at once.
    dropped: Arc<Notify>,
}

impl Default for AccessWatch {
    fn default() -> Self {
        AccessWatch {
            version: AtomicU64::new(0),
            seen: AtomicI64::new(i64::MIN),
            dropped: Arc::default(),
        }
    }
}

impl Drop for AccessWatch {
    fn drop(&mut self) {
        // A permit, not a wake-up: the listener may not be waiting at this very moment.
        self.dropped.notify_one();
    }
}

impl AccessWatch {
    /// The version now; compare it with the one something was remembered at.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// This process has just changed something that may affect access.
    pub fn changed_here(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Reads `db`'s epoch now; the version moves if it moved since last seen. A write that may
    /// have changed access calls this before it answers.
    ///
    /// # Errors
    /// [`Error::Internal`] when the epoch could not be read (the poll then forgets what was
    /// remembered rather than trust it).
    pub async fn catch_up(&self, db: &impl ConnectionTrait) -> Result<(), Error> {
        self.saw(current(db).await?);
        Ok(())
    }

    /// The database's epoch, as just read, is `epoch`: the version moves if it is not the one
    /// last read — higher, or lower (a restored backup): either way what was remembered was
    /// read at another epoch. Two reads racing may move it once too often, never too rarely.
    fn saw(&self, epoch: i64) {
        // The version moves before the epoch is marked seen, so a look that finds it seen can
        // rely on the version having moved. The first look moves it too: keys read before it
        // were read at an epoch nobody had checked.
        if epoch != self.seen.load(Ordering::Acquire) {
            self.changed_here();
            self.seen.store(epoch, Ordering::Release);
        }
    }

    /// Looks at `db`'s epoch; when that fails, forgets what was remembered rather than trust it.
    async fn look(&self, db: &DatabaseConnection) {
        if self.catch_up(db).await.is_err() {
            self.changed_here();
        }
    }

    /// Starts watching `db`'s epoch on the current runtime — listening on PostgreSQL, looking
    /// at the files on SQLite; the version moves when the epoch does. The tasks end with the
    /// watch.
    pub fn watch(self: &Arc<Self>, db: DatabaseConnection) {
        if db.get_database_backend() == DbBackend::Postgres {
            tokio::spawn(poll(Arc::downgrade(self), db.clone(), SAFETY_POLL_EVERY));
            tokio::spawn(listen(Arc::downgrade(self), Arc::clone(&self.dropped), db));
        } else {
            match sqlite_files(&db) {
                Some(files) => tokio::spawn(watch_files(Arc::downgrade(self), db, files)),
                // An in-memory database: only this process writes it, but read it all the same.
                None => tokio::spawn(poll(Arc::downgrade(self), db, POLL_EVERY)),
            };
        }
    }
}

/// Reads the epoch every `every` while the watch lives.
async fn poll(watch: Weak<AccessWatch>, db: DatabaseConnection, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(watch) = watch.upgrade() else {
            return;
        };
        watch.look(&db).await;
    }
}

/// A SQLite database's file and its write-ahead log.
fn sqlite_files(db: &DatabaseConnection) -> Option<[PathBuf; 2]> {
    let options = db.get_sqlite_connection_pool().connect_options();
    let file = options.get_filename();
    if file.as_os_str().is_empty() || file.to_string_lossy().contains(":memory:") {
        return None;
    }
    let mut wal = file.as_os_str().to_owned();
    wal.push("-wal");
    Some([file.to_owned(), PathBuf::from(wal)])
}

/// What a write changes in a file: its size and modification time (`None` while it is absent).
fn stamp(path: &Path) -> Option<(u64, SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// How recent a file's modification time must be for a later write to be able to leave it as
/// it was (file times advance in steps of the kernel's clock tick, a few milliseconds).
const CLOCK_STEP: Duration = Duration::from_millis(20);

/// Whether either file was written within [`CLOCK_STEP`] of now.
fn files_just_written(stamps: &[Option<(u64, SystemTime)>; 2]) -> bool {
    let now = SystemTime::now();
    stamps.iter().flatten().any(|(_, modified)| {
        now.duration_since(*modified)
            .map_or(true, |ago| ago < CLOCK_STEP)
    })
}

/// Every [`POLL_EVERY`], reads the epoch if the database's `files` changed since the last read,
/// or [`SAFETY_POLL_EVERY`] passed; while the watch lives.
async fn watch_files(watch: Weak<AccessWatch>, db: DatabaseConnection, files: [PathBuf; 2]) {
    let mut tick = tokio::time::interval(POLL_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen = None;
    let mut read_at = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        let Some(watch) = watch.upgrade() else {
            return;
        };
        let now = files.each_ref().map(|f| stamp(f));
        if seen != Some(now) || read_at.elapsed() >= SAFETY_POLL_EVERY {
            // Stamped before the read: a write landing meanwhile changes them again — unless
            // it lands within the clock's step of the last one and leaves the size alone (a
            // log started over), so a stamp that recent is looked at again next time.
            seen = (!files_just_written(&now)).then_some(now);
            read_at = tokio::time::Instant::now();
            watch.look(&db).await;
        }
    }
}

/// Hears the epoch's moves on [`CHANNEL`] while the watch lives, on a connection of its own
/// from `db`'s pool. A notification only wakes it: the epoch itself is read from the database
/// (anyone who can connect may `NOTIFY`, and a made-up value must not be believed). Whenever the
/// connection is (re)made, what it may have missed is looked up. A lost connection is made
/// again at once — or after [`SAFETY_POLL_EVERY`] when the last was lost less than that ago, or
/// cannot be made (the safety poll carries on meanwhile).
async fn listen(watch: Weak<AccessWatch>, dropped: Arc<Notify>, db: DatabaseConnection) {
    use sea_orm::sqlx::postgres::PgListener;
    let pool = db.get_postgres_connection_pool().clone();
    let mut last_loss: Option<tokio::time::Instant> = None;
    loop {
        let listener = match PgListener::connect_with(&pool).await {
            Ok(mut listener) => listener.listen(CHANNEL).await.map(|()| listener),
            Err(e) => Err(e),
        };
        let Some(current) = watch.upgrade() else {
            return;
        };
        let Ok(mut listener) = listener else {
            current.changed_here();
            drop(current);
            tokio::select! {
                () = tokio::time::sleep(SAFETY_POLL_EVERY) => continue,
                () = dropped.notified() => return,
            }
        };
        current.look(&db).await;
        drop(current);
        loop {
            let heard = tokio::select! {
                heard = listener.try_recv() => heard,
                () = dropped.notified() => return,
            };
            let Some(watch) = watch.upgrade() else {
                return;
            };
            match heard {
                // A notification, or the connection lost and made again (notifications sent
                // meanwhile are gone): read the epoch.
                Ok(_) => watch.look(&db).await,
                Err(_) => {
                    // Changes may go unheard until it listens again: forget what was remembered.
                    watch.changed_here();
                    break;
                }
            }
        }
        if last_loss.is_some_and(|at| at.elapsed() < SAFETY_POLL_EVERY) {
            tokio::select! {
                () = tokio::time::sleep(SAFETY_POLL_EVERY) => {}
                () = dropped.notified() => return,
            }
        }
        last_loss = Some(tokio::time::Instant::now());
    }
}
