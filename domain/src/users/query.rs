//! The users list query: search, role filter, sort and page. It round-trips through the URL so
//! reload, back and a shared link keep it, and a plain GET form (JavaScript off) produces it.

use crate::Role;
use crate::list_query::SortDir;
use crate::list_query::{encode, page_param, search_param};
use serde::{Deserialize, Serialize};

/// A search is counted exactly up to this many matches; beyond it the page says "500+", so a
/// search that matches most of the gateway never has to count every row.
pub const SEARCH_COUNT_CAP: u64 = 500;

/// A sortable column of the users table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum UserSort {
    #[default]
    Name,
    Email,
    Role,
    Status,
    Team,
    LastActive,
}

impl UserSort {
    pub const ALL: [UserSort; 6] = [
        UserSort::Name,
        UserSort::Email,
        UserSort::Role,
        UserSort::Status,
        UserSort::Team,
        UserSort::LastActive,
    ];

    /// The name used in the URL (`?sort=last_active`).
    pub fn as_str(self) -> &'static str {
        match self {
            UserSort::Name => "name",
            UserSort::Email => "email",
            UserSort::Role => "role",
            UserSort::Status => "status",
            UserSort::Team => "team",
            UserSort::LastActive => "last_active",
        }
    }

    /// The column heading.
    pub fn label(self) -> &'static str {
        match self {
            UserSort::Name => "Name",
            UserSort::Email => "Email",
            UserSort::Role => "Role",
            UserSort::Status => "Status",
            UserSort::Team => "Team",
            UserSort::LastActive => "Last active",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        UserSort::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// What the users list shows: `?q=ada&role=admin&sort=email&dir=desc&page=2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Text matched anywhere in the name or email, case-insensitively.
    pub search: String,
    /// Only users with this role; `None` is "All Roles".
    pub role: Option<Role>,
    pub sort: UserSort,
    pub dir: SortDir,
    /// 1-based. Any number a caller sends is read as the nearest page (see
    /// [`lenient_page`](crate::list_query::lenient_page)).
    #[serde(deserialize_with = "crate::list_query::lenient_page")]
    pub page: u64,
}

impl Default for UserQuery {
    /// Everyone, by name, first page.
    fn default() -> Self {
        UserQuery {
            search: String::new(),
            role: None,
            sort: UserSort::default(),
            dir: SortDir::default(),
            page: 1,
        }
    }
}

impl UserQuery {
    /// Reads the query from URL parameters; anything unknown or malformed falls back to the
    /// default for that parameter, so a hand-edited URL never breaks the page.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        UserQuery {
            search: search_param(get("q")),
            role: get("role").and_then(|r| r.parse().ok()),
            sort: get("sort")
                .and_then(|s| UserSort::parse(&s))
                .unwrap_or_default(),
            dir: SortDir::from_param(get("dir")),
            page: page_param(get("page")),
        }
    }

    /// The URL query string for this query (without `?`), leaving out defaults.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if !self.search.is_empty() {
            parts.push(format!("q={}", encode(&self.search)));
        }
        if let Some(role) = self.role {
            parts.push(format!("role={}", role.as_str()));
        }
        if self.sort != UserSort::default() {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        if self.dir != SortDir::default() {
            parts.push(format!("dir={}", self.dir.as_str()));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        parts.join("&")
    }

    /// The query sorted by `column`: ascending first, flipping on a second click; back to page 1.
    pub fn sorted_by(&self, column: UserSort) -> Self {
        UserQuery {
            sort: column,
            dir: self.dir.after_click(self.sort == column),
            page: 1,
            ..self.clone()
        }
    }

    /// The same query on another page.
    pub fn on_page(&self, page: u64) -> Self {
        UserQuery {
            page: page.max(1),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list_query::SEARCH_MAX;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> UserQuery {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        UserQuery::from_params(|k| map.get(k).cloned())
    }

    #[test]
    fn round_trips_through_the_url() {
        let q = parse(&[
            ("q", " ada "),
            ("role", "admin"),
            ("sort", "last_active"),
            ("dir", "desc"),
            ("page", "3"),
        ]);
        assert_eq!(q.search, "ada");
        assert_eq!(q.role, Some(Role::Admin));
        assert_eq!(
            (q.sort, q.dir, q.page),
            (UserSort::LastActive, SortDir::Desc, 3)
        );
        assert_eq!(
            q.to_query_string(),
            "q=ada&role=admin&sort=last_active&dir=desc&page=3"
        );
        assert_eq!(UserQuery::default().to_query_string(), "");
    }

    #[test]
    fn bad_parameters_fall_back_to_defaults() {
        let q = parse(&[
            ("role", "root"),
            ("sort", "password"),
            ("dir", "up"),
            ("page", "-4"),
        ]);
        assert_eq!(q, UserQuery::default());
        assert_eq!(parse(&[("page", "0")]).page, 1);
        assert_eq!(parse(&[("q", &"x".repeat(500))]).search.len(), SEARCH_MAX);
    }

    #[test]
    fn sorting_toggles_and_resets_the_page() {
        let q = UserQuery {
            page: 4,
            ..UserQuery::default()
        };
        let by_email = q.sorted_by(UserSort::Email);
        assert_eq!(
            (by_email.sort, by_email.dir, by_email.page),
            (UserSort::Email, SortDir::Asc, 1)
        );
        assert_eq!(by_email.sorted_by(UserSort::Email).dir, SortDir::Desc);
    }

    #[test]
    fn search_text_is_encoded() {
        let q = UserQuery {
            search: "a&b c".into(),
            ..UserQuery::default()
        };
        assert_eq!(q.to_query_string(), "q=a%26b+c");
    }
}
