//! The database side of the hard cap (docs/architecture.md). A gateway process *leases* budget from a
//! team's month — adding to `usage_team_months.reserved_micros` in one conditional `UPDATE`
//! that never lets spend plus reservations pass the limit, and recording the slice in a
//! `budget_leases` row — then admits requests against its slice in memory
//! ([`crate::service::ledger`]). Settled requests move their cost from the slice to the spend
//! (the sum never grows); what is not needed is given back. Because every slice is taken by
//! that one statement, the cap holds across processes sharing the database; a dead process's
//! slices stop being renewed and are swept.
//!
//! Lease times are the database's clock (on PostgreSQL `CURRENT_TIMESTAMP`; SQLite lives on one
//! machine, whose clock every process shares), so processes whose clocks disagree cannot sweep
//! each other. Whatever touches a lease — a renewal, a settlement taking its cost off, an
//! extension — first finds it still there, and changes the month's reservations only then: a
//! lease swept by another process is given back once, by the sweep.

use crate::entity::{budget_lease, team, usage_team_month};
use crate::money::Money;
use crate::service::keys::KeyAuth;
use crate::{Error, TeamId};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};

/// A request refused because its team's month is spent: what the 402 says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverBudget {
    pub team: String,
    pub limit: Money,
    pub spent: Money,
    /// Held by gateways for requests in flight.
    pub reserved: Money,
    /// The start of next month (UTC), when the spend starts again from zero.
    pub resets_at: DateTime<Utc>,
}

/// Whether requests with this key are held against a limit (a team with one).
pub fn is_capped(auth: &KeyAuth) -> bool {
    auth.team.is_some() && auth.team_limit.is_some()
}

/// What asking for more of a team's month came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extension {
    /// `granted` was added to lease `lease`; `room` is what the month still had free after.
    Granted {
        lease: i64,
        granted: Money,
        room: Money,
    },
    /// Not even the least asked for fits under the limit.
    Refused(OverBudget),
    /// The team has no limit (any more), or is gone: nothing to hold.
    Unlimited,
    /// The lease to grow is gone (swept by another process): nothing was held.
    LeaseGone(i64),
}

/// What a process asks of a team's month: `want`, or at least `need`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    pub team: TeamId,
    pub month: i32,
    pub want: Money,
    pub need: Money,
}

