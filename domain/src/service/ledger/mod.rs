//! The gateway's ledger: admits requests against the team's monthly limit and meters them,
//! without a database round trip in the common case (docs/architecture.md, the hard cap).
//!
//! Each process leases slices of a team's month from the database ([`crate::service::leases`]
//! — the conditional `UPDATE` that keeps spend plus reservations within the limit across
//! processes) and admits requests against its slice in memory ([`slices`]). Far from the limit
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
use crate::service::keys::KeyAuth;
use crate::service::leases::{OverBudget, is_capped};
use crate::service::usage::Metered;
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
}

/// What an admitted request holds until it is settled or released — once: it is not `Clone`,
/// so it cannot be given back twice.
#[derive(Debug)]
pub struct Hold {
    pub key: KeyId,
    pub user: UserId,
    pub team: Option<TeamId>,
    /// The worst case held (zero when no limit applies).
    pub amount: Money,
    /// When the request was admitted; its usage counts in this moment's month.
    pub at: DateTime<Utc>,
    /// The slice it was admitted from, if a limit applies.
    slice: Option<SliceRef>,
}

/// Why [`Ledger::reserve`] admitted nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReserveError {
    /// The team's month has no room for the request's worst case: what the 402 says.
    #[error("team {} has reached its monthly spend limit", .0.team)]
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
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(writer::run(
            writer::Writer {
                db,
                holder,
                slices: Arc::clone(&slices),
                journal: journal.clone(),
                renewed: Arc::clone(&renewed),
            },
            queue,
        ));
        Ledger {
            slices,
            journal,
            jobs,
            renewed,
        }
    }

    /// Admits a request whose cost can be at most `worst`.
    ///
    /// # Errors
    /// [`ReserveError::OverBudget`] when its team's month has no room for it;
    /// [`ReserveError::Store`] ([`Error::Internal`]) when the database could not be asked.
    pub async fn reserve(
        &self,
        auth: &KeyAuth,
        worst: Money,
        at: DateTime<Utc>,
    ) -> Result<Hold, ReserveError> {
        let mut hold = Hold {
            key: auth.key,
            user: auth.user,
            team: auth.team,
            amount: Money::ZERO,
            at,
            slice: None,
        };
        let Some(team) = auth.team.filter(|_| is_capped(auth)) else {
            return Ok(hold);
        };
        let month = (team, month_key(at));
        let trusted = lock(&self.renewed).elapsed() < TRUST_FOR;
        for _ in 0..TAKES {
            let taken = self.lock().take(month, worst, Instant::now(), trusted);
            let slice = match taken {
                Take::Held(slice) => slice,
                Take::Short { .. } => {
                    let (reply, answer) = oneshot::channel();
                    self.send(Job::Extend(Extend {
                        month,
                        short: taken,
                        at,
                        reply,
                    }))?;
                    match answer.await.map_err(|_| Error::internal())?? {
                        Admission::Admitted(slice) => slice,
                        Admission::Refused(over) => return Err(ReserveError::OverBudget(over)),
                        // The limit was removed since the key was read: metered, not held.
                        Admission::Unlimited => return Ok(hold),
                        Admission::LeaseLost => continue,
                    }
                }
            };
            hold.amount = worst;
            hold.slice = Some(slice);
            return Ok(hold);
        }
        tracing::error!(
            ?month,
            "budget leases kept being lost under this process's requests"
        );
        Err(Error::internal().into())
    }

    /// Records `hold`'s request at `cost` and frees the rest of what it held. Written
    /// behind: returns at once.
    pub fn settle(&self, hold: Hold, cost: Money) {
        // An upstream that bills past the output limit it was given is recorded at its word;
        // only what was held leaves the slice.
        let from_slice = hold
            .slice
            .map(|slice| (slice, Money(cost.micros().min(hold.amount.micros()))));
        if let Some((slice, spent)) = from_slice {
            self.lock().settle(slice, hold.amount, spent);
        }
        let metered = Metered {
            key: hold.key,
            user: hold.user,
            team: hold.team,
            cost,
            at: hold.at,
        };
        let sent = match &self.journal {
            // Appended and queued under one lock: the writer sees the journal's order.
            Some(journal) => {
                let mut journal = lock(journal);
                let seq = journal
                    .append(
                        &metered,
                        from_slice.map(|(slice, spent)| (slice.month, spent)),
                    )
                    .inspect_err(|e| tracing::error!("could not journal a settlement: {e}"))
                    .ok();
                self.send(Job::Settle {
                    seq,
                    from_slice,
                    metered,
                })
            }
            None => self.send(Job::Settle {
                seq: None,
                from_slice,
                metered,
            }),
        };
        if sent.is_err() {
            tracing::error!("the ledger's writer has stopped; a settled request was not recorded");
        }
    }

    /// Gives `hold` back whole: its request was not served. No database write.
    pub fn release(&self, hold: Hold) {
        if let Some(slice) = hold.slice {
            self.lock().release(slice, hold.amount);
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

/// A new ledger's id in `budget_leases` and `ledger_marks`.
fn holder() -> String {
    crate::secret::Secret::random().digest()[..32].to_owned()
}
