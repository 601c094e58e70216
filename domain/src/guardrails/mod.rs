//! Guardrails as the Guardrails page shows and edits them: rules the gateway checks before it
//! forwards a request — the largest prompt, blocked terms, regular expressions over the
//! messages' text — each for some models or all, for chosen teams or all, and either blocking
//! the request or letting it through and counting it. What a form sends, what a row says, and
//! the rules a guardrail must meet; with `ssr`, [`matcher`] compiles them for the gateway.

use crate::Error;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod matcher;

/// The longest a name may be, in characters.
pub const MAX_NAME: usize = 64;
/// The most terms one rule may list.
pub const MAX_TERMS: usize = 200;
/// The most regular expressions one rule may list.
pub const MAX_PATTERNS: usize = 20;
/// The longest a term or a regular expression may be, in characters.
pub const MAX_PATTERN: usize = 1000;
/// The largest prompt size a rule may allow, in bytes (above it, the gateway's body limit
/// refuses first anyway).
pub const MAX_PROMPT_BYTES: u64 = 64 * 1024 * 1024;

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::N(16))"
    )
)]
pub enum Check {
    /// The messages' text is longer than a number of bytes.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "prompt_size"))]
    PromptSize,
    /// The messages' text holds one of a list of terms (whole words, any case).
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "terms"))]
    Terms,
    /// The messages' text matches one of a list of regular expressions.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "pattern"))]
    Pattern,
}

impl Check {
    pub const ALL: [Check; 3] = [Check::PromptSize, Check::Terms, Check::Pattern];

    /// The form's value for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::PromptSize => "prompt_size",
            Check::Terms => "terms",
            Check::Pattern => "pattern",
        }
    }

    /// What the form's choice says.
    pub fn label(self) -> &'static str {
        match self {
            Check::PromptSize => "Largest prompt",
            Check::Terms => "Blocked terms",
            Check::Pattern => "Regular expressions",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        Check::ALL.into_iter().find(|c| c.as_str() == value.trim())
    }
}

/// What happens to a request a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::N(8))"
    )
)]
pub enum Enforcement {
    /// Refused with 400 `guardrail_blocked`, naming the rule; nothing is held or sent upstream.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "block"))]
    Block,
    /// Let through, and counted.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "log"))]
    Log,
}

impl Enforcement {
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::Block => "block",
            Enforcement::Log => "log",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Enforcement::Block => "Block",
            Enforcement::Log => "Log only",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [Enforcement::Block, Enforcement::Log]
            .into_iter()
            .find(|e| e.as_str() == value.trim())
    }
}

/// What a rule tests, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Test {
    /// More than this many bytes of text.
    PromptSize {
        max_bytes: u64,
    },
    Terms(Vec<String>),
    Pattern(Vec<String>),
}

impl Test {
    pub fn check(&self) -> Check {
        match self {
            Test::PromptSize { .. } => Check::PromptSize,
            Test::Terms(_) => Check::Terms,
            Test::Pattern(_) => Check::Pattern,
        }
    }

    /// The terms or expressions, one per line, as the form shows them.
    pub fn lines(&self) -> String {
        match self {
            Test::PromptSize { .. } => String::new(),
            Test::Terms(lines) | Test::Pattern(lines) => lines.join("\n"),
        }
    }

    /// What it tests without the terms or expressions themselves ("3 terms").
    pub fn outline(&self) -> String {
        let count = |n: usize, one: &str, many: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {many}")
            }
        };
        match self {
            Test::PromptSize { .. } => self.summary(),
            Test::Terms(terms) => count(terms.len(), "term", "terms"),
            Test::Pattern(patterns) => count(patterns.len(), "expression", "expressions"),
        }
    }

    /// The same test with its terms or expressions left out, for readers who may not see them.
    #[must_use]
    pub fn withheld(&self) -> Test {
        match self {
            Test::PromptSize { .. } => self.clone(),
            Test::Terms(_) => Test::Terms(Vec::new()),
            Test::Pattern(_) => Test::Pattern(Vec::new()),
        }
    }

    /// What it tests, in a few words.
    pub fn summary(&self) -> String {
        match self {
            Test::PromptSize { max_bytes } => {
                format!("Text over {} bytes", crate::numbers::grouped(*max_bytes))
            }
            Test::Terms(terms) => format!("Any of: {}", terms.join(", ")),
            Test::Pattern(patterns) if patterns.len() == 1 => format!("Matches {}", patterns[0]),
            Test::Pattern(patterns) => format!("Matches any of {} expressions", patterns.len()),
        }
    }
}

/// A team a rule may be limited to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamChoice {
    pub id: i64,
    pub name: String,
}

