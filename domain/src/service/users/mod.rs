//! The actions on one user: change role, suspend, reactivate, delete. The list lives in
//! `list.rs` (searched through `search.rs`); invites in `service/invites.rs`.

mod list;
mod many_matches;
mod search;

pub use list::{detail, list, summary};
use list::{row, team_names};

use crate::entity::{api_key, user};
use crate::permission::{Action, Actor, Subject};
use crate::service::{audit, begin_as, parse_stored, session, stored_role, stored_status};
use crate::users::UserRow;
use crate::{Error, Role, Status, UserId};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter,
};

/// Loads a user or answers that they are gone.
pub(crate) async fn find(db: &impl ConnectionTrait, id: UserId) -> Result<user::Model, Error> {
    user::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(gone)
}

/// The answer for acting on a user someone else just deleted.
pub(crate) fn gone() -> Error {
    Error::NotFound("This user no longer exists. The list has been refreshed.".to_owned())
}

/// The permission subject for a stored user, with the last-active-Owner fact the guards need.
/// Read inside an access-list write ([`begin_as`]), so the fact still holds at commit.
pub(crate) async fn subject(db: &impl ConnectionTrait, u: &user::Model) -> Result<Subject, Error> {
    let role: Role = parse_stored(&u.role, "role")?;
    let status: Status = parse_stored(&u.status, "status")?;
    let is_last_active_owner = role == Role::Owner
        && status == Status::Active
        && user::Entity::find()
            .filter(user::Column::Role.eq(stored_role(Role::Owner)))
            .filter(user::Column::Status.eq(stored_status(Status::Active)))
            .count(db)
            .await?
            == 1;
    Ok(Subject {
        id: UserId(u.id),
        role,
        status,
        is_last_active_owner,
    })
}

/// Records `verb` on user `id` in the audit log, as done by `actor`.
pub(crate) async fn record(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    verb: &str,
    id: UserId,
    detail: &str,
) -> Result<(), Error> {
    audit::record_by(conn, actor, verb, &format!("user:{id}"), detail).await
}

/// A stored user as a list row, with their team's name.
pub(crate) async fn row_with_team(
    conn: &impl ConnectionTrait,
    u: &user::Model,
) -> Result<UserRow, Error> {
    let names = team_names(conn, u.team_id.into_iter()).await?;
    row(u, &names)
}

/// Finishes a change to user `id`: the audit entry, the row as it now stands, the commit.
pub(crate) async fn commit_change(
    txn: DatabaseTransaction,
    actor: &Actor,
    verb: &str,
    id: UserId,
    detail: &str,
) -> Result<UserRow, Error> {
    record(&txn, actor, verb, id, detail).await?;
    let updated = row_with_team(&txn, &find(&txn, id).await?).await?;
    txn.commit().await?;
    Ok(updated)
}

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
        .col_expr(user::Column::Role, Expr::value(stored_role(to)))
        .filter(user::Column::Id.eq(id.0))
        .exec(&txn)
        .await?;
    let detail = format!("{} → {}", u.role, to.as_str());
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
        .col_expr(user::Column::Status, Expr::value(stored_status(to)))
        .filter(user::Column::Id.eq(id.0))
        .exec(&txn)
        .await?;
    if to == Status::Suspended {
        session::end_all_for(&txn, id).await?;
    }
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
    user::Entity::delete_by_id(id.0).exec(&txn).await?;
    record(&txn, actor, "user.delete", id, &u.email).await?;
    txn.commit().await?;
    Ok(())
}
