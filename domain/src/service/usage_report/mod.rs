//! The Usage page's report ([`crate::usage`]): read from the day aggregates the gateway's
//! metering writes (`usage_days`, `refusal_days`), summed by the database over the range and
//! grouped as asked. Who sees what is decided here: Owners, Admins and Viewers everything
//! ([`Action::ReadAllUsage`]); a Member their own team's figures (or, outside any team, their
//! own) and the refusals of their own keys.

mod forecast;
mod kept;
pub mod names;
mod source;
mod table;

use crate::Error;
use crate::entity::refusal_day::{self, RefusalKind};
use crate::entity::user;
use crate::money::Money;
use crate::permission::{Action, Actor};
use crate::service::day_key;
use crate::usage::{
    Blocked, GroupBy, GroupTotals, RefusalCounts, Scope, Series, UsageQuery, UsageReport,
    UsageSort, check_days,
};
use chrono::{DateTime, NaiveDate, Utc};
use kept::Kept;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, EntityTrait, QueryResult};
use source::group_key;
use std::collections::HashMap;

/// The most refusals listed under "Why was I blocked".
const BLOCKED_SHOWN: u64 = 20;

/// Whose rows a reader may see: `None` is everyone's.
#[derive(Debug, Clone, Copy)]
enum Only {
    Team(i64),
    User(i64),
}

/// The report for `query` as `actor` may see it, with `now` as the present.
///
/// # Errors
/// [`Error::Forbidden`] for an inactive actor; [`Error::Validation`] for a range the page would
/// not take ([`check_days`]); [`Error::Internal`] on database failure.
pub async fn report(
    db: &impl ConnectionTrait,
    actor: &Actor,
    query: &UsageQuery,
    now: DateTime<Utc>,
    rows_shown: Rows,
) -> Result<UsageReport, Error> {
    actor.require(Action::Read)?;
    let (scope, only) = scope_of(db, actor).await?;
    let (first_day, last_day) = query.period.days(now.date_naive());
    // The page's URL is checked as it is read; a server function's caller sends any range.
    check_days(first_day, last_day).map_err(|why| Error::validation("from", why))?;
    let days = (day_of(first_day), day_of(last_day));
    let len = usize::try_from(days.1 - days.0 + 1).unwrap_or(0);

    let kept = Kept::of(
        db,
        query.group,
        (first_day, last_day),
        now.date_naive(),
        only,
    )
    .await?;
    let refused = refusals_by_group(db, query.group, days, only).await?;
    let table = match (kept, rows_shown) {
        (Some(kept), Rows::First(n)) if table::sorted_by_database(query) => {
            table::first_rows(db, query, kept, days, &refused, n).await?
        }
        _ => {
            let rows = source::totals(db, query.group, days, only, kept).await?;
            table::every_row(db, query, rows, &refused, rows_shown).await?
        }
    };
    let rows = table.rows;
    // The chart's groups are labelled like the rows (most are among them).
    let missing: Vec<&str> = table
        .top
        .iter()
        .filter(|k| !rows.iter().any(|(r, _)| r == *k))
        .map(String::as_str)
        .collect();
    let mut found = labels(db, query.group, &missing).await?;
    for (k, r) in &rows {
        found.insert(k.clone(), r.label.clone());
    }
    let top: Vec<(String, String)> = table
        .top
        .into_iter()
        .map(|k| {
            let label = found.get(&k).cloned().unwrap_or_default();
            (k, label)
        })
        .collect();
    let others = table.others;

    let series = spend_series(db, query.group, days, len, only, &top, others).await?;
    let (requests, refusals) = per_day(db, days, len, only).await?;
    let forecasts = forecast::forecasts(db, only, now).await?;
    let blocked = blocked(db, days, actor, only).await?;
    let rows: Vec<GroupTotals> = rows.into_iter().map(|(_, r)| r).collect();
    Ok(UsageReport {
        scope,
        first_day,
        last_day,
        series,
        requests,
        refusals,
        rows,
        more_rows: table.more_rows,
        total: table.total,
        forecasts,
        blocked,
        generated_at: now,
    })
}

/// What `actor` may see, and the filter that says so.
async fn scope_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> Result<(Scope, Option<Only>), Error> {
    if actor.can(Action::ReadAllUsage) {
        return Ok((Scope::Everything, None));
    }
    let team = user::Entity::find_by_id(actor.id.0)
        .one(db)
        .await?
        .and_then(|u| u.team_id);
    Ok(match team {
        Some(team) => {
            let name = names::teams(db, &[team])
                .await?
                .remove(&team)
                .unwrap_or_default();
            (Scope::Team(name), Some(Only::Team(team)))
        }
        None => (Scope::Own, Some(Only::User(actor.id.0))),
    })
}

