//! The hard cap (DESIGN.md §1): before a request goes upstream its worst-case cost is reserved
//! against the team's monthly limit in one atomic statement; afterwards the reservation is
//! settled to the real cost (and metered) or released. Spend plus reservations never passes
//! the limit — under concurrent requests and across processes sharing one database, because
//! the check and the reservation are a single conditional `UPDATE` on the team's month row.

use crate::db::begin_write;
use crate::entity::{reservation, team, usage_team_month};
use crate::money::Money;
use crate::service::keys::KeyAuth;
use crate::service::month_key;
use crate::service::usage::{self, Metered};
use crate::{Error, KeyId, TeamId, UserId};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

/// Budget held for one admitted request until it is settled or released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The `reservations` row; `None` when nothing was held (no team, or a team without a
    /// limit: such requests are metered but not capped).
    id: Option<i64>,
    pub key: KeyId,
    pub user: UserId,
    pub team: Option<TeamId>,
    /// The worst case held.
    pub amount: Money,
    /// When the request was admitted; its usage counts in this moment's month.
    pub at: DateTime<Utc>,
}

impl Hold {
    /// Nothing held: for a request no limit applies to.
    pub fn unheld(auth: &KeyAuth, at: DateTime<Utc>) -> Self {
        Hold {
            id: None,
            key: auth.key,
            user: auth.user,
            team: auth.team,
            amount: Money::ZERO,
            at,
        }
    }

    /// Whether anything is held (a `reservations` row exists).
    pub fn is_held(&self) -> bool {
        self.id.is_some()
    }
}

/// A request refused because its team's month is spent: what the 402 says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverBudget {
    pub team: String,
    pub limit: Money,
    pub spent: Money,
    /// Held for requests still in flight.
    pub reserved: Money,
    /// The start of next month (UTC), when the spend starts again from zero.
    pub resets_at: DateTime<Utc>,
}

/// Admits a request whose cost can be at most `worst`, holding that much of its team's month:
/// `Ok(Err(_))` when spend + reservations + `worst` would pass the limit.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn reserve(
    db: &DatabaseConnection,
    auth: &KeyAuth,
    worst: Money,
    at: DateTime<Utc>,
) -> Result<Result<Hold, OverBudget>, Error> {
    if !is_capped(auth) {
        return reserve_in(db, auth, worst, at).await;
    }
    let txn = begin_write(db).await?;
    let admitted = reserve_in(&txn, auth, worst, at).await?;
    txn.commit().await?;
    Ok(admitted)
}

/// Whether requests with this key are held against a limit (a team with one).
pub fn is_capped(auth: &KeyAuth) -> bool {
    auth.team.is_some() && auth.team_limit.is_some()
}

/// [`reserve`] inside the caller's write transaction (which it must commit).
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn reserve_in(
    conn: &impl ConnectionTrait,
    auth: &KeyAuth,
    worst: Money,
    at: DateTime<Utc>,
) -> Result<Result<Hold, OverBudget>, Error> {
    let mut hold = Hold::unheld(auth, at);
    // Whether the team has a limit is read again inside the statement below; the key's view of
    // it only saves a write for the unlimited.
    let Some(team_id) = auth.team.filter(|_| is_capped(auth)) else {
        return Ok(Ok(hold));
    };
    let month = month_key(at);
    usage_team_month::Entity::insert(usage_team_month::ActiveModel {
        team_id: Set(team_id.0),
        month: Set(month),
        spend_micros: Set(0),
        requests: Set(0),
        reserved_micros: Set(0),
    })
    .on_conflict_do_nothing_on([
        usage_team_month::Column::TeamId,
        usage_team_month::Column::Month,
    ])
    .exec(conn)
    .await?;
    let limit = Query::select()
        .column(team::Column::MonthlyLimitMicros)
        .from(team::Entity)
        .and_where(Expr::col((team::Entity, team::Column::Id)).eq(team_id.0))
        .to_owned();
    let held = usage_team_month::Entity::update_many()
        .col_expr(
            usage_team_month::Column::ReservedMicros,
            Expr::col(usage_team_month::Column::ReservedMicros).add(worst.micros()),
        )
        .filter(usage_team_month::Column::TeamId.eq(team_id.0))
        .filter(usage_team_month::Column::Month.eq(month))
        .filter(
            Expr::col(usage_team_month::Column::SpendMicros)
                .add(Expr::col(usage_team_month::Column::ReservedMicros))
                .add(worst.micros())
                .lte(Expr::SubQuery(None, Box::new(limit.into()))),
        )
        .exec(conn)
        .await?;
    if held.rows_affected == 0 {
        return match over_budget(conn, team_id, month, at).await? {
            Some(refusal) => Ok(Err(refusal)),
            // The limit was removed (or the team deleted) since the key was read: uncapped.
            None => Ok(Ok(hold)),
        };
    }
    let row = reservation::ActiveModel {
        team_id: Set(team_id.0),
        month: Set(month),
        key_id: Set(auth.key.0),
        amount_micros: Set(worst.micros()),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    hold.id = Some(row.id);
    hold.amount = worst;
    Ok(Ok(hold))
}

/// Settles `hold` to the request's real `cost`: releases what was held and meters the request
/// (team, user and key month, key last used, user last active) in one transaction.
///
/// # Errors
/// [`Error::Internal`] on database failure; nothing is written then.
pub async fn settle(db: &DatabaseConnection, hold: &Hold, cost: Money) -> Result<(), Error> {
    let txn = begin_write(db).await?;
    settle_in(&txn, hold, cost).await?;
    txn.commit().await?;
    Ok(())
}

/// [`settle`] inside the caller's write transaction.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn settle_in(conn: &impl ConnectionTrait, hold: &Hold, cost: Money) -> Result<(), Error> {
    unhold(conn, hold).await?;
    usage::record(
        conn,
        &Metered {
            key: hold.key,
            user: hold.user,
            team: hold.team,
            cost,
            at: hold.at,
        },
    )
    .await
}

