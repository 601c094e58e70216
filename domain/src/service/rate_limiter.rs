//! Requests and tokens per minute, admitted in this process's memory: one token bucket per key
//! or team and measure, holding up to a minute's allowance and refilling it evenly over the
//! minute. A limit of 60 requests per minute admits a burst of 60, then one a second. A request
//! takes from every bucket that applies or from none; the tokens it took on its worst case are
//! held until it is settled, then given back as far as it did not use them. A bucket never
//! refills past its limit less what requests in flight hold, so what is free and what is held
//! together never pass the limit.
//!
//! Each process keeps its own buckets. Over any span of `t` seconds one process admits at most
//! `L + L·t/60` against a limit of `L`; `n` processes at most `n` times that.

use crate::{KeyId, TeamId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Whose limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Holder {
    Key(KeyId),
    Team(TeamId),
}

impl Holder {
    /// How a refusal names it.
    pub fn noun(self) -> &'static str {
        match self {
            Holder::Key(_) => "key",
            Holder::Team(_) => "team",
        }
    }
}

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    Requests,
    Tokens,
}

impl Measure {
    /// As OpenAI's headers and error `type` name it.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Requests => "requests",
            Measure::Tokens => "tokens",
        }
    }
}

/// One limit that applies to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub holder: Holder,
    pub measure: Measure,
    pub per_minute: u64,
}

/// Where a request leaves one measure: the tightest limit of that measure that applies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standing {
    pub limit: u64,
    pub remaining: u64,
    /// Until the bucket is full again.
    pub reset: Duration,
}

/// An admitted request: its standing for the headers, and what it took of the token buckets.
#[derive(Debug)]
pub struct Admitted {
    pub requests: Option<Standing>,
    pub tokens: Option<Standing>,
    pub ticket: Ticket,
}

/// The tokens a request took, to give back what it did not use.
#[derive(Debug, Default)]
pub struct Ticket {
    /// The tokens-per-minute limits it took from.
    limits: Vec<Limit>,
    tokens: u64,
}

impl Ticket {
    /// The tokens held (its worst case), or 0 when no token limit applies.
    pub fn tokens(&self) -> u64 {
        if self.limits.is_empty() {
            0
        } else {
            self.tokens
        }
    }
}

/// A [`Ticket`] with the limiter it came from, given back when dropped: a request that ends
/// however it ends — refused later, or dropped while it waits because its client hung up —
/// holds nothing any more. Dropped unsettled it used none of its tokens.
#[derive(Debug)]
pub struct TokensHeld {
    rates: Arc<RateLimiter>,
    ticket: Option<Ticket>,
}

impl TokensHeld {
    /// What `ticket` holds of `rates`; `None` when it holds nothing (no token limit applies).
    pub fn of(rates: &Arc<RateLimiter>, ticket: Ticket) -> Option<Self> {
        (ticket.tokens() > 0).then(|| TokensHeld {
            rates: Arc::clone(rates),
            ticket: Some(ticket),
        })
    }

    /// The same worst case held once more, for sending the request to a second target when
    /// the first may bill for it too; `None` when the limits have no room for it now.
    pub fn again(&self) -> Option<TokensHeld> {
        let ticket = self.ticket.as_ref()?;
        let admitted = self
            .rates
            .admit(&ticket.limits, ticket.tokens, Instant::now())
            .ok()?;
        Some(TokensHeld {
            rates: Arc::clone(&self.rates),
            ticket: Some(admitted.ticket),
        })
    }

    /// Settles it: the request used `used` tokens ([`RateLimiter::give_back`]).
    pub fn give_back(mut self, used: u64) {
        if let Some(ticket) = self.ticket.take() {
            self.rates.give_back(ticket, used);
        }
    }
}

impl Drop for TokensHeld {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.rates.give_back(ticket, 0);
        }
    }
}

/// A refused request.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// The limit that refused it (the one that frees up last).
    pub limit: Limit,
    /// What the request needed of it: 1 request, or its worst case in tokens.
    pub requested: u64,
    /// What is left of it now.
    pub remaining: u64,
    /// When trying again will be admitted as far as this process's limits go; `None` when the
    /// request needs more than the limit allows in a minute, so it never will.
    pub retry_after: Option<Duration>,
    pub requests: Option<Standing>,
    pub tokens: Option<Standing>,
}

#[derive(Debug)]
struct Bucket {
    capacity: u64,
    /// Free now.
    level: f64,
    /// Taken by requests not yet settled (tokens only).
    held: f64,
    at: Instant,
}

impl Bucket {
    fn full(capacity: u64, now: Instant) -> Self {
        Bucket {
            capacity,
            level: capacity as f64,
            held: 0.0,
            at: now,
        }
    }

    /// The most that may be free: the limit less what requests in flight hold.
    fn room(&self) -> f64 {
        (self.capacity as f64 - self.held).max(0.0)
    }

