//! The gateway's ledger: admits requests against every monthly budget that applies — the key's,
//! its owner's as a member, the team's — and meters them, without a database round trip in the
//! common case (docs/architecture.md, the hard cap).
//!
//! Each process leases slices of a budget's month from the database ([`crate::service::leases`]
//! — the conditional `UPDATE` that keeps spend plus reservations within the limit across
//! processes) and admits requests against its slices in memory ([`slices`]): a request takes its
//! worst case from the slice of each of its budgets, and gives back what it took when one
//! refuses. Far from the limit
//! (over 1,024 worst cases free) a slice carries headroom — 1/64 of what is free — so most
//! requests never wait for the database; nearer, every request leases exactly its worst case,
//! as a per-request reservation would. Settlements are
//! written behind, in batches, by one task ([`writer`]) — first appended to a local journal
//! ([`journal`]) when there is one, so a killed process loses none; a changed limit or access
//! (the access epoch) gives every free part back at once.
//!
//! A lease found gone (swept by another process that took this one for dead) takes its slice
//! with it: nothing more is admitted from it, and what its requests settle is spend only — the
//! sweep already gave their reservation back. A process that has not renewed its leases for
//! [`TRUST_FOR`] admits nothing from memory until it has.

mod journal;
mod slices;
mod writer;

pub use writer::RENEW_EVERY;

use crate::money::Money;
use crate::service::guardrails::hits::Hits;
use crate::service::keys::KeyAuth;
use crate::service::leases::{Budget, OverBudget, budgets_of};
use crate::service::refusals::{Refusal, Tally};
use crate::service::usage::{Metered, Served};
use crate::service::{lock, month_key};
use crate::{Error, KeyId, TeamId, UserId};
use chrono::{DateTime, Utc};
use journal::Journal;
use sea_orm::DatabaseConnection;
use slices::{SliceRef, Slices, Take};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use writer::{Admission, Extend, Job};

/// A lease not renewed for this long (by the database's clock) belongs to a process that died;
/// the sweep gives it back.
pub const STALE_AFTER: Duration = Duration::from_secs(60);

/// A process that has not renewed its leases for this long stops admitting from memory: they
/// may be swept soon, so every request asks the database until a renewal succeeds again.
pub const TRUST_FOR: Duration = Duration::from_secs(30);

/// How many times a request whose lease was lost under it takes again.
const TAKES: usize = 3;

/// A handle on this process's ledger; cheap to clone.
#[derive(Debug, Clone)]
pub struct Ledger {
    slices: Arc<Mutex<Slices>>,
    journal: Option<Arc<Mutex<Journal>>>,
    jobs: mpsc::UnboundedSender<Job>,
    /// When this process's leases were last renewed.
    renewed: Arc<Mutex<Instant>>,
    /// Refusals counted since the writer last took them.
    refused: Arc<Mutex<Tally>>,
    /// Guardrail hits counted since the writer last took them.
    hits: Arc<Mutex<Hits>>,
}

/// What an admitted request holds until it is settled or released — once: it is not `Clone`,
/// so it cannot be given back twice.
#[derive(Debug)]
pub struct Hold {
    pub key: KeyId,
    pub user: UserId,
    pub team: Option<TeamId>,
    /// The worst case held in each of its budgets (zero when none applies).
    pub amount: Money,
    /// When the request was admitted; its usage counts in this moment's month.
    pub at: DateTime<Utc>,
    /// The slices it was admitted from, one per budget that applies.
    slices: Vec<SliceRef>,
}

/// Why [`Ledger::reserve`] admitted nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReserveError {
    /// A budget's month has no room for the request's worst case: what the 402 says.
    #[error("{} has reached its monthly budget", .0.name)]
    OverBudget(OverBudget),
    /// The database could not be asked, or the ledger cannot admit now (logged).
    #[error(transparent)]
    Store(#[from] Error),
}

