//! The one task per process that writes the ledger: whatever has queued since the last round —
//! settled requests, slices given back or ended, leases to extend — is applied in a single
//! write transaction, then the slices learn what the database granted. Settlements are written
//! behind the answer (and marked in `ledger_marks` as far as the journal goes); leases are
//! renewed so the sweep knows this process lives.

use super::journal::{self, Journal};
use super::slices::{Change, Month, Slices, Take};
use crate::Error;
use crate::db::begin_write;
use crate::money::Money;
use crate::service::leases::{self, Ask, Extension, OverBudget};
use crate::service::usage::{self, Metered};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Most jobs taken in one round.
const MAX_BATCH: usize = 1024;
/// How often slices are looked at even when nothing is queued (idle ones are given back).
const TICK: Duration = Duration::from_millis(250);
/// How often this process's leases are marked live.
pub const RENEW_EVERY: Duration = Duration::from_secs(10);
/// After a failed round, how long before trying again.
const RETRY_AFTER: Duration = Duration::from_millis(100);

/// What the request path hands the writer.
#[derive(Debug)]
pub enum Job {
    /// Lease more of a month for a request the slice was short for.
    Extend(Extend),
    /// A request was served: meter it, and take its cost off its slice's lease.
    Settle {
        /// Its number in the journal, if it was journaled.
        seq: Option<u64>,
        /// The slice it was admitted from, and how much of it the request spent.
        from_slice: Option<(Month, Money)>,
        metered: Metered,
    },
    /// Slices given back.
    Changes(Vec<Change>),
    /// Give back every slice not in use and answer once everything queued is written.
    Flush(oneshot::Sender<Result<(), Error>>),
}

/// The answer to an [`Extend`].
#[derive(Debug)]
pub enum Admission {
    Admitted,
    Refused(OverBudget),
    Unlimited,
}

/// Writes not yet committed (kept across a failed round).
#[derive(Debug, Default)]
struct Pending {
    shrink: HashMap<Month, Money>,
    ends: Vec<Month>,
    metered: Vec<Metered>,
    /// The last journal entry among `metered`.
    seq: Option<u64>,
}

impl Pending {
    fn change(&mut self, change: Change) {
        match change {
            Change::Give(month, amount) => self.shrink_by(month, amount),
            Change::End(month) => self.ends.push(month),
        }
    }

    fn shrink_by(&mut self, month: Month, amount: Money) {
        let total = self.shrink.entry(month).or_insert(Money::ZERO);
        *total = Money(total.micros() + amount.micros());
    }

    fn is_empty(&self) -> bool {
        self.shrink.is_empty() && self.ends.is_empty() && self.metered.is_empty()
    }
}

/// A request its slice was short for, waiting for the database.
#[derive(Debug)]
pub struct Extend {
    pub month: Month,
    /// What the slice was short of ([`Take::Short`]).
    pub short: Take,
    pub at: DateTime<Utc>,
    pub reply: oneshot::Sender<Result<Admission, Error>>,
}

/// What the writer works with.
pub struct Writer {
    pub db: DatabaseConnection,
    /// This ledger's id on its leases and journal marks.
    pub holder: String,
    pub slices: Arc<Mutex<Slices>>,
    pub journal: Option<Arc<Mutex<Journal>>>,
}

