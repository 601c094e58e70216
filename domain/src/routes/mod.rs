//! Routes as the Routes page shows and edits them: a route is the model name clients ask for,
//! mapped to an ordered list of targets — a provider, the model name sent to it, its prices and
//! its output limit. The gateway uses the first target whose provider answers; a route may be
//! kept to chosen teams. What a form sends, what a row says, and the rules a route must meet.

use crate::Error;
use crate::guardrails::TeamChoice;
use crate::pricing::micros_per_mtok;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest a route's (or an upstream model's) name may be, in characters.
pub const MAX_NAME: usize = 128;
/// The most targets one route may list: the first and its fallbacks.
pub const MAX_TARGETS: usize = 5;
/// The largest output limit a target may set (tokens).
pub const MAX_OUTPUT_TOKENS: u64 = 10_000_000;
/// The most prompt tokens one image may be billed at.
pub const MAX_IMAGE_TOKENS: u64 = 1_000_000;

/// A provider a target may name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderChoice {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
}

/// One target of a route, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRow {
    pub provider_id: i64,
    pub provider: String,
    /// Whether its provider is enabled (a disabled one is skipped).
    pub provider_enabled: bool,
    /// The model name sent to the provider.
    pub upstream_name: String,
    pub input_micros_per_mtok: i64,
    pub output_micros_per_mtok: i64,
    pub max_output_tokens: u64,
    pub image_input_tokens: Option<u64>,
}

impl TargetRow {
    /// Its prices in words: "$0.15 / $0.60 per Mtok".
    pub fn prices(&self) -> String {
        format!(
            "${} / ${} per Mtok",
            usd_per_mtok(self.input_micros_per_mtok),
            usd_per_mtok(self.output_micros_per_mtok)
        )
    }
}

/// One route on the Routes page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteRow {
    pub id: i64,
    pub name: String,
    /// In the order they are tried.
    pub targets: Vec<TargetRow>,
    /// The teams whose keys may use it; `None`: every team, and keys outside any team.
    pub teams: Option<Vec<TeamChoice>>,
    pub enabled: bool,
    /// It comes from the providers file: read-only on the page.
    pub from_file: bool,
    /// Requests served through it this month, and what they were charged — over every team,
    /// so `None` for readers who may not see every team's usage (Members).
    pub usage: Option<RouteUsage>,
}

/// A route's month so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteUsage {
    pub requests: u64,
    pub spend_micros: i64,
}

impl RouteRow {
    /// Whether clients can use it now: enabled, with a target whose provider is enabled.
    pub fn is_served(&self) -> bool {
        self.enabled && self.targets.iter().any(|t| t.provider_enabled)
    }
}

/// The Routes page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutesView {
    pub rows: Vec<RouteRow>,
    /// Whether the reader may add, edit, disable or delete (Owners and Admins).
    pub can_change: bool,
    /// Whether the rows carry their usage (readers of every team's usage).
    pub shows_usage: bool,
    /// The providers a target may name.
    pub providers: Vec<ProviderChoice>,
    /// The teams a route may be kept to.
    pub teams: Vec<TeamChoice>,
    /// The month the figures are for ("December 2026", UTC).
    pub month: String,
    pub generated_at: DateTime<Utc>,
}

/// One target of the Add and Edit form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetInput {
    /// The provider's id.
    pub provider: String,
    /// The model name sent upstream; blank: the route's name.
    pub upstream_name: String,
    /// Dollars per million tokens.
    pub input_price: String,
    pub output_price: String,
    pub max_output_tokens: String,
    /// Blank: requests with images are refused for keys with a spend limit.
    pub image_input_tokens: String,
}

impl TargetInput {
    fn is_blank(&self) -> bool {
        [
            &self.provider,
            &self.upstream_name,
            &self.input_price,
            &self.output_price,
            &self.max_output_tokens,
            &self.image_input_tokens,
        ]
        .iter()
        .all(|f| f.trim().is_empty())
    }
}

/// The Add and Edit form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteInput {
    pub name: String,
    /// In the order they are tried; wholly blank ones are skipped.
    pub targets: Vec<TargetInput>,
    /// `all` (or blank with none ticked): every team; `chosen`: the team ids in `teams`.
    pub team_scope: String,
    pub teams: Vec<String>,
}

/// A target once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    pub provider_id: i64,
    pub upstream_name: String,
    pub input_micros_per_mtok: i64,
    pub output_micros_per_mtok: i64,
    pub max_output_tokens: u64,
    pub image_input_tokens: Option<u64>,
}

/// A route once checked (that its providers exist and are enabled is the service's to check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub name: String,
    pub targets: Vec<TargetSpec>,
    /// `None`: every team, and keys outside any team.
    pub teams: Option<Vec<i64>>,
}

/// The form field of target `index` (from 0): `target1_provider`, ….
pub fn target_field(index: usize, field: &str) -> String {
    format!("target{}_{field}", index + 1)
}

