//! The budget this process has leased, per budget (a team's, member's or key's) and month, and what of it is free: admitting a
//! request is a subtraction under a lock. Pure bookkeeping — the writer ([`super::writer`])
//! turns what changes here into database writes.
//!
//! For each slice, `leased` is what the database holds for this process (once queued writes
//! land) and equals `free` plus the worst cases of the requests admitted from it and not yet
//! settled or released.

use crate::money::Money;
use crate::service::leases::Budget;
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

/// A budget's month.
pub type Month = (Budget, i32);

/// A budget lease's id in the database.
pub type LeaseId = i64;

/// Where an admitted request's worst case is held: a month's slice under one lease. A lease
/// that was lost (swept by another process) takes its slice with it; requests admitted from it
/// then touch neither the slice that replaces it nor the new lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SliceRef {
    pub month: Month,
    pub lease: LeaseId,
}

#[derive(Debug, Default)]
struct Slice {
    /// The lease in the database, once one was granted.
    lease: Option<LeaseId>,
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
    /// Admitted: its worst case is now held under this lease.
    Held(SliceRef),
    /// The slice (under `lease`, when it had one) is short: its free part was set aside for this
    /// request; lease `need` more (and `want` if the month has room for headroom too).
    Short {
        lease: Option<LeaseId>,
        set_aside: Money,
        need: Money,
        want: Money,
    },
}

impl Take {
    /// The worst case of the request it was taken for.
    pub fn worst(self) -> Money {
        match self {
            Take::Held(_) => Money::ZERO,
            Take::Short {
                set_aside, need, ..
            } => Money(set_aside.micros() + need.micros()),
        }
    }
}

/// A change the database must learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Give `amount` back from the lease.
    Give(SliceRef, Money),
    /// The slice is empty and unused: end its lease.
    End(SliceRef),
}

/// Which lease an extension of a short slice must grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// This one, or a new one when `None`.
    Lease(Option<LeaseId>),
    /// The lease the request was short under is gone: take again.
    Lost,
}

impl Slices {
    /// Admits a request of worst case `worst` from the slice if it has room. With `trusted`
    /// false (this process has not renewed its leases lately, so they may have been swept)
    /// nothing is taken from memory: the request asks the database for all of it.
    pub fn take(&mut self, month: Month, worst: Money, now: Instant, trusted: bool) -> Take {
        let s = self.by_month.entry(month).or_default();
        s.used = Some(now);
        s.worst = worst.micros();
        if !trusted {
            return Take::Short {
                lease: s.lease,
                set_aside: Money::ZERO,
                need: worst,
                want: worst,
            };
        }
        if let Some(lease) = s.lease
            && s.free >= worst.micros()
        {
            s.free -= worst.micros();
            s.in_flight += 1;
            return Take::Held(SliceRef { month, lease });
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
            lease: s.lease,
            set_aside: Money(set_aside),
            need: Money(need),
            want: Money(need + extra),
        }
    }

    /// The lease to grow for a request that was `short` in `month`.
    pub fn target(&self, month: Month, short: Take) -> Target {
        let Take::Short { lease: asked, .. } = short else {
            return Target::Lost;
        };
        let current = self.by_month.get(&month).and_then(|s| s.lease);
        match (asked, current) {
            (None, current) => Target::Lease(current),
            (Some(asked), Some(current)) if asked == current => Target::Lease(Some(current)),
            _ => Target::Lost,
        }
    }

    /// The database granted `granted` under `lease` (at least what [`Take::Short`] needed) for
    /// the `short` request: it is admitted there and the rest is free.
    pub fn granted(
        &mut self,
        month: Month,
        short: Take,
        lease: LeaseId,
        granted: Money,
        room: Money,
    ) -> SliceRef {
        let s = self.by_month.entry(month).or_default();
        if let Take::Short { need, want, .. } = short {
            s.lease = Some(lease);
            s.leased += granted.micros();
            s.free += granted.micros() - need.micros();
            s.in_flight += 1;
            s.room = room.micros();
            s.extending &= want == need;
        }
        SliceRef { month, lease }
    }

