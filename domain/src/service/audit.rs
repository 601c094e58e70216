//! The audit log: one entry per change, written in the same transaction as the change.

use crate::Error;
use crate::entity::audit_entry;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

/// Who did it, as the log should remember them.
#[derive(Debug, Clone)]
pub struct By<'a> {
    pub id: Option<i64>,
    pub email: &'a str,
}

/// Appends an entry to the audit log.
///
/// # Errors
/// [`Error::Internal`] when the insert fails.
pub async fn record(
    conn: &impl ConnectionTrait,
    by: By<'_>,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), Error> {
    audit_entry::ActiveModel {
        at: Set(Utc::now()),
        actor_id: Set(by.id),
        actor_email: Set(by.email.to_owned()),
        action: Set(action.to_owned()),
        target: Set(target.to_owned()),
        detail: Set(detail.to_owned()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}
