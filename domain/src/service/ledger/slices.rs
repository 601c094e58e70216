//! The budget this process has leased, per team and month, and what of it is free: admitting a
//! request is a subtraction under a lock. Pure bookkeeping — the writer ([`super::writer`])
//! turns what changes here into database writes.
//!
//! For each slice, `leased` is what the database holds for this process (once queued writes
//! land) and equals `free` plus the worst cases of the requests admitted from it and not yet
//! settled or released.

use crate::TeamId;
use crate::money::Money;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A slice unused this long is given back whole.
pub const IDLE: Duration = Duration::from_secs(1);

/// Extra budget is leased only while the month has at least this many worst cases free; nearer
/// the limit every request leases exactly what it needs, as a per-request reservation would.
const HEADROOM_ABOVE: i64 = 1024;
/// The extra part: this fraction of what the month has free. It is also the most one process
/// can strand: near the limit, another process may be refused while this one still holds
/// that much unused, until its next trim (at most [`IDLE`] later) gives it back.
const HEADROOM_SHARE: i64 = 64;

/// A team's month.
pub type Month = (TeamId, i32);

#[derive(Debug, Default)]
struct Slice {
    leased: i64,
    free: i64,
    in_flight: u32,
    /// The month's free room the last time the database was asked.
    room: i64,
    /// The last request's worst case, which sizes the headroom.
    worst: i64,
    used: Option<Instant>,
    /// An extension asking for headroom is on its way: others ask only for what they need,
    /// or a burst of requests would each lease a sixteenth of the month.
    extending: bool,
}

/// Every slice this process holds.
#[derive(Debug, Default)]
pub struct Slices {
    by_month: HashMap<Month, Slice>,
}

/// What admitting a request from memory came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Admitted: its worst case is now held.
    Held,
    /// The slice is short: the free part was set aside for this request; lease `need` more
    /// (and `want` if the month has room for headroom too).
    Short {
        set_aside: Money,
        need: Money,
        want: Money,
    },
}

/// A change the database must learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Give `amount` back from the slice.
    Give(Month, Money),
    /// The slice is empty and unused: end its lease.
    End(Month),
}

impl Slices {
    /// Admits a request of worst case `worst` from the slice if it has room.
    pub fn take(&mut self, month: Month, worst: Money, now: Instant) -> Take {
        let s = self.by_month.entry(month).or_default();
        s.used = Some(now);
        s.worst = worst.micros();
        if s.free >= worst.micros() {
            s.free -= worst.micros();
            s.in_flight += 1;
            return Take::Held;
        }
        let set_aside = s.free;
        s.free = 0;
        let need = worst.micros() - set_aside;
        let extra = if s.extending {
            0
        } else {
            headroom(s.room, worst.micros())
        };
        s.extending |= extra > 0;
        Take::Short {
            set_aside: Money(set_aside),
            need: Money(need),
            want: Money(need + extra),
        }
    }

    /// The database granted `granted` (at least what [`Take::Short`] needed) for the
    /// `short` request: it is admitted and the rest is free.
    pub fn granted(&mut self, month: Month, short: Take, granted: Money, room: Money) {
        let Take::Short { need, want, .. } = short else {
            return;
        };
        let s = self.by_month.entry(month).or_default();
        s.leased += granted.micros();
        s.free += granted.micros() - need.micros();
        s.in_flight += 1;
        s.room = room.micros();
        s.extending &= want == need;
    }

    /// The database had no room (or the team no limit) for the `short` request: its set-aside
    /// part is free again.
    pub fn not_granted(&mut self, month: Month, short: Take) {
        let Take::Short {
            set_aside,
            need,
            want,
        } = short
        else {
            return;
        };
        let s = self.by_month.entry(month).or_default();
        s.free += set_aside.micros();
        s.room = 0;
        s.extending &= want == need;
    }

    /// A request held `worst` and cost `cost` (≤ `worst`): the cost leaves the slice (it is
    /// spend now), the rest is free again.
    pub fn settle(&mut self, month: Month, worst: Money, cost: Money) {
        if let Some(s) = self.by_month.get_mut(&month) {
            s.leased -= cost.micros();
            s.free += worst.micros() - cost.micros();
            s.in_flight = s.in_flight.saturating_sub(1);
        }
    }

    /// A request that was not served gives its whole worst case back to the slice.
    pub fn release(&mut self, month: Month, worst: Money) {
        self.settle(month, worst, Money::ZERO);
    }

