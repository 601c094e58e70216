//! The access epoch: a counter the database's triggers bump whenever a key is revoked, expires
//! early, moves or is deleted, a user is suspended or deleted, or a team's limit changes or the
//! team is deleted (migration `m20261127_000004`). What the gateway remembers about keys and
//! budgets is only good while the epoch it was read at is current.
//!
//! Reading that row on every request would cost a database round trip each, so each process
//! keeps an [`AccessWatch`]: a local version that moves when the process itself makes a change
//! (the dashboard's writes call [`AccessWatch::changed_here`] before answering — so the very
//! next request sees it) or when a poll of the database epoch, every [`POLL_EVERY`], finds that
//! another process has.

use crate::Error;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
#[derive(Debug, Default)]
pub struct AccessWatch {
    version: AtomicU64,
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

    /// Starts polling `db`'s epoch on the current runtime; the version moves when it does.
    pub fn watch(self: &Arc<Self>, db: DatabaseConnection) {
        let watch = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut seen = None;
            let mut every = tokio::time::interval(POLL_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(watch) = watch.upgrade() else {
                    return;
                };
                match current(&db).await {
                    Ok(epoch) if seen != Some(epoch) => {
                        if seen.is_some() {
                            watch.changed_here();
                        }
                        seen = Some(epoch);
                    }
                    Ok(_) => {}
                    // Unknown: forget what was remembered rather than trust it.
                    Err(_) => watch.changed_here(),
                }
            }
        });
    }
}
