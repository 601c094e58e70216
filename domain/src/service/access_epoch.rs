//! The access epoch: a counter the database's triggers bump whenever a key is revoked, expires
//! early, moves or is deleted, a user is suspended or deleted, or a team's limit changes or the
//! team is deleted (migration `m20261127_000004`). What the gateway caches about keys and
//! budgets is only good while the epoch it was read at is current.

use crate::Error;
use sea_orm::{ConnectionTrait, Statement};

/// The current epoch.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn current(db: &impl ConnectionTrait) -> Result<i64, Error> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT value FROM access_epoch WHERE id = 1",
        ))
        .await?
        .ok_or_else(Error::internal)?;
    Ok(row.try_get_by_index(0)?)
}
