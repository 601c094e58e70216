//! The actions on one user: change role, suspend, reactivate, delete. The list lives in
//! `list.rs` (searched through `search.rs`, read along the sort indexes by `walk.rs` and, for
//! searches matching too many to list by id, `many_matches.rs`); invites in
//! `service/invites.rs`. What other services share with these — finding a user, their
//! permission subject and row (`lookup.rs`), finishing a change (`change.rs`) — is in files of
//! its own, which import neither the actions nor the list.

pub(crate) mod change;
mod list;
pub(crate) mod lookup;
mod many_matches;
mod search;
mod walk;

pub use list::{detail, list, summary};

use crate::entity::{api_key, user};
use crate::permission::{Action, Actor};
use crate::service::usage_report::names::{self, Departed};
use crate::service::{begin_as, session};
use crate::users::UserRow;
use crate::{Error, Role, Status, UserId};
use change::{commit_change, record};
use chrono::Utc;
use lookup::{find, subject};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

/// Gives `id` the role `to`. Their keys then work as the new role allows (a Member's only in
/// their team, a Viewer's not at all): the gateway checks the owner's role at every use.
///
/// # Errors
/// [`Error::Forbidden`] with the rule's reason (judged on the actor and target as they are at
/// that moment); [`Error::NotFound`] when the user is gone.
pub async fn change_role(
    db: &DatabaseConnection,
    actor: &Actor,
    id: UserId,
    to: Role,
) -> Result<UserRow, Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    let actor = &actor;
    let u = find(&txn, id).await?;
    actor.require(Action::ChangeRole {
        target: subject(&txn, &u).await?,
        to,
    })?;
    user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value(to))
        .filter(user::Column::Id.eq(id.0))
        .exec(&txn)
        .await?;
    let detail = format!("{} → {}", u.role.as_str(), to.as_str());
    commit_change(txn, actor, "user.change_role", id, &detail).await
}

/// Suspends an active user: their sessions end at once and their keys stop working.
///
/// # Errors
/// As [`change_role`].
pub async fn suspend(db: &DatabaseConnection, actor: &Actor, id: UserId) -> Result<UserRow, Error> {
    set_status(db, actor, id, Status::Suspended).await
}

/// Reactivates a suspended user.
///
/// # Errors
/// As [`change_role`].
pub async fn reactivate(
    db: &DatabaseConnection,
    actor: &Actor,
    id: UserId,
) -> Result<UserRow, Error> {
    set_status(db, actor, id, Status::Active).await
}

async fn set_status(
    db: &DatabaseConnection,
    actor: &Actor,
    id: UserId,
    to: Status,
) -> Result<UserRow, Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    let actor = &actor;
    let u = find(&txn, id).await?;
    let target = subject(&txn, &u).await?;
    let (action, verb) = match to {
        Status::Suspended => (Action::Suspend { target }, "user.suspend"),
        _ => (Action::Reactivate { target }, "user.reactivate"),
    };
    actor.require(action)?;
    user::Entity::update_many()
        .col_expr(user::Column::Status, Expr::value(to))
        .filter(user::Column::Id.eq(id.0))
        .exec(&txn)
        .await?;
    // Suspending ends their sessions; so does reactivating, for one a sign-in that checked the
    // password just before the suspension started just after it.
    session::end_all_for(&txn, id).await?;
    commit_change(txn, actor, verb, id, &u.email).await
}

/// Deletes a user: their sessions and invites go with them, their keys are revoked, their usage
/// history stays.
///
/// # Errors
/// As [`change_role`].
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: UserId) -> Result<(), Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    let actor = &actor;
    let u = find(&txn, id).await?;
    actor.require(Action::Delete {
        target: subject(&txn, &u).await?,
    })?;
    api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(api_key::Column::UserId.eq(id.0))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    let label = names::person(u.name.as_deref(), &u.email);
    names::remember(&txn, Departed::User, id.0, &label).await?;
    user::Entity::delete_by_id(id.0).exec(&txn).await?;
    record(&txn, actor, "user.delete", id, &u.email).await?;
    txn.commit().await?;
    Ok(())
}
