//! The providers file (`TOLLGATE_PROVIDERS`): providers, and the routes clients call them
//! through — a `[[models]]` entry is a route with one target, a `[[routes]]` entry lists its
//! targets (tried in order) and may keep the route to some teams. Read and checked once at
//! start-up — a mistake stops the server with the file, line and field that caused it — and
//! applied to the database (`apply`), where its entries are marked "from file" and read-only on
//! the pages.

use domain::db::DatabaseConnection;
use domain::pricing::{Price, micros_per_mtok};
use domain::providers::{
    BaseUrlError, check_base_url, check_key, check_name, name_key, timeout_ok,
};
use domain::routes::{MAX_IMAGE_TOKENS, MAX_OUTPUT_TOKENS, MAX_TARGETS};
use domain::sealing::Sealer;
use domain::secret::Secret;
use domain::service::providers::{self, FileProvider};
use domain::service::routes::{self, FileRoute, ServedTarget};
use serde::Deserialize;
use std::collections::HashSet;
use toml::Spanned;

/// What the providers file holds, checked.
#[derive(Debug, Clone, Default)]
pub struct ProvidersFile {
    pub providers: Vec<FileProvider>,
    /// `[[models]]` and `[[routes]]` entries, in file order.
    pub routes: Vec<FileRoute>,
}

impl ProvidersFile {
    /// Reads and checks the file at `path`, taking upstream keys from the environment; its
    /// routes may name a provider of the file or one of `known` (those in the database).
    ///
    /// # Errors
    /// [`ProvidersFileError`] naming the line and field at fault.
    pub fn load(path: &str, known: &[String]) -> Result<Self, ProvidersFileError> {
        Self::parse(path, &read(path)?, |var| std::env::var(var).ok(), known)
    }

