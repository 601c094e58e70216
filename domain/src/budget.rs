//! The budget bar's colour bands: green under 70 % of the limit, yellow from 70 %, red from 90 %
//! (docs/architecture.md, "Statuses, money and months").

use crate::money::Money;
use serde::{Deserialize, Serialize};

/// Green below 70 % of the limit, yellow from 70 % up to (not including) 90 %, red from 90 %
/// and whenever the limit is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BudgetBand {
    Green,
    Yellow,
    Red,
}

impl BudgetBand {
    /// The band for `spent` against `limit`, in exact integer arithmetic.
    pub fn of(spent: Money, limit: Money) -> Self {
        let (spent, limit) = (i128::from(spent.micros()), i128::from(limit.micros()));
        if limit <= 0 || spent * 100 >= limit * 90 {
            BudgetBand::Red
        } else if spent * 100 >= limit * 70 {
            BudgetBand::Yellow
        } else {
            BudgetBand::Green
        }
    }

    /// The CSS modifier the bar uses.
    pub fn css(self) -> &'static str {
        match self {
            BudgetBand::Green => "green",
            BudgetBand::Yellow => "yellow",
            BudgetBand::Red => "red",
        }
    }
}

/// The shares of a team's limit whose crossing is told (Billing's alerts), in percent.
pub const ALERT_BANDS: [i32; 3] = [70, 90, 100];

/// The alert bands `spent` has reached against `limit` (none for a limit of zero or less: a
/// team that can spend nothing is told when its first request is refused).
pub fn alert_bands_reached(spent: Money, limit: Money) -> impl Iterator<Item = i32> {
    let (spent, limit) = (i128::from(spent.micros()), i128::from(limit.micros()));
    ALERT_BANDS
        .into_iter()
        .filter(move |band| limit > 0 && spent * 100 >= limit * i128::from(*band))
}

/// A person's monthly budget as a member of their team, and what they spent this month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MemberBudget {
    pub spent: Money,
    /// Their own budget, set by an Owner or Admin.
    pub own: Option<Money>,
    /// Their team's default for members.
    pub team_default: Option<Money>,
}

impl MemberBudget {
    /// The budget that applies: their own, else their team's default.
    pub fn limit(self) -> Option<Money> {
        self.own.or(self.team_default)
    }

    /// The bar's colour band, when a budget applies.
    pub fn band(self) -> Option<BudgetBand> {
        self.limit().map(|limit| BudgetBand::of(self.spent, limit))
    }
}

/// The share of the limit spent, in percent (may exceed 100); `None` for a zero limit, where
/// any spend is "all of it".
pub fn percent_used(spent: Money, limit: Money) -> Option<f64> {
    (limit.micros() > 0).then(|| spent.micros() as f64 * 100.0 / limit.micros() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(spent_cents: i64, limit_cents: i64) -> BudgetBand {
        BudgetBand::of(Money(spent_cents * 10_000), Money(limit_cents * 10_000))
    }

    #[test]
    fn band_boundaries() {
        assert_eq!(band(6_999, 10_000), BudgetBand::Green);
        assert_eq!(band(7_000, 10_000), BudgetBand::Yellow);
        assert_eq!(band(8_999, 10_000), BudgetBand::Yellow);
        assert_eq!(band(9_000, 10_000), BudgetBand::Red);
        assert_eq!(band(25_000, 10_000), BudgetBand::Red);
        assert_eq!(band(0, 0), BudgetBand::Red);
        assert_eq!(band(0, 10_000), BudgetBand::Green);
    }

    #[test]
    fn alert_bands_are_reached_at_their_exact_share() {
        let reached = |spent_cents: i64, limit_cents: i64| -> Vec<i32> {
            alert_bands_reached(Money(spent_cents * 10_000), Money(limit_cents * 10_000)).collect()
        };
        assert_eq!(reached(6_999, 10_000), Vec::<i32>::new());
        assert_eq!(reached(7_000, 10_000), vec![70]);
        assert_eq!(reached(8_999, 10_000), vec![70]);
        assert_eq!(reached(9_000, 10_000), vec![70, 90]);
        assert_eq!(reached(10_000, 10_000), vec![70, 90, 100]);
        assert_eq!(reached(0, 0), Vec::<i32>::new());
    }

    #[test]
    fn percent_goes_past_one_hundred() {
        assert_eq!(percent_used(Money(250), Money(100)), Some(250.0));
        assert_eq!(percent_used(Money(1), Money(0)), None);
    }
}
