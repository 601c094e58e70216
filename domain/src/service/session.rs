//! Browser sessions: created at sign-in, looked up on every request, ended at sign-out, on
//! suspension, and by idle and absolute timeouts. The actor is read fresh from `users` on every
//! lookup, so a role change or a suspension applies to the very next request.

use crate::dto::SessionUser;
use crate::entity::{session, user};
use crate::secret::Secret;
use crate::service::session_user;
use crate::{Error, Status, UserId};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, sea_query::Expr,
};

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle: Duration::hours(8),
            absolute: Duration::days(7),
        }
    }
}

/// Activity is written at most this often per session, so reads stay reads.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// Starts a session for `user_id` and returns the token for the cookie.
///
/// # Errors
/// [`Error::Internal`] when the insert fails.
pub async fn start(
    conn: &impl ConnectionTrait,
    user_id: UserId,
    policy: SessionPolicy,
) -> Result<Secret, Error> {
    let token = Secret::random();
    let now = Utc::now();
    session::ActiveModel {
        token_hash: Set(token.digest()),
        user_id: Set(user_id.0),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + policy.absolute),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    user::Entity::update_many()
        .col_expr(user::Column::LastActiveAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id.0))
        .exec(conn)
        .await?;
    Ok(token)
}

/// The signed-in user behind `token`, if the session is live and the user is active.
///
/// # Errors
/// [`Error::Unauthenticated`] for an unknown, expired or idle session, or a user who is no
/// longer active; [`Error::Internal`] on database failure.
pub async fn authenticate(
    db: &DatabaseConnection,
    token: &Secret,
    policy: SessionPolicy,
) -> Result<SessionUser, Error> {
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(token.digest()))
        .one(db)
        .await?;
    let Some(sess) = found else {
        return Err(Error::Unauthenticated);
    };
    let now = Utc::now();
    if is_expired(&sess, now, policy) {
        session::Entity::delete_by_id(sess.id).exec(db).await?;
        return Err(Error::Unauthenticated);
    }
    let Some(u) = user::Entity::find_by_id(sess.user_id).one(db).await? else {
        return Err(Error::Unauthenticated);
    };
    let user = session_user(&u);
    if user.status != Status::Active {
        return Err(Error::Unauthenticated);
    }
    if now - sess.last_seen_at >= TOUCH_EVERY {
        touch(db, &sess, now).await?;
    }
    Ok(user)
}

fn is_expired(sess: &session::Model, now: DateTime<Utc>, policy: SessionPolicy) -> bool {
    now >= sess.expires_at || now - sess.last_seen_at >= policy.idle
}

async fn touch(
    db: &DatabaseConnection,
    sess: &session::Model,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    session::Entity::update_many()
        .col_expr(session::Column::LastSeenAt, Expr::value(now))
        .filter(session::Column::Id.eq(sess.id))
        .exec(db)
        .await?;
    user::Entity::update_many()
        .col_expr(user::Column::LastActiveAt, Expr::value(now))
        .filter(user::Column::Id.eq(sess.user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends the session behind `token` (sign-out). Unknown tokens are fine: the result is the same.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn end(db: &DatabaseConnection, token: &Secret) -> Result<(), Error> {
    session::Entity::delete_many()
        .filter(session::Column::TokenHash.eq(token.digest()))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of `user_id` (suspension, deletion).
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn end_all_for(conn: &impl ConnectionTrait, user_id: UserId) -> Result<u64, Error> {
    let res = session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id.0))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// Deletes sessions past their absolute end. Run periodically; lookups already refuse them.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn purge_expired(db: &DatabaseConnection) -> Result<u64, Error> {
    let res = session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
