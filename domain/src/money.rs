//! Money as integer micro-dollars: exact sums, no floating point in stored figures.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount in US dollars, stored as millionths of a dollar.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub i64);

const MICROS_PER_DOLLAR: i64 = 1_000_000;
const MICROS_PER_CENT: i64 = 10_000;
/// The largest amount a form accepts: a trillion dollars is a typo, not a budget.
pub const MAX_DOLLARS: i64 = 1_000_000_000;

/// Why a typed amount was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("The amount cannot be negative.")]
    Negative,
    #[error("Enter an amount in dollars and cents, like 1500 or 1,500.00.")]
    NotAnAmount,
    #[error("Use at most two decimal places.")]
    TooPrecise,
    #[error("That amount is too large.")]
    TooLarge,
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_micros(micros: i64) -> Self {
        Money(micros)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    /// Whole cents, rounded half away from zero.
    pub fn cents(self) -> i64 {
        let half = MICROS_PER_CENT / 2;
        if self.0 >= 0 {
            (self.0 + half) / MICROS_PER_CENT
        } else {
            (self.0 - half) / MICROS_PER_CENT
        }
    }

    /// Parses what a person types into a dollar field: blank is `None` (no limit); `1500`,
    /// `1,500.5`, `$1,500.00` are amounts; anything negative, with more than two decimals or not a
    /// number is refused.
    ///
    /// # Errors
    /// [`AmountError`] saying what is wrong with the text.
    pub fn parse_usd(input: &str) -> Result<Option<Money>, AmountError> {
        let text = input.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let text = text.strip_prefix('$').unwrap_or(text).trim_start();
        if text.starts_with('-') || text.starts_with("$-") {
            return Err(AmountError::Negative);
        }
        let (whole, frac) = match text.split_once('.') {
            Some((w, f)) => (w, f),
            None => (text, ""),
        };
        let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if !valid_grouping(whole) || !digits_ok(frac) || (whole.is_empty() && frac.is_empty()) {
            return Err(AmountError::NotAnAmount);
        }
        if frac.len() > 2 {
            return Err(AmountError::TooPrecise);
        }
        let whole: String = whole.chars().filter(|c| *c != ',').collect();
        let dollars: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| AmountError::TooLarge)?
        };
        if dollars > MAX_DOLLARS {
            return Err(AmountError::TooLarge);
        }
        let cents: i64 = format!("{frac:0<2}")
            .parse()
            .map_err(|_| AmountError::NotAnAmount)?;
        Ok(Some(Money(
            dollars * MICROS_PER_DOLLAR + cents * MICROS_PER_CENT,
        )))
    }

    /// The amount as a plain number a form field can hold again (`1500.00`).
    pub fn to_input(self) -> String {
        let cents = self.cents();
        format!("{}.{:02}", cents / 100, (cents % 100).abs())
    }
}

/// Digits, optionally grouped by commas in threes (`1,500`, `12,000,000`).
fn valid_grouping(whole: &str) -> bool {
    if !whole.contains(',') {
        return whole.chars().all(|c| c.is_ascii_digit());
    }
    let mut groups = whole.split(',');
    let first = groups.next().unwrap_or_default();
    (1..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_digit())
        && groups.all(|g| g.len() == 3 && g.chars().all(|c| c.is_ascii_digit()))
}

impl fmt::Display for Money {
    /// `$1,234.56`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cents = self.cents();
        let sign = if cents < 0 { "-" } else { "" };
        let cents = cents.unsigned_abs();
        let dollars = crate::numbers::grouped(cents / 100);
        write!(f, "{sign}${dollars}.{:02}", cents % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Result<Option<Money>, AmountError> {
        Money::parse_usd(s)
    }

    #[test]
    fn parses_amounts() {
        assert_eq!(usd(""), Ok(None));
        assert_eq!(usd("   "), Ok(None));
        assert_eq!(usd("0"), Ok(Some(Money(0))));
        assert_eq!(usd("1500"), Ok(Some(Money(1_500_000_000))));
        assert_eq!(usd("1,500.5"), Ok(Some(Money(1_500_500_000))));
        assert_eq!(usd("$12,000,000.05"), Ok(Some(Money(12_000_000_050_000))));
        assert_eq!(usd(".25"), Ok(Some(Money(250_000))));
        assert_eq!(usd("7."), Ok(Some(Money(7_000_000))));
    }

    #[test]
    fn refuses_bad_amounts() {
        assert_eq!(usd("-1"), Err(AmountError::Negative));
        assert_eq!(usd("$-1"), Err(AmountError::Negative));
        assert_eq!(usd("abc"), Err(AmountError::NotAnAmount));
        assert_eq!(usd("1,50"), Err(AmountError::NotAnAmount));
        assert_eq!(usd("1.2.3"), Err(AmountError::NotAnAmount));
        assert_eq!(usd("."), Err(AmountError::NotAnAmount));
        assert_eq!(usd("1e3"), Err(AmountError::NotAnAmount));
        assert_eq!(usd("1.999"), Err(AmountError::TooPrecise));
        assert_eq!(usd("99999999999999999999999"), Err(AmountError::TooLarge));
        assert_eq!(usd("1000000001"), Err(AmountError::TooLarge));
    }

    #[test]
    fn formats_as_dollars_and_cents() {
        assert_eq!(Money(0).to_string(), "$0.00");
        assert_eq!(Money(1_234_560_000).to_string(), "$1,234.56");
        assert_eq!(Money(5_000).to_string(), "$0.01");
        assert_eq!(Money(4_999).to_string(), "$0.00");
        assert_eq!(Money(-1_500_000).to_string(), "-$1.50");
        assert_eq!(Money(1_000_000_000_000).to_string(), "$1,000,000.00");
        assert_eq!(Money(1_500_500_000).to_input(), "1500.50");
    }
}
