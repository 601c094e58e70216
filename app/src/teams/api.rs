//! Server functions for the Teams page. Bodies are thin: who is asking → `domain` service →
//! answer.

use crate::error::AppError;
use domain::keys::KeyRow;
use domain::teams::{TeamMember, TeamPage, TeamQuery, TeamRemoved, TeamRow};
use domain::{TeamId, UserId};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use {
    crate::request::{self, answer},
    domain::service::{keys, team_members, teams},
    domain::teams::TeamInput,
};

/// One page of teams for `query`, with the cards.
#[server(prefix = "/api", endpoint = "list_teams", input = Json)]
pub async fn list_teams(query: TeamQuery) -> Result<TeamPage, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let me = request::current_user().await?;
            teams::list(&ctx.db, &me.actor(), &query).await
        }
        .await,
    )
}

/// Creates a team. `limit` is the typed dollar amount; blank is no limit.
#[server(prefix = "/api", endpoint = "create_team")]
pub async fn create_team(
    name: String,
    description: String,
    limit: String,
) -> Result<TeamRow, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let me = request::current_user().await?;
            let input = TeamInput {
                name,
                description,
                limit,
            };
            teams::create(&ctx.db, &me.actor(), &input).await
        }
        .await,
    )
}

/// Changes a team's name, description or limit.
#[server(prefix = "/api", endpoint = "edit_team")]
pub async fn edit_team(
    id: TeamId,
    name: String,
    description: String,
    limit: String,
) -> Result<TeamRow, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let me = request::current_user().await?;
            let input = TeamInput {
                name,
                description,
                limit,
            };
            teams::edit(&ctx.db, &me.actor(), id, &input).await
        }
        .await,
    )
}

/// Deletes a team: members are unassigned, its keys revoked, usage history kept.
#[server(prefix = "/api", endpoint = "delete_team")]
pub async fn delete_team(id: TeamId) -> Result<TeamRemoved, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let me = request::current_user().await?;
            teams::delete(&ctx.db, &me.actor(), id).await
        }
        .await,
    )
}

/// A team's keys (newest 50), for its expanded row.
#[server(prefix = "/api", endpoint = "team_keys")]
pub async fn team_keys(id: TeamId) -> Result<Vec<KeyRow>, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let me = request::current_user().await?;
            keys::of_team(&ctx.db, &me.actor(), id).await
        }
        .await,
    )
}

/// A team's members, for its expanded row.
#[server(prefix = "/api", endpoint = "team_members")]
pub async fn team_members(id: TeamId) -> Result<Vec<TeamMember>, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let me = request::current_user().await?;
            team_members::members(&ctx.db, &me.actor(), id).await
        }
        .await,
    )
}

/// Puts the person with `email` in team `id`.
#[server(prefix = "/api", endpoint = "add_team_member")]
pub async fn add_team_member(id: TeamId, email: String) -> Result<TeamMember, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let me = request::current_user().await?;
            team_members::add(&ctx.db, &me.actor(), id, &email).await
        }
        .await,
    )
}

/// Takes `user` out of team `id`.
#[server(prefix = "/api", endpoint = "remove_team_member")]
pub async fn remove_team_member(id: TeamId, user: UserId) -> Result<(), AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let me = request::current_user().await?;
            team_members::remove(&ctx.db, &me.actor(), id, user).await
        }
        .await,
    )
}
