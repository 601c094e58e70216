//! `tollgate export-config`: the gateway's providers (from the database) and models (from the
//! providers file) written out as a providers file — never a key, only the variable a key is
//! read from — which `TOLLGATE_PROVIDERS` imports again unchanged.

use crate::config::Config;
use crate::gateway::catalog::CatalogFile;
use crate::startup_error::StartupError;
use domain::service::providers;
use serde::Serialize;

#[derive(Serialize)]
struct File {
    providers: Vec<ProviderEntry>,
    models: Vec<ModelEntry>,
}

#[derive(Serialize)]
struct ProviderEntry {
    name: String,
    base_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key_env: Option<String>,
    timeout_seconds: u32,
    #[serde(skip_serializing_if = "is_true")]
    enabled: bool,
}

#[derive(Serialize)]
struct ModelEntry {
    name: String,
    provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream_name: Option<String>,
    input_usd_per_mtok: f64,
    output_usd_per_mtok: f64,
    max_output_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_input_tokens: Option<u64>,
}

fn is_true(b: &bool) -> bool {
    *b
}

/// Micro-dollars per million tokens as the dollars the file writes (exact: they were parsed
/// from dollars rounded to the micro-dollar).
#[allow(clippy::cast_precision_loss)]
fn usd(micros: i64) -> f64 {
    micros as f64 / 1_000_000.0
}

/// The providers file for this configuration's database and file.
///
/// # Errors
/// [`StartupError`] when the database or the providers file cannot be read.
pub async fn export(config: &Config) -> Result<String, StartupError> {
    let db = crate::serve::open_database(config).await?;
    let stored = providers::export(&db)
        .await
        .map_err(StartupError::ApplyProviders)?;
    let known: Vec<String> = stored.iter().map(|p| p.name.clone()).collect();
    let models = match &config.providers {
        Some(path) => CatalogFile::load_without_keys(path, &known)?.models,
        None => Vec::new(),
    };
    db.close().await.ok();
    let to_set: Vec<String> = stored
        .iter()
        .filter(|p| p.key_from_page)
        .filter_map(|p| p.api_key_env.clone())
        .collect();
    let file = File {
        providers: stored
            .into_iter()
            .map(|p| ProviderEntry {
                name: p.name,
                base_url: p.base_url,
                api_key_env: p.api_key_env,
                timeout_seconds: p.timeout_secs,
                enabled: p.enabled,
            })
            .collect(),
        models: models
            .into_iter()
            .map(|m| ModelEntry {
                upstream_name: (m.upstream_name != m.name).then_some(m.upstream_name),
                name: m.name,
                provider: m.provider,
                input_usd_per_mtok: usd(m.price.input_micros_per_mtok),
                output_usd_per_mtok: usd(m.price.output_micros_per_mtok),
                max_output_tokens: m.max_output_tokens,
                image_input_tokens: m.image_input_tokens,
            })
            .collect(),
    };
    let body = toml::to_string(&file).map_err(|e| StartupError::Export(e.to_string()))?;
    let mut head = String::from(
        "# Tollgate providers file, written by `tollgate export-config`. Keys are never written:\n\
         # each provider with a key names the environment variable it is read from.\n",
    );
    if !to_set.is_empty() {
        head.push_str(&format!(
            "# Keys set on the Providers page: set {} before starting with this file.\n",
            to_set.join(", ")
        ));
    }
    Ok(format!("{head}\n{body}"))
}
