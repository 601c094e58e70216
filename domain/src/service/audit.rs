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

/// Appends an entry done by `actor`, remembering their email as it is now.
///
/// # Errors
/// [`Error::Internal`] when a read or the insert fails.
pub async fn record_by(
    conn: &impl ConnectionTrait,
    actor: &crate::Actor,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), Error> {
    use sea_orm::EntityTrait;
    let email = crate::entity::user::Entity::find_by_id(actor.id.0)
        .one(conn)
        .await?
        .map(|u| u.email)
        .unwrap_or_default();
    let by = By {
        id: Some(actor.id.0),
        email: &email,
    };
    record(conn, by, action, target, detail).await
}
