//! The gateway-wide settings an Owner manages, as the form sends them and as they are checked —
//! the same rules in the browser (as the Owner types) and in the service (before anything is
//! written).

use crate::Error;
use crate::money::Money;
use crate::validation;
use serde::{Deserialize, Serialize};

/// The most addresses alerts are emailed to.
pub const MAX_EMAILS: usize = 20;
/// The longest webhook URL accepted.
const URL_MAX: usize = 2_000;

/// What the settings form sends: the fields as typed. Blank amounts are "no limit".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsInput {
    pub gateway_limit: String,
    pub team_default_limit: String,
    pub teamless_limit: String,
    /// Addresses separated by commas, spaces or lines.
    pub alert_emails: String,
    /// Blank for no webhook.
    pub webhook_url: String,
}

/// The settings, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// A hard cap on the whole gateway's monthly spend.
    pub gateway_limit: Option<Money>,
    /// The limit the New team form proposes.
    pub team_default_limit: Option<Money>,
    /// A hard cap on what keys outside any team spend together in a month.
    pub teamless_limit: Option<Money>,
    pub alert_emails: Vec<String>,
    pub webhook_url: Option<String>,
}

impl Settings {
    /// The form's fields filled with these settings.
    pub fn to_input(&self) -> SettingsInput {
        let amount = |m: Option<Money>| m.map(Money::to_input).unwrap_or_default();
        SettingsInput {
            gateway_limit: amount(self.gateway_limit),
            team_default_limit: amount(self.team_default_limit),
            teamless_limit: amount(self.teamless_limit),
            alert_emails: self.alert_emails.join("\n"),
            webhook_url: self.webhook_url.clone().unwrap_or_default(),
        }
    }
}

impl SettingsInput {
    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the first field that cannot be used and why.
    pub fn check(&self) -> Result<Settings, Error> {
        let amount = |field: &str, text: &str| {
            Money::parse_usd(text).map_err(|e| Error::validation(field, e.to_string()))
        };
        Ok(Settings {
            gateway_limit: amount("gateway_limit", &self.gateway_limit)?,
            team_default_limit: amount("team_default_limit", &self.team_default_limit)?,
            teamless_limit: amount("teamless_limit", &self.teamless_limit)?,
            alert_emails: check_emails(&self.alert_emails)?,
            webhook_url: check_url(&self.webhook_url)?,
        })
    }
}

/// The addresses in `text`, split at commas, semicolons and white space.
pub fn email_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

fn check_emails(text: &str) -> Result<Vec<String>, Error> {
    let mut emails: Vec<String> = Vec::new();
    for address in email_list(text) {
        let checked = validation::email(&address).map_err(|e| {
            let why = e.message_for("email").unwrap_or_default();
            Error::validation("alert_emails", format!("‘{address}’: {why}"))
        })?;
        if !emails
            .iter()
            .any(|e| e.to_lowercase() == checked.normalized)
        {
            emails.push(checked.display);
        }
    }
    if emails.len() > MAX_EMAILS {
        return Err(Error::validation(
            "alert_emails",
            format!("Alerts go to at most {MAX_EMAILS} addresses; use a mailing list for more."),
        ));
    }
    Ok(emails)
}

fn check_url(text: &str) -> Result<Option<String>, Error> {
    let url = text.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let invalid = |m: &str| Err(Error::validation("webhook_url", m));
    if url.chars().count() > URL_MAX {
        return invalid("That URL is too long.");
    }
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return invalid("Enter a URL starting with https:// (or http://).");
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_name = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if host_name.is_empty()
        || host_name.starts_with(':')
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return invalid("Enter a URL like https://hooks.example.com/tollgate.");
    }
    if host.contains('@') {
        return invalid("Put credentials in the receiver's settings, not in the URL.");
    }
    Ok(Some(url.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SettingsInput {
        SettingsInput {
            gateway_limit: "10,000".into(),
            team_default_limit: "500".into(),
            teamless_limit: String::new(),
            alert_emails: "ops@example.com, Finance@Example.com\nops@example.com".into(),
            webhook_url: " https://hooks.example.com/t?x=1 ".into(),
        }
    }

    #[test]
    fn good_settings_are_cleaned() {
        let s = input().check().unwrap();
        assert_eq!(s.gateway_limit, Some(Money(10_000_000_000)));
        assert_eq!(s.team_default_limit, Some(Money(500_000_000)));
        assert_eq!(s.teamless_limit, None);
        assert_eq!(s.alert_emails, ["ops@example.com", "Finance@Example.com"]);
        assert_eq!(
            s.webhook_url.as_deref(),
            Some("https://hooks.example.com/t?x=1")
        );
        assert_eq!(s.to_input().check().unwrap(), s);
    }

    #[test]
    fn each_bad_field_is_named() {
        /// Spoils one field, and names it.
        type Case = (fn(&mut SettingsInput), &'static str);
        let cases: [Case; 7] = [
            (|i| i.gateway_limit = "-5".into(), "gateway_limit"),
            (
                |i| i.team_default_limit = "ten".into(),
                "team_default_limit",
            ),
            (|i| i.teamless_limit = "1.234".into(), "teamless_limit"),
            (|i| i.alert_emails = "ops@".into(), "alert_emails"),
            (|i| i.webhook_url = "ftp://x.example".into(), "webhook_url"),
            (|i| i.webhook_url = "https://".into(), "webhook_url"),
            (
                |i| i.webhook_url = "https://u:p@x.example/".into(),
                "webhook_url",
            ),
        ];
        for (spoil, field) in cases {
            let mut i = input();
            spoil(&mut i);
            let e = i.check().unwrap_err();
            assert!(e.message_for(field).is_some(), "{field}: {e:?}");
        }
        let many = (0..=MAX_EMAILS).map(|n| format!("a{n}@example.com"));
        let mut i = input();
        i.alert_emails = many.collect::<Vec<_>>().join(",");
        assert!(i.check().unwrap_err().message_for("alert_emails").is_some());
    }
}
