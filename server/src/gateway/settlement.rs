//! A request's hold from admission to its end. Until the upstream has accepted the request (a
//! 2xx answer) the hold can be given back whole; from then on the request is charged, whatever
//! happens: settled to the usage the upstream reported, or — when that never arrives (the
//! stream broke, the process is stopping) — to its worst case, which is never below the bill.
//! The tokens it held of a tokens-per-minute limit go back the same way: what it did not use.

use chrono::Utc;
use domain::money::Money;
use domain::pricing::{Price, Usage};
use domain::service::keys::KeyAuth;
use domain::service::ledger::{Hold, Ledger};
use domain::service::rate_limiter::TokensHeld;
use domain::service::usage::Served;
use std::sync::Arc;

/// Owns a [`Hold`] until it is settled or released; dropping it releases before the upstream
/// accepted the request and charges the worst case after.
pub struct Settlement {
    ledger: Ledger,
    hold: Option<Hold>,
    /// The request's worst case — also for keys without a limit, whose hold is empty but whose
    /// requests are metered all the same.
    worst: Money,
    /// What it holds of tokens-per-minute limits, if any applies.
    tokens: Option<TokensHeld>,
    /// The model the client asked for, as metered.
    model: Arc<str>,
    accepted: bool,
}

impl Settlement {
    pub fn new(
        ledger: Ledger,
        hold: Hold,
        worst: Money,
        tokens: Option<TokensHeld>,
        model: Arc<str>,
    ) -> Self {
        Settlement {
            ledger,
            hold: Some(hold),
            worst,
            tokens,
            model,
            accepted: false,
        }
    }

    /// The upstream has accepted the request: it will be billed, so from now on it is charged.
    pub fn accepted(&mut self) {
        self.accepted = true;
    }

    /// A hold of the same worst case for sending the request to another target, when the one
    /// it went to may have worked on it (and so bill it): that one stays charged at its worst
    /// case when this is dropped, in its budgets and in the tokens it holds of per-minute
    /// limits, and the new one holds both again. `None` when a budget of `auth` or a
    /// tokens-per-minute limit has no room for a second worst case.
    pub async fn again(&mut self, auth: &KeyAuth) -> Option<Settlement> {
        let tokens = match &self.tokens {
            Some(held) => Some(held.again()?),
            None => None,
        };
        let hold = self
            .ledger
            .reserve(auth, self.worst, Utc::now())
            .await
            .ok()?;
        Some(Settlement {
            ledger: self.ledger.clone(),
            hold: Some(hold),
            worst: self.worst,
            tokens,
            model: Arc::clone(&self.model),
            accepted: false,
        })
    }

    /// Records the request at what the upstream reported (`usage` at `price`), giving back the
    /// tokens it did not use; at its worst case, keeping them all, when it did not report.
    pub fn settle_to(mut self, usage: Option<Usage>, price: Price) {
        let used = usage.map_or(u64::MAX, |u| {
            u.prompt_tokens.saturating_add(u.completion_tokens)
        });
        self.give_back_tokens(used);
        let cost = usage.map_or(self.worst, |u| price.cost(u));
        let served = Served {
            model: Arc::clone(&self.model),
            tokens_in: usage.map_or(0, |u| u.prompt_tokens),
            tokens_out: usage.map_or(0, |u| u.completion_tokens),
        };
        if let Some(hold) = self.hold.take() {
            self.ledger.settle(hold, cost, served);
        }
    }

    /// Gives the whole hold back: the upstream never accepted the request.
    pub fn release(mut self) {
        self.give_back_tokens(0);
        if let Some(hold) = self.hold.take() {
            self.ledger.release(hold);
        }
    }

    fn give_back_tokens(&mut self, used: u64) {
        if let Some(tokens) = self.tokens.take() {
            tokens.give_back(used);
        }
    }
}

impl Drop for Settlement {
    fn drop(&mut self) {
        if let Some(hold) = self.hold.take() {
            if self.accepted {
                self.give_back_tokens(u64::MAX);
                let served = Served {
                    model: Arc::clone(&self.model),
                    ..Served::default()
                };
                self.ledger.settle(hold, self.worst, served);
            } else {
                self.give_back_tokens(0);
                self.ledger.release(hold);
            }
        }
    }
}