    /// Parses `text` (from `path`, for messages); `env` answers environment variables.
    ///
    /// # Errors
    /// [`ProvidersFileError`] naming the line and field at fault.
    pub fn parse(
        path: &str,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
        known: &[String],
    ) -> Result<Self, ProvidersFileError> {
        let fail = |span: Option<std::ops::Range<usize>>, message: String| ProvidersFileError {
            path: path.to_owned(),
            line: span.map(|s| line_of(text, s.start)),
            message,
        };
        let file: File =
            toml::from_str(text).map_err(|e| fail(e.span(), e.message().trim().to_owned()))?;

        let mut parsed = ProvidersFile::default();
        for p in file.providers {
            let name = check_name(p.name.get_ref())
                .map_err(|e| fail(Some(p.name.span()), field("name", &e.to_string())))?;
            if parsed
                .providers
                .iter()
                .any(|q| name_key(&q.name) == name_key(&name))
            {
                return Err(fail(
                    Some(p.name.span()),
                    field("name", "another provider already has this name"),
                ));
            }
            // `/chat/completions` is appended to the path: a query or fragment would swallow it,
            // and credentials belong in `api_key_env`, not in a URL that may be printed.
            let base_url = check_base_url(p.base_url.get_ref()).map_err(|e| {
                let why = match e {
                    BaseUrlError::NotHttp => "must be an http:// or https:// URL".to_owned(),
                    BaseUrlError::HasExtras => {
                        "must have no query, fragment or user name (the key goes in api_key_env)"
                            .to_owned()
                    }
                    other => other.to_string(),
                };
                fail(Some(p.base_url.span()), field("base_url", &why))
            })?;
            let api_key = match &p.api_key_env {
                None => None,
                Some(var) => {
                    let key = env(var.get_ref()).ok_or_else(|| {
                        fail(
                            Some(var.span()),
                            field(
                                "api_key_env",
                                &format!("the environment variable {} is not set", var.get_ref()),
                            ),
                        )
                    })?;
                    check_key(key.trim()).map_err(|why| {
                        fail(
                            Some(var.span()),
                            field(
                                "api_key_env",
                                &format!("the key in {}: {why}", var.get_ref()),
                            ),
                        )
                    })?;
                    Some(Secret::new(key.trim()))
                }
            };
            let timeout = *p.timeout_seconds.get_ref();
            if !timeout_ok(timeout) {
                return Err(fail(
                    Some(p.timeout_seconds.span()),
                    field("timeout_seconds", "must be from 1 to 3600"),
                ));
            }
            parsed.providers.push(FileProvider {
                name,
                base_url,
                api_key,
                api_key_env: p.api_key_env.map(|v| v.into_inner()),
                timeout_secs: u32::try_from(timeout).unwrap_or(u32::MAX),
                enabled: p.enabled,
            });
        }

        let providers: Vec<&String> = parsed
            .providers
            .iter()
            .map(|p| &p.name)
            .chain(known)
            .collect();
        let target = |name: &str, t: &TargetEntry| -> Result<ServedTarget, ProvidersFileError> {
            let wanted = name_key(t.provider.get_ref());
            let provider = providers
                .iter()
                .find(|p| name_key(p) == wanted)
                .ok_or_else(|| {
                    fail(
                        Some(t.provider.span()),
                        field(
                            "provider",
                            &format!(
                                "no [[providers]] entry, and no provider on the Providers page, is named {:?}",
                                t.provider.get_ref()
                            ),
                        ),
                    )
                })?;
            let price = |f: &str, usd: &Spanned<f64>| {
                micros_per_mtok(*usd.get_ref())
                    .map_err(|e| fail(Some(usd.span()), field(f, &e.to_string())))
            };
            let input = price("input_usd_per_mtok", &t.input_usd_per_mtok)?;
            let output = price("output_usd_per_mtok", &t.output_usd_per_mtok)?;
            if !(1..=MAX_OUTPUT_TOKENS).contains(t.max_output_tokens.get_ref()) {
                return Err(fail(
                    Some(t.max_output_tokens.span()),
                    field(
                        "max_output_tokens",
                        &format!("must be from 1 to {MAX_OUTPUT_TOKENS}"),
                    ),
                ));
            }
            let upstream_name = match &t.upstream_name {
                None => name.to_owned(),
                Some(named) => domain::routes::check_model_name(named.get_ref().trim())
                    .map_err(|why| fail(Some(named.span()), field("upstream_name", &why)))?,
            };
            if let Some(images) = &t.image_input_tokens
                && !(1..=MAX_IMAGE_TOKENS).contains(images.get_ref())
            {
                return Err(fail(
                    Some(images.span()),
                    field(
                        "image_input_tokens",
                        &format!("must be from 1 to {MAX_IMAGE_TOKENS}"),
                    ),
                ));
            }
            Ok(ServedTarget {
                provider: (*provider).clone(),
                upstream_name,
                price: Price {
                    input_micros_per_mtok: input,
                    output_micros_per_mtok: output,
                },
                max_output_tokens: *t.max_output_tokens.get_ref(),
                image_input_tokens: t.image_input_tokens.as_ref().map(|n| *n.get_ref()),
            })
        };

        let mut seen: HashSet<String> = HashSet::new();
        let mut named = |name: &Spanned<String>| -> Result<String, ProvidersFileError> {
            let checked = domain::routes::check_name(name.get_ref()).map_err(|e| {
                let why = match e {
                    domain::Error::Validation { message, .. } => message,
                    other => other.to_string(),
                };
                fail(Some(name.span()), field("name", &why))
            })?;
            if !seen.insert(domain::routes::name_key(&checked)) {
                return Err(fail(
                    Some(name.span()),
                    field("name", "another model or route already has this name"),
                ));
            }
            Ok(checked)
        };
        for m in file.models {
            let name = named(&m.name)?;
            let only = target(&name, &m.target())?;
            parsed.routes.push(FileRoute {
                name,
                targets: vec![only],
                teams: None,
                enabled: true,
            });
        }
        for r in file.routes {
            let name = named(&r.name)?;
            if r.targets.get_ref().is_empty() || r.targets.get_ref().len() > MAX_TARGETS {
                return Err(fail(
                    Some(r.targets.span()),
                    field(
                        "targets",
                        &format!("a route lists from 1 to {MAX_TARGETS} targets"),
                    ),
                ));
            }
            let targets = r
                .targets
                .get_ref()
                .iter()
                .map(|t| target(&name, t))
                .collect::<Result<Vec<_>, _>>()?;
            parsed.routes.push(FileRoute {
                name,
                targets,
                teams: r.teams,
                enabled: r.enabled,
            });
        }
        Ok(parsed)
    }