/// The day number (as stored) of a date.
fn day_of(date: NaiveDate) -> i32 {
    day_key(date.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// Rows of `table` in the range and the reader's scope.
fn within(days: (i32, i32), only: Option<Only>) -> Condition {
    let mut c = Condition::all()
        .add(col("day").gte(days.0))
        .add(col("day").lte(days.1));
    match only {
        Some(Only::Team(team)) => c = c.add(col("team_id").eq(team)),
        Some(Only::User(user)) => c = c.add(col("user_id").eq(user)),
        None => {}
    }
    c
}

/// A column of the day tables, by name (they share `day`, `team_id`, `user_id`, `key_id`).
fn col(name: &'static str) -> Expr {
    Expr::col(Alias::new(name))
}

/// A sum, as BIGINT on both databases (PostgreSQL sums BIGINT as NUMERIC).
fn sum(column: &str) -> SimpleExpr {
    Expr::col(Alias::new(column))
        .sum()
        .cast_as(Alias::new("BIGINT"))
}

fn figure(row: &QueryResult, index: usize) -> Result<i64, Error> {
    Ok(row.try_get_by_index::<Option<i64>>(index)?.unwrap_or(0))
}

/// Refusals per group. A refusal comes before a model is served, so grouped by model there is
/// only their total (under an empty key).
async fn refusals_by_group(
    db: &impl ConnectionTrait,
    group: GroupBy,
    days: (i32, i32),
    only: Option<Only>,
) -> Result<HashMap<String, i64>, Error> {
    let mut select = Query::select();
    if group != GroupBy::Model {
        select
            .expr(group_key(group))
            .add_group_by([group_key(group)]);
    }
    select
        .expr(sum("count"))
        .from(refusal_day::Entity)
        .cond_where(within(days, only));
    db.query_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok(if group == GroupBy::Model {
                (String::new(), figure(row, 0)?)
            } else {
                (row.try_get_by_index::<String>(0)?, figure(row, 1)?)
            })
        })
        .collect()
}

/// The labels of groups by key: names for ids (0 is "none"), model names as they are.
async fn labels(
    db: &impl ConnectionTrait,
    group: GroupBy,
    keys: &[&str],
) -> Result<HashMap<String, String>, Error> {
    let ids: Vec<i64> = keys.iter().filter_map(|k| k.parse().ok()).collect();
    let (found, none) = match group {
        GroupBy::Team => (names::teams(db, &ids).await?, "No team"),
        GroupBy::User => (names::users(db, &ids).await?, "Unknown key's owner"),
        GroupBy::Key => (names::keys(db, &ids).await?, "Unknown key"),
        GroupBy::Model => {
            return Ok(keys
                .iter()
                .map(|k| {
                    let label = if k.is_empty() { "(unknown)" } else { k };
                    ((*k).to_owned(), label.to_owned())
                })
                .collect());
        }
    };
    Ok(keys
        .iter()
        .map(|k| {
            let id: i64 = k.parse().unwrap_or(0);
            let label = match found.get(&id) {
                Some(name) => name.clone(),
                None if id == 0 => none.to_owned(),
                None => format!("#{id} (deleted)"),
            };
            ((*k).to_owned(), label)
        })
        .collect())
}

/// Spend per day of the top [`CHART_GROUPS`] groups, then everyone else as "Other".
async fn spend_series(
    db: &impl ConnectionTrait,
    group: GroupBy,
    days: (i32, i32),
    len: usize,
    only: Option<Only>,
    top: &[(String, String)],
    others: bool,
) -> Result<Vec<Series>, Error> {
    if top.is_empty() {
        return Ok(Vec::new());
    }
    let index = |day: i32| usize::try_from(day - days.0).ok().filter(|i| *i < len);
    let mut series: Vec<Series> = top
        .iter()
        .map(|(_, label)| Series {
            label: label.clone(),
            other: false,
            spend: vec![Money::ZERO; len],
        })
        .collect();
    let position: HashMap<&str, usize> = top
        .iter()
        .enumerate()
        .map(|(i, (k, _))| (k.as_str(), i))
        .collect();
    let keys: Vec<&str> = position.keys().copied().collect();
    for (day, key, spend) in source::spend_of(db, group, days, only, &keys).await? {
        if let (Some(i), Some(s)) = (index(day), position.get(key.as_str())) {
            series[*s].spend[i] = Money(spend);
        }
    }
    if others {
        let mut other = Series {
            label: "Other".to_owned(),
            other: true,
            spend: vec![Money::ZERO; len],
        };
        for (day, spend, _) in source::per_day(db, days, only).await? {
            if let Some(i) = index(day) {
                let shown: i64 = series.iter().map(|s| s.spend[i].micros()).sum();
                other.spend[i] = Money(spend - shown);
            }
        }
        series.push(other);
    }
    Ok(series)
}

