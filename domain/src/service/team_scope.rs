//! What the guardrails and routes kept to chosen teams share: the teams to choose from, the
//! check that chosen ones still exist, and a choice in words for the audit log.

use crate::Error;
use crate::entity::team;
use crate::guardrails::TeamChoice;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// Every team, by name.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn choices(conn: &impl ConnectionTrait) -> Result<Vec<TeamChoice>, Error> {
    Ok(team::Entity::find()
        .order_by_asc(team::Column::NameNormalized)
        .all(conn)
        .await?
        .into_iter()
        .map(|t| TeamChoice {
            id: t.id,
            name: t.name,
        })
        .collect())
}

/// The id of the team named `name` (any case), if there is one: for settings that name a team
/// in configuration.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn id_by_name(conn: &impl ConnectionTrait, name: &str) -> Result<Option<i64>, Error> {
    Ok(team::Entity::find()
        .filter(team::Column::NameNormalized.eq(name.trim().to_lowercase()))
        .one(conn)
        .await?
        .map(|t| t.id))
}

/// Refuses a choice naming a team that no longer exists.
///
/// # Errors
/// [`Error::Validation`] on `teams`; [`Error::Internal`] on database failure.
pub async fn ensure_exist(conn: &impl ConnectionTrait, teams: Option<&[i64]>) -> Result<(), Error> {
    let Some(teams) = teams else {
        return Ok(());
    };
    let found = team::Entity::find()
        .filter(team::Column::Id.is_in(teams.to_vec()))
        .all(conn)
        .await?;
    if found.len() != teams.len() {
        return Err(Error::validation(
            "teams",
            "A team you chose no longer exists: reload and choose again.",
        ));
    }
    Ok(())
}

/// A choice in words: "all", or the teams' names.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn words(conn: &impl ConnectionTrait, teams: Option<&[i64]>) -> Result<String, Error> {
    let Some(teams) = teams else {
        return Ok("all".to_owned());
    };
    if teams.is_empty() {
        return Ok("none".to_owned());
    }
    let names: Vec<String> = team::Entity::find()
        .filter(team::Column::Id.is_in(teams.to_vec()))
        .order_by_asc(team::Column::NameNormalized)
        .all(conn)
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    Ok(names.join(", "))
}