/// One rule on the Guardrails page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardrailRow {
    pub id: i64,
    pub name: String,
    /// What it checks. For readers who may not change rules the terms and expressions are left
    /// out (only how many there are shows in `summary`): a key holder is not handed the list to
    /// avoid.
    pub test: Test,
    /// What it checks, in a few words.
    pub summary: String,
    /// The models it checks; empty: every model.
    pub models: Vec<String>,
    /// The teams it checks; `None`: every team (and keys outside any team).
    pub teams: Option<Vec<TeamChoice>>,
    pub enforcement: Enforcement,
    pub enabled: bool,
    /// Requests it matched this month (blocked, or let through and logged).
    pub hits: u64,
}

/// The Guardrails page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardrailsView {
    pub rows: Vec<GuardrailRow>,
    /// Whether the reader may add, edit, disable or delete (Owners and Admins).
    pub can_change: bool,
    /// The models a rule may be limited to (those the gateway offers).
    pub models: Vec<String>,
    /// The teams a rule may be limited to.
    pub teams: Vec<TeamChoice>,
    /// The month the counts are for ("December 2026", UTC).
    pub month: String,
    pub generated_at: DateTime<Utc>,
}

/// The Add and Edit form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardrailInput {
    pub name: String,
    /// [`Check::as_str`].
    pub check: String,
    /// For the largest prompt: bytes.
    pub max_bytes: String,
    /// For terms and expressions: one per line.
    pub patterns: String,
    /// `all` (or blank with none ticked): every model; `chosen`: those in `models`.
    pub model_scope: String,
    pub models: Vec<String>,
    /// `all` (or blank with none ticked): every team; `chosen`: the team ids in `teams`.
    pub team_scope: String,
    pub teams: Vec<String>,
    /// [`Enforcement::as_str`].
    pub enforcement: String,
}

/// A rule's settings once checked (regular expressions are compiled by the service, which
/// has [`matcher`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailSpec {
    pub name: String,
    pub test: Test,
    /// `None`: every model.
    pub models: Option<Vec<String>>,
    /// `None`: every team, and keys outside any team.
    pub teams: Option<Vec<i64>>,
    pub enforcement: Enforcement,
}

impl GuardrailInput {
    /// Checks every field against the models the gateway offers, naming the first that cannot
    /// be used.
    ///
    /// # Errors
    /// [`Error::Validation`] for the field at fault.
    pub fn check(&self, offered: &[String]) -> Result<GuardrailSpec, Error> {
        let name = check_name(&self.name)?;
        let check = Check::parse(&self.check)
            .ok_or_else(|| Error::validation("check", "Choose what the rule checks."))?;
        let test = match check {
            Check::PromptSize => Test::PromptSize {
                max_bytes: self
                    .max_bytes
                    .trim()
                    .replace([',', '_', ' '], "")
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=MAX_PROMPT_BYTES).contains(n))
                    .ok_or_else(|| {
                        Error::validation(
                            "max_bytes",
                            format!(
                                "Enter a whole number of bytes from 1 to {}.",
                                crate::numbers::grouped(MAX_PROMPT_BYTES)
                            ),
                        )
                    })?,
            },
            Check::Terms => Test::Terms(lines(&self.patterns, "term", MAX_TERMS, true)?),
            Check::Pattern => Test::Pattern(lines(
                &self.patterns,
                "regular expression",
                MAX_PATTERNS,
                false,
            )?),
        };
        let mut models: Vec<String> = self.models.iter().map(|m| m.trim().to_owned()).collect();
        models.sort();
        models.dedup();
        if let Some(unknown) = models.iter().find(|m| !offered.contains(m)) {
            return Err(Error::validation(
                "models",
                format!("The gateway offers no model `{unknown}`."),
            ));
        }
        let models = scoped("models", &self.model_scope, models)?;
        let mut teams = self
            .teams
            .iter()
            .map(|t| t.trim().parse::<i64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| Error::validation("teams", "Choose teams from the list."))?;
        teams.sort_unstable();
        teams.dedup();
        let teams = scoped("teams", &self.team_scope, teams)?;
        let enforcement = Enforcement::parse(&self.enforcement).ok_or_else(|| {
            Error::validation("enforcement", "Choose whether the rule blocks or logs.")
        })?;
        Ok(GuardrailSpec {
            name,
            test,
            models,
            teams,
            enforcement,
        })
    }
}

/// A scope as chosen: every one, or those ticked (at least one).
fn scoped<T>(field: &str, scope: &str, ticked: Vec<T>) -> Result<Option<Vec<T>>, Error> {
    match (scope.trim(), ticked.is_empty()) {
        ("all", _) | ("", true) => Ok(None),
        ("chosen" | "", false) => Ok(Some(ticked)),
        ("chosen", true) => Err(Error::validation(
            field,
            format!("Tick at least one, or choose all {field}."),
        )),
        _ => Err(Error::validation(
            field,
            format!("Choose all {field} or some."),
        )),
    }
}

