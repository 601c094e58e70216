//! Signing in with email and password, with one answer for every failure and a growing delay
//! for repeated failures per email and per client address.

use crate::db::begin_write;
use crate::dto::SessionUser;
use crate::entity::{sign_in_failure, user};
use crate::secret::{Secret, verify_password};
use crate::service::session::{self, SessionPolicy};
use crate::service::{audit, session_user};
use crate::{Error, Status, validation};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

/// The one message for every failed sign-in, so it never tells who has an account.
pub const FAILED: &str = "Email or password is incorrect.";

/// Failures allowed in a window before each further attempt must wait.
const FREE_FAILURES: i32 = 5;
/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::minutes(15);
/// The longest wait imposed.
const MAX_DELAY_SECS: i64 = 15 * 60;

/// A signed-in user and the token for their new session cookie.
#[derive(Debug)]
pub struct SignedIn {
    pub user: SessionUser,
    pub token: Secret,
}

/// Checks the credentials and starts a new session.
///
/// # Errors
/// [`Error::Validation`] on `email` with [`FAILED`] for any wrong, unknown, invited or suspended
/// account; [`Error::RateLimited`] while too many recent failures hold this email or address.
pub async fn sign_in(
    db: &DatabaseConnection,
    email: &str,
    password: &Secret,
    client_addr: &str,
    policy: SessionPolicy,
) -> Result<SignedIn, Error> {
    let failed = || Error::validation("email", FAILED);
    let normalized = validation::email(email)
        .map(|e| e.normalized)
        .unwrap_or_default();
    let subjects = [format!("email:{normalized}"), format!("addr:{client_addr}")];
    let now = Utc::now();
    for subject in &subjects {
        if let Some(wait) = wait_for(db, subject, now).await? {
            return Err(Error::RateLimited {
                retry_after_secs: wait,
            });
        }
    }

    let account = user::Entity::find()
        .filter(user::Column::EmailNormalized.eq(normalized.as_str()))
        .one(db)
        .await?;
    let hash = account.as_ref().and_then(|u| u.password_hash.clone());
    let password_ok = verify_password(hash, password).await;
    let active = account
        .as_ref()
        .is_some_and(|u| u.status == Status::Active.as_str());

    let txn = begin_write(db).await?;
    let result = match account {
        Some(u) if password_ok && active => {
            for subject in &subjects {
                sign_in_failure::Entity::delete_by_id(subject.clone())
                    .exec(&txn)
                    .await?;
            }
            let token = session::start(&txn, crate::UserId(u.id), policy).await?;
            let by = audit::By {
                id: Some(u.id),
                email: &u.email,
            };
            audit::record(
                &txn,
                by,
                "session.sign_in",
                &format!("user:{}", u.id),
                client_addr,
            )
            .await?;
            Ok(SignedIn {
                user: session_user(&u)?,
                token,
            })
        }
        _ => {
            for subject in &subjects {
                record_failure(&txn, subject, now).await?;
            }
            Err(failed())
        }
    };
    txn.commit().await?;
    result
}

/// Seconds `subject` must still wait before its next attempt, if any.
async fn wait_for(
    db: &DatabaseConnection,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Option<u64>, Error> {
    let Some(row) = sign_in_failure::Entity::find_by_id(subject.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if now - row.first_failed_at > WINDOW || row.failures < FREE_FAILURES {
        return Ok(None);
    }
    let delay = Duration::seconds(delay_secs(row.failures));
    let ready_at = row.last_failed_at + delay;
    Ok((ready_at > now).then(|| (ready_at - now).num_seconds().max(1).unsigned_abs()))
}

/// The wait after `failures` failures: 1 s after the fifth, doubling, at most 15 minutes.
fn delay_secs(failures: i32) -> i64 {
    let over = (failures - FREE_FAILURES).clamp(0, 20);
    (1_i64 << over).min(MAX_DELAY_SECS)
}

async fn record_failure(
    conn: &impl ConnectionTrait,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let existing = sign_in_failure::Entity::find_by_id(subject.to_owned())
        .one(conn)
        .await?;
    match existing {
        Some(row) if now - row.first_failed_at <= WINDOW => {
            let failures = row.failures + 1;
            let mut row: sign_in_failure::ActiveModel = row.into();
            row.failures = Set(failures);
            row.last_failed_at = Set(now);
            row.update(conn).await?;
        }
        Some(row) => {
            let mut row: sign_in_failure::ActiveModel = row.into();
            row.failures = Set(1);
            row.first_failed_at = Set(now);
            row.last_failed_at = Set(now);
            row.update(conn).await?;
        }
        None => {
            sign_in_failure::ActiveModel {
                subject: Set(subject.to_owned()),
                failures: Set(1),
                first_failed_at: Set(now),
                last_failed_at: Set(now),
            }
            .insert(conn)
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_sixth_failure_and_cap() {
        assert_eq!(delay_secs(5), 1);
        assert_eq!(delay_secs(6), 2);
        assert_eq!(delay_secs(10), 32);
        assert_eq!(delay_secs(40), MAX_DELAY_SECS);
    }
}
