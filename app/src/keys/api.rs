//! Server functions for the API keys page. Bodies are thin: who is asking → `domain` service →
//! answer.

use crate::error::AppError;
use domain::KeyId;
use domain::keys::{IssuedKey, KeyPage, KeyQuery, KeyRow};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use {
    crate::request::{self, answer},
    domain::service::keys,
    domain::{Error, TeamId},
};

/// One page of keys for `query`.
#[server(prefix = "/api", endpoint = "list_keys", input = Json)]
pub async fn list_keys(query: KeyQuery) -> Result<KeyPage, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let me = request::current_user().await?;
            keys::list(&ctx.db, &me.actor(), &query).await
        }
        .await,
    )
}

/// Issues a key for the signed-in person. `expires` is `YYYY-MM-DD` or empty; `team` is the Team
/// field's value: empty for one's own team, else a team id. The answer holds the secret, once.
#[server(prefix = "/api", endpoint = "issue_key")]
pub async fn issue_key(name: String, expires: String, team: String) -> Result<IssuedKey, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let me = request::current_user().await?;
            let team = match team.trim() {
                "" => None,
                id => Some(TeamId(id.parse().map_err(|_| {
                    Error::validation("team", "Pick a team from the list.")
                })?)),
            };
            let input = keys::IssueInput {
                name,
                expires_on: expires,
                team,
            };
            keys::issue(&ctx.db, &me.actor(), input).await
        }
        .await,
    )
}

/// Revokes a key; it stays listed as revoked.
#[server(prefix = "/api", endpoint = "revoke_key")]
pub async fn revoke_key(id: KeyId) -> Result<KeyRow, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let me = request::current_user().await?;
            keys::revoke(&ctx.db, &me.actor(), id).await
        }
        .await,
    )
}