/// A rule's name: 1–64 characters of text, no line breaks or control characters.
///
/// # Errors
/// [`Error::Validation`] on `name`.
pub fn check_name(input: &str) -> Result<String, Error> {
    let name = input.trim();
    if name.is_empty() {
        return Err(Error::validation("name", "Enter a name."));
    }
    // Its lower-cased key must fit the same column (some letters lengthen when lower-cased).
    if name_key(name).chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(Error::validation(
            "name",
            format!("Use up to {MAX_NAME} characters on one line."),
        ));
    }
    Ok(name.to_owned())
}

/// The key two names clash by: names differing only in case are the same rule.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The non-blank lines of `text`: at least one, at most `most`, each at most [`MAX_PATTERN`]
/// characters (terms are trimmed; expressions keep their spaces).
fn lines(text: &str, what: &str, most: usize, trim: bool) -> Result<Vec<String>, Error> {
    let mut out: Vec<String> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = if trim {
            line.trim()
        } else {
            line.trim_end_matches('\r')
        };
        if line.trim().is_empty() {
            continue;
        }
        if line.chars().count() > MAX_PATTERN {
            return Err(Error::validation(
                "patterns",
                format!(
                    "Line {}: a {what} is at most {MAX_PATTERN} characters.",
                    n + 1
                ),
            ));
        }
        if line.chars().any(char::is_control) {
            return Err(Error::validation(
                "patterns",
                format!("Line {}: no tabs or control characters.", n + 1),
            ));
        }
        if !out.iter().any(|l| l == line) {
            out.push(line.to_owned());
        }
    }
    if out.is_empty() {
        return Err(Error::validation(
            "patterns",
            format!("Enter at least one {what}, one per line."),
        ));
    }
    if out.len() > most {
        return Err(Error::validation(
            "patterns",
            format!("A rule lists at most {most} — split them over several rules."),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(check: &str) -> GuardrailInput {
        GuardrailInput {
            name: "No secrets".into(),
            check: check.into(),
            max_bytes: "2,000".into(),
            patterns: "password\n\n  api key  \npassword\n".into(),
            model_scope: String::new(),
            models: vec!["gpt-4o".into()],
            team_scope: "chosen".into(),
            teams: vec!["3".into(), "3".into()],
            enforcement: "block".into(),
        }
    }

    fn field(result: Result<GuardrailSpec, Error>) -> String {
        match result {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_form_reads_as_typed() {
        let offered = vec!["gpt-4o".to_owned()];
        let spec = input("terms").check(&offered).unwrap();
        assert_eq!(
            spec.test,
            Test::Terms(vec!["password".into(), "api key".into()])
        );
        assert_eq!(spec.teams, Some(vec![3]));
        assert_eq!(spec.models, Some(vec!["gpt-4o".to_owned()]));
        let all = GuardrailInput {
            team_scope: "all".into(),
            models: Vec::new(),
            ..input("terms")
        };
        assert_eq!(all.check(&offered).unwrap().teams, None);
        assert_eq!(all.check(&offered).unwrap().models, None);
        assert_eq!(spec.enforcement, Enforcement::Block);
        let size = input("prompt_size").check(&offered).unwrap();
        assert_eq!(size.test, Test::PromptSize { max_bytes: 2000 });
    }

    #[test]
    fn each_bad_field_is_named() {
        let offered = vec!["gpt-4o".to_owned()];
        type Change = fn(&mut GuardrailInput);
        let cases: Vec<(&str, Change)> = vec![
            ("name", |i| i.name = "  ".into()),
            ("name", |i| i.name = "a\nb".into()),
            ("check", |i| i.check = "vibes".into()),
            ("max_bytes", |i| {
                i.check = "prompt_size".into();
                i.max_bytes = "-5".into();
            }),
            ("max_bytes", |i| {
                i.check = "prompt_size".into();
                i.max_bytes = "0".into();
            }),
            ("max_bytes", |i| {
                i.check = "prompt_size".into();
                i.max_bytes = "99999999999".into();
            }),
            ("patterns", |i| i.patterns = " \n \n".into()),
            ("patterns", |i| i.patterns = "x".repeat(MAX_PATTERN + 1)),
            ("patterns", |i| {
                i.patterns = (0..=MAX_TERMS).map(|n| format!("t{n}\n")).collect();
            }),
            ("models", |i| i.models = vec!["gpt-9".into()]),
            ("teams", |i| i.teams = vec!["ops".into()]),
            ("teams", |i| i.teams = Vec::new()),
            ("models", |i| {
                i.model_scope = "chosen".into();
                i.models = Vec::new();
            }),
            ("name", |i| i.name = "İ".repeat(40)),
            ("enforcement", |i| i.enforcement = "shout".into()),
        ];
        for (expected, change) in cases {
            let mut form = input("terms");
            change(&mut form);
            assert_eq!(field(form.check(&offered)), expected, "{form:?}");
        }
    }
}
