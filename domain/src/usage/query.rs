//! The Usage page's query: `?range=30d&group=model&sort=requests&dir=asc`, or a custom range
//! `?from=2026-11-01&to=2026-11-15`. Malformed values fall back to the defaults (this month,
//! by team, by spend, largest first), so a hand-edited URL never breaks the page.

use crate::list_query::encode;
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The longest custom range, in days.
pub const MAX_DAYS: u64 = 366;

/// A time range, relative to today (UTC) unless custom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    ThisMonth,
    LastMonth,
    Last7,
    Last30,
    Last90,
    /// From one day to another, both included.
    Between(NaiveDate, NaiveDate),
}

impl Period {
    /// The presets, in the order the page offers them.
    pub const PRESETS: [Period; 5] = [
        Period::ThisMonth,
        Period::LastMonth,
        Period::Last7,
        Period::Last30,
        Period::Last90,
    ];

    /// Its `range=` value (none for a custom range).
    pub fn as_str(self) -> &'static str {
        match self {
            Period::ThisMonth => "this-month",
            Period::LastMonth => "last-month",
            Period::Last7 => "7d",
            Period::Last30 => "30d",
            Period::Last90 => "90d",
            Period::Between(..) => "custom",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Period::ThisMonth => "This month",
            Period::LastMonth => "Last month",
            Period::Last7 => "Last 7 days",
            Period::Last30 => "Last 30 days",
            Period::Last90 => "Last 90 days",
            Period::Between(..) => "Custom",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Period::PRESETS.into_iter().find(|p| p.as_str() == s)
    }

    /// Its first and last day (both included) when today is `today`.
    pub fn days(self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let month_start = today.with_day(1).unwrap_or(today);
        let back = |n: u64| today.checked_sub_days(Days::new(n - 1)).unwrap_or(today);
        match self {
            Period::ThisMonth => (month_start, today),
            Period::LastMonth => {
                let start = month_start
                    .checked_sub_months(Months::new(1))
                    .unwrap_or(month_start);
                (start, month_start.pred_opt().unwrap_or(month_start))
            }
            Period::Last7 => (back(7), today),
            Period::Last30 => (back(30), today),
            Period::Last90 => (back(90), today),
            Period::Between(from, to) => (from, to),
        }
    }
}

/// How usage is grouped: the table's rows and the chart's stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupBy {
    Team,
    User,
    Key,
    Model,
}

impl GroupBy {
    pub const ALL: [GroupBy; 4] = [GroupBy::Team, GroupBy::User, GroupBy::Key, GroupBy::Model];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Team => "team",
            GroupBy::User => "user",
            GroupBy::Key => "key",
            GroupBy::Model => "model",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            GroupBy::Team => "Team",
            GroupBy::User => "User",
            GroupBy::Key => "API key",
            GroupBy::Model => "Model",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// The table's sort column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UsageSort {
    Name,
    Spend,
    Requests,
    TokensIn,
    TokensOut,
    Refusals,
}

impl UsageSort {
    pub const ALL: [UsageSort; 6] = [
        UsageSort::Name,
        UsageSort::Spend,
        UsageSort::Requests,
        UsageSort::TokensIn,
        UsageSort::TokensOut,
        UsageSort::Refusals,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UsageSort::Name => "name",
            UsageSort::Spend => "spend",
            UsageSort::Requests => "requests",
            UsageSort::TokensIn => "tokens-in",
            UsageSort::TokensOut => "tokens-out",
            UsageSort::Refusals => "refusals",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        UsageSort::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The whole query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageQuery {
    pub period: Period,
    pub group: GroupBy,
    pub sort: UsageSort,
    pub descending: bool,
}

impl Default for UsageQuery {
    fn default() -> Self {
        UsageQuery {
            period: Period::ThisMonth,
            group: GroupBy::Team,
            sort: UsageSort::Spend,
            descending: true,
        }
    }
}

impl UsageQuery {
    /// Reads the URL's parameters. A custom range needs both days, the first not after the
    /// last and at most [`MAX_DAYS`] long; otherwise the preset (or this month) applies.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        let custom = custom_range(&get).ok().flatten();
        let sort = get("sort").and_then(|s| UsageSort::parse(&s));
        UsageQuery {
            period: custom
                .or_else(|| get("range").and_then(|r| Period::parse(&r)))
                .unwrap_or(Period::ThisMonth),
            group: get("group")
                .and_then(|g| GroupBy::parse(&g))
                .unwrap_or(GroupBy::Team),
            sort: sort.unwrap_or(UsageSort::Spend),
            // Names read A→Z first, figures largest first.
            descending: match get("dir").as_deref() {
                Some("asc") => false,
                Some("desc") => true,
                _ => sort != Some(UsageSort::Name),
            },
        }
    }

    /// The URL query string (without `?`), leaving out defaults.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        match self.period {
            Period::ThisMonth => {}
            Period::Between(from, to) => {
                parts.push(format!("from={from}"));
                parts.push(format!("to={to}"));
            }
            preset => parts.push(format!("range={}", preset.as_str())),
        }
        if self.group != GroupBy::Team {
            parts.push(format!("group={}", self.group.as_str()));
        }
        if self.sort != UsageSort::Spend {
            parts.push(format!("sort={}", encode(self.sort.as_str())));
        }
        let natural = self.sort != UsageSort::Name;
        if self.descending != natural {
            parts.push(format!(
                "dir={}",
                if self.descending { "desc" } else { "asc" }
            ));
        }
        parts.join("&")
    }

    /// The page's address for this query.
    pub fn href(&self) -> String {
        with_query(PAGE_PATH, &self.to_query_string())
    }

    /// Where the table this query shows downloads as CSV.
    pub fn export_href(&self) -> String {
        with_query(EXPORT_PATH, &self.to_query_string())
    }

    /// The same query sorted by `sort`: the other way round when it is already sorted by it.
    pub fn sorted_by(&self, sort: UsageSort) -> Self {
        UsageQuery {
            sort,
            descending: if self.sort == sort {
                !self.descending
            } else {
                sort != UsageSort::Name
            },
            ..*self
        }
    }
}

