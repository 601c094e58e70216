//! The models the gateway offers and the providers behind them. Models come from the providers
//! file (`TOLLGATE_PROVIDERS`), read once at start-up — a mistake stops the server with the
//! file, line and field that caused it. Providers live in the database (the file's are applied
//! to it at start, `service::providers::apply_file`), so a provider changed on the Providers page
//! is used on the next request: [`LiveCatalog`] builds the catalog again whenever the access
//! epoch moves, with the enabled guardrails compiled beside the models.

use domain::db::DatabaseConnection;
use domain::guardrails::matcher::RuleSet;
use domain::pricing::{Price, micros_per_mtok};
use domain::providers::{
    BaseUrlError, check_base_url, check_key, check_name, name_key, timeout_ok,
};
use domain::sealing::Sealer;
use domain::secret::Secret;
use domain::service::access_epoch::AccessWatch;
use domain::service::guardrails;
use domain::service::providers::{self, FileProvider, Upstream};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use toml::Spanned;

/// An upstream the gateway forwards to.
#[derive(Debug)]
pub struct Provider {
    pub name: String,
    /// `base_url` + `/chat/completions`, parsed once here rather than on every request.
    pub chat_url: url::Url,
    /// The upstream's key; never sent to clients, and printed as a placeholder.
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

/// A model as the file describes it, naming its provider.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub name: String,
    pub upstream_name: String,
    pub provider: String,
    pub price: Price,
    pub max_output_tokens: u64,
    pub image_input_tokens: Option<u64>,
}

/// What the providers file holds, checked.
#[derive(Debug, Clone, Default)]
pub struct CatalogFile {
    pub providers: Vec<FileProvider>,
    pub models: Vec<ModelSpec>,
}

impl CatalogFile {
    /// Reads and checks the file at `path`, taking upstream keys from the environment; its
    /// models may name a provider of the file or one of `known` (those in the database).
    ///
    /// # Errors
    /// [`CatalogError`] naming the line and field at fault.
    pub fn load(path: &str, known: &[String]) -> Result<Self, CatalogError> {
        Self::parse(path, &read(path)?, |var| std::env::var(var).ok(), known)
    }

    /// Reads and checks the file at `path` without its keys (each provider that names a
    /// variable gets an empty key), for writing the configuration out.
    ///
    /// # Errors
    /// [`CatalogError`] naming the line and field at fault.
    pub fn load_without_keys(path: &str, known: &[String]) -> Result<Self, CatalogError> {
        Self::parse(path, &read(path)?, |_| Some(String::new()), known)
    }

