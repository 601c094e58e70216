//! The keys list query: `?scope=all&q=ci&team=3&status=active&user=7&page=2`. Malformed values
//! fall back to defaults, so a hand-edited URL never breaks the page.

use super::views::KeyStatus;
use crate::list_query::{encode, page_param, search_param};
use crate::{TeamId, UserId};
use serde::{Deserialize, Serialize};

/// Whose keys: one's own, or (Owners and Admins) everyone's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum KeyScope {
    #[default]
    Mine,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyQuery {
    pub scope: KeyScope,
    /// Matched against the key's name or prefix, case-insensitively.
    pub search: String,
    /// Only this person's keys (All keys only).
    pub user: Option<UserId>,
    /// Only this team's keys (All keys only).
    pub team: Option<TeamId>,
    pub status: Option<KeyStatus>,
    /// 1-based. Any number a caller sends is read as the nearest page (see
    /// [`lenient_page`](crate::list_query::lenient_page)).
    #[serde(deserialize_with = "crate::list_query::lenient_page")]
    pub page: u64,
}

impl Default for KeyQuery {
    fn default() -> Self {
        KeyQuery {
            scope: KeyScope::Mine,
            search: String::new(),
            user: None,
            team: None,
            status: None,
            page: 1,
        }
    }
}

impl KeyQuery {
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        let id = |name: &str| get(name).and_then(|v| v.parse::<i64>().ok());
        KeyQuery {
            scope: match get("scope").as_deref() {
                Some("all") => KeyScope::All,
                _ => KeyScope::Mine,
            },
            search: search_param(get("q")),
            user: id("user").map(UserId),
            team: id("team").map(TeamId),
            status: get("status").and_then(|s| KeyStatus::parse(&s)),
            page: page_param(get("page")),
        }
    }

    /// The URL query string (without `?`), leaving out defaults.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if self.scope == KeyScope::All {
            parts.push("scope=all".to_owned());
        }
        if !self.search.is_empty() {
            parts.push(format!("q={}", encode(&self.search)));
        }
        if let Some(user) = self.user {
            parts.push(format!("user={user}"));
        }
        if let Some(team) = self.team {
            parts.push(format!("team={team}"));
        }
        if let Some(status) = self.status {
            parts.push(format!("status={}", status.as_str()));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        parts.join("&")
    }

    pub fn on_page(&self, page: u64) -> Self {
        KeyQuery {
            page: page.max(1),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_url() {
        let q = KeyQuery {
            scope: KeyScope::All,
            search: "ci bot".into(),
            user: Some(UserId(7)),
            team: Some(TeamId(3)),
            status: Some(KeyStatus::Revoked),
            page: 2,
        };
        let s = q.to_query_string();
        assert_eq!(s, "scope=all&q=ci+bot&user=7&team=3&status=revoked&page=2");
        let params: Vec<(String, String)> = s
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_owned(), v.replace('+', " "))
            })
            .collect();
        let back =
            KeyQuery::from_params(|n| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()));
        assert_eq!(back, q);
        assert_eq!(KeyQuery::default().to_query_string(), "");
        let junk = KeyQuery::from_params(|n| Some(if n == "page" { "-1" } else { "zz" }.into()));
        assert_eq!(
            junk,
            KeyQuery {
                search: "zz".into(),
                ..KeyQuery::default()
            }
        );
    }
}
