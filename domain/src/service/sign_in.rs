//! Signing in with email and password, with one answer for every failure and a growing delay
//! for repeated failures per email and per client address.
//!
//! Every attempt is counted as a failure before its password is checked, in its own committed
//! write, and taken back when it succeeds; the count is a compare-and-set, so attempts made in
//! parallel cannot all read "under the limit" and all be checked. A throttled email refuses
//! every attempt unchecked. A throttled address only turns wrong passwords away: a right
//! password for an email that is not itself throttled still signs in, so one client cannot lock
//! out everyone who shares its address (people behind one proxy or NAT). The work any of this
//! costs is bounded by [`crate::secret`]'s hashing permits.

use crate::db::begin_write;
use crate::dto::SessionUser;
use crate::entity::{sign_in_failure, user};
use crate::net::throttle_key;
use crate::secret::{Secret, verify_password};
use crate::service::session::{self, SessionPolicy};
use crate::service::{audit, session_user};
use crate::{Error, Status, validation};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

/// The one message for every failed sign-in, so it never tells who has an account.
pub use crate::sso::SIGN_IN_FAILED as FAILED;

/// Failures allowed in a window before each further attempt must wait.
pub const FREE_FAILURES: i32 = 5;
/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::minutes(15);
/// The longest wait imposed.
const MAX_DELAY_SECS: i64 = 15 * 60;
/// Compare-and-set rounds an attempt may lose to parallel attempts on the same subject before
/// it is told to come back in a second.
const MAX_ROUNDS: usize = 32;

/// A signed-in user and the token for their new session cookie.
#[derive(Debug)]
pub struct SignedIn {
    pub user: SessionUser,
    pub token: Secret,
}

/// Checks the credentials and starts a new session.
///
/// # Errors
/// [`Error::Forbidden`] while single sign-on has turned passwords off;
/// [`Error::Validation`] on `email` with [`FAILED`] for any wrong, unknown, invited or suspended
/// account; [`Error::RateLimited`] while too many recent failures hold this email, for a wrong
/// password while they hold this client address, or when password checking is saturated.
pub async fn sign_in(
    db: &DatabaseConnection,
    email: &str,
    password: &Secret,
    client_addr: &str,
    policy: SessionPolicy,
) -> Result<SignedIn, Error> {
    crate::service::sso::ensure_passwords_allowed(db).await?;
    let failed = || Error::validation("email", FAILED);
    let normalized = validation::email(email)
        .map(|e| e.normalized)
        .unwrap_or_default();
    let email_subject = format!("email:{normalized}");
    let addr_subject = format!("addr:{}", throttle_key(client_addr));
    let now = Utc::now();

    if let Tally::Refused { wait } =
        count_attempt(db, &email_subject, now, Throttled::Refuse).await?
    {
        return Err(rate_limited(wait));
    }
    let addr_waiting = match count_attempt(db, &addr_subject, now, Throttled::Count).await {
        Ok(Tally::Counted { waiting }) => waiting,
        // Only when parallel attempts kept winning the address's count: treated as throttled.
        Ok(Tally::Refused { wait }) => Some(wait),
        Err(e) => {
            forgive(db, &email_subject).await?;
            return Err(e);
        }
    };

    let checked = async {
        let account = user::Entity::find()
            .filter(user::Column::EmailNormalized.eq(normalized.as_str()))
            .one(db)
            .await?;
        let hash = account.as_ref().and_then(|u| u.password_hash.clone());
        let password_ok = verify_password(hash, password).await?;
        Ok::<_, Error>(account.filter(|u| password_ok && u.status == Status::Active))
    }
    .await;
    let account = match checked {
        Ok(account) => account,
        Err(e) => {
            // Nothing was guessed (no permit to check, or the database failed): not a failure.
            forgive(db, &email_subject).await?;
            forgive(db, &addr_subject).await?;
            return Err(e);
        }
    };
    let Some(u) = account else {
        return Err(addr_waiting.map_or_else(failed, rate_limited));
    };

    let txn = begin_write(db).await?;
    // The account proved itself: its email's failures are forgiven. The address gets back only
    // this attempt, so signing in to one's own account cannot wash away guesses at others.
    sign_in_failure::Entity::delete_by_id(email_subject)
        .exec(&txn)
        .await?;
    forgive(&txn, &addr_subject).await?;
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
    txn.commit().await?;
    Ok(SignedIn {
        user: session_user(&u),
        token,
    })
}

fn rate_limited(retry_after_secs: u64) -> Error {
    Error::RateLimited { retry_after_secs }
}

