//! Teams as the dashboard shows them: a row with this month's figures and its budget, the
//! summary cards, and what the create and edit forms send.

use crate::TeamId;
use crate::budget::BudgetBand;
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
}