impl Ledger {
    /// Starts the writer for `db` on the current runtime, without a journal: settlements not
    /// yet written when the process is killed are lost.
    pub fn start(db: DatabaseConnection) -> Self {
        Self::spawn(db, holder(), None)
    }

    /// Starts the writer with a settlement journal at `path`, first replaying what a killed
    /// process left in it. Without a journal when another live process holds that file.
    ///
    /// # Errors
    /// [`Error::Internal`] when the file cannot be used or the replay cannot be written.
    pub async fn start_journaled(db: DatabaseConnection, path: &Path) -> Result<Self, Error> {
        let holder = holder();
        let journal = Journal::open(&db, path, &holder).await?;
        if journal.is_none() {
            tracing::warn!(
                path = %path.display(),
                "another process holds the settlement journal; this one writes behind without one"
            );
        }
        Ok(Self::spawn(db, holder, journal))
    }

    fn spawn(db: DatabaseConnection, holder: String, journal: Option<Journal>) -> Self {
        let slices = Arc::new(Mutex::new(Slices::default()));
        let journal = journal.map(|j| Arc::new(Mutex::new(j)));
        let renewed = Arc::new(Mutex::new(Instant::now()));
        let refused = Arc::new(Mutex::new(Tally::default()));
        let hits = Arc::new(Mutex::new(Hits::default()));
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(writer::run(
            writer::Writer {
                db,
                holder,
                slices: Arc::clone(&slices),
                journal: journal.clone(),
                renewed: Arc::clone(&renewed),
                refused: Arc::clone(&refused),
                hits: Arc::clone(&hits),
            },
            queue,
        ));
        Ledger {
            slices,
            journal,
            jobs,
            renewed,
            refused,
            hits,
        }
    }

    /// Admits a request whose cost can be at most `worst`: its worst case is held in each of
    /// its budgets' months, or in none.
    ///
    /// # Errors
    /// [`ReserveError::OverBudget`] for the first of its budgets whose month has no room for it;
    /// [`ReserveError::Store`] ([`Error::Internal`]) when the database could not be asked.
    pub async fn reserve(
        &self,
        auth: &KeyAuth,
        worst: Money,
        at: DateTime<Utc>,
    ) -> Result<Hold, ReserveError> {
        let budgets = budgets_of(auth);
        // Given back if this request is refused, fails, or is dropped while it waits.
        let mut taking = Taking {
            ledger: self,
            worst,
            slices: Vec::with_capacity(budgets.len()),
        };
        let month = month_key(at);
        for budget in budgets {
            if let Some(slice) = self.take((budget, month), worst, at).await? {
                taking.slices.push(slice);
            }
        }
        let slices = taking.done();
        Ok(Hold {
            key: auth.key,
            user: auth.user,
            team: auth.team,
            amount: if slices.is_empty() {
                Money::ZERO
            } else {
                worst
            },
            at,
            slices,
        })
    }

    /// Holds `worst` in one budget's month: from this process's slice, or leased for it.
    /// `None` when the budget has no limit any more (metered, not held).
    async fn take(
        &self,
        month: (Budget, i32),
        worst: Money,
        at: DateTime<Utc>,
    ) -> Result<Option<SliceRef>, ReserveError> {
        let trusted = lock(&self.renewed).elapsed() < TRUST_FOR;
        for _ in 0..TAKES {
            let taken = match self.lock().take(month, worst, Instant::now(), trusted) {
                Take::Held(slice) => return Ok(Some(slice)),
                short => short,
            };
            let (reply, answer) = oneshot::channel();
            self.send(Job::Extend(Extend {
                month,
                short: taken,
                at,
                reply,
            }))?;
            match answer.await.map_err(|_| Error::internal())?? {
                Admission::Admitted(granted) => return Ok(Some(granted.keep())),
                Admission::Refused(over) => return Err(ReserveError::OverBudget(over)),
                Admission::Unlimited => return Ok(None),
                Admission::LeaseLost => {}
            }
        }
        tracing::error!(
            ?month,
            "budget leases kept being lost under this process's requests"
        );
        Err(Error::internal().into())
    }

