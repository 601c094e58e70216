//! Deleting the gateway's access list (Owner only): every other user, every team and every key
//! go in one transaction; usage history (under the names they had) and the audit log stay.

use crate::entity::{api_key, invite, session, team, user};
use crate::permission::{Action, Actor};
use crate::service::begin_as;
use crate::service::usage_report::names;
use crate::service::users::change::record;
use crate::{Error, UserId};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

pub use crate::users::RESET_CONFIRMATION as CONFIRMATION;

/// How much a reset removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub users: u64,
    pub teams: u64,
    pub keys: u64,
}

/// Removes every user but the acting Owner, every team and every key; ends the removed users'
/// sessions. Usage aggregates and the audit log are kept.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but an Owner — judged as they are when the reset runs, so an
/// Owner demoted, suspended or deleted a moment earlier cannot remove the one who did it;
/// [`Error::Validation`] on `confirmation` when the typed phrase is not [`CONFIRMATION`]
/// (nothing is removed then).
pub async fn reset_access_list(
    db: &DatabaseConnection,
    actor: &Actor,
    confirmation: &str,
) -> Result<Removed, Error> {
    actor.require(Action::ResetAccessList)?;
    if confirmation.trim() != CONFIRMATION {
        return Err(Error::validation(
            "confirmation",
            format!("Type \u{201c}{CONFIRMATION}\u{201d} to confirm."),
        ));
    }
    let (txn, actor) = begin_as(db, actor).await?;
    let actor = &actor;
    // Again, as the actor stands now (the check above only spares a lock for a plain refusal).
    actor.require(Action::ResetAccessList)?;
    let others = || user::Column::Id.ne(actor.id.0);
    // The Owner stays but leaves their team, which is about to go.
    user::Entity::update_many()
        .col_expr(
            user::Column::TeamId,
            sea_orm::sea_query::Expr::value(Option::<i64>::None),
        )
        .filter(user::Column::Id.eq(actor.id.0))
        .exec(&txn)
        .await?;
    // Their usage stays, under the names they had.
    names::remember_all_but(&txn, actor.id.0).await?;
    let keys = api_key::Entity::delete_many()
        .exec(&txn)
        .await?
        .rows_affected;
    session::Entity::delete_many()
        .filter(session::Column::UserId.ne(actor.id.0))
        .exec(&txn)
        .await?;
    invite::Entity::delete_many()
        .filter(invite::Column::UserId.ne(actor.id.0))
        .exec(&txn)
        .await?;
    let users = user::Entity::delete_many()
        .filter(others())
        .exec(&txn)
        .await?
        .rows_affected;
    crate::service::alerts::drop_untold(&txn, None).await?;
    let teams = team::Entity::delete_many().exec(&txn).await?.rows_affected;
    let detail = format!("{users} users, {teams} teams, {keys} keys removed");
    record(
        &txn,
        actor,
        "access_list.reset",
        UserId(actor.id.0),
        &detail,
    )
    .await?;
    txn.commit().await?;
    Ok(Removed { users, teams, keys })
}
