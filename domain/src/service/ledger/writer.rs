//! The one task per process that writes the ledger: whatever has queued since the last round —
//! settled requests, refused ones, slices given back or ended, leases to extend — is applied in a single
//! write transaction, then the slices learn what the database granted. Settlements are written
//! behind the answer (and marked in `ledger_marks` as far as the journal goes). Leases are
//! renewed in a statement of their own, so a round that keeps failing cannot stop the renewals
//! that tell the sweep this process lives; a lease found gone — on renewal, when a settlement
//! shrinks it or an extension grows it — is forgotten with its slice.

use super::journal::{self, Journal};
use super::slices::{Change, LeaseId, Month, SliceRef, Slices, Take, Target};
use crate::Error;
use crate::db::begin_ledger_write;
use crate::money::Money;
use crate::service::guardrails::hits::{self, Hits};
use crate::service::leases::{self, Ask, Extension, OverBudget};
use crate::service::lock;
use crate::service::refusals::{self, Tally};
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
        /// The slices it was admitted from (one per budget), and how much of each it spent.
        from_slices: Vec<(SliceRef, Money)>,
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
    Admitted(Granted),
    Refused(OverBudget),
    Unlimited,
    /// The lease the request was short under is gone: take again.
    LeaseLost,
}

/// A slice granted to a waiting request, given back unless the request [keeps](Granted::keep)
/// it: a request whose client left — before the answer was sent, or after it was sent but
/// before it was read — strands nothing.
#[derive(Debug)]
pub struct Granted {
    slice: SliceRef,
    /// The request's worst case, held in the slice for it.
    worst: Money,
    slices: Arc<Mutex<Slices>>,
    kept: bool,
}

impl Granted {
    /// The request has it: it is given back when the request settles or is released.
    pub fn keep(mut self) -> SliceRef {
        self.kept = true;
        self.slice
    }
}

impl Drop for Granted {
    fn drop(&mut self) {
        if !self.kept {
            lock(&self.slices).release(self.slice, self.worst);
        }
    }
}

/// Writes not yet committed (kept across a failed round).
#[derive(Debug, Default)]
struct Pending {
    shrink: HashMap<SliceRef, Money>,
    ends: Vec<SliceRef>,
    metered: Vec<Metered>,
    refused: Tally,
    hits: Hits,
    /// The last journal entry among `metered`.
    seq: Option<u64>,
}

impl Pending {
    fn change(&mut self, change: Change) {
        match change {
            Change::Give(slice, amount) => self.shrink_by(slice, amount),
            Change::End(slice) => self.ends.push(slice),
        }
    }

    fn shrink_by(&mut self, slice: SliceRef, amount: Money) {
        let total = self.shrink.entry(slice).or_insert(Money::ZERO);
        *total = Money(total.micros() + amount.micros());
    }

