//! A request's hold from admission to its end: settled to the real cost when the answer is
//! complete, released otherwise — also when the request is dropped halfway (the client went
//! away, the upstream failed, the process is shutting down), so nothing stays held.

use domain::money::Money;
use domain::service::ledger::{Hold, Ledger};

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
    pub fn settle(mut self, cost: Money) {
        if let Some(hold) = self.hold.take() {
            self.ledger.settle(hold, cost);
        }
    }

    /// Gives the whole hold back: the request was not served.
    pub fn release(self) {
        drop(self);
    }
}

impl Drop for Settlement {
    fn drop(&mut self) {
        if let Some(hold) = self.hold.take() {
            self.ledger.release(hold);
        }
    }
}
