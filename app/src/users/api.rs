//! Server functions for the Users page and invite acceptance. Bodies are thin: who is asking →
//! `domain` service → answer.

use crate::error::AppError;
use domain::dto::InviteInfo;
use domain::users::{UserDetail, UserPage, UserQuery, UserRow};
use domain::{Role, TeamId, UserId};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    crate::request::{self, answer},
    domain::Error,
    domain::secret::Secret,
    domain::service::{invites, session, teams, users},
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

/// Who is asking, as a permission actor.
#[cfg(feature = "ssr")]
async fn actor() -> Result<domain::Actor, Error> {
    Ok(request::current_user().await?.actor())
}

/// One page of users for `query`, with the summary cards.
#[server(prefix = "/api", endpoint = "list_users", input = Json)]
pub async fn list_users(query: UserQuery) -> Result<UserPage, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            users::list(&ctx.db, &actor().await?, &query).await
        }
        .await,
    )
}

/// What an expanded row shows.
#[server(prefix = "/api", endpoint = "user_detail")]
pub async fn load_user_detail(id: UserId) -> Result<UserDetail, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            users::detail(&ctx.db, &actor().await?, id).await
        }
        .await,
    )
}

/// The teams a user can be assigned to.
#[server(prefix = "/api", endpoint = "team_options")]
pub async fn team_options() -> Result<Vec<(TeamId, String)>, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            teams::options(&ctx.db, &actor().await?).await
        }
        .await,
    )
}

/// Invites someone; answers with the new row and the link to pass on. `team` is the Team
/// field's value: empty for no team, else a team id.
#[server(prefix = "/api", endpoint = "invite_user")]
pub async fn invite_user(
    email: String,
    role: Role,
    team: String,
) -> Result<InviteOutcome, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let team = team_field(&team)?;
            let input = invites::InviteInput { email, role, team };
            let me = request::current_user().await?;
            let invited = invites::invite(&ctx.db, &me.actor(), input).await?;
            Ok(deliver(&ctx, &me, invited).await)
        }
        .await,
    )
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
#[server(prefix = "/api", endpoint = "resend_invite")]
pub async fn resend_invite(id: UserId) -> Result<InviteOutcome, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let me = request::current_user().await?;
            let invited = invites::resend(&ctx.db, &me.actor(), id).await?;
            Ok(deliver(&ctx, &me, invited).await)
        }
        .await,
    )
}

/// The Team field's value: empty for no team, else a team id.
#[cfg(feature = "ssr")]
fn team_field(value: &str) -> Result<Option<TeamId>, Error> {
    match value.trim() {
        "" => Ok(None),
        id => id
            .parse()
            .map(|id| Some(TeamId(id)))
            .map_err(|_| Error::validation("team", "Pick a team from the list.")),
    }
}

/// Puts a user in another team (`team` empty: in none).
#[server(prefix = "/api", endpoint = "change_user_team")]
pub async fn change_user_team(id: UserId, team: String) -> Result<UserRow, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            teams::assign(&ctx.db, &actor().await?, id, team_field(&team)?).await
        }
        .await,
    )
}

/// Gives a user another role.
#[server(prefix = "/api", endpoint = "change_user_role")]
pub async fn change_user_role(id: UserId, role: Role) -> Result<UserRow, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            users::change_role(&ctx.db, &actor().await?, id, role).await
        }
        .await,
    )
}

/// Suspends a user: their sessions end and their keys stop working.
#[server(prefix = "/api", endpoint = "suspend_user")]
pub async fn suspend_user(id: UserId) -> Result<UserRow, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            users::suspend(&ctx.db, &actor().await?, id).await
        }
        .await,
    )
}

/// Lets a suspended user back in.
#[server(prefix = "/api", endpoint = "reactivate_user")]
pub async fn reactivate_user(id: UserId) -> Result<UserRow, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            users::reactivate(&ctx.db, &actor().await?, id).await
        }
        .await,
    )
}

/// Deletes a user (their keys are revoked, their usage history stays).
#[server(prefix = "/api", endpoint = "delete_user")]
pub async fn delete_user(id: UserId) -> Result<(), AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            users::delete(&ctx.db, &actor().await?, id).await
        }
        .await,
    )
}

/// What the invite page shows; says why when the link no longer works.
#[server(prefix = "/api", endpoint = "invite_details")]
pub async fn invite_details(token: String) -> Result<InviteInfo, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            invites::info(&ctx.db, &Secret::new(token)).await
        }
        .await,
    )
}

/// Accepts an invite, signs the new user in and opens the dashboard.
#[server(prefix = "/api", endpoint = "accept_invite")]
pub async fn accept_invite(token: String, name: String, password: String) -> Result<(), AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let user = invites::accept(&ctx.db, &Secret::new(token), &name, &Secret::new(password))
                .await?;
            let token = session::start(&ctx.db, user.id, ctx.sessions).await?;
            request::set_session_cookie(&token, &ctx);
            leptos_axum::redirect("/dashboard");
            Ok(())
        }
        .await,
    )
}

/// Deletes every user but the signed-in Owner, every team and every key (Owner only; the typed
/// phrase must match). Answers what was removed.
#[server(prefix = "/api", endpoint = "reset_access_list")]
pub async fn reset_access_list(confirmation: String) -> Result<String, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let removed =
                domain::service::reset::reset_access_list(&ctx.db, &actor().await?, &confirmation)
                    .await?;
            Ok(format!(
                "The access list was deleted: {} users, {} teams and {} keys removed.",
                removed.users, removed.teams, removed.keys
            ))
        }
        .await,
    )
}
