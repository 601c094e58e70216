//! Teams as the dashboard shows them: a row with this month's figures and its budget, the
//! summary cards, and what the create and edit forms send.

use crate::TeamId;
use crate::budget::BudgetBand;
use crate::list_query::{SortDir, encode, page_param, search_param};
use crate::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest team name, in characters.
pub const TEAM_NAME_MAX: usize = 80;
/// Longest description, in characters.
pub const DESCRIPTION_MAX: usize = 500;

/// One team with this calendar month's (UTC) figures, read from the usage aggregates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamRow {
    pub id: TeamId,
    pub name: String,
    pub description: String,
    pub members: u64,
    pub spend: Money,
    pub requests: i64,
    /// The hard monthly cap; `None` is no limit.
    pub limit: Option<Money>,
    /// Requests and tokens per minute over all the team's keys.
    pub rates: crate::rate_limits::RateLimits,
    /// Each member's monthly budget unless they have one of their own; `None` is none.
    pub member_budget: Option<Money>,
    /// Keys of this team not yet revoked (deleting the team revokes them).
    pub live_keys: u64,
    pub created_at: DateTime<Utc>,
}

impl TeamRow {
    /// The budget bar's colour band, when there is a limit.
    pub fn band(&self) -> Option<BudgetBand> {
        self.limit.map(|limit| BudgetBand::of(self.spend, limit))
    }
}

/// The Teams page's cards, for the whole gateway and this calendar month (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TeamSummary {
    pub teams: u64,
    /// Users who belong to a team.
    pub members: u64,
    pub spend: Money,
    pub requests: i64,
}

/// What the create and edit forms send. `limit` is the typed text: blank is no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamInput {
    pub name: String,
    pub description: String,
    pub limit: String,
    /// Requests and tokens per minute, as typed: blank is no limit; `None` (the fields were not
    /// sent) leaves an edited team's as they are.
    #[serde(default)]
    pub requests_per_minute: Option<String>,
    #[serde(default)]
    pub tokens_per_minute: Option<String>,
    /// The default monthly budget of each member, as typed; `None` keeps an edited team's.
    #[serde(default)]
    pub member_budget: Option<String>,
}

/// Someone in a team, as its expanded row lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    pub id: crate::UserId,
    /// The display name; the email for someone who has not accepted an invite yet.
    pub name: String,
    pub email: String,
    pub role: crate::Role,
    pub status: crate::Status,
    /// Their budget as a member and this month's spend against it.
    pub budget: crate::budget::MemberBudget,
}

/// What deleting a team did besides removing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamRemoved {
    pub members_unassigned: u64,
    pub keys_revoked: u64,
}

/// One page of teams, with the cards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamPage {
    pub rows: Vec<TeamRow>,
    pub matching: u64,
    pub page: u64,
    pub pages: u64,
    pub summary: TeamSummary,
    /// The limit the Create team form proposes (Billing's default for new teams).
    #[serde(default)]
    pub new_team_limit: Option<Money>,
    /// When the server read this page ("3 min ago" is measured from it).
    pub generated_at: DateTime<Utc>,
}

/// A sortable column of the teams table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TeamSort {
    #[default]
    Name,
    Members,
    Spend,
    Requests,
}

impl TeamSort {
    pub const ALL: [TeamSort; 4] = [
        TeamSort::Name,
        TeamSort::Members,
        TeamSort::Spend,
        TeamSort::Requests,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TeamSort::Name => "name",
            TeamSort::Members => "members",
            TeamSort::Spend => "spend",
            TeamSort::Requests => "requests",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TeamSort::Name => "Team",
            TeamSort::Members => "Members",
            TeamSort::Spend => "Monthly spend",
            TeamSort::Requests => "Monthly requests",
        }
    }
}

/// What the teams list shows: `?q=plat&sort=spend&dir=desc&page=2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamQuery {
    /// Matched anywhere in the team name, case-insensitively.
    pub search: String,
    pub sort: TeamSort,
    pub dir: SortDir,
    /// 1-based. Any number a caller sends is read as the nearest page (see
    /// [`lenient_page`](crate::list_query::lenient_page)).
    #[serde(deserialize_with = "crate::list_query::lenient_page")]
    pub page: u64,
}

impl Default for TeamQuery {
    fn default() -> Self {
        TeamQuery {
            search: String::new(),
            sort: TeamSort::Name,
            dir: SortDir::Asc,
            page: 1,
        }
    }
}

impl TeamQuery {
    /// Reads the query from URL parameters; malformed values fall back to defaults.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        TeamQuery {
            search: search_param(get("q")),
            sort: get("sort")
                .and_then(|s| TeamSort::ALL.into_iter().find(|c| c.as_str() == s))
                .unwrap_or_default(),
            dir: SortDir::from_param(get("dir")),
            page: page_param(get("page")),
        }
    }

    /// The URL query string (without `?`), leaving out defaults.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if !self.search.is_empty() {
            parts.push(format!("q={}", encode(&self.search)));
        }
        if self.sort != TeamSort::Name {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        if self.dir != SortDir::Asc {
            parts.push(format!("dir={}", self.dir.as_str()));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        parts.join("&")
    }

    /// Sorted by `column`: ascending first, flipping on a second click; back to page 1.
    pub fn sorted_by(&self, column: TeamSort) -> Self {
        TeamQuery {
            sort: column,
            dir: self.dir.after_click(self.sort == column),
            page: 1,
            ..self.clone()
        }
    }

    pub fn on_page(&self, page: u64) -> Self {
        TeamQuery {
            page: page.max(1),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_round_trips_through_the_url() {
        let q = TeamQuery {
            search: "data eng".into(),
            sort: TeamSort::Spend,
            dir: SortDir::Desc,
            page: 3,
        };
        assert_eq!(q.to_query_string(), "q=data+eng&sort=spend&dir=desc&page=3");
        let back = TeamQuery::from_params(|k| match k {
            "q" => Some("data eng".into()),
            "sort" => Some("spend".into()),
            "dir" => Some("desc".into()),
            "page" => Some("3".into()),
            _ => None,
        });
        assert_eq!(back, q);
        assert_eq!(q.sorted_by(TeamSort::Spend).dir, SortDir::Asc);
        assert_eq!(
            TeamQuery::from_params(|_| Some("junk".into())).sort,
            TeamSort::Name
        );
    }
}