/// Gives back what `hold` held, for a request that was not served (upstream error, timeout,
/// client gone). Releasing twice, or after settling, changes nothing.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn release(db: &DatabaseConnection, hold: &Hold) -> Result<(), Error> {
    if hold.id.is_none() {
        return Ok(());
    }
    let txn = begin_write(db).await?;
    release_in(&txn, hold).await?;
    txn.commit().await?;
    Ok(())
}

/// [`release`] inside the caller's write transaction.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn release_in(conn: &impl ConnectionTrait, hold: &Hold) -> Result<(), Error> {
    unhold(conn, hold).await.map(|_| ())
}

/// Releases reservations made before `before`: those of a process that died mid-request. Run at
/// start-up and now and then; answers how many were released.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn release_stale(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64, Error> {
    let stale = reservation::Entity::find()
        .filter(reservation::Column::CreatedAt.lt(before))
        .all(db)
        .await?;
    let mut released = 0;
    for row in stale {
        let txn = begin_write(db).await?;
        if remove_reservation(&txn, row.id, row.team_id, row.month, row.amount_micros).await? {
            released += 1;
        }
        txn.commit().await?;
    }
    Ok(released)
}

/// How many requests are holding budget now (for tests and the health of the cap).
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn outstanding(db: &impl ConnectionTrait) -> Result<u64, Error> {
    use sea_orm::PaginatorTrait;
    Ok(reservation::Entity::find().count(db).await?)
}

async fn unhold(conn: &impl ConnectionTrait, hold: &Hold) -> Result<bool, Error> {
    let (Some(id), Some(team)) = (hold.id, hold.team) else {
        return Ok(false);
    };
    remove_reservation(conn, id, team.0, month_key(hold.at), hold.amount.micros()).await
}

/// Deletes a reservation and takes its amount off the month's reservations, once: a second
/// caller finds no row and changes nothing.
async fn remove_reservation(
    conn: &impl ConnectionTrait,
    id: i64,
    team: i64,
    month: i32,
    amount: i64,
) -> Result<bool, Error> {
    let gone = reservation::Entity::delete_by_id(id).exec(conn).await?;
    if gone.rows_affected == 0 {
        return Ok(false);
    }
    usage_team_month::Entity::update_many()
        .col_expr(
            usage_team_month::Column::ReservedMicros,
            Expr::col(usage_team_month::Column::ReservedMicros).sub(amount),
        )
        .filter(usage_team_month::Column::TeamId.eq(team))
        .filter(usage_team_month::Column::Month.eq(month))
        .exec(conn)
        .await?;
    Ok(true)
}

/// The refusal for `team`'s `month`, or `None` when the team has no limit (any more).
async fn over_budget(
    db: &impl ConnectionTrait,
    team_id: TeamId,
    month: i32,
    at: DateTime<Utc>,
) -> Result<Option<OverBudget>, Error> {
    let Some(team) = team::Entity::find_by_id(team_id.0).one(db).await? else {
        return Ok(None);
    };
    let Some(limit) = team.monthly_limit_micros else {
        return Ok(None);
    };
    let usage = usage_team_month::Entity::find_by_id((team_id.0, month))
        .one(db)
        .await?;
    let (spent, reserved) = usage.map_or((0, 0), |u| (u.spend_micros, u.reserved_micros));
    Ok(Some(OverBudget {
        team: team.name,
        limit: Money(limit),
        spent: Money(spent),
        reserved: Money(reserved),
        resets_at: next_month(at),
    }))
}

/// Midnight UTC on the first day of the month after `at`.
pub fn next_month(at: DateTime<Utc>) -> DateTime<Utc> {
    let (year, month) = if at.month() == 12 {
        (at.year() + 1, 1)
    } else {
        (at.year(), at.month() + 1)
    };
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::next_month;
    use chrono::{TimeZone, Utc};

    #[test]
    fn the_month_resets_at_midnight_utc_on_the_first() {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 19, 0, 0).unwrap();
        assert_eq!(
            next_month(at),
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
        );
        let december = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(
            next_month(december),
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
        );
    }
}
