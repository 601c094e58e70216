//! The audit log as Owners and Admins read it: the list query (it lives in the URL), the kinds of
//! action it filters by, an entry's row with its action in words, and a page of them.

mod csv;

pub use csv::to_csv;

use crate::list_query::{encode, page_param, search_param};
use crate::validation::EMAIL_MAX;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// What an entry acted on, by its action's first word (`user.invite` is about users).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditKind {
    Users,
    Teams,
    Keys,
    SignIns,
    Setup,
    Billing,
    Providers,
    Routes,
    Guardrails,
    Sso,
}

impl AuditKind {
    pub const ALL: [AuditKind; 10] = [
        AuditKind::Users,
        AuditKind::Teams,
        AuditKind::Keys,
        AuditKind::SignIns,
        AuditKind::Setup,
        AuditKind::Billing,
        AuditKind::Providers,
        AuditKind::Routes,
        AuditKind::Guardrails,
        AuditKind::Sso,
    ];

    /// The actions' first word, as stored (`user.…`).
    pub fn prefix(self) -> &'static str {
        match self {
            AuditKind::Users => "user.",
            AuditKind::Teams => "team.",
            AuditKind::Keys => "key.",
            AuditKind::SignIns => "session.",
            AuditKind::Setup => "setup.",
            AuditKind::Billing => "billing.",
            AuditKind::Providers => "provider.",
            AuditKind::Routes => "route.",
            AuditKind::Guardrails => "guardrail.",
            AuditKind::Sso => "sso.",
        }
    }

    /// Its value in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Users => "users",
            AuditKind::Teams => "teams",
            AuditKind::Keys => "keys",
            AuditKind::SignIns => "sign-ins",
            AuditKind::Setup => "setup",
            AuditKind::Billing => "billing",
            AuditKind::Providers => "providers",
            AuditKind::Routes => "routes",
            AuditKind::Guardrails => "guardrails",
            AuditKind::Sso => "sso",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AuditKind::Users => "Users",
            AuditKind::Teams => "Teams",
            AuditKind::Keys => "API keys",
            AuditKind::SignIns => "Sign-ins",
            AuditKind::Setup => "Setup",
            AuditKind::Billing => "Billing",
            AuditKind::Providers => "Providers",
            AuditKind::Routes => "Routes",
            AuditKind::Guardrails => "Guardrails",
            AuditKind::Sso => "Single sign-on",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        AuditKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What kind of thing an entry acted on, by its target (`team:2` is a team).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetKind {
    People,
    Teams,
    Keys,
    Billing,
    Providers,
    Routes,
    Guardrails,
    Sso,
}

impl TargetKind {
    pub const ALL: [TargetKind; 8] = [
        TargetKind::People,
        TargetKind::Teams,
        TargetKind::Keys,
        TargetKind::Billing,
        TargetKind::Providers,
        TargetKind::Routes,
        TargetKind::Guardrails,
        TargetKind::Sso,
    ];

