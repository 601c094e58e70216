//! The Usage page (`/dashboard`) as its readers ask for it: the query (time range, grouping,
//! sort — all in the URL), and the report the server answers with: spend per day stacked by
//! group, requests and refusals per day, totals per group, each limited team's forecast, and
//! the refusals a person can read the reasons of.

mod csv;
mod query;

pub use csv::to_csv;
pub use query::{
    EXPORT_PATH, GroupBy, PAGE_PATH, Period, UsageQuery, UsageSort, check_days, range_problem,
};

use crate::money::Money;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The most groups the spend chart stacks one by one; the rest are summed as "Other".
pub const CHART_GROUPS: usize = 8;

/// What one reader may see of usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// Every team, person and key (Owners, Admins, Viewers).
    Everything,
    /// One team's figures, and the reader's own keys' refusals (a Member).
    Team(String),
    /// Only the reader's own keys (a Member outside any team).
    Own,
}

/// One group's spend per day, for the stacked chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    pub label: String,
    /// Whether this is everyone past the top groups ("Other").
    pub other: bool,
    /// One figure per day of the range, oldest first.
    pub spend: Vec<Money>,
}

/// Refused requests on one day, by why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalCounts {
    /// 402: a team, member or key budget.
    pub budget: i64,
    /// 401: no key, an unknown one, or one that may not be used.
    pub key: i64,
    /// 429: a per-minute limit.
    pub rate: i64,
    /// 404: a model the key may not call.
    pub model: i64,
}

impl RefusalCounts {
    pub fn total(&self) -> i64 {
        self.budget + self.key + self.rate + self.model
    }
}

/// One group's totals over the range: a row of the table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupTotals {
    pub label: String,
    pub spend: Money,
    pub requests: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub refusals: i64,
}

impl GroupTotals {
    /// This group's share of `total` spend, in tenths of a percent.
    pub fn share_permille(&self, total: Money) -> i64 {
        if total.micros() <= 0 {
            0
        } else {
            i64::try_from(i128::from(self.spend.micros()) * 1000 / i128::from(total.micros()))
                .unwrap_or(0)
        }
    }
}

/// Where a team with a monthly limit is heading this month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outlook {
    /// At the current daily rate the limit is reached on this day.
    Reaches(NaiveDate),
    /// The month ends under the limit, at about this much.
    StaysUnder { projected: Money },
    /// Requests are refused over the limit since this day, until `resets_at`.
    AtLimit {
        since: NaiveDate,
        resets_at: DateTime<Utc>,
    },
}

/// A limited team's month so far and where it is heading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forecast {
    pub team: String,
    pub limit: Money,
    pub spent: Money,
    pub outlook: Outlook,
}

impl Forecast {
    /// The forecast in a sentence.
    pub fn sentence(&self) -> String {
        match &self.outlook {
            Outlook::Reaches(day) => format!(
                "Reaches its limit on {} at the current rate.",
                day.format("%-d %b")
            ),
            Outlook::StaysUnder { projected } => format!(
                "Stays under its limit (projected {projected} of {}).",
                self.limit
            ),
            Outlook::AtLimit { since, resets_at } => format!(
                "At its limit since {}; it resets on {} at 00:00 UTC.",
                since.format("%-d %b"),
                resets_at.format("%-d %b")
            ),
        }
    }
}

/// Requests refused for one key (or an unknown one) on one day, for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocked {
    pub last_at: DateTime<Utc>,
    /// The key's name and prefix; "Unknown key" when none was recognised.
    pub key: String,
    pub person: String,
    /// What refused it, in words ("Team budget", "Per-minute limit").
    pub cause: String,
    /// The answer the client got.
    pub reason: String,
    pub count: i64,
}

/// The Usage page's data for one query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageReport {
    pub scope: Scope,
    /// The range's first and last day (UTC), both included.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// The top [`CHART_GROUPS`] groups by spend, then "Other" if any is left.
    pub series: Vec<Series>,
    /// Requests served per day.
    pub requests: Vec<i64>,
    /// Requests refused per day.
    pub refusals: Vec<RefusalCounts>,
    /// One row per group, in the query's order (on the page, the first of them).
    pub rows: Vec<GroupTotals>,
    /// Groups past those in `rows` (in the CSV export, none).
    pub more_rows: u64,
    pub total: GroupTotals,
    pub forecasts: Vec<Forecast>,
    /// The newest refusals the reader may see the reasons of.
    pub blocked: Vec<Blocked>,
    /// When the report was made: "3 minutes ago" is counted from here (the browser has no
    /// clock of its own in WebAssembly).
    pub generated_at: DateTime<Utc>,
}

impl UsageReport {
    /// The range's days, oldest first.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.first_day
            .iter_days()
            .take_while(|d| *d <= self.last_day)
    }
}
