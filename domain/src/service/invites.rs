//! Invites: a new user starts `invited` with a single-use, 7-day token (stored as a hash);
//! accepting it sets their name and password and makes them `active`.

use crate::db::{begin_access_write, duplicate_as};
use crate::dto::{InviteInfo, SessionUser};
use crate::entity::{invite, team, user};
use crate::permission::{Action, Actor, Subject};
use crate::secret::{Secret, hash_password};
use crate::service::users::change::commit_change;
use crate::service::users::lookup::{find, subject};
use crate::service::{audit, begin_as, session_user};
use crate::users::UserRow;
use crate::{Error, Role, Status, TeamId, UserId, validation};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};

/// How long an invite link works.
pub const INVITE_TTL: Duration = Duration::days(7);

/// What the Invite User form sends.
#[derive(Debug, Clone)]
pub struct InviteInput {
    pub email: String,
    pub role: Role,
    pub team: Option<TeamId>,
}

/// A new or renewed invite: the row to show and the token for the link (shown or mailed once).
#[derive(Debug)]
pub struct Invited {
    pub user: UserRow,
    pub token: Secret,
    pub expires_at: DateTime<Utc>,
}

/// Invites someone by email.
///
/// # Errors
/// [`Error::Forbidden`] when the actor may not invite with that role; [`Error::Validation`] on
/// `email` (malformed, already on the list) or `team` (no such team). Nothing is written then.
pub async fn invite(
    db: &DatabaseConnection,
    actor: &Actor,
    input: InviteInput,
) -> Result<Invited, Error> {
    actor.require(Action::Invite { role: input.role })?;
    let email = validation::email(&input.email)?;
    let (txn, actor) = begin_as(db, actor).await?;
    let actor = &actor;
    // Again, as the actor stands now (the check above spares a lock for a plain refusal).
    actor.require(Action::Invite { role: input.role })?;
    if let Some(team_id) = input.team {
        let Some(found) = team::Entity::find_by_id(team_id.0).one(&txn).await? else {
            return Err(Error::validation(
                "team",
                "That team no longer exists. Pick another.",
            ));
        };
        // The team's budget per member will bind them: whose budget it is to set decides.
        let newcomer = Subject {
            id: UserId(0),
            role: input.role,
            status: Status::Invited,
            is_last_active_owner: false,
        };
        if found.member_limit_micros.is_some()
            && !actor.can(Action::SetMemberBudget { target: newcomer })
        {
            return Err(Error::validation(
                "team",
                "Only an Owner can put an Admin in a team with a budget per member. Pick another team or none.",
            ));
        }
    }
    let taken = user::Entity::find()
        .filter(user::Column::EmailNormalized.eq(email.normalized.as_str()))
        .count(&txn)
        .await?
        > 0;
    if taken {
        return Err(already_listed());
    }
    let created = user::ActiveModel {
        email: Set(email.display.clone()),
        email_normalized: Set(email.normalized),
        role: Set(input.role),
        status: Set(Status::Invited),
        team_id: Set(input.team.map(|t| t.0)),
        invited_by: Set(Some(actor.id.0)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(duplicate_as(already_listed))?;
    let (token, expires_at) = new_token(&txn, actor, created.id).await?;
    let detail = format!("{} as {}", created.email, input.role.as_str());
    let user = commit_change(txn, actor, "user.invite", UserId(created.id), &detail).await?;
    Ok(Invited {
        user,
        token,
        expires_at,
    })
}

fn already_listed() -> Error {
    Error::validation(
        "email",
        "Someone with this email is already on the access list.",
    )
}

/// Issues a new token for an invited user: the old link stops working and the 7 days restart.
///
/// # Errors
/// [`Error::Forbidden`] when the actor may not, or the user is no longer invited;
/// [`Error::NotFound`] when the user is gone.
pub async fn resend(db: &DatabaseConnection, actor: &Actor, id: UserId) -> Result<Invited, Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    let actor = &actor;
    let u = find(&txn, id).await?;
    actor.require(Action::ManageInvite {
        target: subject(&txn, &u).await?,
    })?;
    let (token, expires_at) = new_token(&txn, actor, u.id).await?;
    let user = commit_change(txn, actor, "user.resend_invite", id, &u.email).await?;
    Ok(Invited {
        user,
        token,
        expires_at,
    })
}

/// Revokes any open invite of `user_id` and stores a fresh one.
async fn new_token(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
) -> Result<(Secret, DateTime<Utc>), Error> {
    let now = Utc::now();
    invite::Entity::update_many()
        .col_expr(invite::Column::RevokedAt, Expr::value(now))
        .filter(invite::Column::UserId.eq(user_id))
        .filter(invite::Column::UsedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    let token = Secret::random();
    let expires_at = now + INVITE_TTL;
    invite::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(token.digest()),
        created_by: Set(Some(actor.id.0)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok((token, expires_at))
}

/// The invite behind `token` and its user, if it can still be accepted.
async fn open_invite(
    conn: &impl ConnectionTrait,
    token: &Secret,
) -> Result<(invite::Model, user::Model), Error> {
    let inv = invite::Entity::find()
        .filter(invite::Column::TokenHash.eq(token.digest()))
        .one(conn)
        .await?
        .ok_or_else(|| {
            invalid("This invite link is not valid. Ask an Admin of this gateway for a new invite.")
        })?;
    if inv.revoked_at.is_some() {
        return Err(invalid(
            "This invite was replaced by a newer one. Use the most recent invite you received, or ask for a new one.",
        ));
    }
    if inv.used_at.is_some() {
        return Err(invalid(
            "This invite has already been used. Sign in instead.",
        ));
    }
    if inv.expires_at <= Utc::now() {
        return Err(invalid(
            "This invite has expired. Ask the person who invited you to resend it.",
        ));
    }
    let u = user::Entity::find_by_id(inv.user_id)
        .one(conn)
        .await?
        .ok_or_else(|| invalid("This invite was withdrawn: the account no longer exists."))?;
    if u.status != Status::Invited {
        return Err(invalid(
            "This invite has already been used. Sign in instead.",
        ));
    }
    Ok((inv, u))
}

fn invalid(message: &str) -> Error {
    Error::NotFound(message.to_owned())
}

/// What the invite page shows: who is invited, as what, by whom.
///
/// # Errors
/// [`Error::NotFound`] saying why the link no longer works (unknown, replaced, used, expired).
pub async fn info(db: &DatabaseConnection, token: &Secret) -> Result<InviteInfo, Error> {
    let (inv, u) = open_invite(db, token).await?;
    let inviter = match inv.created_by {
        Some(id) => user::Entity::find_by_id(id)
            .one(db)
            .await?
            .and_then(|i| i.name),
        None => None,
    };
    Ok(InviteInfo {
        email: u.email,
        role: u.role,
        invited_by: inviter,
    })
}

/// Accepts an invite: sets the display name and password, makes the user active. The token is
/// checked again inside the access-list write, so of two acceptances at once exactly one wins;
/// the other is told the link was used.
///
/// # Errors
/// [`Error::Validation`] on `name` or `password`; [`Error::NotFound`] when the link no longer works;
/// [`Error::Forbidden`] while passwords are turned off (the invite is accepted by signing in with
/// single sign-on).
pub async fn accept(
    db: &DatabaseConnection,
    token: &Secret,
    name: &str,
    password: &Secret,
) -> Result<SessionUser, Error> {
    crate::service::sso::ensure_passwords_allowed(db).await?;
    let name = validation::display_name(name)?;
    validation::password(password.expose())?;
    open_invite(db, token).await?;
    let hash = hash_password(password).await?;

    let txn = begin_access_write(db).await?;
    // Again under the lock: passwords may have been turned off meanwhile.
    crate::service::sso::ensure_passwords_allowed(&txn).await?;
    let (inv, u) = open_invite(&txn, token).await?;
    let now = Utc::now();
    let mut active: user::ActiveModel = u.into();
    active.name = Set(Some(name));
    active.password_hash = Set(Some(hash));
    active.status = Set(Status::Active);
    active.joined_at = Set(Some(now));
    let accepted = active.update(&txn).await?;
    let mut used: invite::ActiveModel = inv.into();
    used.used_at = Set(Some(now));
    used.update(&txn).await?;
    audit::record(
        &txn,
        audit::By {
            id: Some(accepted.id),
            email: &accepted.email,
        },
        "user.accept_invite",
        &format!("user:{}", accepted.id),
        "",
    )
    .await?;
    txn.commit().await?;
    Ok(session_user(&accepted))
}