/// Runs until every [`super::Ledger`] handle is gone, then writes what is left.
pub async fn run(w: Writer, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let Writer {
        db,
        holder,
        slices,
        journal,
    } = w;
    let mut leases: HashMap<Month, i64> = HashMap::new();
    let mut pending = Pending::default();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut renewed = Instant::now();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let open = tokio::select! {
            n = jobs.recv_many(&mut batch, MAX_BATCH) => n > 0,
            _ = tick.tick() => true,
        };
        let mut extends = Vec::new();
        let mut flushes = Vec::new();
        for job in batch.drain(..) {
            match job {
                Job::Extend(extend) => extends.push(extend),
                Job::Settle {
                    seq,
                    from_slice,
                    metered,
                } => {
                    pending.seq = seq.or(pending.seq);
                    if let Some((month, spent)) = from_slice {
                        pending.shrink_by(month, spent);
                    }
                    pending.metered.push(metered);
                }
                Job::Changes(changes) => changes.into_iter().for_each(|c| pending.change(c)),
                Job::Flush(reply) => flushes.push(reply),
            }
        }
        let give_back_all = !flushes.is_empty() || !open;
        for change in lock(&slices).trim(Instant::now(), give_back_all) {
            pending.change(change);
        }
        let renew = renewed.elapsed() >= RENEW_EVERY;
        if pending.is_empty() && extends.is_empty() && !renew {
            flushes.into_iter().for_each(|f| drop(f.send(Ok(()))));
            if open {
                continue;
            }
            return;
        }
        let mut ids = leases.clone();
        let outcome = apply(&db, &holder, &pending, &extends, &mut ids, renew).await;
        match outcome {
            Ok(granted) => {
                leases = ids;
                if let (Some(journal), Some(seq)) = (&journal, pending.seq) {
                    journal
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .written(seq);
                }
                pending = Pending::default();
                if renew {
                    renewed = Instant::now();
                }
                let mut slices = lock(&slices);
                for (extend, result) in extends.into_iter().zip(granted) {
                    let admission = match result {
                        Extension::Granted { granted, room, .. } => {
                            slices.granted(extend.month, extend.short, granted, room);
                            Admission::Admitted
                        }
                        Extension::Refused(over) => {
                            slices.not_granted(extend.month, extend.short);
                            Admission::Refused(over)
                        }
                        Extension::Unlimited => {
                            slices.not_granted(extend.month, extend.short);
                            Admission::Unlimited
                        }
                    };
                    let _ = extend.reply.send(Ok(admission));
                }
                flushes.into_iter().for_each(|f| drop(f.send(Ok(()))));
            }
            Err(err) => {
                {
                    let mut slices = lock(&slices);
                    for extend in &extends {
                        slices.not_granted(extend.month, extend.short);
                    }
                }
                for extend in extends {
                    let _ = extend.reply.send(Err(err.clone()));
                }
                flushes
                    .into_iter()
                    .for_each(|f| drop(f.send(Err(err.clone()))));
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
        if !open && pending.is_empty() {
            return;
        }
    }
}

/// One round in one transaction: what settled and what was given back first (it makes room),
/// then the extensions in the order they were asked for.
async fn apply(
    db: &DatabaseConnection,
    holder: &str,
    pending: &Pending,
    extends: &[Extend],
    leases: &mut HashMap<Month, i64>,
    renew: bool,
) -> Result<Vec<Extension>, Error> {
    let txn = begin_write(db).await?;
    let now = Utc::now();
    for (month, amount) in &pending.shrink {
        match leases.get(month) {
            Some(lease) => leases::shrink_in(&txn, *lease, month.0, month.1, *amount).await?,
            None => tracing::error!(?month, "a slice without a lease"),
        }
    }
    usage::record_all(&txn, &pending.metered).await?;
    if let Some(seq) = pending.seq {
        journal::mark_written_in(&txn, holder, seq).await?;
    }
    for month in &pending.ends {
        if let Some(lease) = leases.remove(month) {
            leases::end_in(&txn, lease).await?;
        }
    }
    let mut granted = Vec::with_capacity(extends.len());
    for e in extends {
        let Take::Short { need, want, .. } = e.short else {
            continue;
        };
        let lease = leases.get(&e.month).copied();
        let extension = leases::extend_in(
            &txn,
            holder,
            lease,
            Ask {
                team: e.month.0,
                month: e.month.1,
                want,
                need,
            },
            e.at,
        )
        .await?;
        if let Extension::Granted { lease, .. } = &extension {
            leases.insert(e.month, *lease);
        }
        granted.push(extension);
    }
    if renew {
        let ids: Vec<i64> = leases.values().copied().collect();
        leases::renew_in(&txn, &ids, now).await?;
    }
    txn.commit().await?;
    Ok(granted)
}

fn lock(slices: &Mutex<Slices>) -> std::sync::MutexGuard<'_, Slices> {
    slices
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
