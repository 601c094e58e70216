//! The providers file (`TOLLGATE_PROVIDERS`): upstream providers and the models the gateway
//! offers, with their prices and output maxima. Read once at start-up; a mistake stops the
//! server with the file, line and field that caused it.

use domain::pricing::{Price, micros_per_mtok};
use domain::secret::Secret;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use toml::Spanned;

/// An upstream the gateway forwards to.
#[derive(Debug)]
pub struct Provider {
    pub name: String,
    /// `base_url` + `/chat/completions`, parsed once here rather than on every request.
    pub chat_url: url::Url,
    /// The upstream's key, read from the environment variable the file names; never sent to
    /// clients, and printed as a placeholder.
    pub api_key: Option<Secret>,
    /// How long to wait for the upstream to connect and then for each piece of its answer.
    pub timeout: Duration,
}

/// A model clients may ask for.
#[derive(Debug)]
pub struct Model {
    pub name: String,
    /// The name sent upstream (defaults to `name`).
    pub upstream_name: String,
    pub provider: Arc<Provider>,
    pub price: Price,
    pub max_output_tokens: u64,
    /// The most prompt tokens one image part can be billed at; without it, requests with
    /// images cannot be held and are refused for keys with a spend limit.
    pub image_input_tokens: Option<u64>,
}

/// Every configured model, in file order.
#[derive(Debug, Default)]
pub struct Catalog {
    models: Vec<Arc<Model>>,
    by_name: HashMap<String, Arc<Model>>,
}

impl Catalog {
    pub fn model(&self, name: &str) -> Option<&Arc<Model>> {
        self.by_name.get(name)
    }

    pub fn models(&self) -> &[Arc<Model>] {
        &self.models
    }

    /// The longest any upstream may take to answer.
    pub fn longest_timeout(&self) -> Duration {
        self.models
            .iter()
            .map(|m| m.provider.timeout)
            .max()
            .unwrap_or(Duration::from_secs(DEFAULT_TIMEOUT_SECS))
    }

    /// Reads and checks the file at `path`, taking upstream keys from the environment.
    ///
    /// # Errors
    /// [`CatalogError`] naming the line and field at fault.
    pub fn load(path: &str) -> Result<Self, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|e| CatalogError {
            path: path.to_owned(),
            line: None,
            message: format!("cannot read it: {e}"),
        })?;
        Self::parse(path, &text, |var| std::env::var(var).ok())
    }

    /// Parses `text` (from `path`, for messages); `env` answers environment variables.
    ///
    /// # Errors
    /// [`CatalogError`] naming the line and field at fault.
    pub fn parse(
        path: &str,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, CatalogError> {
        let fail = |span: Option<std::ops::Range<usize>>, message: String| CatalogError {
            path: path.to_owned(),
            line: span.map(|s| line_of(text, s.start)),
            message,
        };
        let file: File =
            toml::from_str(text).map_err(|e| fail(e.span(), e.message().trim().to_owned()))?;

        let mut providers: HashMap<String, Arc<Provider>> = HashMap::new();
        for p in file.providers {
            if providers.contains_key(p.name.get_ref()) {
                return Err(fail(
                    Some(p.name.span()),
                    field("name", "another provider already has this name"),
                ));
            }
            let base = url::Url::parse(p.base_url.get_ref())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| {
                    fail(
                        Some(p.base_url.span()),
                        field("base_url", "must be an http:// or https:// URL"),
                    )
                })?;
            // `/chat/completions` is appended to the path: a query or fragment would swallow it,
            // and credentials belong in `api_key_env`, not in a URL that may be printed.
            if base.query().is_some()
                || base.fragment().is_some()
                || !base.username().is_empty()
                || base.password().is_some()
            {
                return Err(fail(
                    Some(p.base_url.span()),
                    field(
                        "base_url",
                        "must have no query, fragment or user name (the key goes in api_key_env)",
                    ),
                ));
            }
            let api_key = match &p.api_key_env {
                None => None,
                Some(var) => Some(env(var.get_ref()).map(Secret::new).ok_or_else(|| {
                    fail(
                        Some(var.span()),
                        field(
                            "api_key_env",
                            &format!("the environment variable {} is not set", var.get_ref()),
                        ),
                    )
                })?),
            };
            let timeout = *p.timeout_seconds.get_ref();
            if timeout == 0 {
                return Err(fail(
                    Some(p.timeout_seconds.span()),
                    field("timeout_seconds", "must be at least 1"),
                ));
            }
            let provider = Provider {
                name: p.name.get_ref().clone(),
                chat_url: url::Url::parse(&format!(
                    "{}/chat/completions",
                    base.as_str().trim_end_matches('/')
                ))
                .map_err(|_| {
                    fail(
                        Some(p.base_url.span()),
                        field("base_url", "must be an http:// or https:// URL"),
                    )
                })?,
                api_key,
                timeout: Duration::from_secs(timeout),
            };
            providers.insert(provider.name.clone(), Arc::new(provider));
        }

        let mut catalog = Catalog::default();
        for m in file.models {
            let name = m.name.get_ref().trim().to_owned();
            if name.is_empty() {
                return Err(fail(Some(m.name.span()), field("name", "cannot be empty")));
            }
            if catalog.by_name.contains_key(&name) {
                return Err(fail(
                    Some(m.name.span()),
                    field("name", "another model already has this name"),
                ));
            }
            let provider = providers.get(m.provider.get_ref()).ok_or_else(|| {
                fail(
                    Some(m.provider.span()),
                    field(
                        "provider",
                        &format!("no [[providers]] entry is named {:?}", m.provider.get_ref()),
                    ),
                )
            })?;
            let price = |f: &str, usd: &Spanned<f64>| {
                micros_per_mtok(*usd.get_ref())
                    .map_err(|e| fail(Some(usd.span()), field(f, &e.to_string())))
            };
            let input = price("input_usd_per_mtok", &m.input_usd_per_mtok)?;
            let output = price("output_usd_per_mtok", &m.output_usd_per_mtok)?;
            if *m.max_output_tokens.get_ref() == 0 {
                return Err(fail(
                    Some(m.max_output_tokens.span()),
                    field("max_output_tokens", "must be at least 1"),
                ));
            }
            let model = Arc::new(Model {
                upstream_name: m.upstream_name.unwrap_or_else(|| name.clone()),
                name: name.clone(),
                provider: Arc::clone(provider),
                price: Price {
                    input_micros_per_mtok: input,
                    output_micros_per_mtok: output,
                },
                max_output_tokens: *m.max_output_tokens.get_ref(),
                image_input_tokens: m.image_input_tokens,
            });
            catalog.by_name.insert(name, Arc::clone(&model));
            catalog.models.push(model);
        }
        Ok(catalog)
    }
}

