//! Services: the only code that reads or writes the database. Each mutation checks permission
//! with `actor.require(…)`, validates, writes in one transaction and records an audit entry.

pub mod access_epoch;
pub mod alerts;
pub mod audit;
pub mod billing;
pub mod guardrails;
pub mod invites;
pub mod key_cache;
pub mod key_limits;
pub mod keys;
pub mod leases;
pub mod ledger;
pub mod providers;
pub mod rate_limiter;
pub mod refusals;
pub mod reset;
pub mod routes;
pub mod seed;
pub mod session;
pub mod setup;
pub mod sign_in;
pub mod sso;
pub mod team_members;
pub mod team_scope;
pub mod teams;
pub mod usage;
pub mod usage_report;
pub mod usage_windows;
pub mod users;

use crate::db::begin_access_write;
use crate::dto::SessionUser;
use crate::entity::user;
use crate::permission::{Actor, Denied};
use crate::{Error, UserId};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait};

/// Starts an access-list write ([`begin_access_write`]) on behalf of `actor`, and answers the
/// actor as they stand now, read under the lock. The actor was read when their request began;
/// an Owner demoted, suspended or deleted since must not still act as one — a reset by an Owner
/// just removed would leave nobody in charge.
///
/// # Errors
/// [`Error::Forbidden`] when the actor no longer exists; [`Error::Internal`] on database failure.
pub(crate) async fn begin_as(
    db: &DatabaseConnection,
    actor: &Actor,
) -> Result<(DatabaseTransaction, Actor), Error> {
    let txn = begin_access_write(db).await?;
    let now = current_actor(&txn, actor).await?;
    Ok((txn, now))
}

/// `actor` with their role and status as stored now; someone deleted is refused as inactive.
async fn current_actor(conn: &impl ConnectionTrait, actor: &Actor) -> Result<Actor, Error> {
    let stored = user::Entity::find_by_id(actor.id.0)
        .one(conn)
        .await?
        .ok_or(Denied::InactiveActor)?;
    Ok(Actor {
        id: actor.id,
        role: stored.role,
        status: stored.status,
    })
}

/// The part of a sorted list one page reads: where it starts and how many rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub offset: u64,
    pub rows: u64,
}

/// Escapes LIKE's wildcards (with a backslash as the escape character) so a search for `50%` finds
/// "50%", not everything. Every list search box goes through this.
pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Names and emails sort and compare byte by byte on both databases: SQLite's default, and the
/// "C" collation on PostgreSQL (whose default, e.g. `en_US`, orders differently and compares
/// several times slower). The same order everywhere, answered by the same indexes.
pub(crate) fn bytewise(
    backend: sea_orm::DbBackend,
    key: sea_orm::sea_query::Expr,
) -> sea_orm::sea_query::Expr {
    if backend == sea_orm::DbBackend::Postgres {
        sea_orm::sea_query::Expr::cust_with_expr("$1 COLLATE \"C\"", key)
    } else {
        key
    }
}

/// The smallest string above every string that starts with `text`.
pub(crate) fn successor(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    char::MAX.to_string()
}

/// A list's sort direction as the database orders.
pub(crate) fn order(dir: crate::list_query::SortDir) -> sea_orm::sea_query::Order {
    match dir {
        crate::list_query::SortDir::Asc => sea_orm::sea_query::Order::Asc,
        crate::list_query::SortDir::Desc => sea_orm::sea_query::Order::Desc,
    }
}

/// `found` (rows fetched by id, in any order) in the order of `ids`; ids not found are skipped.
pub(crate) fn in_order<M>(ids: &[i64], found: Vec<M>, id: impl Fn(&M) -> i64) -> Vec<M> {
    let mut by_id: std::collections::HashMap<i64, M> =
        found.into_iter().map(|m| (id(&m), m)).collect();
    ids.iter().filter_map(|i| by_id.remove(i)).collect()
}

/// Maps a stored user to the signed-in view of them.
pub(crate) fn session_user(u: &user::Model) -> SessionUser {
    SessionUser {
        id: UserId(u.id),
        name: u.name.clone().unwrap_or_else(|| u.email.clone()),
        email: u.email.clone(),
        role: u.role,
        status: u.status,
    }
}

/// Locks `mutex`, poisoned or not: what the ledger keeps under its locks is changed in single
/// steps, so a panic elsewhere cannot leave it half-changed.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The usage day of a moment: days since 1970-01-01, in UTC.
pub fn day_key(at: chrono::DateTime<chrono::Utc>) -> i32 {
    i32::try_from(at.timestamp().div_euclid(86_400)).unwrap_or(i32::MAX)
}

/// The usage month of a moment: `year * 100 + month`, in UTC.
pub fn month_key(at: chrono::DateTime<chrono::Utc>) -> i32 {
    use chrono::Datelike;
    at.year() * 100 + i32::try_from(at.month()).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::successor;

    #[test]
    fn successor_is_just_above_every_extension() {
        assert_eq!(successor("ab"), "ac");
        assert_eq!(successor("a\u{10FFFF}"), "b");
        assert!(successor("zz").as_str() > "zzzzz");
        assert_eq!(successor("\u{D7FF}"), "\u{E000}");
    }
}
