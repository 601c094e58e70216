//! The access epoch: a counter the database's triggers bump whenever a key is revoked, expires
//! early, moves or is deleted, a user is suspended or deleted, a user's role or team changes,
//! or a team's limit changes or the team is deleted (migrations `m20261127_000004` and
//! `m20261130_000007`). What the gateway remembers about keys and
//! budgets is only good while the epoch it was read at is current.
//!
//! Reading that row on every request would cost a database round trip each, so each process
//! keeps an [`AccessWatch`]: a local version that moves when the database epoch is seen to
//! have moved — by the dashboard's writes in this process, which look once before answering
//! ([`AccessWatch::catch_up`], so the very next request sees their change), or by a poll every
//! [`POLL_EVERY`], which finds another process's. Writes that changed nothing that bears on
//! access (refused, unauthenticated, reads sent as POST) leave the epoch, and so what the
//! gateway remembers, alone.

use crate::Error;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// How often another process's changes are looked for.
pub const POLL_EVERY: Duration = Duration::from_millis(5);

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
    /// The highest database epoch seen (`i64::MIN` before the first look).
    seen: AtomicI64,
}

impl Default for AccessWatch {
    fn default() -> Self {
        AccessWatch {
            version: AtomicU64::new(0),
            seen: AtomicI64::new(i64::MIN),
        }
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
        match current(db).await? {
            // The version moves before the epoch is marked seen, so a look that finds it seen
            // can rely on the version having moved. The first look moves it too: keys read
            // before it were read at an epoch nobody had checked.
            epoch if epoch > self.seen.load(Ordering::Acquire) => {
                self.changed_here();
                self.seen.fetch_max(epoch, Ordering::AcqRel);
            }
            _ => {}
        }
        Ok(())
    }

    /// Starts polling `db`'s epoch on the current runtime; the version moves when it does.
    pub fn watch(self: &Arc<Self>, db: DatabaseConnection) {
        let watch = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(POLL_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(watch) = watch.upgrade() else {
                    return;
                };
                if watch.catch_up(&db).await.is_err() {
                    // Unknown: forget what was remembered rather than trust it.
                    watch.changed_here();
                }
            }
        });
    }
}