    /// Its value in the URL, and the start of the targets it covers (`team` → `team:2`).
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::People => "user",
            TargetKind::Teams => "team",
            TargetKind::Keys => "key",
            TargetKind::Billing => "billing",
            TargetKind::Providers => "provider",
            TargetKind::Routes => "route",
            TargetKind::Guardrails => "guardrail",
            TargetKind::Sso => "sso",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TargetKind::People => "People",
            TargetKind::Teams => "Teams",
            TargetKind::Keys => "API keys",
            TargetKind::Billing => "Billing settings",
            TargetKind::Providers => "Providers",
            TargetKind::Routes => "Routes",
            TargetKind::Guardrails => "Guardrails",
            TargetKind::Sso => "Single sign-on settings",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        TargetKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A stored action in words; an action this version does not know reads as stored.
pub fn action_label(action: &str) -> &str {
    match action {
        "session.sign_in" => "Signed in",
        "session.sign_in_sso" => "Signed in with single sign-on",
        "setup.first_owner" => "Set up the gateway",
        "user.invite" => "Invited",
        "user.resend_invite" => "Resent an invite",
        "user.accept_invite" => "Accepted an invite",
        "user.sso_create" => "Joined through single sign-on",
        "user.sso_role" => "Got a role from a groups claim",
        "user.sso_link" => "Tied to an identity at the provider",
        "user.change_role" => "Changed a role",
        "user.suspend" => "Suspended",
        "user.reactivate" => "Reactivated",
        "user.delete" => "Deleted a user",
        "user.team" => "Moved to a team",
        "user.budget" => "Set a member's budget",
        "team.create" => "Created a team",
        "team.edit" => "Edited a team",
        "team.delete" => "Deleted a team",
        "key.issue" => "Issued a key",
        "key.revoke" => "Revoked a key",
        "key.limits" => "Changed a key's limits",
        "billing.settings" => "Changed billing settings",
        "billing.webhook_key" => "Replaced the webhook signing key",
        "provider.add" => "Added a provider",
        "provider.edit" => "Edited a provider",
        "provider.enable" => "Enabled a provider",
        "provider.disable" => "Disabled a provider",
        "provider.delete" => "Deleted a provider",
        "provider.file" => "Applied the providers file",
        "route.add" => "Added a route",
        "route.edit" => "Edited a route",
        "route.enable" => "Enabled a route",
        "route.disable" => "Disabled a route",
        "route.delete" => "Deleted a route",
        "route.file" => "Applied the providers file's routes",
        "guardrail.add" => "Added a guardrail",
        "guardrail.edit" => "Edited a guardrail",
        "guardrail.enable" => "Enabled a guardrail",
        "guardrail.disable" => "Disabled a guardrail",
        "guardrail.delete" => "Deleted a guardrail",
        "sso.settings" => "Changed single sign-on settings",
        "sso.off" => "Turned single sign-on off",
        "sso.env" => "Applied single sign-on settings from the environment",
        other => other,
    }
}

/// The audit log's query:
/// `?q=ada&who=ada@example.com&kind=keys&on=team&from=2026-11-01&to=2026-11-30&page=2`.
/// Malformed values fall back to defaults, so a hand-edited URL never breaks the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Matched against who acted (their email then) and what the entry says, case-insensitively.
    pub search: String,
    /// Who acted: their email at the time, whole (any case); empty for anyone.
    #[serde(default)]
    pub actor: String,
    pub kind: Option<AuditKind>,
    /// What kind of thing was acted on.
    #[serde(default)]
    pub on: Option<TargetKind>,
    /// One thing's history: entries on exactly this target (`user:5`, `team:2`, `key:12`).
    #[serde(default)]
    pub target: Option<String>,
    /// The first and last day shown (UTC), each optional.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    #[serde(deserialize_with = "crate::list_query::lenient_page")]
    pub page: u64,
}

impl Default for AuditQuery {
    fn default() -> Self {
        AuditQuery {
            search: String::new(),
            actor: String::new(),
            kind: None,
            on: None,
            target: None,
            from: None,
            to: None,
            page: 1,
        }
    }
}

impl AuditQuery {
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        // Four-digit years only: a far-off date would ask the database for a moment it
        // cannot hold.
        let day = |name: &str| {
            get(name)
                .and_then(|v| NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok())
                .filter(|d| (1..=9999).contains(&chrono::Datelike::year(d)))
        };
        AuditQuery {
            search: search_param(get("q")),
            actor: get("who")
                .map(|who| who.trim().chars().take(EMAIL_MAX).collect())
                .unwrap_or_default(),
            kind: get("kind").and_then(|k| AuditKind::parse(&k)),
            on: get("on").and_then(|k| TargetKind::parse(&k)),
            target: get("target").and_then(|t| target_param(&t)),
            from: day("from"),
            to: day("to"),
            page: page_param(get("page")),
        }
    }

    /// The URL query string (without `?`), leaving out defaults.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if !self.search.is_empty() {
            parts.push(format!("q={}", encode(&self.search)));
        }
        if !self.actor.is_empty() {
            parts.push(format!("who={}", encode(&self.actor)));
        }
        if let Some(kind) = self.kind {
            parts.push(format!("kind={}", kind.as_str()));
        }
        if let Some(on) = self.on {
            parts.push(format!("on={}", on.as_str()));
        }
        if let Some(target) = &self.target {
            parts.push(format!("target={}", encode(target)));
        }
        if let Some(from) = self.from {
            parts.push(format!("from={from}"));
        }
        if let Some(to) = self.to {
            parts.push(format!("to={to}"));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        parts.join("&")
    }

    pub fn on_page(&self, page: u64) -> Self {
        AuditQuery {
            page: page.max(1),
            ..self.clone()
        }
    }

    /// Where the entries this query matches (every page) download as CSV.
    pub fn export_href(&self) -> String {
        let all = AuditQuery {
            page: 1,
            ..self.clone()
        };
        match all.to_query_string() {
            q if q.is_empty() => EXPORT_PATH.to_owned(),
            q => format!("{EXPORT_PATH}?{q}"),
        }
    }

    /// Whether anything narrows the list.
    pub fn is_filtered(&self) -> bool {
        !self.search.is_empty()
            || !self.actor.is_empty()
            || self.kind.is_some()
            || self.on.is_some()
            || self.target.is_some()
            || self.from.is_some()
            || self.to.is_some()
    }

    /// The same query without its target: every thing's entries.
    pub fn without_target(&self) -> Self {
        AuditQuery {
            target: None,
            page: 1,
            ..self.clone()
        }
    }
}

