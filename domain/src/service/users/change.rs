//! Finishing a change to one user, for every service that makes one (role and status changes,
//! invites, team assignment, reset): the audit entry, the row as it now stands, the commit.

use super::lookup::{find, row_with_team};
use crate::permission::Actor;
use crate::service::audit;
use crate::users::UserRow;
use crate::{Error, UserId};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

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
