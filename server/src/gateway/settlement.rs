//! A request's reservation from admission to its end: settled to the real cost when the answer
//! is complete, released otherwise — also when the request is dropped halfway (the client went
//! away, the upstream failed, the process is shutting down), so nothing stays held.

use domain::money::Money;
use domain::service::ledger::Ledger;
use domain::service::reservations::Hold;

/// Owns a [`Hold`] until it is settled or released; dropping it releases.
pub struct Settlement {
    ledger: Ledger,
    hold: Option<Hold>,
}

impl Settlement {
    pub fn new(ledger: Ledger, hold: Hold) -> Self {
        Settlement {
            ledger,
            hold: Some(hold),
        }
    }

    /// The most this request may cost.
    pub fn worst_case(&self) -> Money {
        self.hold.as_ref().map_or(Money::ZERO, |h| h.amount)
    }

    /// Records the request at `cost` and gives back the rest of the hold.
    pub async fn settle(mut self, cost: Money) {
        if let Some(hold) = self.hold.take()
            && let Err(err) = self.ledger.settle(hold, cost).await
        {
            tracing::error!(
                ?err,
                "settling a request failed; its hold stays until swept"
            );
        }
    }

    /// Gives the whole hold back: the request was not served.
    pub async fn release(mut self) {
        if let Some(hold) = self.hold.take() {
            release_logged(&self.ledger, hold).await;
        }
    }
}

impl Drop for Settlement {
    fn drop(&mut self) {
        let Some(hold) = self.hold.take() else {
            return;
        };
        let ledger = self.ledger.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { release_logged(&ledger, hold).await });
            }
            Err(_) => tracing::warn!("no runtime to release a hold; it stays until swept"),
        }
    }
}

async fn release_logged(ledger: &Ledger, hold: Hold) {
    if let Err(err) = ledger.release(hold).await {
        tracing::error!(?err, "releasing a hold failed; it stays until swept");
    }
}