/// Adds what `ask` wants — or, when that does not fit, what it needs — to lease `lease` (a new
/// one for `holder` when `None`). Call inside a write transaction.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn extend_in(
    conn: &impl ConnectionTrait,
    holder: &str,
    lease: Option<i64>,
    ask: Ask,
    at: DateTime<Utc>,
) -> Result<Extension, Error> {
    let Ask {
        team,
        month,
        want,
        need,
    } = ask;
    // Touched first: on PostgreSQL this also locks the row, so a sweep waits for this round
    // and then gives back the lease as it grew.
    if let Some(id) = lease
        && !resize(conn, id, 0).await?
    {
        return Ok(Extension::LeaseGone(id));
    }
    usage_team_month::Entity::insert(usage_team_month::ActiveModel {
        team_id: Set(team.0),
        month: Set(month),
        spend_micros: Set(0),
        requests: Set(0),
        reserved_micros: Set(0),
        // Set by the database: whether the team still exists.
        team_deleted: sea_orm::ActiveValue::NotSet,
    })
    .on_conflict_do_nothing_on([
        usage_team_month::Column::TeamId,
        usage_team_month::Column::Month,
    ])
    .exec(conn)
    .await?;
    let granted = if hold_within_limit(conn, team, month, want).await? {
        Some(want)
    } else if want > need && hold_within_limit(conn, team, month, need).await? {
        Some(need)
    } else {
        None
    };
    let Some(granted) = granted else {
        return Ok(match over_budget(conn, team, month, at).await? {
            Some(refusal) => Extension::Refused(refusal),
            None => Extension::Unlimited,
        });
    };
    let lease = match lease {
        Some(id) => {
            resize(conn, id, granted.micros()).await?;
            id
        }
        None => {
            let id = budget_lease::ActiveModel {
                holder: Set(holder.to_owned()),
                team_id: Set(team.0),
                month: Set(month),
                amount_micros: Set(granted.micros()),
                renewed_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(conn)
            .await?
            .id;
            // Stamped again by the database's clock.
            resize(conn, id, 0).await?;
            id
        }
    };
    let room = over_budget(conn, team, month, at)
        .await?
        .map_or(Money::ZERO, |f| {
            Money(f.limit.micros() - f.spent.micros() - f.reserved.micros())
        });
    Ok(Extension::Granted {
        lease,
        granted,
        room,
    })
}

/// The one statement the cap rests on: `reserved += amount` only while spend + reserved stays
/// within the team's limit.
async fn hold_within_limit(
    conn: &impl ConnectionTrait,
    team: TeamId,
    month: i32,
    amount: Money,
) -> Result<bool, Error> {
    let limit = Query::select()
        .column(team::Column::MonthlyLimitMicros)
        .from(team::Entity)
        .and_where(Expr::col((team::Entity, team::Column::Id)).eq(team.0))
        .to_owned();
    let held = usage_team_month::Entity::update_many()
        .col_expr(
            usage_team_month::Column::ReservedMicros,
            Expr::col(usage_team_month::Column::ReservedMicros).add(amount.micros()),
        )
        .filter(usage_team_month::Column::TeamId.eq(team.0))
        .filter(usage_team_month::Column::Month.eq(month))
        .filter(
            Expr::col(usage_team_month::Column::SpendMicros)
                .add(Expr::col(usage_team_month::Column::ReservedMicros))
                .add(amount.micros())
                .lte(Expr::SubQuery(None, Box::new(limit.into()))),
        )
        .exec(conn)
        .await?;
    Ok(held.rows_affected > 0)
}

/// Takes `amount` off lease `lease` and off its month's reservations: spent by settled requests
/// (whose spend is recorded in the same transaction) or given back. Answers `false`, changing
/// nothing, when the lease is gone: the sweep that took it gave its whole amount back already.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn shrink_in(
    conn: &impl ConnectionTrait,
    lease: i64,
    team: TeamId,
    month: i32,
    amount: Money,
) -> Result<bool, Error> {
    if !resize(conn, lease, -amount.micros()).await? {
        return Ok(false);
    }
    if amount != Money::ZERO {
        unreserve(conn, team.0, month, amount.micros()).await?;
    }
    Ok(true)
}

/// Ends a lease its process no longer needs, giving back whatever it still holds (a settlement
/// still queued behind the end finds it gone and only adds its spend).
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn end_in(conn: &impl ConnectionTrait, lease: i64) -> Result<(), Error> {
    give_back_whole(conn, lease, None).await?;
    Ok(())
}

/// Marks `leases` as still held by a live process, by the database's clock, in a statement of
/// its own; answers those that are gone (swept: their slices must be dropped).
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn renew(db: &DatabaseConnection, leases: &[i64]) -> Result<Vec<i64>, Error> {
    if leases.is_empty() {
        return Ok(Vec::new());
    }
    let renewed = budget_lease::Entity::update_many()
        .col_expr(budget_lease::Column::RenewedAt, database_now(db))
        .filter(budget_lease::Column::Id.is_in(leases.iter().copied()))
        .exec(db)
        .await?;
    if renewed.rows_affected == leases.len() as u64 {
        return Ok(Vec::new());
    }
    let there: Vec<i64> = budget_lease::Entity::find()
        .filter(budget_lease::Column::Id.is_in(leases.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    Ok(leases
        .iter()
        .copied()
        .filter(|l| !there.contains(l))
        .collect())
}

/// Gives back the leases not renewed for `stale_after` by the database's clock: those of a
/// process that died. Run at start-up and now and then; answers how many were swept.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn release_stale(
    db: &DatabaseConnection,
    stale_after: std::time::Duration,
) -> Result<u64, Error> {
    let before = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => Expr::cust(format!(
            "CURRENT_TIMESTAMP - INTERVAL '{} milliseconds'",
            stale_after.as_millis()
        )),
        _ => Expr::value(Utc::now() - stale_after),
    };
    let stale = budget_lease::Entity::find()
        .filter(Expr::col(budget_lease::Column::RenewedAt).lt(before.clone()))
        .all(db)
        .await?;
    let mut released = 0;
    for row in stale {
        let txn = crate::db::begin_write(db).await?;
        // Still stale at the moment it is deleted: a lease renewed since is left alone.
        released += u64::from(give_back_whole(&txn, row.id, Some(before.clone())).await?);
        txn.commit().await?;
    }
    Ok(released)
}

