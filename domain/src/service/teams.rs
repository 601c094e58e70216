//! Teams as other pages need them, and deleting a team (which revokes its keys). The Teams
//! page and its other actions are their own issue.

use crate::db::begin_write;
use crate::entity::{api_key, team, user};
use crate::permission::{Action, Actor};
use crate::service::audit;
use crate::{Error, TeamId};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

/// Every team's id and name, by name: the choices of a Team field.
///
/// # Errors
/// [`Error::Forbidden`] for an inactive actor; [`Error::Internal`] on database failure.
pub async fn options(
    db: &DatabaseConnection,
    actor: &Actor,
) -> Result<Vec<(TeamId, String)>, Error> {
    actor.require(Action::Read)?;
    let teams = team::Entity::find()
        .order_by_asc(team::Column::NameNormalized)
        .all(db)
        .await?;
    Ok(teams.into_iter().map(|t| (TeamId(t.id), t.name)).collect())
}

/// What deleting a team did besides removing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamRemoved {
    pub members_unassigned: u64,
    pub keys_revoked: u64,
}

/// Deletes a team: its members are left without a team, its keys are revoked (they stay
/// listed, so usage history keeps their names), and the usage history stays.
///
/// # Errors
/// [`Error::Forbidden`] below Admin; [`Error::NotFound`] when the team is gone.
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    id: TeamId,
) -> Result<TeamRemoved, Error> {
    actor.require(Action::ManageTeams)?;
    let txn = begin_write(db).await?;
    let found = team::Entity::find_by_id(id.0)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound("This team no longer exists.".to_owned()))?;
    let members = user::Entity::update_many()
        .col_expr(user::Column::TeamId, Expr::value(None::<i64>))
        .filter(user::Column::TeamId.eq(id.0))
        .exec(&txn)
        .await?
        .rows_affected;
    let keys = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(api_key::Column::TeamId.eq(id.0))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    team::Entity::delete_by_id(id.0).exec(&txn).await?;
    let email = user::Entity::find_by_id(actor.id.0)
        .one(&txn)
        .await?
        .map(|u| u.email)
        .unwrap_or_default();
    let by = audit::By {
        id: Some(actor.id.0),
        email: &email,
    };
    let detail = format!(
        "{}: {members} members unassigned, {keys} keys revoked",
        found.name
    );
    audit::record(&txn, by, "team.delete", &format!("team:{id}"), &detail).await?;
    txn.commit().await?;
    Ok(TeamRemoved {
        members_unassigned: members,
        keys_revoked: keys,
    })
}
