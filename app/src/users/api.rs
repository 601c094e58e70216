//! Server functions for the Users page and invite acceptance. Bodies are thin: who is asking
//! (`request::signed_in`; anyone, to accept an invite: `request::with_ctx`) → `domain` service.

use crate::error::AppError;
use domain::dto::InviteInfo;
use domain::users::{UserDetail, UserPage, UserQuery, UserRow};
use domain::{Role, TeamId, UserId};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    crate::request,
    domain::Error,
    domain::secret::Secret,
    domain::service::{invites, reset, session, teams, users},
};

/// A new or renewed invite as the inviter sees it: the row, and how the link travels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteOutcome {
    pub user: UserRow,
    pub delivery: Delivery,
}

/// How an invite link reached the invited person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Delivery {
    /// Emailed to the invited address.
    Emailed,
    /// Shown once, for the inviter to pass on: no mail server is configured, or sending failed
    /// (`mail_error` says why).
    Link {
        link: String,
        mail_error: Option<String>,
    },
}

impl InviteOutcome {
    /// The link to show, when it was not emailed.
    pub fn link(&self) -> Option<(String, Option<String>)> {
        match &self.delivery {
            Delivery::Emailed => None,
            Delivery::Link { link, mail_error } => Some((link.clone(), mail_error.clone())),
        }
    }
}

/// One page of users for `query`, with the summary cards.
#[server(endpoint = "list_users", input = Json)]
pub async fn list_users(query: UserQuery) -> Result<UserPage, AppError> {
    request::signed_in(async |ctx, me| users::list(&ctx.db, &me.actor(), &query).await).await
}

/// What an expanded row shows.
#[server(endpoint = "user_detail")]
pub async fn load_user_detail(id: UserId) -> Result<UserDetail, AppError> {
    request::signed_in(async |ctx, me| users::detail(&ctx.db, &me.actor(), id).await).await
}

/// The teams a user can be assigned to.
#[server(endpoint = "team_options")]
pub async fn team_options() -> Result<Vec<(TeamId, String)>, AppError> {
    request::signed_in(async |ctx, me| teams::options(&ctx.db, &me.actor()).await).await
}

/// Invites someone; answers with the new row and the link to pass on. `team` is the Team
/// field's value: empty for no team, else a team id.
#[server(endpoint = "invite_user")]
pub async fn invite_user(
    email: String,
    role: Role,
    team: String,
) -> Result<InviteOutcome, AppError> {
    request::signed_in(async |ctx, me| {
        let input = invites::InviteInput {
            email,
            role,
            team: team_field(&team)?,
        };
        let invited = invites::invite(&ctx.db, &me.actor(), input).await?;
        Ok(deliver(&ctx, &me, invited).await)
    })
    .await
}

/// Emails the invite when a mail server is configured; otherwise (or when sending fails) hands
/// the link back to be shown once. The invite stands either way.
#[cfg(feature = "ssr")]
async fn deliver(
    ctx: &crate::context::ServerContext,
    inviter: &domain::dto::SessionUser,
    invited: invites::Invited,
) -> InviteOutcome {
    let link = format!("{}/invite/{}", ctx.public_url, invited.token.expose());
    let mail_error = match &ctx.mailer {
        None => None,
        Some(mailer) => {
            let mail = crate::context::InviteMail {
                to: invited.user.email.clone(),
                inviter: if inviter.name.is_empty() {
                    inviter.email.clone()
                } else {
                    inviter.name.clone()
                },
                role: invited.user.role,
                gateway: ctx.public_url.clone(),
                link: link.clone(),
            };
            match mailer.send_invite(&mail).await {
                Ok(()) => {
                    return InviteOutcome {
                        user: invited.user,
                        delivery: Delivery::Emailed,
                    };
                }
                Err(reason) => Some(reason),
            }
        }
    };
    InviteOutcome {
        user: invited.user,
        delivery: Delivery::Link { link, mail_error },
    }
}

/// Issues a new invite link for an invited user; the old one stops working.
#[server(endpoint = "resend_invite")]
pub async fn resend_invite(id: UserId) -> Result<InviteOutcome, AppError> {
    request::signed_in(async |ctx, me| {
        let invited = invites::resend(&ctx.db, &me.actor(), id).await?;
        Ok(deliver(&ctx, &me, invited).await)
    })
    .await
}

/// A Team field's value: empty for none (or, issuing a key, one's own team), else a team id.
#[cfg(feature = "ssr")]
pub(crate) fn team_field(value: &str) -> Result<Option<TeamId>, Error> {
    match value.trim() {
        "" => Ok(None),
        id => id
            .parse()
            .map(|id| Some(TeamId(id)))
            .map_err(|_| Error::validation("team", "Pick a team from the list.")),
    }
}

/// Puts a user in another team (`team` empty: in none).
#[server(endpoint = "change_user_team")]
pub async fn change_user_team(id: UserId, team: String) -> Result<UserRow, AppError> {
    request::signed_in(async |ctx, me| {
        teams::assign(&ctx.db, &me.actor(), id, team_field(&team)?).await
    })
    .await
}

/// Gives a user another role.
#[server(endpoint = "change_user_role")]
pub async fn change_user_role(id: UserId, role: Role) -> Result<UserRow, AppError> {
    request::signed_in(async |ctx, me| users::change_role(&ctx.db, &me.actor(), id, role).await)
        .await
}

/// Suspends a user: their sessions end and their keys stop working.
#[server(endpoint = "suspend_user")]
pub async fn suspend_user(id: UserId) -> Result<UserRow, AppError> {
    request::signed_in(async |ctx, me| users::suspend(&ctx.db, &me.actor(), id).await).await
}

/// Lets a suspended user back in.
#[server(endpoint = "reactivate_user")]
pub async fn reactivate_user(id: UserId) -> Result<UserRow, AppError> {
    request::signed_in(async |ctx, me| users::reactivate(&ctx.db, &me.actor(), id).await).await
}

/// Deletes a user (their keys are revoked, their usage history stays).
#[server(endpoint = "delete_user")]
pub async fn delete_user(id: UserId) -> Result<(), AppError> {
    request::signed_in(async |ctx, me| users::delete(&ctx.db, &me.actor(), id).await).await
}

/// What the invite page shows; says why when the link no longer works.
#[server(endpoint = "invite_details")]
pub async fn invite_details(token: String) -> Result<InviteInfo, AppError> {
    request::with_ctx(async |ctx| invites::info(&ctx.db, &Secret::new(token)).await).await
}

/// Accepts an invite, signs the new user in and opens the dashboard.
#[server(endpoint = "accept_invite")]
pub async fn accept_invite(token: String, name: String, password: String) -> Result<(), AppError> {
    request::with_ctx(async |ctx| {
        let user =
            invites::accept(&ctx.db, &Secret::new(token), &name, &Secret::new(password)).await?;
        let token = session::start(&ctx.db, user.id, ctx.sessions).await?;
        request::set_session_cookie(&token, &ctx);
        leptos_axum::redirect("/dashboard");
        Ok(())
    })
    .await
}

/// Deletes every user but the signed-in Owner, every team and every key (Owner only; the typed
/// phrase must match). Answers what was removed.
#[server(endpoint = "reset_access_list")]
pub async fn reset_access_list(confirmation: String) -> Result<String, AppError> {
    request::signed_in(async |ctx, me| {
        let removed = reset::reset_access_list(&ctx.db, &me.actor(), &confirmation).await?;
        Ok(format!(
            "The access list was deleted: {} users, {} teams and {} keys removed.",
            removed.users, removed.teams, removed.keys
        ))
    })
    .await
}
