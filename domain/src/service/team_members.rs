//! A team's members: who is in it, adding someone by email, taking someone out. Both go through
//! [`teams::assign`](super::teams::assign), as the Users page does, so the two pages agree.

use crate::entity::user;
use crate::permission::{Action, Actor};
use crate::service::{teams, users};
use crate::teams::TeamMember;
use crate::validation;
use crate::{Error, TeamId, UserId};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// The most members an expanded row lists; the count on the row is exact.
pub const MEMBERS_SHOWN: u64 = 200;

/// The team's members, by name (invited people by email), at most [`MEMBERS_SHOWN`].
///
/// # Errors
/// [`Error::Forbidden`] for someone who may not read; [`Error::Internal`] on database failure.
pub async fn members(
    db: &DatabaseConnection,
    actor: &Actor,
    team: TeamId,
) -> Result<Vec<TeamMember>, Error> {
    actor.require(Action::Read)?;
    let rows = user::Entity::find()
        .filter(user::Column::TeamId.eq(team.0))
        .order_by_asc(user::Column::Name)
        .order_by_asc(user::Column::EmailNormalized)
        .limit(MEMBERS_SHOWN)
        .all(db)
        .await?;
    Ok(rows.iter().map(member).collect())
}

/// Puts the person with `email` in `team` (moving them from any other team).
///
/// # Errors
/// [`Error::Forbidden`] below Admin; [`Error::Validation`] on `email` when it is malformed,
/// nobody on the gateway has it, or they are already in this team; [`Error::NotFound`] when the
/// team is gone.
pub async fn add(
    db: &DatabaseConnection,
    actor: &Actor,
    team: TeamId,
    email: &str,
) -> Result<TeamMember, Error> {
    actor.require(Action::ManageTeams)?;
    let email = validation::email(email)?;
    let person = user::Entity::find()
        .filter(user::Column::EmailNormalized.eq(email.normalized))
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::validation(
                "email",
                "Nobody on this gateway has that email. Invite them from the Users page first.",
            )
        })?;
    if person.team_id == Some(team.0) {
        return Err(Error::validation("email", "They are already in this team."));
    }
    teams::assign(db, actor, UserId(person.id), Some(team)).await?;
    Ok(member(&user::Model {
        team_id: Some(team.0),
        ..person
    }))
}

/// Takes `who` out of `team`, leaving them without a team. Their keys stay with the team.
///
/// # Errors
/// [`Error::Forbidden`] below Admin; [`Error::Conflict`] when they are no longer in this team.
pub async fn remove(
    db: &DatabaseConnection,
    actor: &Actor,
    team: TeamId,
    who: UserId,
) -> Result<(), Error> {
    actor.require(Action::ManageTeams)?;
    let person = users::lookup::find(db, who).await?;
    if person.team_id != Some(team.0) {
        return Err(Error::Conflict(
            "They are no longer in this team. Reload to see its members.".to_owned(),
        ));
    }
    teams::assign(db, actor, who, None).await.map(|_| ())
}

fn member(u: &user::Model) -> TeamMember {
    TeamMember {
        id: UserId(u.id),
        name: u.name.clone().unwrap_or_else(|| u.email.clone()),
        email: u.email.clone(),
        role: u.role,
        status: u.status,
    }
}
