//! Server functions for the API keys page. Bodies are thin: who is asking
//! (`request::signed_in`) → `domain` service.

use crate::error::AppError;
use domain::KeyId;
use domain::keys::{IssuedKey, KeyPage, KeyQuery, KeyRow};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use {
    crate::request,
    crate::users::api::team_field,
    domain::rate_limits::KeyLimits,
    domain::service::{key_limits, keys, routes},
};

/// One page of keys for `query`.
#[server(endpoint = "list_keys", input = Json)]
pub async fn list_keys(query: KeyQuery) -> Result<KeyPage, AppError> {
    request::signed_in(async |ctx, me| keys::list(&ctx.db, &me.actor(), &query).await).await
}

/// Issues a key for the signed-in person. `expires` is `YYYY-MM-DD` or empty; `team` is the Team
/// field's value: empty for one's own team, else a team id; `budget` is a dollar amount or blank,
/// the per-minute limits are blank or whole numbers, and `models` the models it may call (none:
/// all). The answer holds the secret, once.
#[server(endpoint = "issue_key")]
pub async fn issue_key(
    name: String,
    expires: String,
    team: String,
    #[server(default)] budget: String,
    #[server(default)] requests_per_minute: String,
    #[server(default)] tokens_per_minute: String,
    #[server(default)] models: Vec<String>,
) -> Result<IssuedKey, AppError> {
    request::signed_in(async |ctx, me| {
        let offered = routes::names(&ctx.db).await?;
        let input = keys::IssueInput {
            name,
            expires_on: expires,
            team: team_field(&team)?,
            limits: KeyLimits::parse(
                &budget,
                &requests_per_minute,
                &tokens_per_minute,
                &models,
                &offered,
            )?,
        };
        keys::issue(&ctx.db, &me.actor(), input).await
    })
    .await
}

/// Revokes a key; it stays listed as revoked.
#[server(endpoint = "revoke_key")]
pub async fn revoke_key(id: KeyId) -> Result<KeyRow, AppError> {
    request::signed_in(async |ctx, me| keys::revoke(&ctx.db, &me.actor(), id).await).await
}

/// Sets a key's monthly budget, per-minute limits and models (blank: none; no models: all). Its
/// owner may tighten them; Owners and Admins may also loosen them.
#[server(endpoint = "set_key_limits")]
pub async fn set_key_limits(
    id: KeyId,
    #[server(default)] budget: String,
    #[server(default)] requests_per_minute: String,
    #[server(default)] tokens_per_minute: String,
    #[server(default)] models: Vec<String>,
) -> Result<KeyRow, AppError> {
    request::signed_in(async |ctx, me| {
        let limits = KeyLimits::parse(
            &budget,
            &requests_per_minute,
            &tokens_per_minute,
            &models,
            &routes::names(&ctx.db).await?,
        )?;
        key_limits::set(&ctx.db, &me.actor(), id, limits).await
    })
    .await
}

/// The routes' names (the models clients ask for), for the key forms' model pickers.
#[server(endpoint = "model_options", input = Json)]
pub async fn model_options() -> Result<Vec<String>, AppError> {
    request::signed_in(async |ctx, _me| routes::names(&ctx.db).await).await
}
