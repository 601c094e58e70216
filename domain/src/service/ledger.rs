//! The gateway's bookkeeping writer: reservations, settlements and releases go through one
//! task per process that applies whatever has queued up in a single write transaction, then
//! answers each caller. One commit for many requests instead of one each, and no writers
//! fighting over SQLite's lock (whose busy handler sleeps for milliseconds). Every answer
//! still comes after its commit, so an answered request is a recorded one; the cap's check
//! is still the conditional `UPDATE` of [`reservations`], so it holds across processes.

use crate::Error;
use crate::db::begin_write;
use crate::money::Money;
use crate::service::keys::KeyAuth;
use crate::service::reservations::{self, Hold, OverBudget};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

/// Most operations applied in one transaction.
const MAX_BATCH: usize = 256;

/// A handle on the writer; cheap to clone.
#[derive(Debug, Clone)]
pub struct Ledger {
    jobs: mpsc::Sender<Job>,
}

#[derive(Debug)]
enum Op {
    Reserve {
        auth: KeyAuth,
        worst: Money,
        at: DateTime<Utc>,
    },
    Settle {
        hold: Hold,
        cost: Money,
    },
    Release {
        hold: Hold,
    },
}

type Reserved = Result<Hold, OverBudget>;

#[derive(Debug)]
struct Job {
    op: Op,
    reply: oneshot::Sender<Result<Option<Reserved>, Error>>,
}

impl Ledger {
    /// Starts the writer for `db` on the current runtime.
    pub fn start(db: DatabaseConnection) -> Self {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write(db, queue));
        Ledger { jobs }
    }

    /// [`reservations::reserve`], batched.
    ///
    /// # Errors
    /// [`Error::Internal`] on database failure.
    pub async fn reserve(
        &self,
        auth: &KeyAuth,
        worst: Money,
        at: DateTime<Utc>,
    ) -> Result<Reserved, Error> {
        if !reservations::is_capped(auth) {
            return Ok(Ok(Hold::unheld(auth, at)));
        }
        let op = Op::Reserve {
            auth: auth.clone(),
            worst,
            at,
        };
        self.submit(op).await?.ok_or_else(Error::internal)
    }

    /// [`reservations::settle`], batched.
    ///
    /// # Errors
    /// [`Error::Internal`] on database failure.
    pub async fn settle(&self, hold: Hold, cost: Money) -> Result<(), Error> {
        self.submit(Op::Settle { hold, cost }).await.map(|_| ())
    }

    /// [`reservations::release`], batched.
    ///
    /// # Errors
    /// [`Error::Internal`] on database failure.
    pub async fn release(&self, hold: Hold) -> Result<(), Error> {
        if !hold.is_held() {
            return Ok(());
        }
        self.submit(Op::Release { hold }).await.map(|_| ())
    }

    async fn submit(&self, op: Op) -> Result<Option<Reserved>, Error> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { op, reply })
            .await
            .map_err(|_| Error::internal())?;
        answer.await.map_err(|_| Error::internal())?
    }
}

/// Takes what has queued, applies it in one transaction, answers everyone; repeats.
async fn write(db: DatabaseConnection, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        match apply(&db, &jobs).await {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(err) => {
                for job in jobs {
                    let _ = job.reply.send(Err(err.clone()));
                }
            }
        }
    }
}

async fn apply(db: &DatabaseConnection, jobs: &[Job]) -> Result<Vec<Option<Reserved>>, Error> {
    let txn = begin_write(db).await?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        outcomes.push(match &job.op {
            Op::Reserve { auth, worst, at } => {
                Some(reservations::reserve_in(&txn, auth, *worst, *at).await?)
            }
            Op::Settle { hold, cost } => {
                reservations::settle_in(&txn, hold, *cost).await?;
                None
            }
            Op::Release { hold } => {
                reservations::release_in(&txn, hold).await?;
                None
            }
        });
    }
    txn.commit().await?;
    Ok(outcomes)
}