    /// Writes the file's providers, then its routes, into the database (see
    /// `service::providers::apply_file` and `service::routes::apply_file`).
    ///
    /// # Errors
    /// [`domain::Error`] when the database cannot be written, or a route names a team that
    /// does not exist.
    pub async fn apply(
        &self,
        db: &DatabaseConnection,
        sealer: &Sealer,
    ) -> Result<(), domain::Error> {
        providers::apply_file(db, sealer, &self.providers).await?;
        routes::apply_file(db, &self.routes).await?;
        Ok(())
    }
}

/// A providers file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {message}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
pub struct ProvidersFileError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    providers: Vec<ProviderEntry>,
    #[serde(default)]
    models: Vec<ModelEntry>,
    #[serde(default)]
    routes: Vec<RouteEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderEntry {
    name: Spanned<String>,
    base_url: Spanned<String>,
    api_key_env: Option<Spanned<String>>,
    #[serde(default = "default_timeout")]
    timeout_seconds: Spanned<u64>,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

fn default_timeout() -> Spanned<u64> {
    Spanned::new(0..0, u64::from(domain::providers::DEFAULT_TIMEOUT_SECS))
}

/// A route with one target, all teams.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelEntry {
    name: Spanned<String>,
    provider: Spanned<String>,
    upstream_name: Option<Spanned<String>>,
    input_usd_per_mtok: Spanned<f64>,
    output_usd_per_mtok: Spanned<f64>,
    max_output_tokens: Spanned<u64>,
    image_input_tokens: Option<Spanned<u64>>,
}

impl ModelEntry {
    fn target(self) -> TargetEntry {
        TargetEntry {
            provider: self.provider,
            upstream_name: self.upstream_name,
            input_usd_per_mtok: self.input_usd_per_mtok,
            output_usd_per_mtok: self.output_usd_per_mtok,
            max_output_tokens: self.max_output_tokens,
            image_input_tokens: self.image_input_tokens,
        }
    }
}

/// A route with its targets, in the order tried.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteEntry {
    name: Spanned<String>,
    /// Team names; absent: every team.
    teams: Option<Vec<String>>,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    targets: Spanned<Vec<TargetEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetEntry {
    provider: Spanned<String>,
    upstream_name: Option<Spanned<String>>,
    input_usd_per_mtok: Spanned<f64>,
    output_usd_per_mtok: Spanned<f64>,
    max_output_tokens: Spanned<u64>,
    image_input_tokens: Option<Spanned<u64>>,
}

/// The file's text.
fn read(path: &str) -> Result<String, ProvidersFileError> {
    std::fs::read_to_string(path).map_err(|e| ProvidersFileError {
        path: path.to_owned(),
        line: None,
        message: format!("cannot read it: {e}"),
    })
}

/// The message for a bad value of field `name`.
fn field(name: &str, message: &str) -> String {
    format!("field `{name}`: {message}")
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[providers]]
name = "openai"
base_url = "https://api.openai.com/v1"
api_key_env = "OPENAI_API_KEY"