/// The audit-log address of one thing's history, e.g. `target_href("team", 2)`.
pub fn target_href(kind: &str, id: i64) -> String {
    format!("/dashboard/configuration/audit?target={kind}%3A{id}")
}

/// A target as entries name it: `user:`, `team:` or `key:` and a positive id; anything else is
/// no target filter.
fn target_param(value: &str) -> Option<String> {
    let (kind, id) = value.trim().split_once(':')?;
    let id: i64 = id.parse().ok().filter(|id| *id > 0)?;
    ["user", "team", "key"]
        .contains(&kind)
        .then(|| format!("{kind}:{id}"))
}

/// The CSV download of the log (the server's own route, not a server function).
pub const EXPORT_PATH: &str = "/dashboard/configuration/audit.csv";

/// The most entries one CSV download holds, newest first.
pub const EXPORT_MAX: u64 = 100_000;

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who acted, by their email at the time (empty for the system).
    pub actor_email: String,
    /// The stored action, e.g. `key.limits`; [`action_label`] words it.
    pub action: String,
    /// What it acted on, e.g. `key:12`.
    pub target: String,
    pub detail: String,
}

/// One page of entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub matching: u64,
    pub page: u64,
    pub pages: u64,
    pub generated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_url() {
        let q = AuditQuery {
            search: "ada".into(),
            actor: "grace".into(),
            kind: Some(AuditKind::SignIns),
            on: Some(TargetKind::Keys),
            from: NaiveDate::from_ymd_opt(2026, 11, 1),
            to: NaiveDate::from_ymd_opt(2026, 11, 30),
            target: Some("key:12".into()),
            page: 3,
        };
        let s = q.to_query_string();
        assert_eq!(
            s,
            "q=ada&who=grace&kind=sign-ins&on=key&target=key%3A12&from=2026-11-01&to=2026-11-30&page=3"
        );
        let params: Vec<(String, String)> = s
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect();
        let back = AuditQuery::from_params(|n| {
            params
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.replace("%3A", ":"))
        });
        assert_eq!(back, q);
        // Any words are a search, and any text an email to look for; the rest must parse.
        let junk = AuditQuery::from_params(|n| {
            Some(if matches!(n, "q" | "who") { "" } else { "zz" }.into())
        });
        assert_eq!(junk, AuditQuery::default());
        assert!(!AuditQuery::default().is_filtered());
    }

    #[test]
    fn a_target_is_one_user_team_or_key() {
        let target =
            |v: &str| AuditQuery::from_params(|n| (n == "target").then(|| v.into())).target;
        assert_eq!(target("team:7").as_deref(), Some("team:7"));
        assert_eq!(target(" user:12 ").as_deref(), Some("user:12"));
        for junk in [
            "key:",
            "key:0",
            "key:-1",
            "key:1x",
            "provider:1",
            "key:99999999999999999999",
            "%",
        ] {
            assert_eq!(target(junk), None, "{junk}");
        }
        assert!(
            AuditQuery {
                target: Some("key:1".into()),
                ..AuditQuery::default()
            }
            .is_filtered()
        );
    }

    #[test]
    fn actions_read_as_words() {
        assert_eq!(action_label("key.limits"), "Changed a key's limits");
        assert_eq!(action_label("future.thing"), "future.thing");
    }
}
