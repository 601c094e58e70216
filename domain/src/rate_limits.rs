//! Limits finer than a team's month: requests and tokens per minute on a key or a team, the
//! models a key may call, and a key's own monthly budget. What the forms send, checked; how they
//! read on screen; and the rule that a Member may only tighten what already applies to their own
//! keys.

use crate::Error;
use crate::money::Money;
use crate::numbers::grouped;
use serde::{Deserialize, Serialize};

/// The most requests per minute a limit may name: more than one process serves.
pub const REQUESTS_PER_MINUTE_MAX: u64 = 1_000_000;
/// The most tokens per minute a limit may name.
pub const TOKENS_PER_MINUTE_MAX: u64 = 1_000_000_000;
/// The most models a key may be limited to.
pub const MODELS_MAX: usize = 100;

/// Requests and tokens per minute; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RateLimits {
    pub requests_per_minute: Option<u64>,
    pub tokens_per_minute: Option<u64>,
}

impl RateLimits {
    /// Reads the two form fields (`requests_per_minute`, `tokens_per_minute`): empty is no
    /// limit, else a whole number from 1 to the maximum; commas and spaces between digits are
    /// allowed (`100,000`).
    ///
    /// # Errors
    /// [`Error::Validation`] on the field that is not such a number.
    pub fn parse(requests: &str, tokens: &str) -> Result<Self, Error> {
        Ok(RateLimits {
            requests_per_minute: Self::parse_requests(requests)?,
            tokens_per_minute: Self::parse_tokens(tokens)?,
        })
    }

    /// The requests-per-minute field alone, as [`RateLimits::parse`] reads it.
    ///
    /// # Errors
    /// [`Error::Validation`] on `requests_per_minute`.
    pub fn parse_requests(text: &str) -> Result<Option<u64>, Error> {
        per_minute("requests_per_minute", text, REQUESTS_PER_MINUTE_MAX)
    }

    /// The tokens-per-minute field alone, as [`RateLimits::parse`] reads it.
    ///
    /// # Errors
    /// [`Error::Validation`] on `tokens_per_minute`.
    pub fn parse_tokens(text: &str) -> Result<Option<u64>, Error> {
        per_minute("tokens_per_minute", text, TOKENS_PER_MINUTE_MAX)
    }

    /// Whether any limit is set.
    pub fn any(self) -> bool {
        self.requests_per_minute.is_some() || self.tokens_per_minute.is_some()
    }

    /// How the limits read in a list: `60 req/min · 100,000 tok/min`; `None` without limits.
    pub fn summary(self) -> Option<String> {
        let parts: Vec<String> = [
            self.requests_per_minute
                .map(|n| format!("{} req/min", grouped(n))),
            self.tokens_per_minute
                .map(|n| format!("{} tok/min", grouped(n))),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| parts.join(" · "))
    }

    /// From the two columns that store them (never negative: the services write them).
    pub fn from_columns(requests: Option<i64>, tokens: Option<i64>) -> Self {
        let read = |n: Option<i64>| n.and_then(|n| u64::try_from(n).ok());
        RateLimits {
            requests_per_minute: read(requests),
            tokens_per_minute: read(tokens),
        }
    }

    /// The two columns that store them.
    pub fn columns(self) -> (Option<i64>, Option<i64>) {
        let write = |n: Option<u64>| n.and_then(|n| i64::try_from(n).ok());
        (
            write(self.requests_per_minute),
            write(self.tokens_per_minute),
        )
    }

    /// The value of each field as a form shows it: the number, or empty.
    pub fn fields(self) -> (String, String) {
        let text = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
        (text(self.requests_per_minute), text(self.tokens_per_minute))
    }
}

fn per_minute(field: &str, input: &str, max: u64) -> Result<Option<u64>, Error> {
    let digits: String = input
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '_'))
        .collect();
    if digits.is_empty() {
        return Ok(None);
    }
    let bad = || {
        Error::validation(
            field,
            format!(
                "Enter a whole number from 1 to {}, or leave it empty for no limit.",
                grouped(max)
            ),
        )
    };
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    match digits.parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
        _ => Err(bad()),
    }
}

/// The models a key may call: `None` is every model the gateway serves.
pub type ModelAccess = Option<Vec<String>>;

