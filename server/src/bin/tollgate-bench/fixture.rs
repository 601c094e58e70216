//! The gateway benchmark's scratch data, shared with `server/tests` (which include this file by
//! path, as they include the stub upstream).

use domain::db::DatabaseConnection;
use domain::secret::Secret;
use domain::service::{keys, setup, teams};
use domain::teams::TeamInput;
use domain::{Actor, Role, Status, TeamId};
use tollgate::startup_error::StartupError;

/// On an empty database: the first Owner, a team "Research" limited to `limit` dollars and a
/// key in it. Answers the Owner, the team and the key's secret.
///
/// # Errors
/// [`StartupError::Setup`] when the database already has users or cannot be written.
pub async fn prepare_with_owner(
    db: &DatabaseConnection,
    limit: &str,
) -> Result<(Actor, TeamId, String), StartupError> {
    let token = setup::issue_token(db)
        .await
        .map_err(StartupError::Setup)?
        .ok_or_else(|| {
            StartupError::Setup(domain::Error::Conflict(
                "The benchmark needs an empty scratch database.".into(),
            ))
        })?;
    let owner = setup::FirstOwner {
        name: "Bench Owner".into(),
        email: "bench@example.com".into(),
        password: Secret::random(),
    };
    let owner = setup::complete(db, &token, owner)
        .await
        .map_err(StartupError::Setup)?;
    let actor = Actor {
        id: owner.id,
        role: Role::Owner,
        status: Status::Active,
    };
    let input = TeamInput {
        name: "Research".into(),
        description: String::new(),
        limit: limit.into(),
        ..TeamInput::default()
    };
    let team = teams::create(db, &actor, &input)
        .await
        .map_err(StartupError::Setup)?
        .id;
    let key = keys::issue(
        db,
        &actor,
        keys::IssueInput {
            name: "bench".into(),
            team: Some(team),
            ..Default::default()
        },
    )
    .await
    .map_err(StartupError::Setup)?;
    Ok((actor, team, key.secret))
}