/// Gives back every lease of `holder`, a process known to have stopped.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn release_holder_in(conn: &impl ConnectionTrait, holder: &str) -> Result<u64, Error> {
    let held = budget_lease::Entity::find()
        .filter(budget_lease::Column::Holder.eq(holder))
        .all(conn)
        .await?;
    let mut released = 0;
    for row in held {
        released += u64::from(give_back_whole(conn, row.id, None).await?);
    }
    Ok(released)
}

/// Deletes lease `id` (only while last renewed before `stale_before`, when given) and takes
/// the amount it held at that moment off the month's reservations, once: a second sweeper finds
/// no row and changes nothing, and a lease grown or shrunk meanwhile gives back what it holds
/// now, not what was read before.
async fn give_back_whole(
    conn: &impl ConnectionTrait,
    id: i64,
    stale_before: Option<sea_orm::sea_query::SimpleExpr>,
) -> Result<bool, Error> {
    let mut delete = budget_lease::Entity::delete_many().filter(budget_lease::Column::Id.eq(id));
    if let Some(before) = stale_before {
        delete = delete.filter(Expr::col(budget_lease::Column::RenewedAt).lt(before));
    }
    let gone = delete.exec_with_returning(conn).await?;
    for row in &gone {
        unreserve(conn, row.team_id, row.month, row.amount_micros).await?;
    }
    Ok(!gone.is_empty())
}

/// How many leases are held now (for tests and the health of the cap).
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn outstanding(db: &impl ConnectionTrait) -> Result<u64, Error> {
    Ok(budget_lease::Entity::find().count(db).await?)
}

/// Grows (or shrinks) lease `lease` by `by` and stamps it renewed; `false` when it is gone.
async fn resize(conn: &impl ConnectionTrait, lease: i64, by: i64) -> Result<bool, Error> {
    let resized = budget_lease::Entity::update_many()
        .col_expr(
            budget_lease::Column::AmountMicros,
            Expr::col(budget_lease::Column::AmountMicros).add(by),
        )
        .col_expr(budget_lease::Column::RenewedAt, database_now(conn))
        .filter(budget_lease::Column::Id.eq(lease))
        .exec(conn)
        .await?;
    Ok(resized.rows_affected > 0)
}

/// Now, by the database's clock (SQLite's is the one machine's).
fn database_now(conn: &impl ConnectionTrait) -> sea_orm::sea_query::SimpleExpr {
    match conn.get_database_backend() {
        sea_orm::DbBackend::Postgres => Expr::cust("CURRENT_TIMESTAMP"),
        _ => Expr::value(Utc::now()),
    }
}

async fn unreserve(
    conn: &impl ConnectionTrait,
    team: i64,
    month: i32,
    amount: i64,
) -> Result<(), Error> {
    usage_team_month::Entity::update_many()
        .col_expr(
            usage_team_month::Column::ReservedMicros,
            Expr::col(usage_team_month::Column::ReservedMicros).sub(amount),
        )
        .filter(usage_team_month::Column::TeamId.eq(team))
        .filter(usage_team_month::Column::Month.eq(month))
        .exec(conn)
        .await?;
    Ok(())
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