    /// Gives back what slices hold beyond what they should keep: all of it for a slice unused
    /// for [`IDLE`] (or every slice, when `all`), the excess over the headroom otherwise; ends
    /// the leases of empty, unused slices.
    pub fn trim(&mut self, now: Instant, all: bool) -> Vec<Change> {
        let mut changes = Vec::new();
        self.by_month.retain(|month, s| {
            let idle = all || s.used.is_none_or(|at| now.duration_since(at) >= IDLE);
            let keep = if idle { 0 } else { headroom(s.room, s.worst) };
            if s.free > keep {
                let give = s.free - keep;
                s.free = keep;
                s.leased -= give;
                changes.push(Change::Give(*month, Money(give)));
            }
            let ended = s.leased == 0 && s.in_flight == 0 && idle;
            if ended {
                changes.push(Change::End(*month));
            }
            !ended
        });
        changes
    }

    /// Gives back every free part at once: the limits they were leased under may have changed.
    pub fn give_back_free(&mut self) -> Vec<Change> {
        let mut changes = Vec::new();
        for (month, s) in &mut self.by_month {
            s.room = 0;
            if s.free > 0 {
                changes.push(Change::Give(*month, Money(s.free)));
                s.leased -= s.free;
                s.free = 0;
            }
        }
        changes
    }
}

/// How much more than needed to lease: a share of the room while the month has plenty.
fn headroom(room: i64, worst: i64) -> i64 {
    if worst > 0 && room >= HEADROOM_ABOVE.saturating_mul(worst) {
        room / HEADROOM_SHARE
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::{Change, Slices, Take};
    use crate::TeamId;
    use crate::money::Money;
    use std::time::{Duration, Instant};

    const M: (TeamId, i32) = (TeamId(1), 202611);

    fn short(set_aside: i64, need: i64, want: i64) -> Take {
        Take::Short {
            set_aside: Money(set_aside),
            need: Money(need),
            want: Money(want),
        }
    }

    #[test]
    fn the_first_request_leases_exactly_its_worst_case_then_headroom_once_at_a_time() {
        let mut s = Slices::default();
        let now = Instant::now();
        let first = s.take(M, Money(100), now);
        assert_eq!(first, short(0, 100, 100));
        s.granted(M, first, Money(100), Money(1_000_000));
        // The month had plenty of room: the next one asks for headroom too…
        let second = s.take(M, Money(100), now);
        assert_eq!(second, short(0, 100, 100 + 15_625));
        // …and one arriving while that is on its way asks only for itself.
        let third = s.take(M, Money(100), now);
        assert_eq!(third, short(0, 100, 100));
        s.granted(M, second, Money(15_725), Money(900_000));
        s.granted(M, third, Money(100), Money(900_000));
        for _ in 0..156 {
            assert_eq!(s.take(M, Money(100), now), Take::Held);
        }
        // 25 left over is set aside; the rest and new headroom are asked for.
        assert_eq!(s.take(M, Money(100), now), short(25, 75, 75 + 14_062));
    }

    #[test]
    fn settling_spends_the_cost_and_frees_the_rest() {
        let mut s = Slices::default();
        let now = Instant::now();
        let first = s.take(M, Money(100), now);
        s.granted(M, first, Money(100), Money(0));
        s.settle(M, Money(100), Money(30));
        // 70 came back free; near the limit nothing is kept, so all of it is given back.
        assert_eq!(s.trim(now, false), vec![Change::Give(M, Money(70))]);
        assert_eq!(
            s.trim(now + Duration::from_secs(2), false),
            vec![Change::End(M)]
        );
        assert!(s.trim(now + Duration::from_secs(3), false).is_empty());
    }

    #[test]
    fn a_short_slice_sets_its_free_part_aside_and_gets_it_back_when_refused() {
        let mut s = Slices::default();
        let now = Instant::now();
        let first = s.take(M, Money(100), now);
        s.granted(M, first, Money(100), Money(0));
        s.release(M, Money(100));
        let bigger = s.take(M, Money(150), now);
        assert_eq!(bigger, short(100, 50, 50));
        s.not_granted(M, bigger);
        assert_eq!(s.take(M, Money(100), now), Take::Held);
    }

    #[test]
    fn nothing_in_flight_is_given_back_and_a_changed_limit_returns_the_free_part() {
        let mut s = Slices::default();
        let now = Instant::now();
        let first = s.take(M, Money(100), now);
        s.granted(M, first, Money(500), Money(0));
        assert_eq!(s.give_back_free(), vec![Change::Give(M, Money(400))]);
        // The request admitted before still holds its 100, long after.
        assert!(s.trim(now + Duration::from_secs(5), false).is_empty());
        s.settle(M, Money(100), Money(100));
        assert_eq!(
            s.trim(now + Duration::from_secs(5), false),
            vec![Change::End(M)]
        );
    }
}