    fn per_second(&self) -> f64 {
        self.capacity as f64 / 60.0
    }

    /// Refills to `now` under limit `capacity` (a changed limit never adds to what is left).
    fn refill(&mut self, capacity: u64, now: Instant) {
        if capacity != self.capacity {
            self.capacity = capacity;
            self.level = self.level.min(self.room());
        }
        if now > self.at {
            let gained = (now - self.at).as_secs_f64() * self.per_second();
            self.level = (self.level + gained).min(self.room());
            self.at = now;
        }
    }

    fn standing(&self) -> Standing {
        Standing {
            limit: self.capacity,
            remaining: self.level.max(0.0).floor() as u64,
            reset: Duration::from_secs_f64(
                ((self.room() - self.level) / self.per_second()).max(0.0),
            ),
        }
    }

    fn wait_for(&self, amount: u64) -> Option<Duration> {
        (amount <= self.capacity).then(|| {
            Duration::from_secs_f64(((amount as f64 - self.level) / self.per_second()).max(0.0))
        })
    }
}

/// Buckets are dropped once full again (an idle holder's is as good as new) when there are more
/// than this many.
const PRUNE_AT: usize = 4_096;

/// This process's buckets.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<Buckets>,
}

#[derive(Debug, Default)]
struct Buckets {
    map: HashMap<(Holder, Measure), Bucket>,
    prune_at: usize,
}

impl RateLimiter {
    /// Admits a request of `tokens` (its worst case) under every limit in `limits`, taking from
    /// all of them, or refuses it and takes nothing.
    ///
    /// # Errors
    /// [`Refused`] naming the limit that frees up last.
    pub fn admit(
        &self,
        limits: &[Limit],
        tokens: u64,
        now: Instant,
    ) -> Result<Admitted, Box<Refused>> {
        if limits.is_empty() {
            return Ok(Admitted {
                requests: None,
                tokens: None,
                ticket: Ticket::default(),
            });
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets.prune(now);
        let amount = |m: Measure| match m {
            Measure::Requests => 1,
            Measure::Tokens => tokens,
        };
        for limit in limits {
            buckets
                .map
                .entry((limit.holder, limit.measure))
                .or_insert_with(|| Bucket::full(limit.per_minute, now))
                .refill(limit.per_minute, now);
        }
        fn bucket<'a>(b: &'a Buckets, l: &Limit) -> &'a Bucket {
            &b.map[&(l.holder, l.measure)]
        }
        // The refusing limit that frees up last (never, for one too small to ever admit it).
        let refusal = limits
            .iter()
            .filter(|l| bucket(&buckets, l).level < amount(l.measure) as f64)
            .max_by(|a, b| {
                let wait = |l: &Limit| bucket(&buckets, l).wait_for(amount(l.measure));
                match (wait(a), wait(b)) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (Some(x), Some(y)) => x.cmp(&y),
                }
            });
        if let Some(limit) = refusal {
            let b = bucket(&buckets, limit);
            return Err(Box::new(Refused {
                limit: *limit,
                requested: amount(limit.measure),
                remaining: b.standing().remaining,
                retry_after: b.wait_for(amount(limit.measure)),
                requests: buckets.tightest(limits, Measure::Requests),
                tokens: buckets.tightest(limits, Measure::Tokens),
            }));
        }
        let mut ticket = Ticket {
            limits: Vec::new(),
            tokens,
        };
        for limit in limits {
            if let Some(b) = buckets.map.get_mut(&(limit.holder, limit.measure)) {
                b.level -= amount(limit.measure) as f64;
                if limit.measure == Measure::Tokens {
                    b.held += tokens as f64;
                }
            }
            if limit.measure == Measure::Tokens {
                ticket.limits.push(*limit);
            }
        }
        Ok(Admitted {
            requests: buckets.tightest(limits, Measure::Requests),
            tokens: buckets.tightest(limits, Measure::Tokens),
            ticket,
        })
    }

    /// Settles `ticket`: the request used `used` tokens (0 for one the upstream never took), so
    /// the rest of what it held is free again and what it used refills with time.
    pub fn give_back(&self, ticket: Ticket, used: u64) {
        if ticket.limits.is_empty() {
            return;
        }
        let unused = ticket.tokens.saturating_sub(used);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        for limit in ticket.limits {
            if let Some(b) = buckets.map.get_mut(&(limit.holder, Measure::Tokens)) {
                b.held = (b.held - ticket.tokens as f64).max(0.0);
                b.level = (b.level + unused as f64).min(b.room());
            }
        }
    }
}

impl Buckets {
    /// The limit of `measure` with the least left, among `limits`.
    fn tightest(&self, limits: &[Limit], measure: Measure) -> Option<Standing> {
        limits
            .iter()
            .filter(|l| l.measure == measure)
            .filter_map(|l| self.map.get(&(l.holder, l.measure)))
            .map(Bucket::standing)
            .min_by_key(|s| s.remaining)
    }