/// Requests served and refused per day.
async fn per_day(
    db: &impl ConnectionTrait,
    days: (i32, i32),
    len: usize,
    only: Option<Only>,
) -> Result<(Vec<i64>, Vec<RefusalCounts>), Error> {
    let index = |day: i32| usize::try_from(day - days.0).ok().filter(|i| *i < len);
    let mut requests = vec![0; len];
    for (day, _, served) in source::per_day(db, days, only).await? {
        if let Some(i) = index(day) {
            requests[i] = served;
        }
    }
    let mut refusals = vec![RefusalCounts::default(); len];
    let refused = Query::select()
        .expr(col("day"))
        .expr(col("kind"))
        .expr(sum("count"))
        .from(refusal_day::Entity)
        .cond_where(within(days, only))
        .add_group_by([col("day"), col("kind")])
        .to_owned();
    for row in db.query_all(&refused).await? {
        let Some(i) = index(row.try_get_by_index(0)?) else {
            continue;
        };
        let kind: String = row.try_get_by_index(1)?;
        let n = figure(&row, 2)?;
        let counts = &mut refusals[i];
        match kind.as_str() {
            "key" => counts.key += n,
            "rate" => counts.rate += n,
            "model" => counts.model += n,
            _ => counts.budget += n,
        }
    }
    Ok((requests, refusals))
}

/// The newest refusals in the range the reader may read the reasons of: a Member's own keys';
/// everyone's for the others.
async fn blocked(
    db: &impl ConnectionTrait,
    days: (i32, i32),
    actor: &Actor,
    only: Option<Only>,
) -> Result<Vec<Blocked>, Error> {
    use sea_orm::{QueryFilter, QueryOrder, QuerySelect};
    let mine = only.map(|_| Only::User(actor.id.0));
    let found = refusal_day::Entity::find()
        .filter(within(days, mine))
        .order_by_desc(refusal_day::Column::LastAt)
        .limit(BLOCKED_SHOWN)
        .all(db)
        .await?;
    let key_ids: Vec<i64> = found.iter().map(|r| r.key_id).collect();
    let user_ids: Vec<i64> = found.iter().map(|r| r.user_id).collect();
    let keys = names::keys(db, &key_ids).await?;
    let people = names::users(db, &user_ids).await?;
    Ok(found
        .into_iter()
        .map(|r| Blocked {
            last_at: r.last_at,
            key: keys.get(&r.key_id).cloned().unwrap_or_else(|| {
                if r.key_id == 0 {
                    "Unknown key".to_owned()
                } else {
                    format!("#{} (deleted)", r.key_id)
                }
            }),
            person: people.get(&r.user_id).cloned().unwrap_or_default(),
            cause: cause(r.kind).to_owned(),
            reason: r.reason,
            count: r.count,
        })
        .collect())
}

/// A refusal's kind in words.
fn cause(kind: RefusalKind) -> &'static str {
    match kind {
        RefusalKind::Key => "API key",
        RefusalKind::TeamBudget => "Team limit",
        RefusalKind::MemberBudget => "Member budget",
        RefusalKind::KeyBudget => "Key budget",
        RefusalKind::GatewayBudget => "Gateway limit",
        RefusalKind::TeamlessBudget => "Keys outside teams cap",
        RefusalKind::Rate => "Per-minute limit",
        RefusalKind::Model => "Model not allowed",
        RefusalKind::Guardrail => "Guardrail",
    }
}

/// Orders the rows by `by`; ties by name when sorting by name or refusals, then by the group's
/// id — the order the database gives the kept sums, so both ways agree.
fn sort(rows: &mut [(String, GroupTotals)], by: UsageSort, descending: bool) {
    rows.sort_by(|(ka, a), (kb, b)| {
        let order = match by {
            UsageSort::Name => a.label.to_lowercase().cmp(&b.label.to_lowercase()),
            UsageSort::Spend => a.spend.cmp(&b.spend),
            UsageSort::Requests => a.requests.cmp(&b.requests),
            UsageSort::TokensIn => a.tokens_in.cmp(&b.tokens_in),
            UsageSort::TokensOut => a.tokens_out.cmp(&b.tokens_out),
            UsageSort::Refusals => a.refusals.cmp(&b.refusals),
        };
        let order = if descending { order.reverse() } else { order };
        let ties = match by {
            UsageSort::Name | UsageSort::Refusals => a.label.cmp(&b.label),
            _ => std::cmp::Ordering::Equal,
        };
        order.then(ties).then_with(|| by_id(ka, kb))
    });
}

/// Groups' keys in the order of their ids (model names as text).
fn by_id(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}

/// How many of the table's rows a report carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Every group (the CSV export).
    All,
    /// The first `n` in the query's order (the page; the rest are counted).
    First(usize),
}

/// The rows the page shows: more would be a table nobody reads and a slow page.
pub const ROWS_SHOWN: usize = 200;
