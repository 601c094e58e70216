//! What the users list and its expanded rows show.

use crate::{Role, Status, TeamId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One row of the users table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: UserId,
    /// `None` while invited: the person picks it when accepting.
    pub name: Option<String>,
    pub email: String,
    pub role: Role,
    pub status: Status,
    pub team: Option<(TeamId, String)>,
    pub last_active_at: Option<DateTime<Utc>>,
}

/// The summary cards, for the whole gateway (not the filtered list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserSummary {
    pub total: u64,
    pub active: u64,
    /// Owners and Admins.
    pub admins: u64,
    pub pending_invites: u64,
}

/// One page of the users list, with the total that matches and the cards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    pub rows: Vec<UserRow>,
    /// Users matching the search and filter, across all pages; a lower bound when
    /// `matching_exact` is false (a search with more than [`super::SEARCH_COUNT_CAP`] matches).
    pub matching: u64,
    pub matching_exact: bool,
    pub page: u64,
    /// The number of pages; a lower bound when `matching_exact` is false.
    pub pages: u64,
    /// Whether a page follows this one.
    pub has_next: bool,
    pub summary: UserSummary,
    /// When the server read this page; "3 min ago" is measured from it, so the server's HTML
    /// and the hydrated browser say the same thing.
    pub generated_at: DateTime<Utc>,
}

/// What expanding a user's row shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub keys: Vec<crate::keys::KeyRow>,
    pub requests_this_month: i64,
    pub requests_all_time: i64,
    /// Their budget as a member of their team and this month's spend against it.
    pub budget: crate::budget::MemberBudget,
    pub joined_at: Option<DateTime<Utc>>,
    pub last_active_at: Option<DateTime<Utc>>,
}