    fn prune(&mut self, now: Instant) {
        if self.map.len() <= self.prune_at.max(PRUNE_AT) {
            return;
        }
        self.map.retain(|_, b| {
            let capacity = b.capacity;
            b.refill(capacity, now);
            b.held > 0.0 || b.level < capacity as f64
        });
        self.prune_at = self.map.len() * 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: Holder = Holder::Key(KeyId(1));
    const TEAM: Holder = Holder::Team(TeamId(7));

    fn limit(holder: Holder, measure: Measure, per_minute: u64) -> Limit {
        Limit {
            holder,
            measure,
            per_minute,
        }
    }

    #[test]
    fn a_minutes_allowance_is_admitted_at_once_then_one_at_a_time() {
        let rates = RateLimiter::default();
        let start = Instant::now();
        let rpm = [limit(KEY, Measure::Requests, 60)];
        for n in 0..60 {
            let ok = rates.admit(&rpm, 0, start).unwrap();
            assert_eq!(ok.requests.unwrap().remaining, 59 - n);
        }
        let refused = rates.admit(&rpm, 0, start).unwrap_err();
        assert_eq!(refused.limit, rpm[0]);
        assert_eq!(refused.retry_after, Some(Duration::from_secs(1)));
        // Honouring the wait is admitted; one more at once is not.
        let later = start + Duration::from_secs(1);
        rates.admit(&rpm, 0, later).unwrap();
        assert!(rates.admit(&rpm, 0, later).is_err());
    }

    #[test]
    fn every_limit_takes_or_none_does() {
        let rates = RateLimiter::default();
        let now = Instant::now();
        let limits = [
            limit(KEY, Measure::Requests, 100),
            limit(TEAM, Measure::Tokens, 1_000),
        ];
        rates.admit(&limits, 600, now).unwrap();
        let refused = rates.admit(&limits, 600, now).unwrap_err();
        assert_eq!(refused.limit.holder, TEAM);
        assert_eq!(refused.remaining, 400);
        // The refused request took no request from the key.
        assert_eq!(refused.requests.unwrap().remaining, 99);
        let fits = rates.admit(&limits, 400, now).unwrap();
        assert_eq!(fits.tokens.unwrap().remaining, 0);
        assert_eq!(fits.requests.unwrap().remaining, 98);
    }

    #[test]
    fn unused_tokens_come_back() {
        let rates = RateLimiter::default();
        let now = Instant::now();
        let tpm = [limit(KEY, Measure::Tokens, 1_000)];
        let first = rates.admit(&tpm, 800, now).unwrap();
        assert!(rates.admit(&tpm, 500, now).is_err());
        rates.give_back(first.ticket, 100);
        let second = rates.admit(&tpm, 500, now).unwrap();
        assert_eq!(second.tokens.unwrap().remaining, 400);
    }

    #[test]
    fn what_requests_in_flight_hold_does_not_refill() {
        let rates = RateLimiter::default();
        let start = Instant::now();
        let tpm = [limit(KEY, Measure::Tokens, 1_000)];
        let first = rates.admit(&tpm, 1_000, start).unwrap().ticket;
        // A minute later the first request still holds its tokens: nothing is free.
        let later = start + Duration::from_secs(60);
        assert!(rates.admit(&tpm, 1, later).is_err());
        // Settled having used none, they are free again — once.
        rates.give_back(first, 0);
        rates.admit(&tpm, 1_000, later).unwrap();
        assert!(rates.admit(&tpm, 1, later).is_err());
    }

    #[test]
    fn a_request_larger_than_a_minute_never_fits() {
        let rates = RateLimiter::default();
        let refused = rates
            .admit(&[limit(KEY, Measure::Tokens, 1_000)], 1_001, Instant::now())
            .unwrap_err();
        assert_eq!(refused.retry_after, None);
        assert_eq!(refused.requested, 1_001);
    }

    #[test]
    fn a_lowered_limit_applies_at_once() {
        let rates = RateLimiter::default();
        let now = Instant::now();
        rates
            .admit(&[limit(KEY, Measure::Requests, 100)], 0, now)
            .unwrap();
        let lowered = [limit(KEY, Measure::Requests, 2)];
        rates.admit(&lowered, 0, now).unwrap();
        rates.admit(&lowered, 0, now).unwrap();
        assert!(rates.admit(&lowered, 0, now).is_err());
    }

    #[test]
    fn idle_buckets_are_forgotten() {
        let rates = RateLimiter::default();
        let now = Instant::now();
        for id in 0..=PRUNE_AT as i64 {
            let l = [limit(Holder::Key(KeyId(id)), Measure::Requests, 10)];
            rates.admit(&l, 0, now).unwrap();
        }
        let later = now + Duration::from_secs(60);
        rates
            .admit(&[limit(KEY, Measure::Requests, 10)], 0, later)
            .unwrap();
        assert!(rates.buckets.lock().unwrap().map.len() < 10);
    }
}
