//! `tollgate export-config`: the gateway's providers and routes, from the database, written out
//! as a providers file — never a key, only the variable a key is read from — which
//! `TOLLGATE_PROVIDERS` imports again unchanged.

use crate::config::Config;
use crate::startup_error::StartupError;
use domain::service::{providers, routes};
use serde::Serialize;

#[derive(Serialize)]
struct File {
    providers: Vec<ProviderEntry>,
    routes: Vec<RouteEntry>,
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
struct RouteEntry {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    teams: Option<Vec<String>>,
    #[serde(skip_serializing_if = "is_true")]
    enabled: bool,
    targets: Vec<TargetEntry>,
}

#[derive(Serialize)]
struct TargetEntry {
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
    let routes = routes::export(&db)
        .await
        .map_err(StartupError::ApplyProviders)?;
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
        routes: routes
            .into_iter()
            .map(|r| RouteEntry {
                targets: r
                    .targets
                    .into_iter()
                    .map(|t| TargetEntry {
                        upstream_name: (t.upstream_name != r.name).then_some(t.upstream_name),
                        provider: t.provider,
                        input_usd_per_mtok: usd(t.price.input_micros_per_mtok),
                        output_usd_per_mtok: usd(t.price.output_micros_per_mtok),
                        max_output_tokens: t.max_output_tokens,
                        image_input_tokens: t.image_input_tokens,
                    })
                    .collect(),
                name: r.name,
                teams: r.teams,
                enabled: r.enabled,
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