/// Checks the models a form picked against those the gateway serves (`known`): none picked is
/// every model; names are kept once each, in the gateway's order.
///
/// # Errors
/// [`Error::Validation`] on field `models` for a name the gateway does not serve, or too many.
pub fn model_access(picked: &[String], known: &[String]) -> Result<ModelAccess, Error> {
    let picked: Vec<&str> = picked
        .iter()
        .map(|m| m.trim())
        .filter(|m| !m.is_empty())
        .collect();
    if picked.is_empty() {
        return Ok(None);
    }
    if picked.len() > MODELS_MAX {
        return Err(Error::validation(
            "models",
            format!("Pick at most {MODELS_MAX} models."),
        ));
    }
    if let Some(unknown) = picked.iter().find(|m| !known.iter().any(|k| k == *m)) {
        return Err(Error::validation(
            "models",
            format!("This gateway serves no model named “{unknown}”."),
        ));
    }
    Ok(Some(
        known
            .iter()
            .filter(|k| picked.contains(&k.as_str()))
            .cloned()
            .collect(),
    ))
}

/// How model access reads in a list: `gpt-4o-mini only`, `3 models`, or `None` for every model.
pub fn model_summary(models: &ModelAccess) -> Option<String> {
    match models.as_deref() {
        None => None,
        Some([one]) => Some(format!("{one} only")),
        Some(many) => Some(format!("{} models", many.len())),
    }
}

/// Reads a monthly budget field (`budget`): dollars and cents, empty for none.
///
/// # Errors
/// [`Error::Validation`] on `budget` for anything but an amount from $0 to the maximum.
pub fn parse_budget(input: &str) -> Result<Option<Money>, Error> {
    Money::parse_usd(input).map_err(|e| Error::validation("budget", e.to_string()))
}

/// How a monthly budget reads in a list: `$50.00/month`.
pub fn budget_summary(budget: Money) -> String {
    format!("{budget}/month")
}

/// A key's own limits: per minute, the models it may call, and its monthly budget.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyLimits {
    pub rates: RateLimits,
    pub models: ModelAccess,
    #[serde(default)]
    pub budget: Option<Money>,
}

impl KeyLimits {
    /// Reads the limits fields of the key forms: the monthly budget (`budget`), requests and
    /// tokens per minute, and the models picked (checked against `known`, those the gateway
    /// serves).
    ///
    /// # Errors
    /// [`Error::Validation`] on the first field that is wrong.
    pub fn parse(
        budget: &str,
        requests: &str,
        tokens: &str,
        models: &[String],
        known: &[String],
    ) -> Result<Self, Error> {
        Ok(KeyLimits {
            budget: parse_budget(budget)?,
            rates: RateLimits::parse(requests, tokens)?,
            models: model_access(models, known)?,
        })
    }
}

/// What applies to a key besides its own limits: its team's per-minute limits, and the least of
/// its team's monthly limit and its owner's member budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Above {
    pub rates: RateLimits,
    pub budget: Option<Money>,
}