[[models]]
name = "gpt-4o-mini"
provider = "openai"
input_usd_per_mtok = 0.15
output_usd_per_mtok = 0.60
max_output_tokens = 16384
"#;

    fn env(var: &str) -> Option<String> {
        (var == "OPENAI_API_KEY").then(|| "sk-upstream".to_owned())
    }

    fn error(text: &str) -> String {
        ProvidersFile::parse("providers.toml", text, env, &[])
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_the_documented_shape() {
        let file = ProvidersFile::parse("providers.toml", GOOD, env, &[]).unwrap();
        let provider = &file.providers[0];
        assert_eq!(provider.base_url, "https://api.openai.com/v1");
        assert_eq!(
            provider.api_key.as_ref().map(Secret::expose),
            Some("sk-upstream")
        );
        assert_eq!(provider.timeout_secs, 300);
        let printed = format!("{file:?}");
        assert!(
            printed.contains("gpt-4o-mini") && !printed.contains("sk-upstream"),
            "the upstream key never prints: {printed}"
        );
        let route = &file.routes[0];
        assert_eq!(route.name, "gpt-4o-mini");
        assert_eq!((route.teams.as_ref(), route.enabled), (None, true));
        let only = &route.targets[0];
        assert_eq!(only.provider, "openai");
        assert_eq!(only.upstream_name, "gpt-4o-mini");
        assert_eq!(only.price, Price::from_usd_per_mtok(0.15, 0.60).unwrap());
        assert_eq!(only.max_output_tokens, 16_384);
        assert_eq!(only.image_input_tokens, None);
    }

    #[test]
    fn routes_list_their_targets_in_order() {
        let text = format!(
            "{GOOD}\n[[routes]]\nname = \"chat\"\nteams = [\"Research\"]\n\n\
             [[routes.targets]]\nprovider = \"openai\"\nupstream_name = \"gpt-4o\"\n\
             input_usd_per_mtok = 2.5\noutput_usd_per_mtok = 10\nmax_output_tokens = 4096\n\n\
             [[routes.targets]]\nprovider = \"Shared\"\ninput_usd_per_mtok = 3\n\
             output_usd_per_mtok = 15\nmax_output_tokens = 8192\nimage_input_tokens = 1600\n"
        );
        assert!(error(&text).contains("no provider on the Providers page"));
        let file =
            ProvidersFile::parse("providers.toml", &text, env, &["shared".to_owned()]).unwrap();
        let chat = &file.routes[1];
        assert_eq!(chat.teams, Some(vec!["Research".to_owned()]));
        let targets: Vec<(&str, &str)> = chat
            .targets
            .iter()
            .map(|t| (t.provider.as_str(), t.upstream_name.as_str()))
            .collect();
        assert_eq!(targets, [("openai", "gpt-4o"), ("shared", "chat")]);
        assert_eq!(chat.targets[1].image_input_tokens, Some(1600));
        let clash = text.replace("name = \"chat\"", "name = \"GPT-4o-mini\"");
        assert!(
            error(&clash).contains("another model or route already has this name"),
            "{}",
            error(&clash)
        );
        let empty = format!("{GOOD}\n[[routes]]\nname = \"none\"\ntargets = []\n");
        assert!(
            error(&empty).contains("a route lists from 1 to 5 targets"),
            "{}",
            error(&empty)
        );
    }

    #[test]
    fn a_target_is_checked_as_the_page_checks_it() {
        assert_eq!(
            error(&GOOD.replace(
                "max_output_tokens = 16384",
                "max_output_tokens = 16384\nimage_input_tokens = 0"
            )),
            "providers.toml, line 13: field `image_input_tokens`: must be from 1 to 1000000"
        );
        assert_eq!(
            error(&GOOD.replace(
                "provider = \"openai\"",
                "provider = \"openai\"\nupstream_name = \"gpt 4o\""
            )),
            "providers.toml, line 10: field `upstream_name`: Use up to 128 characters, without spaces."
        );
    }

    #[test]
    fn mistakes_name_the_line_and_field() {
        assert_eq!(
            error(&GOOD.replace("0.60", "-1")),
            "providers.toml, line 11: field `output_usd_per_mtok`: a price cannot be negative"
        );
        assert_eq!(
            error(&GOOD.replace("provider = \"openai\"", "provider = \"opnai\"")),
            "providers.toml, line 9: field `provider`: no [[providers]] entry, and no provider on \
             the Providers page, is named \"opnai\""
        );
        assert_eq!(
            error(&GOOD.replace("OPENAI_API_KEY", "MISSING_KEY")),
            "providers.toml, line 5: field `api_key_env`: the environment variable MISSING_KEY is not set"
        );
        assert_eq!(
            error(&GOOD.replace("https://api.openai.com/v1", "api.openai.com")),
            "providers.toml, line 4: field `base_url`: must be an http:// or https:// URL"
        );
        for base in [
            "https://example.com/v1?api-version=1",
            "https://example.com/v1#x",
            "https://user:secret@example.com/v1",
        ] {
            assert_eq!(
                error(&GOOD.replace("https://api.openai.com/v1", base)),
                "providers.toml, line 4: field `base_url`: must have no query, fragment or user \
                 name (the key goes in api_key_env)",
                "{base}"
            );
        }
        let missing = error(&GOOD.replace("max_output_tokens = 16384\n", ""));
        assert!(
            missing.contains("line 7") && missing.contains("missing field `max_output_tokens`"),
            "{missing}"
        );
        let typo = error(&GOOD.replace("max_output_tokens", "max_tokens"));
        assert!(
            typo.contains("line 12") && typo.contains("unknown field `max_tokens`"),
            "{typo}"
        );
        let wrong_type = error(&GOOD.replace("16384", "\"lots\""));
        assert!(wrong_type.contains("line 12"), "{wrong_type}");
    }
}