/// A providers file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {message}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
pub struct CatalogError {
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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderEntry {
    name: Spanned<String>,
    base_url: Spanned<String>,
    api_key_env: Option<Spanned<String>>,
    #[serde(default = "default_timeout")]
    timeout_seconds: Spanned<u64>,
}

const DEFAULT_TIMEOUT_SECS: u64 = 300;

fn default_timeout() -> Spanned<u64> {
    Spanned::new(0..0, DEFAULT_TIMEOUT_SECS)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelEntry {
    name: Spanned<String>,
    provider: Spanned<String>,
    upstream_name: Option<String>,
    input_usd_per_mtok: Spanned<f64>,
    output_usd_per_mtok: Spanned<f64>,
    max_output_tokens: Spanned<u64>,
    image_input_tokens: Option<u64>,
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
        Catalog::parse("providers.toml", text, env)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_the_documented_shape() {
        let catalog = Catalog::parse("providers.toml", GOOD, env).unwrap();
        let model = catalog.model("gpt-4o-mini").unwrap();
        assert_eq!(
            model.provider.chat_url.as_str(),
            "https://api.openai.com/v1/chat/completions"
        );
        assert_eq!(
            model.provider.api_key.as_ref().map(Secret::expose),
            Some("sk-upstream")
        );
        assert_eq!(model.image_input_tokens, None);
        let printed = format!("{catalog:?}");
        assert!(
            printed.contains("gpt-4o-mini") && !printed.contains("sk-upstream"),
            "the upstream key never prints: {printed}"
        );
        assert_eq!(model.price, Price::from_usd_per_mtok(0.15, 0.60).unwrap());
        assert_eq!(model.max_output_tokens, 16_384);
        assert_eq!(model.upstream_name, "gpt-4o-mini");
        assert_eq!(model.provider.timeout, Duration::from_secs(300));
    }

    #[test]
    fn mistakes_name_the_line_and_field() {
        assert_eq!(
            error(&GOOD.replace("0.60", "-1")),
            "providers.toml, line 11: field `output_usd_per_mtok`: a price cannot be negative"
        );
        assert_eq!(
            error(&GOOD.replace("provider = \"openai\"", "provider = \"opnai\"")),
            "providers.toml, line 9: field `provider`: no [[providers]] entry is named \"opnai\""
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
