//! Server functions for the Guardrails page. Bodies are thin: who is asking
//! (`request::signed_in`) → `domain` service, with the routes' names (the models a rule may
//! name). A form's
//! fields are the functions' arguments (as `ActionForm` posts them), so there are many.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use domain::guardrails::GuardrailsView;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    crate::request,
    domain::guardrails::GuardrailInput,
    domain::service::{guardrails, routes},
};

/// The Guardrails page.
#[server(endpoint = "list_guardrails")]
pub async fn list_guardrails() -> Result<GuardrailsView, AppError> {
    request::signed_in(async |ctx, me| {
        let offered = routes::names(&ctx.db).await?;
        guardrails::view(&ctx.db, &me.actor(), &offered).await
    })
    .await
}

/// Adds a guardrail. `check` is `prompt_size` (with `max_bytes`), `terms` or `pattern` (with
/// `patterns`, one per line); `model_scope` and `team_scope` are `all` or `chosen` (then
/// `models` and `teams` name them; blank: `chosen` when some are named); `enforcement` is
/// `block` or `log`.
#[server(endpoint = "add_guardrail")]
pub async fn add_guardrail(
    name: String,
    check: String,
    #[server(default)] max_bytes: String,
    #[server(default)] patterns: String,
    #[server(default)] model_scope: String,
    #[server(default)] models: Vec<String>,
    #[server(default)] team_scope: String,
    #[server(default)] teams: Vec<String>,
    #[server(default)] enforcement: String,
) -> Result<i64, AppError> {
    let input = GuardrailInput {
        name,
        check,
        max_bytes,
        patterns,
        model_scope,
        models,
        team_scope,
        teams,
        enforcement,
    };
    request::signed_in(async |ctx, me| {
        let offered = routes::names(&ctx.db).await?;
        guardrails::add(&ctx.db, &me.actor(), &input, &offered).await
    })
    .await
}

/// Changes a guardrail; its counts stay.
#[server(endpoint = "edit_guardrail")]
pub async fn edit_guardrail(
    id: i64,
    name: String,
    check: String,
    #[server(default)] max_bytes: String,
    #[server(default)] patterns: String,
    #[server(default)] model_scope: String,
    #[server(default)] models: Vec<String>,
    #[server(default)] team_scope: String,
    #[server(default)] teams: Vec<String>,
    #[server(default)] enforcement: String,
) -> Result<(), AppError> {
    let input = GuardrailInput {
        name,
        check,
        max_bytes,
        patterns,
        model_scope,
        models,
        team_scope,
        teams,
        enforcement,
    };
    request::signed_in(async |ctx, me| {
        let offered = routes::names(&ctx.db).await?;
        guardrails::edit(&ctx.db, &me.actor(), id, &input, &offered).await
    })
    .await
}

/// Enables or disables a guardrail.
#[server(endpoint = "set_guardrail_enabled")]
pub async fn set_guardrail_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    request::signed_in(async |ctx, me| {
        guardrails::set_enabled(&ctx.db, &me.actor(), id, enabled).await
    })
    .await
}

/// Deletes a guardrail and its counts.
#[server(endpoint = "delete_guardrail")]
pub async fn delete_guardrail(id: i64) -> Result<(), AppError> {
    request::signed_in(async |ctx, me| guardrails::delete(&ctx.db, &me.actor(), id).await).await
}
