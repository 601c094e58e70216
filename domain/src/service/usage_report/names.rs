//! The names usage is shown under: a team's, a person's, a key's — as they are now, or, for a
//! team or person since deleted, as they were when they left (`departed_names`).

use crate::Error;
use crate::entity::{api_key, departed_name, team, user};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use std::collections::HashMap;

/// What kind of thing a departed name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departed {
    Team,
    User,
    Key,
}

impl Departed {
    fn as_str(self) -> &'static str {
        match self {
            Departed::Team => "team",
            Departed::User => "user",
            Departed::Key => "key",
        }
    }
}

/// Keeps the names of every team, key and person but `keep` — the access list is about to be
/// deleted in the same transaction — as [`remember`] does one by one.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn remember_all_but(conn: &impl ConnectionTrait, keep: i64) -> Result<(), Error> {
    // `WHERE` keeps SQLite from reading `ON CONFLICT` as part of the SELECT's join.
    const UPSERT: &str = "ON CONFLICT (kind, id) DO UPDATE SET name = excluded.name";
    for select in [
        "SELECT 'team', id, name FROM teams WHERE TRUE".to_owned(),
        "SELECT 'key', id, name || ' (' || prefix || '…)' FROM api_keys WHERE TRUE".to_owned(),
        format!(
            "SELECT 'user', id, CASE WHEN name IS NULL OR TRIM(name) = '' THEN email \
             ELSE name || ' (' || email || ')' END FROM users WHERE id <> {keep}"
        ),
    ] {
        conn.execute_unprepared(&format!(
            "INSERT INTO departed_names (kind, id, name) {select} {UPSERT}"
        ))
        .await?;
    }
    Ok(())
}

/// Keeps `name` for the team or user `id`, about to be deleted in the same transaction.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn remember(
    conn: &impl ConnectionTrait,
    kind: Departed,
    id: i64,
    name: &str,
) -> Result<(), Error> {
    departed_name::Entity::insert(departed_name::ActiveModel {
        kind: Set(kind.as_str().to_owned()),
        id: Set(id),
        name: Set(name.to_owned()),
    })
    .on_conflict(
        OnConflict::columns([departed_name::Column::Kind, departed_name::Column::Id])
            .update_column(departed_name::Column::Name)
            .to_owned(),
    )
    .exec(conn)
    .await?;
    Ok(())
}

/// The label a person is shown under: their name and email, or their email alone.
pub fn person(name: Option<&str>, email: &str) -> String {
    match name {
        Some(name) if !name.trim().is_empty() => format!("{name} ({email})"),
        _ => email.to_owned(),
    }
}

/// Ids asked for in one statement: well under what SQLite binds in one.
const CHUNK: usize = 5_000;

/// Names of the teams `ids`, deleted ones under their old name.
pub async fn teams(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, String>, Error> {
    let mut names = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let found = team::Entity::find()
            .select_only()
            .columns([team::Column::Id, team::Column::Name])
            .filter(team::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple::<(i64, String)>()
            .all(conn)
            .await?;
        names.extend(found);
    }
    departed(conn, Departed::Team, ids, &mut names).await?;
    Ok(names)
}

/// Labels of the people `ids` ([`person`]), deleted ones under their old label.
pub async fn users(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, String>, Error> {
    let mut names = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let found = user::Entity::find()
            .select_only()
            .columns([user::Column::Id, user::Column::Name, user::Column::Email])
            .filter(user::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple::<(i64, Option<String>, String)>()
            .all(conn)
            .await?;
        names.extend(
            found
                .into_iter()
                .map(|(id, name, email)| (id, person(name.as_deref(), &email))),
        );
    }
    departed(conn, Departed::User, ids, &mut names).await?;
    Ok(names)
}

/// Names of the keys `ids` with their visible prefix: `ci-bot (tg_ab12…)`; deleted ones (with
/// the access list) under their old name.
pub async fn keys(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<HashMap<i64, String>, Error> {
    let mut names = api_key::Entity::find()
        .select_only()
        .columns([
            api_key::Column::Id,
            api_key::Column::Name,
            api_key::Column::Prefix,
        ])
        .filter(api_key::Column::Id.is_in(ids.iter().copied()))
        .into_tuple::<(i64, String, String)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(id, name, prefix)| (id, format!("{name} ({prefix}…)")))
        .collect();
    departed(conn, Departed::Key, ids, &mut names).await?;
    Ok(names)
}

async fn departed(
    conn: &impl ConnectionTrait,
    kind: Departed,
    ids: &[i64],
    names: &mut HashMap<i64, String>,
) -> Result<(), Error> {
    let missing: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !names.contains_key(id))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    for chunk in missing.chunks(CHUNK) {
        let found = departed_name::Entity::find()
            .filter(departed_name::Column::Kind.eq(kind.as_str()))
            .filter(departed_name::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?;
        for d in found {
            names.insert(d.id, format!("{} (deleted)", d.name));
        }
    }
    Ok(())
}