impl RouteInput {
    /// Checks every field, naming the first that cannot be used.
    ///
    /// # Errors
    /// [`Error::Validation`] for the field at fault.
    pub fn check(&self) -> Result<RouteSpec, Error> {
        let name = check_name(&self.name)?;
        let typed: Vec<&TargetInput> = self.targets.iter().filter(|t| !t.is_blank()).collect();
        if typed.is_empty() {
            return Err(Error::validation(
                &target_field(0, "provider"),
                "A route needs a target: choose a provider.",
            ));
        }
        if typed.len() > MAX_TARGETS {
            return Err(Error::validation(
                "targets",
                format!("A route has at most {MAX_TARGETS} targets."),
            ));
        }
        let targets = typed
            .iter()
            .enumerate()
            .map(|(i, t)| check_target(i, t, &name))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(i) = (1..targets.len()).find(|&i| {
            targets[..i].iter().any(|t| {
                t.provider_id == targets[i].provider_id
                    && t.upstream_name == targets[i].upstream_name
            })
        }) {
            return Err(Error::validation(
                &target_field(i, "upstream_name"),
                "An earlier target already sends this model to this provider.",
            ));
        }
        let mut teams = self
            .teams
            .iter()
            .map(|t| t.trim().parse::<i64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| Error::validation("teams", "Choose teams from the list."))?;
        teams.sort_unstable();
        teams.dedup();
        let teams = match (self.team_scope.trim(), teams.is_empty()) {
            ("all", _) | ("", true) => None,
            ("chosen" | "", false) => Some(teams),
            ("chosen", true) => {
                return Err(Error::validation(
                    "teams",
                    "Tick at least one team, or choose all teams.",
                ));
            }
            _ => return Err(Error::validation("teams", "Choose all teams or some.")),
        };
        Ok(RouteSpec {
            name,
            targets,
            teams,
        })
    }
}

fn check_target(i: usize, t: &TargetInput, route: &str) -> Result<TargetSpec, Error> {
    let provider_id = t
        .provider
        .trim()
        .parse::<i64>()
        .map_err(|_| Error::validation(&target_field(i, "provider"), "Choose a provider."))?;
    let upstream_name = match t.upstream_name.trim() {
        "" => route.to_owned(),
        named => check_model_name(named)
            .map_err(|why| Error::validation(&target_field(i, "upstream_name"), why))?,
    };
    let price = |field: &str, text: &str| {
        let usd = text
            .trim()
            .trim_start_matches('$')
            .replace(',', "")
            .parse::<f64>()
            .map_err(|_| {
                Error::validation(
                    &target_field(i, field),
                    "Enter dollars per million tokens, such as 0.15.",
                )
            })?;
        micros_per_mtok(usd).map_err(|e| {
            let why = e.to_string();
            let mut why = why.chars();
            let first = why.next().map(|c| c.to_uppercase().to_string());
            Error::validation(
                &target_field(i, field),
                format!("{}{}.", first.unwrap_or_default(), why.as_str()),
            )
        })
    };
    let input_micros_per_mtok = price("input_price", &t.input_price)?;
    let output_micros_per_mtok = price("output_price", &t.output_price)?;
    let max_output_tokens = whole(&t.max_output_tokens)
        .filter(|n| (1..=MAX_OUTPUT_TOKENS).contains(n))
        .ok_or_else(|| {
            Error::validation(
                &target_field(i, "max_output_tokens"),
                format!(
                    "Enter a whole number of tokens from 1 to {}.",
                    crate::numbers::grouped(MAX_OUTPUT_TOKENS)
                ),
            )
        })?;
    let image_input_tokens = match t.image_input_tokens.trim() {
        "" => None,
        text => Some(
            whole(text)
                .filter(|n| (1..=MAX_IMAGE_TOKENS).contains(n))
                .ok_or_else(|| {
                    Error::validation(
                        &target_field(i, "image_input_tokens"),
                        format!(
                            "Enter a whole number of tokens from 1 to {}, or leave it empty.",
                            crate::numbers::grouped(MAX_IMAGE_TOKENS)
                        ),
                    )
                })?,
        ),
    };
    Ok(TargetSpec {
        provider_id,
        upstream_name,
        input_micros_per_mtok,
        output_micros_per_mtok,
        max_output_tokens,
        image_input_tokens,
    })
}

fn whole(text: &str) -> Option<u64> {
    text.trim().replace([',', '_', ' '], "").parse::<u64>().ok()
}

/// A route's name — the model name clients send: 1–128 characters, no spaces or control
/// characters.
///
/// # Errors
/// [`Error::Validation`] on `name`.
pub fn check_name(input: &str) -> Result<String, Error> {
    check_model_name(input.trim()).map_err(|why| Error::validation("name", why))
}