    fn is_empty(&self) -> bool {
        self.shrink.is_empty()
            && self.ends.is_empty()
            && self.metered.is_empty()
            && self.refused.is_empty()
            && self.hits.is_empty()
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
    /// When the leases were last renewed (the request path trusts its slices only while recent).
    pub renewed: Arc<Mutex<Instant>>,
    /// Refusals the request path counted since the last round.
    pub refused: Arc<Mutex<Tally>>,
    /// Guardrail hits the request path counted since the last round.
    pub hits: Arc<Mutex<Hits>>,
}

/// Runs until every [`super::Ledger`] handle is gone, then writes what is left.
pub async fn run(w: Writer, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let Writer {
        db,
        holder,
        slices,
        journal,
        renewed,
        refused,
        hits,
    } = w;
    let mut pending = Pending::default();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_renewal = Instant::now();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let open = tokio::select! {
            // Queued settlements first: a slice is never ended before what it spent is written.
            biased;
            n = jobs.recv_many(&mut batch, MAX_BATCH) => n > 0,
            _ = tick.tick() => true,
        };
        pending.refused.merge(std::mem::take(&mut *lock(&refused)));
        pending.hits.merge(std::mem::take(&mut *lock(&hits)));
        let mut extends = Vec::new();
        let mut flushes = Vec::new();
        for job in batch.drain(..) {
            match job {
                Job::Extend(extend) => extends.push(extend),
                Job::Settle {
                    seq,
                    from_slices,
                    metered,
                } => {
                    pending.seq = seq.or(pending.seq);
                    for (slice, spent) in from_slices {
                        pending.shrink_by(slice, spent);
                    }
                    pending.metered.push(metered);
                }
                Job::Changes(changes) => changes.into_iter().for_each(|c| pending.change(c)),
                Job::Flush(reply) => flushes.push(reply),
            }
        }
        if last_renewal.elapsed() >= RENEW_EVERY {
            last_renewal = Instant::now();
            let held = lock(&slices).leases();
            match leases::renew(&db, &held).await {
                Ok(gone) => {
                    forget(&slices, &gone);
                    // As of when the renewal was sent, not when it came back.
                    *lock(&renewed) = last_renewal;
                }
                Err(_) => tracing::warn!("could not renew this process's budget leases"),
            }
        }
        let give_back_all = !flushes.is_empty() || !open;
        for change in lock(&slices).trim(Instant::now(), give_back_all) {
            pending.change(change);
        }
        if pending.is_empty() && extends.is_empty() {
            flushes.into_iter().for_each(|f| drop(f.send(Ok(()))));
            if open {
                continue;
            }
            return;
        }
        // Which lease each extension grows, read before the round: a request short under a lease
        // that has been lost since takes again.
        let (extends, lost): (Vec<_>, Vec<_>) = {
            let slices = lock(&slices);
            extends
                .into_iter()
                .map(|e| (slices.target(e.month, e.short), e))
                .partition(|(target, _)| *target != Target::Lost)
        };
        for (_, extend) in lost {
            lock(&slices).not_granted(extend.month, extend.short);
            let _ = extend.reply.send(Ok(Admission::LeaseLost));
        }
        match apply(&db, &holder, &pending, &extends).await {
            Ok(Round { granted, gone }) => {
                if let (Some(journal), Some(seq)) = (&journal, pending.seq) {
                    lock(journal).written(seq);
                }
                pending = Pending::default();
                forget(&slices, &gone);
                let answers: Vec<_> = {
                    let mut held = lock(&slices);
                    extends
                        .into_iter()
                        .zip(granted)
                        .map(|((target, extend), result)| {
                            let admission = match result {
                                Extension::Granted {
                                    lease,
                                    granted,
                                    room,
                                } => Admission::Admitted(Granted {
                                    slice: held.granted(
                                        extend.month,
                                        extend.short,
                                        lease,
                                        granted,
                                        room,
                                    ),
                                    worst: extend.short.worst(),
                                    slices: Arc::clone(&slices),
                                    kept: false,
                                }),
                                Extension::Refused(over) => {
                                    held.not_granted(extend.month, extend.short);
                                    Admission::Refused(unheld(over, target, extend.short))
                                }
                                Extension::Unlimited => {
                                    held.not_granted(extend.month, extend.short);
                                    Admission::Unlimited
                                }
                                Extension::LeaseGone(lease) => {
                                    held.lost(lease);
                                    Admission::LeaseLost
                                }
                            };
                            (extend.reply, admission)
                        })
                        .collect()
                };
                // Sent with the slices unlocked: an answer whose request gave up waiting is
                // dropped here, and gives its slice back.
                for (reply, admission) in answers {
                    drop(reply.send(Ok(admission)));
                }
                flushes.into_iter().for_each(|f| drop(f.send(Ok(()))));
            }
            Err(err) => {
                {
                    let mut slices = lock(&slices);
                    for (_, extend) in &extends {
                        slices.not_granted(extend.month, extend.short);
                    }
                }
                for (_, extend) in extends {
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

/// What a committed round came to.
struct Round {
    /// One answer per extension, in order.
    granted: Vec<Extension>,
    /// Leases found gone.
    gone: Vec<LeaseId>,
}

/// One round in one transaction: what settled and what was given back first (it makes room),
/// then the extensions in the order they were asked for.
async fn apply(
    db: &DatabaseConnection,
    holder: &str,
    pending: &Pending,
    extends: &[(Target, Extend)],
) -> Result<Round, Error> {
    let txn = begin_ledger_write(db).await?;
    let mut gone = Vec::new();
    for (slice, amount) in &pending.shrink {
        let (budget, month) = slice.month;
        if !leases::shrink_in(&txn, slice.lease, budget, month, *amount).await? {
            gone.push(slice.lease);
        }
    }
    usage::record_all(&txn, &pending.metered).await?;
    refusals::record(&txn, &pending.refused).await?;
    hits::record(&txn, &pending.hits).await?;
    if let Some(seq) = pending.seq {
        journal::mark_written_in(&txn, holder, seq).await?;
    }
    for slice in &pending.ends {
        leases::end_in(&txn, slice.lease).await?;
    }
    // Leases created by this round, for extensions of the same month that come after.
    let mut created: HashMap<Month, LeaseId> = HashMap::new();
    let mut granted = Vec::with_capacity(extends.len());
    for (target, e) in extends {
        let Take::Short { need, want, .. } = e.short else {
            continue;
        };
        let lease = match target {
            Target::Lease(lease) => lease.or_else(|| created.get(&e.month).copied()),
            Target::Lost => None,
        };
        let extension = leases::extend_in(
            &txn,
            holder,
            lease,
            Ask {
                budget: e.month.0,
                month: e.month.1,
                want,
                need,
            },
            e.at,
        )
        .await?;
        if let Extension::Granted { lease, .. } = &extension {
            created.insert(e.month, *lease);
        }
        granted.push(extension);
    }
    txn.commit().await?;
    Ok(Round { granted, gone })
}

/// A refusal as people read it: the part of this process's own lease that was set aside for
/// the refused request is unused headroom, not held by requests in flight, so it is not
/// counted as held (when the lease it came from was the one the database looked at).
fn unheld(mut over: OverBudget, target: Target, short: Take) -> OverBudget {
    if let (
        Target::Lease(Some(used)),
        Take::Short {
            lease: Some(from),
            set_aside,
            ..
        },
    ) = (target, short)
        && used == from
    {
        over.reserved = Money::from_micros(
            over.reserved
                .micros()
                .saturating_sub(set_aside.micros())
                .max(0),
        );
    }
    over
}

/// Forgets the slices of leases found gone.
fn forget(slices: &Mutex<Slices>, gone: &[LeaseId]) {
    if gone.is_empty() {
        return;
    }
    tracing::error!(
        leases = ?gone,
        "budget leases of this live process were swept; their slices are dropped"
    );
    let mut slices = lock(slices);
    gone.iter().for_each(|lease| slices.lost(*lease));
}

#[cfg(test)]
mod tests {
    use super::{Granted, Slices};
    use crate::money::Money;
    use crate::service::leases::Budget;
    use crate::service::ledger::slices::Take;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    /// A slice granted for a request whose client left before it read the answer is free again
    /// for the next request; one the request kept is not.
    #[test]
    fn a_granted_slice_nobody_keeps_is_given_back() {
        let month = (Budget::Key(crate::KeyId(3)), 202_611);
        let slices = Arc::new(Mutex::new(Slices::default()));
        let now = Instant::now();
        let grant = |slices: &Arc<Mutex<Slices>>| {
            let short = slices.lock().unwrap().take(month, Money(100), now, true);
            let slice = slices
                .lock()
                .unwrap()
                .granted(month, short, 7, Money(100), Money(0));
            Granted {
                slice,
                worst: short.worst(),
                slices: Arc::clone(slices),
                kept: false,
            }
        };
        drop(grant(&slices));
        assert!(matches!(
            slices.lock().unwrap().take(month, Money(100), now, true),
            Take::Held(_)
        ));
        // That one is held now; a grant that is kept stays held too.
        let kept = grant(&slices).keep();
        assert_eq!(kept.lease, 7);
        assert!(matches!(
            slices.lock().unwrap().take(month, Money(100), now, true),
            Take::Short { .. }
        ));
    }
}