    /// Parses `text` (from `path`, for messages); `env` answers environment variables.
    ///
    /// # Errors
    /// [`CatalogError`] naming the line and field at fault.
    pub fn parse(
        path: &str,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
        known: &[String],
    ) -> Result<Self, CatalogError> {
        let fail = |span: Option<std::ops::Range<usize>>, message: String| CatalogError {
            path: path.to_owned(),
            line: span.map(|s| line_of(text, s.start)),
            message,
        };
        let file: File =
            toml::from_str(text).map_err(|e| fail(e.span(), e.message().trim().to_owned()))?;

        let mut parsed = CatalogFile::default();
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

        let mut seen: HashMap<String, ()> = HashMap::new();
        for m in file.models {
            let name = m.name.get_ref().trim().to_owned();
            if name.is_empty() {
                return Err(fail(Some(m.name.span()), field("name", "cannot be empty")));
            }
            if seen.insert(name.clone(), ()).is_some() {
                return Err(fail(
                    Some(m.name.span()),
                    field("name", "another model already has this name"),
                ));
            }
            let wanted = name_key(m.provider.get_ref());
            let provider = parsed
                .providers
                .iter()
                .map(|p| &p.name)
                .chain(known)
                .find(|p| name_key(p) == wanted)
                .ok_or_else(|| {
                    fail(
                        Some(m.provider.span()),
                        field(
                            "provider",
                            &format!(
                                "no [[providers]] entry, and no provider on the Providers page, is named {:?}",
                                m.provider.get_ref()
                            ),
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
            parsed.models.push(ModelSpec {
                upstream_name: m.upstream_name.unwrap_or_else(|| name.clone()),
                name,
                provider: provider.clone(),
                price: Price {
                    input_micros_per_mtok: input,
                    output_micros_per_mtok: output,
                },
                max_output_tokens: *m.max_output_tokens.get_ref(),
                image_input_tokens: m.image_input_tokens,
            });
        }
        Ok(parsed)
    }
}

impl CatalogFile {
    /// The model names, which a key may be limited to.
    pub fn model_names(&self) -> std::sync::Arc<[String]> {
        self.models.iter().map(|m| m.name.clone()).collect()
    }

    /// Each model with the provider it names.
    pub fn model_providers(&self) -> std::sync::Arc<[(String, String)]> {
        self.models
            .iter()
            .map(|m| (m.name.clone(), m.provider.clone()))
            .collect()
    }
}

/// The models on offer now, each with its (enabled) provider, in file order.
#[derive(Debug, Default)]
pub struct Catalog {
    models: Vec<Arc<Model>>,
    by_name: HashMap<String, Arc<Model>>,
    /// The enabled guardrails, compiled.
    guardrails: RuleSet,
}

impl Catalog {
    pub fn guardrails(&self) -> &RuleSet {
        &self.guardrails
    }

    /// The same catalog, checking requests against `rules`.
    #[must_use]
    pub fn with_guardrails(self, rules: RuleSet) -> Self {
        Catalog {
            guardrails: rules,
            ..self
        }
    }

    pub fn model(&self, name: &str) -> Option<&Arc<Model>> {
        self.by_name.get(name)
    }

    pub fn models(&self) -> &[Arc<Model>] {
        &self.models
    }

    /// The models of `specs` whose provider is among `upstreams` (the enabled ones).
    pub fn build(specs: &[ModelSpec], upstreams: &[Upstream]) -> Self {
        let providers: HashMap<String, Arc<Provider>> = upstreams
            .iter()
            .filter_map(|u| {
                let chat_url = url::Url::parse(&format!("{}/chat/completions", u.base_url)).ok()?;
                Some((
                    name_key(&u.name),
                    Arc::new(Provider {
                        name: u.name.clone(),
                        chat_url,
                        api_key: u.api_key.clone(),
                        timeout: Duration::from_secs(u64::from(u.timeout_secs)),
                    }),
                ))
            })
            .collect();
        let mut catalog = Catalog::default();
        for spec in specs {
            let Some(provider) = providers.get(&name_key(&spec.provider)) else {
                continue;
            };
            let model = Arc::new(Model {
                name: spec.name.clone(),
                upstream_name: spec.upstream_name.clone(),
                provider: Arc::clone(provider),
                price: spec.price,
                max_output_tokens: spec.max_output_tokens,
                image_input_tokens: spec.image_input_tokens,
            });
            catalog
                .by_name
                .insert(spec.name.clone(), Arc::clone(&model));
            catalog.models.push(model);
        }
        catalog
    }
}

/// How long a catalog built while the providers could not be read serves before another try.
const RETRY_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Built {
    version: Option<u64>,
    catalog: Arc<Catalog>,
    retry_at: Option<Instant>,
}

/// The catalog as of the access epoch this process last saw: built again from the database's
/// providers on the first request after the epoch moved (a provider added, changed, disabled or
/// deleted in any process moves it).
#[derive(Debug)]
pub struct LiveCatalog {
    db: DatabaseConnection,
    sealer: Arc<Sealer>,
    access: Arc<AccessWatch>,
    specs: Arc<[ModelSpec]>,
    /// The catalog, the access version it was built for (`None`: not built yet), and — when the
    /// providers could not be read for that version — when to try again.
    built: RwLock<Built>,
    /// One rebuild at a time; requests that find one running wait for it.
    rebuilding: tokio::sync::Mutex<()>,
}

impl LiveCatalog {
    pub fn new(
        db: DatabaseConnection,
        sealer: Arc<Sealer>,
        access: Arc<AccessWatch>,
        specs: Vec<ModelSpec>,
    ) -> Self {
        LiveCatalog {
            db,
            sealer,
            access,
            specs: specs.into(),
            built: RwLock::new(Built::default()),
            rebuilding: tokio::sync::Mutex::new(()),
        }
    }

    /// The models the file names.
    pub fn specs(&self) -> &[ModelSpec] {
        &self.specs
    }

    fn if_current(&self, version: u64) -> Option<Arc<Catalog>> {
        let built = self
            .built
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = built.retry_at.is_some_and(|at| Instant::now() >= at);
        (built.version == Some(version) && !due).then(|| Arc::clone(&built.catalog))
    }

    /// The catalog to serve this request with. When the database cannot be read, the last one
    /// built is used and the next request tries again.
    pub async fn current(&self) -> Arc<Catalog> {
        let version = self.access.version();
        if let Some(catalog) = self.if_current(version) {
            return catalog;
        }
        // While the database is failing, requests take the last catalog rather than queue
        // behind a retry; otherwise they wait for the rebuild, so none is served a change late.
        let _turn = match self.rebuilding.try_lock() {
            Ok(turn) => turn,
            Err(_) if self.failing() => return self.last(),
            Err(_) => self.rebuilding.lock().await,
        };
        // The version is read before the providers: a change committed meanwhile moves it
        // again, and the next request builds once more.
        let version = self.access.version();
        if let Some(catalog) = self.if_current(version) {
            return catalog;
        }
        let read = async {
            let upstreams = providers::enabled(&self.db, &self.sealer).await?;
            let rules = guardrails::rule_set(&self.db, self.last().guardrails()).await?;
            Ok::<_, domain::Error>(Catalog::build(&self.specs, &upstreams).with_guardrails(rules))
        };
        let (catalog, retry_at) = match read.await {
            Ok(catalog) => (Arc::new(catalog), None),
            Err(e) => {
                // The last catalog serves meanwhile; requests do not queue to read the database
                // again one by one while it is down.
                tracing::error!(
                    "could not read the providers and guardrails (trying again in a second): {e}"
                );
                (self.last(), Some(Instant::now() + RETRY_AFTER))
            }
        };
        let mut built = self
            .built
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *built = Built {
            version: Some(version),
            catalog: Arc::clone(&catalog),
            retry_at,
        };
        catalog
    }

    /// Whether the last read of the providers failed.
    fn failing(&self) -> bool {
        let built = self
            .built
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        built.retry_at.is_some()
    }

    fn last(&self) -> Arc<Catalog> {
        let built = self
            .built
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(&built.catalog)
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
    #[serde(default = "enabled_by_default")]
    enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

fn default_timeout() -> Spanned<u64> {
    Spanned::new(0..0, u64::from(domain::providers::DEFAULT_TIMEOUT_SECS))
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
/// The file's text.
fn read(path: &str) -> Result<String, CatalogError> {
    std::fs::read_to_string(path).map_err(|e| CatalogError {
        path: path.to_owned(),
        line: None,
        message: format!("cannot read it: {e}"),
    })
}

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
        CatalogFile::parse("providers.toml", text, env, &[])
            .unwrap_err()
            .to_string()
    }

    fn catalog(file: &CatalogFile) -> Catalog {
        let upstreams: Vec<Upstream> = file.providers.iter().map(FileProvider::upstream).collect();
        Catalog::build(&file.models, &upstreams)
    }

    #[test]
    fn reads_the_documented_shape() {
        let file = CatalogFile::parse("providers.toml", GOOD, env, &[]).unwrap();
        let catalog = catalog(&file);
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
    fn models_may_name_a_provider_of_the_database_and_go_when_it_is_off() {
        let text = GOOD.replace("provider = \"openai\"", "provider = \"Shared\"");
        assert!(error(&text).contains("no provider on the Providers page"));
        let file =
            CatalogFile::parse("providers.toml", &text, env, &["shared".to_owned()]).unwrap();
        let shared = Upstream {
            name: "shared".into(),
            base_url: "http://127.0.0.1:9/v1".into(),
            api_key: None,
            timeout_secs: 5,
        };
        let on = Catalog::build(&file.models, &[shared]);
        assert_eq!(
            on.model("gpt-4o-mini").unwrap().provider.chat_url.as_str(),
            "http://127.0.0.1:9/v1/chat/completions"
        );
        let off = Catalog::build(&file.models, &[]);
        assert!(off.model("gpt-4o-mini").is_none() && off.models().is_empty());
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
