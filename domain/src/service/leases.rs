//! The database side of the hard caps (docs/architecture.md). A gateway process *leases* budget
//! from a month — a team's, a member's, a key's, or the gateway's own — adding to that month row's `reserved_micros`
//! in one conditional `UPDATE` that never lets spend plus reservations pass the limit, and
//! recording the slice in a `budget_leases` row — then admits requests against its slice in
//! memory ([`crate::service::ledger`]). Settled requests move their cost from the slice to the
//! spend (the sum never grows); what is not needed is given back. Because every slice is taken
//! by that one statement, each cap holds across processes sharing the database; a dead
//! process's slices stop being renewed and are swept.
//!
//! Lease times are the database's clock (on PostgreSQL `CURRENT_TIMESTAMP`; SQLite lives on one
//! machine, whose clock every process shares), so processes whose clocks disagree cannot sweep
//! each other. Whatever touches a lease — a renewal, a settlement taking its cost off, an
//! extension — first finds it still there, and changes the month's reservations only then: a
//! lease swept by another process is given back once, by the sweep.

use crate::entity::budget_lease::{self, BudgetKind};
use crate::entity::usage_gateway_month::Scope;
use crate::entity::{api_key, gateway_setting, team, user};
use crate::money::Money;
use crate::service::keys::KeyAuth;
use crate::{Error, KeyId, TeamId, UserId};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, OnConflict, Query, SelectStatement, SimpleExpr,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};

/// A monthly budget a request can be held against: its team's, its key owner's as a member of
/// their team, its key's own, and the gateway-wide ones an Owner sets on the Billing page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    Team(TeamId),
    Member(UserId),
    Key(KeyId),
    /// Every request through the gateway.
    Gateway,
    /// Requests with keys outside any team, together.
    Teamless,
}

impl Budget {
    pub fn kind(self) -> BudgetKind {
        match self {
            Budget::Team(_) => BudgetKind::Team,
            Budget::Member(_) => BudgetKind::Member,
            Budget::Key(_) => BudgetKind::Key,
            Budget::Gateway => BudgetKind::Gateway,
            Budget::Teamless => BudgetKind::Teamless,
        }
    }

    /// Whose month row it is: the team's, person's or key's id, or the gateway row's scope.
    fn id(self) -> i64 {
        match self {
            Budget::Team(TeamId(id)) | Budget::Member(UserId(id)) | Budget::Key(KeyId(id)) => id,
            Budget::Gateway => Scope::All.id().into(),
            Budget::Teamless => Scope::Teamless.id().into(),
        }
    }

    fn of_row(kind: BudgetKind, id: i64) -> Self {
        match kind {
            BudgetKind::Team => Budget::Team(TeamId(id)),
            BudgetKind::Member => Budget::Member(UserId(id)),
            BudgetKind::Key => Budget::Key(KeyId(id)),
            BudgetKind::Gateway => Budget::Gateway,
            BudgetKind::Teamless => Budget::Teamless,
        }
    }

    /// Its months' table and the column naming whose month a row is.
    fn months(self) -> (Alias, Alias) {
        let (table, id) = match self {
            Budget::Team(_) => ("usage_team_months", "team_id"),
            Budget::Member(_) => ("usage_user_months", "user_id"),
            Budget::Key(_) => ("usage_key_months", "key_id"),
            Budget::Gateway | Budget::Teamless => ("usage_gateway_months", "scope"),
        };
        (Alias::new(table), Alias::new(id))
    }

    /// This budget's row of `month`.
    fn month_row(self, month: i32) -> SimpleExpr {
        let (_, id) = self.months();
        Expr::col(id)
            .eq(self.id())
            .and(Expr::col(Alias::new("month")).eq(month))
    }

