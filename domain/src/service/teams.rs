//! Teams as other pages need them. (The Teams page and its actions are their own issue.)

use crate::entity::team;
use crate::permission::{Action, Actor};
use crate::{Error, TeamId};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

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