    /// The database had no room (or the team no limit) for the `short` request: its set-aside
    /// part is free again — if the lease it came from is still this slice's.
    pub fn not_granted(&mut self, month: Month, short: Take) {
        let Take::Short {
            lease,
            set_aside,
            need,
            want,
        } = short
        else {
            return;
        };
        let Some(s) = self.by_month.get_mut(&month) else {
            return;
        };
        if s.lease == lease {
            s.free += set_aside.micros();
        }
        s.room = 0;
        s.extending &= want == need;
    }

    /// A request held `worst` and cost `cost` (≤ `worst`): the cost leaves the slice (it is
    /// spend now), the rest is free again. Nothing, when its lease was lost.
    pub fn settle(&mut self, slice: SliceRef, worst: Money, cost: Money) {
        if let Some(s) = self.by_month.get_mut(&slice.month)
            && s.lease == Some(slice.lease)
        {
            s.leased -= cost.micros();
            s.free += worst.micros() - cost.micros();
            s.in_flight = s.in_flight.saturating_sub(1);
        }
    }

    /// A request that was not served gives its whole worst case back to the slice.
    pub fn release(&mut self, slice: SliceRef, worst: Money) {
        self.settle(slice, worst, Money::ZERO);
    }

    /// `lease` is gone from the database (another process swept it): its slice is forgotten,
    /// so nothing more is admitted from it and the month is leased anew.
    pub fn lost(&mut self, lease: LeaseId) {
        self.by_month.retain(|_, s| s.lease != Some(lease));
    }

    /// Every lease held.
    pub fn leases(&self) -> Vec<LeaseId> {
        self.by_month.values().filter_map(|s| s.lease).collect()
    }