/// What to do with an attempt on a subject that must still wait.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Throttled {
    /// Refuse it uncounted (an email: nobody may guess at it faster).
    Refuse,
    /// Count it anyway, and say it was waiting (an address: see the module's notes).
    Count,
}

/// What counting an attempt found.
enum Tally {
    /// Counted as a failure; `waiting` is the delay the subject was already under, if any.
    Counted { waiting: Option<u64> },
    /// Not counted: the subject must wait this many seconds first.
    Refused { wait: u64 },
}

/// Counts an attempt on `subject` as a failure unless it must wait and `throttled` says to
/// refuse. A compare-and-set on the failure count: an attempt that loses to a parallel one
/// reads again, so each counted attempt saw every earlier one.
async fn count_attempt(
    db: &DatabaseConnection,
    subject: &str,
    now: DateTime<Utc>,
    throttled: Throttled,
) -> Result<Tally, Error> {
    let window_start = now - WINDOW;
    for _ in 0..MAX_ROUNDS {
        let Some(row) = sign_in_failure::Entity::find_by_id(subject.to_owned())
            .one(db)
            .await?
        else {
            // A row with no failures yet, which the next round counts on.
            sign_in_failure::Entity::insert(sign_in_failure::ActiveModel {
                subject: Set(subject.to_owned()),
                failures: Set(0),
                first_failed_at: Set(now),
                last_failed_at: Set(now),
            })
            .on_conflict_do_nothing_on([sign_in_failure::Column::Subject])
            .exec(db)
            .await?;
            continue;
        };
        let expired = row.first_failed_at < window_start;
        let waiting = if expired { None } else { wait(&row, now) };
        if let (Some(wait), Throttled::Refuse) = (waiting, throttled) {
            return Ok(Tally::Refused { wait });
        }
        let mut update = sign_in_failure::Entity::update_many()
            .col_expr(sign_in_failure::Column::LastFailedAt, Expr::value(now))
            .filter(sign_in_failure::Column::Subject.eq(subject))
            .filter(sign_in_failure::Column::Failures.eq(row.failures));
        update = if expired {
            // A new window; only one of several parallel attempts may open it.
            update
                .col_expr(sign_in_failure::Column::Failures, Expr::value(1))
                .col_expr(sign_in_failure::Column::FirstFailedAt, Expr::value(now))
                .filter(sign_in_failure::Column::FirstFailedAt.lt(window_start))
        } else {
            update
                .col_expr(
                    sign_in_failure::Column::Failures,
                    Expr::value(row.failures.saturating_add(1)),
                )
                .filter(sign_in_failure::Column::FirstFailedAt.gte(window_start))
        };
        if update.exec(db).await?.rows_affected == 1 {
            return Ok(Tally::Counted { waiting });
        }
    }
    Ok(Tally::Refused { wait: 1 })
}

/// Takes back one counted attempt on `subject`.
async fn forgive(conn: &impl ConnectionTrait, subject: &str) -> Result<(), Error> {
    sign_in_failure::Entity::update_many()
        .col_expr(
            sign_in_failure::Column::Failures,
            sea_orm::sea_query::ExprTrait::sub(Expr::col(sign_in_failure::Column::Failures), 1),
        )
        .filter(sign_in_failure::Column::Subject.eq(subject))
        .filter(sign_in_failure::Column::Failures.gt(0))
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes the failure counts whose window has closed: the next attempt on such a subject would
/// start a new window anyway. Without this, every email ever tried would keep a row.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn purge_expired(db: &DatabaseConnection) -> Result<u64, Error> {
    Ok(sign_in_failure::Entity::delete_many()
        .filter(sign_in_failure::Column::FirstFailedAt.lt(Utc::now() - WINDOW))
        .exec(db)
        .await?
        .rows_affected)
}

/// Seconds a subject with `row`'s failures in the current window must still wait, if any.
fn wait(row: &sign_in_failure::Model, now: DateTime<Utc>) -> Option<u64> {
    if row.failures < FREE_FAILURES {
        return None;
    }
    let ready_at = row.last_failed_at + Duration::seconds(delay_secs(row.failures));
    (ready_at > now).then(|| (ready_at - now).num_seconds().max(1).unsigned_abs())
}

/// The wait after `failures` failures: 1 s after the fifth, doubling, at most 15 minutes.
fn delay_secs(failures: i32) -> i64 {
    let over = (failures - FREE_FAILURES).clamp(0, 20);
    (1_i64 << over).min(MAX_DELAY_SECS)
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