/// Why the URL's custom range (`from`, `to`) is not used, in words for the page; `None` when
/// it is, or when none was given.
pub fn range_problem(get: impl Fn(&str) -> Option<String>) -> Option<&'static str> {
    custom_range(&get).err()
}

/// Whether `from`–`to` is a range the page reads: years 2000 to 9999, the first day not after
/// the last, at most [`MAX_DAYS`] days. The service checks every range it is asked for with it,
/// however the query arrived.
///
/// # Errors
/// Why not, in words.
pub fn check_days(from: NaiveDate, to: NaiveDate) -> Result<(), &'static str> {
    let years = 2000..=9999;
    if !years.contains(&from.year()) || !years.contains(&to.year()) {
        return Err("Enter days as YYYY-MM-DD, from the year 2000 on.");
    }
    if from > to {
        return Err("The first day is after the last.");
    }
    if (to - from).num_days() >= i64::try_from(MAX_DAYS).unwrap_or(i64::MAX) {
        return Err("A range can be at most 366 days.");
    }
    Ok(())
}

/// The custom range in the URL: `Ok(None)` when none was given.
fn custom_range(get: &impl Fn(&str) -> Option<String>) -> Result<Option<Period>, &'static str> {
    let given = |name: &str| {
        get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let (from, to) = match (given("from"), given("to")) {
        (None, None) => return Ok(None),
        (Some(from), Some(to)) => (from, to),
        _ => return Err("Enter both a first and a last day."),
    };
    let day = |v: &str| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok();
    let (Some(from), Some(to)) = (day(&from), day(&to)) else {
        return Err("Enter days as YYYY-MM-DD, from the year 2000 on.");
    };
    check_days(from, to)?;
    Ok(Some(Period::Between(from, to)))
}

/// The Usage page.
pub const PAGE_PATH: &str = "/dashboard";
/// Its table as CSV.
pub const EXPORT_PATH: &str = "/dashboard/usage.csv";

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> UsageQuery {
        UsageQuery::from_params(|k| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn urls_round_trip_and_leave_out_defaults() {
        assert_eq!(query(&[]), UsageQuery::default());
        assert_eq!(UsageQuery::default().href(), "/dashboard");
        for q in [
            "range=7d",
            "range=last-month&group=model",
            "from=2026-11-01&to=2026-11-15&group=user&sort=requests&dir=asc",
            "group=key&sort=name",
            "sort=name&dir=desc",
        ] {
            let parsed = UsageQuery::from_params(|k| {
                q.split('&')
                    .filter_map(|p| p.split_once('='))
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_owned())
            });
            assert_eq!(parsed.to_query_string(), q);
        }
    }

    #[test]
    fn bad_values_fall_back() {
        let q = query(&[
            ("range", "forever"),
            ("group", "planet"),
            ("sort", "x"),
            ("dir", "sideways"),
        ]);
        assert_eq!(q, UsageQuery::default());
        // A custom range backwards, too long, or half given is not a range.
        for (from, to) in [
            ("2026-11-15", "2026-11-01"),
            ("2024-01-01", "2026-01-01"),
            ("2026-11-01", "soon"),
        ] {
            let q = query(&[("from", from), ("to", to), ("range", "7d")]);
            assert_eq!(q.period, Period::Last7, "{from}..{to}");
        }
    }

    #[test]
    fn a_range_that_cannot_be_used_says_why() {
        let problem = |from: &str, to: &str| {
            range_problem(|k| match k {
                "from" => Some(from.to_owned()),
                "to" => Some(to.to_owned()),
                _ => None,
            })
        };
        assert_eq!(problem("", ""), None);
        assert_eq!(problem("2026-11-01", "2026-11-30"), None);
        assert_eq!(
            problem("2026-11-01", ""),
            Some("Enter both a first and a last day.")
        );
        assert_eq!(
            problem("2026-11-15", "2026-11-01"),
            Some("The first day is after the last.")
        );
        assert_eq!(
            problem("2024-01-01", "2026-01-01"),
            Some("A range can be at most 366 days.")
        );
        assert!(
            problem("soon", "2026-01-01")
                .unwrap()
                .starts_with("Enter days as")
        );
    }

    #[test]
    fn presets_resolve_against_today() {
        let today = day("2026-03-10");
        assert_eq!(Period::ThisMonth.days(today), (day("2026-03-01"), today));
        assert_eq!(
            Period::LastMonth.days(today),
            (day("2026-02-01"), day("2026-02-28"))
        );
        assert_eq!(Period::Last7.days(today), (day("2026-03-04"), today));
        assert_eq!(Period::Last90.days(today).0, day("2025-12-11"));
    }

    #[test]
    fn sorting_by_a_column_again_turns_it_round() {
        let q = UsageQuery::default();
        assert!(
            q.sorted_by(UsageSort::Spend)
                .to_query_string()
                .contains("dir=asc")
        );
        let by_name = q.sorted_by(UsageSort::Name);
        assert!(!by_name.descending);
        assert!(by_name.sorted_by(UsageSort::Name).descending);
    }
}
