//! Server functions for the API keys page. Bodies are thin: who is asking
//! (`request::signed_in`) → `domain` service.

use crate::error::AppError;
use domain::KeyId;
use domain::keys::{IssuedKey, KeyPage, KeyQuery, KeyRow};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use {crate::request, crate::users::api::team_field, domain::service::keys};

/// One page of keys for `query`.
#[server(endpoint = "list_keys", input = Json)]
pub async fn list_keys(query: KeyQuery) -> Result<KeyPage, AppError> {
    request::signed_in(async |ctx, me| keys::list(&ctx.db, &me.actor(), &query).await).await
}

/// Issues a key for the signed-in person. `expires` is `YYYY-MM-DD` or empty; `team` is the Team
/// field's value: empty for one's own team, else a team id. The answer holds the secret, once.
#[server(endpoint = "issue_key")]
pub async fn issue_key(name: String, expires: String, team: String) -> Result<IssuedKey, AppError> {
    request::signed_in(async |ctx, me| {
        let input = keys::IssueInput {
            name,
            expires_on: expires,
            team: team_field(&team)?,
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
