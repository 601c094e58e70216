//! Server functions for the Teams page. Bodies are thin: who is asking (`request::signed_in`) →
//! `domain` service.

use crate::error::AppError;
use domain::keys::KeyRow;
use domain::teams::{TeamMember, TeamPage, TeamQuery, TeamRemoved, TeamRow};
use domain::{TeamId, UserId};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use {
    crate::request,
    domain::service::{keys, team_members, teams},
    domain::teams::TeamInput,
};

/// One page of teams for `query`, with the cards.
#[server(endpoint = "list_teams", input = Json)]
pub async fn list_teams(query: TeamQuery) -> Result<TeamPage, AppError> {
    request::signed_in(async |ctx, me| teams::list(&ctx.db, &me.actor(), &query).await).await
}

/// Creates a team. `limit` and `member_budget` (each member's unless they have their own) are
/// typed dollar amounts, the per-minute limits whole numbers; blank is no limit.
#[server(endpoint = "create_team")]
pub async fn create_team(
    name: String,
    description: String,
    limit: String,
    #[server(default)] requests_per_minute: Option<String>,
    #[server(default)] tokens_per_minute: Option<String>,
    #[server(default)] member_budget: Option<String>,
) -> Result<TeamRow, AppError> {
    let input = TeamInput {
        name,
        description,
        limit,
        requests_per_minute,
        tokens_per_minute,
        member_budget,
    };
    request::signed_in(async |ctx, me| teams::create(&ctx.db, &me.actor(), &input).await).await
}

/// Changes a team's name, description or limits; per-minute limits and the member budget not
/// sent stay as they are.
#[server(endpoint = "edit_team")]
pub async fn edit_team(
    id: TeamId,
    name: String,
    description: String,
    limit: String,
    #[server(default)] requests_per_minute: Option<String>,
    #[server(default)] tokens_per_minute: Option<String>,
    #[server(default)] member_budget: Option<String>,
) -> Result<TeamRow, AppError> {
    let input = TeamInput {
        name,
        description,
        limit,
        requests_per_minute,
        tokens_per_minute,
        member_budget,
    };
    request::signed_in(async |ctx, me| teams::edit(&ctx.db, &me.actor(), id, &input).await).await
}

/// Deletes a team: members are unassigned, its keys revoked, usage history kept.
#[server(endpoint = "delete_team")]
pub async fn delete_team(id: TeamId) -> Result<TeamRemoved, AppError> {
    request::signed_in(async |ctx, me| teams::delete(&ctx.db, &me.actor(), id).await).await
}

/// A team's keys (newest 50), for its expanded row.
#[server(endpoint = "team_keys")]
pub async fn team_keys(id: TeamId) -> Result<Vec<KeyRow>, AppError> {
    request::signed_in(async |ctx, me| keys::of_team(&ctx.db, &me.actor(), id).await).await
}

/// A team's members, for its expanded row.
#[server(endpoint = "team_members")]
pub async fn team_members(id: TeamId) -> Result<Vec<TeamMember>, AppError> {
    request::signed_in(async |ctx, me| team_members::members(&ctx.db, &me.actor(), id).await).await
}

/// Puts the person with `email` in team `id`.
#[server(endpoint = "add_team_member")]
pub async fn add_team_member(id: TeamId, email: String) -> Result<TeamMember, AppError> {
    request::signed_in(async |ctx, me| team_members::add(&ctx.db, &me.actor(), id, &email).await)
        .await
}

/// Sets `user`'s own monthly budget in team `id` (blank: the team's default applies).
#[server(endpoint = "set_member_budget")]
pub async fn set_member_budget(
    id: TeamId,
    user: UserId,
    budget: String,
) -> Result<TeamMember, AppError> {
    request::signed_in(async |ctx, me| {
        team_members::set_budget(&ctx.db, &me.actor(), id, user, &budget).await
    })
    .await
}

/// Takes `user` out of team `id`.
#[server(endpoint = "remove_team_member")]
pub async fn remove_team_member(id: TeamId, user: UserId) -> Result<(), AppError> {
    request::signed_in(async |ctx, me| team_members::remove(&ctx.db, &me.actor(), id, user).await)
        .await
}