/// A model name as a route or a provider knows it: 1–128 characters, no spaces or control
/// characters; the reason in words when it is not.
///
/// # Errors
/// Why the name cannot be used.
pub fn check_model_name(name: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err("Enter the model name clients will ask for.".to_owned());
    }
    if name_key(name).chars().count() > MAX_NAME
        || name.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(format!("Use up to {MAX_NAME} characters, without spaces."));
    }
    Ok(name.to_owned())
}

/// The key two route names clash by: names differing only in case are the same route.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Micro-dollars per million tokens as dollars, without trailing zeros past the cents: 150000 →
/// "0.15", 2500000000 → "2,500" (prices are never negative).
pub fn usd_per_mtok(micros: i64) -> String {
    let whole = micros / 1_000_000;
    let frac = (micros % 1_000_000).abs();
    let whole = crate::numbers::grouped(u64::try_from(whole).unwrap_or(0));
    if frac == 0 {
        return whole;
    }
    let digits = format!("{frac:06}");
    let digits = digits.trim_end_matches('0');
    // Cents always show in two places: $0.60, not $0.6.
    let digits = if digits.len() < 2 {
        format!("{digits:0<2}")
    } else {
        digits.to_owned()
    };
    format!("{whole}.{digits}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> TargetInput {
        TargetInput {
            provider: "1".into(),
            upstream_name: String::new(),
            input_price: "0.15".into(),
            output_price: "$0.60".into(),
            max_output_tokens: "16,384".into(),
            image_input_tokens: String::new(),
        }
    }

    fn input() -> RouteInput {
        RouteInput {
            name: " gpt-4o-mini ".into(),
            targets: vec![target(), TargetInput::default()],
            team_scope: String::new(),
            teams: Vec::new(),
        }
    }

    fn field(result: Result<RouteSpec, Error>) -> String {
        match result {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_form_reads_as_typed() {
        let spec = input().check().unwrap();
        assert_eq!(spec.name, "gpt-4o-mini");
        assert_eq!(spec.teams, None);
        assert_eq!(
            spec.targets,
            vec![TargetSpec {
                provider_id: 1,
                upstream_name: "gpt-4o-mini".into(),
                input_micros_per_mtok: 150_000,
                output_micros_per_mtok: 600_000,
                max_output_tokens: 16_384,
                image_input_tokens: None,
            }]
        );
        let chosen = RouteInput {
            teams: vec!["4".into(), "2".into(), "4".into()],
            ..input()
        };
        assert_eq!(chosen.check().unwrap().teams, Some(vec![2, 4]));
    }

    #[test]
    fn each_bad_field_is_named() {
        type Change = fn(&mut RouteInput);
        let cases: Vec<(&str, Change)> = vec![
            ("name", |i| i.name = "  ".into()),
            ("name", |i| i.name = "gpt 4o".into()),
            ("name", |i| i.name = "x".repeat(MAX_NAME + 1)),
            ("target1_provider", |i| i.targets = Vec::new()),
            ("target1_provider", |i| {
                i.targets[0].provider = String::new()
            }),
            ("target1_input_price", |i| {
                i.targets[0].input_price = "-1".into()
            }),
            ("target1_input_price", |i| {
                i.targets[0].input_price = "cheap".into()
            }),
            ("target1_output_price", |i| {
                i.targets[0].output_price = "2000000".into();
            }),
            ("target1_max_output_tokens", |i| {
                i.targets[0].max_output_tokens = "0".into();
            }),
            ("target1_image_input_tokens", |i| {
                i.targets[0].image_input_tokens = "lots".into();
            }),
            ("target1_upstream_name", |i| {
                i.targets[0].upstream_name = "a b".into();
            }),
            ("target2_upstream_name", |i| i.targets[1] = target()),
            ("target2_output_price", |i| {
                i.targets[1] = TargetInput {
                    provider: "2".into(),
                    output_price: String::new(),
                    ..target()
                };
            }),
            ("targets", |i| i.targets = vec![target(); MAX_TARGETS + 1]),
            ("teams", |i| i.teams = vec!["ops".into()]),
            ("teams", |i| i.team_scope = "chosen".into()),
        ];
        for (expected, change) in cases {
            let mut form = input();
            change(&mut form);
            assert_eq!(field(form.check()), expected, "{form:?}");
        }
    }

    #[test]
    fn prices_read_as_dollars() {
        assert_eq!(usd_per_mtok(150_000), "0.15");
        assert_eq!(usd_per_mtok(600_000), "0.60");
        assert_eq!(usd_per_mtok(2_500_000), "2.50");
        assert_eq!(usd_per_mtok(3_000_000), "3");
        assert_eq!(usd_per_mtok(1_234), "0.001234");
        assert_eq!(usd_per_mtok(0), "0");
        assert_eq!(usd_per_mtok(2_500_000_000), "2,500");
    }
}