    /// Gives back what slices hold beyond what they should keep: all of it for a slice unused
    /// for [`IDLE`] (or every slice, when `all`), the excess over the headroom otherwise; ends
    /// the leases of empty, unused slices.
    pub fn trim(&mut self, now: Instant, all: bool) -> Vec<Change> {
        let mut changes = Vec::new();
        self.by_month.retain(|month, s| {
            let idle = all || s.used.is_none_or(|at| now.duration_since(at) >= IDLE);
            let Some(lease) = s.lease else {
                // Nothing leased (an extension on its way, or refused): nothing to give back.
                return !idle;
            };
            let slice = SliceRef {
                month: *month,
                lease,
            };
            let keep = if idle { 0 } else { headroom(s.room, s.worst) };
            if s.free > keep {
                let give = s.free - keep;
                s.free = keep;
                s.leased -= give;
                changes.push(Change::Give(slice, Money(give)));
            }
            let ended = s.leased == 0 && s.in_flight == 0 && idle;
            if ended {
                changes.push(Change::End(slice));
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
            if let Some(lease) = s.lease
                && s.free > 0
            {
                let slice = SliceRef {
                    month: *month,
                    lease,
                };
                changes.push(Change::Give(slice, Money(s.free)));
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
    use super::{Change, LeaseId, SliceRef, Slices, Take, Target};
    use crate::TeamId;
    use crate::money::Money;
    use crate::service::leases::Budget;
    use std::time::{Duration, Instant};

    const M: super::Month = (Budget::Team(TeamId(1)), 202611);
    const L: LeaseId = 7;
    const AT: SliceRef = SliceRef { month: M, lease: L };

    fn short(lease: Option<LeaseId>, set_aside: i64, need: i64, want: i64) -> Take {
        Take::Short {
            lease,
            set_aside: Money(set_aside),
            need: Money(need),
            want: Money(want),
        }
    }

    #[test]
    fn the_first_request_leases_exactly_its_worst_case_then_headroom_once_at_a_time() {
        let mut s = Slices::default();
        let now = Instant::now();
        let first = s.take(M, Money(100), now, true);
        assert_eq!(first, short(None, 0, 100, 100));
        assert_eq!(s.granted(M, first, L, Money(100), Money(1_000_000)), AT);
        // The month had plenty of room: the next one asks for headroom too…
        let second = s.take(M, Money(100), now, true);
        assert_eq!(second, short(Some(L), 0, 100, 100 + 15_625));
        // …and one arriving while that is on its way asks only for itself.
        let third = s.take(M, Money(100), now, true);
        assert_eq!(third, short(Some(L), 0, 100, 100));
        s.granted(M, second, L, Money(15_725), Money(900_000));
        s.granted(M, third, L, Money(100), Money(900_000));
        for _ in 0..156 {
            assert_eq!(s.take(M, Money(100), now, true), Take::Held(AT));
        }
        // 25 left over is set aside; the rest and new headroom are asked for.
        assert_eq!(
            s.take(M, Money(100), now, true),
            short(Some(L), 25, 75, 75 + 14_062)
        );
    }

    #[test]
    fn settling_spends_the_cost_and_frees_the_rest() {
        let mut s = Slices::default();
        let now = Instant::now();
        let first = s.take(M, Money(100), now, true);
        s.granted(M, first, L, Money(100), Money(0));
        s.settle(AT, Money(100), Money(30));
        // 70 came back free; near the limit nothing is kept, so all of it is given back.
        assert_eq!(s.trim(now, false), vec![Change::Give(AT, Money(70))]);
        assert_eq!(
            s.trim(now + Duration::from_secs(2), false),
            vec![Change::End(AT)]
        );
        assert!(s.trim(now + Duration::from_secs(3), false).is_empty());
    }

    #[test]
    fn a_short_slice_sets_its_free_part_aside_and_gets_it_back_when_refused() {
        let mut s = Slices::default();
        let now = Instant::now();
        let first = s.take(M, Money(100), now, true);
        s.granted(M, first, L, Money(100), Money(0));
        s.release(AT, Money(100));
        let bigger = s.take(M, Money(150), now, true);
        assert_eq!(bigger, short(Some(L), 100, 50, 50));
        s.not_granted(M, bigger);
        assert_eq!(s.take(M, Money(100), now, true), Take::Held(AT));
    }

    #[test]
    fn nothing_in_flight_is_given_back_and_a_changed_limit_returns_the_free_part() {
        let mut s = Slices::default();
        let now = Instant::now();
        let first = s.take(M, Money(100), now, true);
        s.granted(M, first, L, Money(500), Money(0));
        assert_eq!(s.give_back_free(), vec![Change::Give(AT, Money(400))]);
        // The request admitted before still holds its 100, long after.
        assert!(s.trim(now + Duration::from_secs(5), false).is_empty());
        s.settle(AT, Money(100), Money(100));
        assert_eq!(
            s.trim(now + Duration::from_secs(5), false),
            vec![Change::End(AT)]
        );
    }

    #[test]
    fn a_lost_lease_takes_its_slice_and_its_requests_touch_nothing_after() {
        let mut s = Slices::default();
        let now = Instant::now();
        let first = s.take(M, Money(100), now, true);
        s.granted(M, first, L, Money(10_000), Money(0));
        let short_then = s.take(M, Money(20_000), now, true);
        s.lost(L);
        assert!(s.leases().is_empty());
        // Nothing is admitted from memory any more; the short request must take again.
        assert_eq!(s.target(M, short_then), Target::Lost);
        let again = s.take(M, Money(100), now, true);
        assert_eq!(again, short(None, 0, 100, 100));
        assert_eq!(s.target(M, again), Target::Lease(None));
        s.granted(M, again, 8, Money(100), Money(0));
        // The request admitted under the lost lease settles without touching the new slice.
        s.settle(AT, Money(100), Money(60));
        assert_eq!(s.take(M, Money(1), now, true), short(Some(8), 0, 1, 1));
    }

    #[test]
    fn an_untrusted_memory_asks_the_database_for_everything() {
        let mut s = Slices::default();
        let now = Instant::now();
        let first = s.take(M, Money(100), now, true);
        s.granted(M, first, L, Money(10_000), Money(0));
        assert_eq!(
            s.take(M, Money(100), now, false),
            short(Some(L), 0, 100, 100)
        );
    }
}
