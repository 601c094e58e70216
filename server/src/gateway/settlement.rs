//! A request's hold from admission to its end. Until the upstream has accepted the request (a
//! 2xx answer) the hold can be given back whole; from then on the request is charged, whatever
//! happens: settled to the usage the upstream reported, or — when that never arrives (the
//! stream broke, the process is stopping) — to its worst case, which is never below the bill.

use domain::money::Money;
use domain::service::ledger::{Hold, Ledger};

/// Owns a [`Hold`] until it is settled or released; dropping it releases before the upstream
/// accepted the request and charges the worst case after.
pub struct Settlement {
    ledger: Ledger,
    hold: Option<Hold>,
    /// The request's worst case — also for keys without a limit, whose hold is empty but whose
    /// requests are metered all the same.
    worst: Money,
    accepted: bool,
}

impl Settlement {
    pub fn new(ledger: Ledger, hold: Hold, worst: Money) -> Self {
        Settlement {
            ledger,
            hold: Some(hold),
            worst,
            accepted: false,
        }
    }

    /// The upstream has accepted the request: it will be billed, so from now on it is charged.
    pub fn accepted(&mut self) {
        self.accepted = true;
    }

    /// Records the request at `cost` and gives back the rest of the hold.
    pub fn settle(mut self, cost: Money) {
        if let Some(hold) = self.hold.take() {
            self.ledger.settle(hold, cost);
        }
    }

    /// Records the request at what the upstream reported, or at its worst case when it did not.
    pub fn settle_to(self, cost: Option<Money>) {
        let cost = cost.unwrap_or(self.worst);
        self.settle(cost);
    }

    /// Gives the whole hold back: the upstream never accepted the request.
    pub fn release(mut self) {
        if let Some(hold) = self.hold.take() {
            self.ledger.release(hold);
        }
    }
}

impl Drop for Settlement {
    fn drop(&mut self) {
        if let Some(hold) = self.hold.take() {
            if self.accepted {
                self.ledger.settle(hold, self.worst);
            } else {
                self.ledger.release(hold);
            }
        }
    }
}