    /// Records `hold`'s request at `cost` — `served` says what it was — and frees the rest of
    /// what it held. Written behind: returns at once.
    pub fn settle(&self, hold: Hold, cost: Money, served: Served) {
        // An upstream that bills past the output limit it was given is recorded at its word;
        // only what was held leaves the slices.
        let spent = Money(cost.micros().min(hold.amount.micros()));
        let from_slices: Vec<(SliceRef, Money)> =
            hold.slices.iter().map(|slice| (*slice, spent)).collect();
        {
            let mut slices = self.lock();
            for (slice, spent) in &from_slices {
                slices.settle(*slice, hold.amount, *spent);
            }
        }
        let metered = Metered {
            key: hold.key,
            user: hold.user,
            team: hold.team,
            cost,
            at: hold.at,
            served,
        };
        let sent = match &self.journal {
            // Appended and queued under one lock: the writer sees the journal's order.
            Some(journal) => {
                let mut journal = lock(journal);
                let seq = journal
                    .append(&metered)
                    .inspect_err(|e| tracing::error!("could not journal a settlement: {e}"))
                    .ok();
                self.send(Job::Settle {
                    seq,
                    from_slices,
                    metered,
                })
            }
            None => self.send(Job::Settle {
                seq: None,
                from_slices,
                metered,
            }),
        };
        if sent.is_err() {
            tracing::error!("the ledger's writer has stopped; a settled request was not recorded");
        }
    }

    /// Counts a refused request, in memory: the writer adds the count with its next round.
    pub fn refused(&self, refusal: Refusal) {
        lock(&self.refused).add(refusal);
    }

    /// Counts a request guardrail `rule` matched, in memory, as [`Ledger::refused`].
    pub fn guardrail_hit(&self, rule: i64, at: DateTime<Utc>) {
        lock(&self.hits).add(rule, at);
    }

    /// Gives `hold` back whole: its request was not served. No database write.
    pub fn release(&self, hold: Hold) {
        let mut slices = self.lock();
        for slice in hold.slices {
            slices.release(slice, hold.amount);
        }
    }

    /// Limits or access changed: slices leased under the old ones are given back, so the next
    /// request is admitted under the new.
    pub fn limits_changed(&self) {
        let changes = self.lock().give_back_free();
        if !changes.is_empty() && self.send(Job::Changes(changes)).is_err() {
            tracing::error!("the ledger's writer has stopped");
        }
    }

    /// Gives back every slice not in use and waits until everything settled so far is written:
    /// for shutdown and tests.
    ///
    /// # Errors
    /// [`Error::Internal`] when the database write failed.
    pub async fn flush(&self) -> Result<(), Error> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Flush(reply))?;
        answer.await.map_err(|_| Error::internal())?
    }

    fn send(&self, job: Job) -> Result<(), Error> {
        self.jobs.send(job).map_err(|_| Error::internal())
    }

    fn lock(&self) -> MutexGuard<'_, Slices> {
        lock(&self.slices)
    }
}

/// A hold being gathered budget by budget: whatever it took is given back unless it is
/// [`done`](Taking::done) — a request refused by a later budget, or whose client left while it
/// waited for the database, strands nothing in the earlier ones.
struct Taking<'a> {
    ledger: &'a Ledger,
    worst: Money,
    slices: Vec<SliceRef>,
}

impl Taking<'_> {
    fn done(mut self) -> Vec<SliceRef> {
        std::mem::take(&mut self.slices)
    }
}

impl Drop for Taking<'_> {
    fn drop(&mut self) {
        let mut slices = self.ledger.lock();
        for slice in self.slices.drain(..) {
            slices.release(slice, self.worst);
        }
    }
}

/// A new ledger's id in `budget_leases` and `ledger_marks`.
fn holder() -> String {
    crate::secret::Secret::random().digest()[..32].to_owned()
}