    /// Its limit now, in micro-dollars (`NULL` when it has none). A member's is their own, or
    /// else their team's default for members.
    fn limit(self) -> SelectStatement {
        match self {
            Budget::Team(team) => Query::select()
                .column(team::Column::MonthlyLimitMicros)
                .from(team::Entity)
                .and_where(Expr::col((team::Entity, team::Column::Id)).eq(team.0))
                .to_owned(),
            Budget::Key(key) => Query::select()
                .column(api_key::Column::MonthlyLimitMicros)
                .from(api_key::Entity)
                .and_where(Expr::col((api_key::Entity, api_key::Column::Id)).eq(key.0))
                .to_owned(),
            Budget::Member(person) => Query::select()
                .expr(Func::coalesce([
                    Expr::col((user::Entity, user::Column::MonthlyLimitMicros)),
                    Expr::col((team::Entity, team::Column::MemberLimitMicros)),
                ]))
                .from(user::Entity)
                .left_join(
                    team::Entity,
                    Expr::col((team::Entity, team::Column::Id))
                        .equals((user::Entity, user::Column::TeamId)),
                )
                .and_where(Expr::col((user::Entity, user::Column::Id)).eq(person.0))
                .to_owned(),
            Budget::Gateway => gateway_limit(gateway_setting::Column::MonthlyLimitMicros),
            Budget::Teamless => gateway_limit(gateway_setting::Column::TeamlessLimitMicros),
        }
    }
}

/// One of the gateway-wide limits an Owner sets (`NULL` when not set).
pub(crate) fn gateway_limit(column: gateway_setting::Column) -> SelectStatement {
    Query::select()
        .column(column)
        .from(gateway_setting::Entity)
        .and_where(Expr::col(gateway_setting::Column::Id).eq(gateway_setting::ROW))
        .to_owned()
}

/// A request refused because a budget's month is spent: what the 402 says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverBudget {
    /// Which budget refused it…
    pub budget: BudgetKind,
    /// …by the name people know it by: the team's, the person's or the key's.
    pub name: String,
    pub limit: Money,
    pub spent: Money,
    /// Held by gateways for requests in flight.
    pub reserved: Money,
    /// The start of next month (UTC), when the spend starts again from zero.
    pub resets_at: DateTime<Utc>,
}

/// Whether requests with this key are held against any budget ([`budgets_of`] is not empty).
pub fn is_capped(auth: &KeyAuth) -> bool {
    !budgets_of(auth).is_empty()
}

/// The budgets a request with this key must fit, narrowest first.
pub fn budgets_of(auth: &KeyAuth) -> Vec<Budget> {
    let mut budgets = Vec::with_capacity(4);
    if auth.key_limit.is_some() {
        budgets.push(Budget::Key(auth.key));
    }
    if auth.member_limit.is_some() {
        budgets.push(Budget::Member(auth.user));
    }
    if let (Some(team), Some(_)) = (auth.team, auth.team_limit) {
        budgets.push(Budget::Team(team));
    }
    if auth.team.is_none() && auth.teamless_limit.is_some() {
        budgets.push(Budget::Teamless);
    }
    if auth.gateway_limit.is_some() {
        budgets.push(Budget::Gateway);
    }
    budgets
}

/// What asking for more of a budget's month came to.
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
    /// The budget has no limit (any more), or is gone: nothing to hold.
    Unlimited,
    /// The lease to grow is gone (swept by another process): nothing was held.
    LeaseGone(i64),
}

