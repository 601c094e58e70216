//! Server functions for the Providers page. Bodies are thin: who is asking
//! (`request::signed_in`) → `domain` service; the connection test goes through the server's
//! prober.

use crate::error::AppError;
use domain::providers::{Health, ProvidersView};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {crate::request, domain::providers::ProviderInput, domain::service::providers};

/// The Providers page.
#[server(endpoint = "list_providers")]
pub async fn list_providers() -> Result<ProvidersView, AppError> {
    request::signed_in(async |ctx, me| providers::view(&ctx.db, &me.actor()).await).await
}

/// Adds a provider: its name, base URL, key (optional) and timeout in seconds (blank: 300).
#[server(endpoint = "add_provider")]
pub async fn add_provider(
    name: String,
    base_url: String,
    api_key: String,
    timeout_secs: String,
) -> Result<i64, AppError> {
    let input = ProviderInput {
        name,
        base_url,
        api_key,
        timeout_secs,
    };
    request::signed_in(async |ctx, me| {
        providers::add(&ctx.db, &ctx.sealer, &me.actor(), &input).await
    })
    .await
}

/// Changes a provider made on the page; a blank key keeps the key it has.
#[server(endpoint = "edit_provider")]
pub async fn edit_provider(
    id: i64,
    name: String,
    base_url: String,
    api_key: String,
    timeout_secs: String,
) -> Result<(), AppError> {
    let input = ProviderInput {
        name,
        base_url,
        api_key,
        timeout_secs,
    };
    request::signed_in(async |ctx, me| {
        providers::edit(&ctx.db, &ctx.sealer, &me.actor(), id, &input).await
    })
    .await
}

/// Enables or disables a provider made on the page.
#[server(endpoint = "set_provider_enabled")]
pub async fn set_provider_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    request::signed_in(async |ctx, me| {
        providers::set_enabled(&ctx.db, &me.actor(), id, enabled).await
    })
    .await
}

/// Deletes a provider made on the page that no model uses.
#[server(endpoint = "delete_provider")]
pub async fn delete_provider(id: i64) -> Result<(), AppError> {
    request::signed_in(async |ctx, me| providers::delete(&ctx.db, &me.actor(), id).await).await
}

/// Calls the provider's `GET /models` with its key and keeps what it answered.
#[server(endpoint = "test_provider")]
pub async fn test_provider(id: i64) -> Result<Health, AppError> {
    request::signed_in(async |ctx, me| {
        let target = providers::to_test(&ctx.db, &ctx.sealer, &me.actor(), id).await?;
        let probe = ctx.prober.probe(&target.upstream).await;
        providers::record_test(&ctx.db, id, &target, &probe, chrono::Utc::now()).await
    })
    .await
}