/// Whether setting `new` on a key that has `current`, under the limits `above` it, would let it
/// do anything it may not do now — raise or remove a limit that applies to it, or allow a model
/// it may not call. Members may only make changes that do not.
pub fn loosens(current: &KeyLimits, above: Above, new: &KeyLimits) -> bool {
    fn rate<T: Ord + Copy>(key: Option<T>, above: Option<T>, new: Option<T>) -> bool {
        let applies = match (key, above) {
            (Some(k), Some(t)) => Some(k.min(t)),
            (k, t) => k.or(t),
        };
        match new {
            // Removing the key's own limit loosens it even under a team limit: the team's may go.
            None => key.is_some(),
            // Kept as it is, it changes nothing, whatever applies above it.
            Some(n) => Some(n) != key && applies.is_some_and(|a| n > a),
        }
    }
    let team = above.rates;
    let models = match (&current.models, &new.models) {
        (Some(_), None) => true,
        (Some(now), Some(new)) => new.iter().any(|m| !now.contains(m)),
        (None, _) => false,
    };
    rate(
        current.rates.requests_per_minute,
        team.requests_per_minute,
        new.rates.requests_per_minute,
    ) || rate(
        current.rates.tokens_per_minute,
        team.tokens_per_minute,
        new.rates.tokens_per_minute,
    ) || rate(current.budget, above.budget, new.budget)
        || models
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(r: Option<u64>, t: Option<u64>) -> RateLimits {
        RateLimits {
            requests_per_minute: r,
            tokens_per_minute: t,
        }
    }

    #[test]
    fn fields_read_as_whole_numbers_or_nothing() {
        assert_eq!(RateLimits::parse("", " ").unwrap(), rates(None, None));
        assert_eq!(
            RateLimits::parse("60", "100,000").unwrap(),
            rates(Some(60), Some(100_000))
        );
        for (bad, field) in [
            (("0", ""), "requests_per_minute"),
            (("-5", ""), "requests_per_minute"),
            (("1.5", ""), "requests_per_minute"),
            (("ten", ""), "requests_per_minute"),
            (("1000001", ""), "requests_per_minute"),
            (("", "1e9"), "tokens_per_minute"),
            (("", "99999999999999999999999"), "tokens_per_minute"),
        ] {
            let err = RateLimits::parse(bad.0, bad.1).unwrap_err();
            assert!(err.message_for(field).is_some(), "{bad:?}: {err:?}");
        }
    }

    #[test]
    fn limits_read_in_a_list() {
        assert_eq!(rates(None, None).summary(), None);
        assert_eq!(
            rates(Some(60), Some(100_000)).summary().unwrap(),
            "60 req/min · 100,000 tok/min"
        );
        assert_eq!(model_summary(&None), None);
        assert_eq!(model_summary(&Some(vec!["a".into()])).unwrap(), "a only");
        assert_eq!(
            model_summary(&Some(vec!["a".into(), "b".into()])).unwrap(),
            "2 models"
        );
    }

    #[test]
    fn models_are_checked_against_the_gateway() {
        let known: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
        assert_eq!(model_access(&[], &known).unwrap(), None);
        assert_eq!(
            model_access(&["c".into(), "a".into(), "a".into()], &known).unwrap(),
            Some(vec!["a".to_owned(), "c".to_owned()])
        );
        let err = model_access(&["z".into()], &known).unwrap_err();
        assert!(err.message_for("models").unwrap().contains("“z”"));
    }

    #[test]
    fn only_tightening_is_not_loosening() {
        let none = KeyLimits::default();
        let team = rates(Some(100), None);
        let with = |r, t, models: Option<&[&str]>| KeyLimits {
            rates: rates(r, t),
            models: models.map(|m| m.iter().map(|s| (*s).to_owned()).collect()),
            budget: None,
        };
        let team = Above {
            rates: team,
            budget: None,
        };
        let cases = [
            // (current, team, new, loosens)
            (none.clone(), team, with(Some(50), None, None), false),
            (none.clone(), team, with(Some(100), None, None), false),
            (none.clone(), team, with(Some(101), None, None), true),
            (
                none.clone(),
                Above::default(),
                with(Some(5_000), Some(1), None),
                false,
            ),
            (
                with(Some(50), None, None),
                team,
                with(Some(60), None, None),
                true,
            ),
            (
                with(Some(50), None, None),
                team,
                with(None, None, None),
                true,
            ),
            (
                with(Some(50), None, None),
                team,
                with(Some(10), None, None),
                false,
            ),
            (none.clone(), team, with(None, None, Some(&["a"])), false),
            (
                with(None, None, Some(&["a", "b"])),
                team,
                with(None, None, Some(&["b"])),
                false,
            ),
            (
                with(None, None, Some(&["a"])),
                team,
                with(None, None, Some(&["a", "b"])),
                true,
            ),
            (
                with(None, None, Some(&["a"])),
                team,
                with(None, None, None),
                true,
            ),
            (
                with(Some(500), None, None),
                team,
                with(Some(500), None, None),
                false,
            ),
        ];
        for (current, team, new, expected) in cases {
            assert_eq!(
                loosens(&current, team, &new),
                expected,
                "{current:?} {team:?} → {new:?}"
            );
        }
    }

    #[test]
    fn a_budget_is_loosened_by_raising_it_past_what_applies_or_removing_it() {
        let dollars = |d: i64| Some(Money(d * 1_000_000));
        let budget = |d: Option<i64>| KeyLimits {
            budget: d.and_then(dollars),
            ..KeyLimits::default()
        };
        let above = |d: Option<i64>| Above {
            rates: RateLimits::default(),
            budget: d.and_then(dollars),
        };
        let cases = [
            // (current, above, new, loosens)
            (None, None, Some(1_000), false),
            (None, Some(100), Some(100), false),
            (None, Some(100), Some(101), true),
            (Some(50), Some(100), Some(80), true),
            (Some(50), None, Some(20), false),
            (Some(50), None, None, true),
            (None, Some(100), None, false),
            // Kept as it is — above what applies, set by an Admin — is no loosening: a Member
            // saving the dialog to lower something else sends it back unchanged.
            (Some(150), Some(100), Some(150), false),
            (Some(150), Some(100), Some(160), true),
        ];
        for (current, over, new, expected) in cases {
            assert_eq!(
                loosens(&budget(current), above(over), &budget(new)),
                expected,
                "{current:?} under {over:?} → {new:?}"
            );
        }
        assert_eq!(parse_budget(" ").unwrap(), None);
        assert_eq!(parse_budget("$25").unwrap(), dollars(25));
        assert!(
            parse_budget("-5")
                .unwrap_err()
                .message_for("budget")
                .is_some()
        );
        assert!(
            parse_budget("lots")
                .unwrap_err()
                .message_for("budget")
                .is_some()
        );
    }
}