/// What a process asks of a budget's month: `want`, or at least `need`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    pub budget: Budget,
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
        budget,
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
    start_month(conn, budget, month).await?;
    let granted = if hold_within_limit(conn, budget, month, want).await? {
        Some(want)
    } else if want > need && hold_within_limit(conn, budget, month, need).await? {
        Some(need)
    } else {
        None
    };
    let Some(granted) = granted else {
        return Ok(match over_budget(conn, budget, month, at).await? {
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
                budget: Set(budget.kind()),
                budget_id: Set(budget.id()),
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
    let room = over_budget(conn, budget, month, at)
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

/// Makes sure the budget's month has its row (nothing spent, nothing held).
async fn start_month(conn: &impl ConnectionTrait, budget: Budget, month: i32) -> Result<(), Error> {
    let (table, id) = budget.months();
    let insert = Query::insert()
        .into_table(table)
        .columns([
            id.clone(),
            Alias::new("month"),
            Alias::new("spend_micros"),
            Alias::new("requests"),
            Alias::new("reserved_micros"),
        ])
        .values_panic([
            budget.id().into(),
            month.into(),
            0i64.into(),
            0i64.into(),
            0i64.into(),
        ])
        .on_conflict(
            OnConflict::columns([id, Alias::new("month")])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    conn.execute(&insert).await?;
    Ok(())
}

/// The one statement each cap rests on: `reserved += amount` only while spend + reserved stays
/// within the budget's limit.
async fn hold_within_limit(
    conn: &impl ConnectionTrait,
    budget: Budget,
    month: i32,
    amount: Money,
) -> Result<bool, Error> {
    let (table, _) = budget.months();
    let (spend, reserved) = (Alias::new("spend_micros"), Alias::new("reserved_micros"));
    let hold = Query::update()
        .table(table)
        .value(
            reserved.clone(),
            Expr::col(reserved.clone()).add(amount.micros()),
        )
        .and_where(budget.month_row(month))
        .and_where(
            Expr::col(spend)
                .add(Expr::col(reserved))
                .add(amount.micros())
                .lte(Expr::SubQuery(None, Box::new(budget.limit().into()))),
        )
        .to_owned();
    Ok(conn.execute(&hold).await?.rows_affected() > 0)
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
    budget: Budget,
    month: i32,
    amount: Money,
) -> Result<bool, Error> {
    if !resize(conn, lease, -amount.micros()).await? {
        return Ok(false);
    }
    if amount != Money::ZERO {
        unreserve(conn, budget, month, amount.micros()).await?;
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
        let txn = crate::db::begin_ledger_write(db).await?;
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
        let budget = Budget::of_row(row.budget, row.budget_id);
        unreserve(conn, budget, row.month, row.amount_micros).await?;
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
    budget: Budget,
    month: i32,
    amount: i64,
) -> Result<(), Error> {
    let (table, _) = budget.months();
    let reserved = Alias::new("reserved_micros");
    let give = Query::update()
        .table(table)
        .value(reserved.clone(), Expr::col(reserved).sub(amount))
        .and_where(budget.month_row(month))
        .to_owned();
    conn.execute(&give).await?;
    Ok(())
}

/// The refusal for `budget`'s `month`, or `None` when it has no limit (any more) or is gone.
async fn over_budget(
    db: &impl ConnectionTrait,
    budget: Budget,
    month: i32,
    at: DateTime<Utc>,
) -> Result<Option<OverBudget>, Error> {
    let Some((name, limit)) = name_and_limit(db, budget).await? else {
        return Ok(None);
    };
    let (table, _) = budget.months();
    let usage = Query::select()
        .columns([Alias::new("spend_micros"), Alias::new("reserved_micros")])
        .from(table)
        .and_where(budget.month_row(month))
        .to_owned();
    let (spent, reserved) = match db.query_one(&usage).await? {
        Some(row) => (
            row.try_get_by_index::<i64>(0)?,
            row.try_get_by_index::<i64>(1)?,
        ),
        None => (0, 0),
    };
    Ok(Some(OverBudget {
        budget: budget.kind(),
        name,
        limit: Money(limit),
        spent: Money(spent),
        reserved: Money(reserved),
        resets_at: next_month(at),
    }))
}

/// The budget's name and limit now; `None` when it has no limit or is gone.
async fn name_and_limit(
    db: &impl ConnectionTrait,
    budget: Budget,
) -> Result<Option<(String, i64)>, Error> {
    Ok(match budget {
        Budget::Team(id) => team::Entity::find_by_id(id.0)
            .one(db)
            .await?
            .and_then(|t| Some((t.name, t.monthly_limit_micros?))),
        Budget::Key(id) => api_key::Entity::find_by_id(id.0)
            .one(db)
            .await?
            .and_then(|k| Some((k.name, k.monthly_limit_micros?))),
        Budget::Member(id) => {
            let Some(person) = user::Entity::find_by_id(id.0).one(db).await? else {
                return Ok(None);
            };
            let default = match person.team_id {
                Some(team) => team::Entity::find_by_id(team)
                    .one(db)
                    .await?
                    .and_then(|t| t.member_limit_micros),
                None => None,
            };
            let name = person.name.clone().unwrap_or_else(|| person.email.clone());
            person.monthly_limit_micros.or(default).map(|l| (name, l))
        }
        Budget::Gateway | Budget::Teamless => {
            let settings = gateway_setting::Entity::find_by_id(gateway_setting::ROW)
                .one(db)
                .await?;
            let limit = settings.and_then(|s| match budget {
                Budget::Gateway => s.monthly_limit_micros,
                _ => s.teamless_limit_micros,
            });
            let name = match budget {
                Budget::Gateway => "the gateway",
                _ => "keys outside any team",
            };
            limit.map(|l| (name.to_owned(), l))
        }
    })
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
