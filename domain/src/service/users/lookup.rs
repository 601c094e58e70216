//! One stored user as the services read them: found by id (or answered as gone), as the
//! permission subject the rules judge, and as a list row with their team's name.

use crate::entity::{team, user};
use crate::permission::Subject;
use crate::users::UserRow;
use crate::{Error, Role, Status, TeamId, UserId};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::HashMap;

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
/// Read inside an access-list write ([`begin_as`](crate::service::begin_as)), so the fact still
/// holds at commit.
pub(crate) async fn subject(db: &impl ConnectionTrait, u: &user::Model) -> Result<Subject, Error> {
    let is_last_active_owner = u.role == Role::Owner
        && u.status == Status::Active
        && user::Entity::find()
            .filter(user::Column::Role.eq(Role::Owner))
            .filter(user::Column::Status.eq(Status::Active))
            .count(db)
            .await?
            == 1;
    Ok(Subject {
        id: UserId(u.id),
        role: u.role,
        status: u.status,
        is_last_active_owner,
    })
}

/// The names of the teams with `ids`, by id.
pub(crate) async fn team_names(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, String>, Error> {
    let ids: Vec<i64> = ids.collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let teams = team::Entity::find()
        .filter(team::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(teams.into_iter().map(|t| (t.id, t.name)).collect())
}

/// A stored user as a list row, their team named from `team_names`.
pub(crate) fn row(u: &user::Model, team_names: &HashMap<i64, String>) -> UserRow {
    UserRow {
        id: UserId(u.id),
        name: u.name.clone(),
        email: u.email.clone(),
        role: u.role,
        status: u.status,
        team: u
            .team_id
            .and_then(|id| team_names.get(&id).map(|n| (TeamId(id), n.clone()))),
        last_active_at: u.last_active_at,
    }
}

/// A stored user as a list row, with their team's name.
pub(crate) async fn row_with_team(
    conn: &impl ConnectionTrait,
    u: &user::Model,
) -> Result<UserRow, Error> {
    let names = team_names(conn, u.team_id.into_iter()).await?;
    Ok(row(u, &names))
}
