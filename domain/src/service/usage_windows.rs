//! Rolling windows: the sums of the last 7, 30 and 90 days of `usage_days` per team, person and
//! key (`usage_windows`), so the Usage page's rolling ranges read one row per group, in order
//! of spend through an index, instead of summing every day row of the range.
//!
//! Each window ends on the day `usage_window_ends` says. The metering adds each batch's day rows
//! to the windows that hold their day ([`add`]) and nothing else: a row of a later day waits in
//! `usage_days`. Moving a window on is the server's job, at start and every minute
//! ([`keep_up`]), one window per ledger write: the days that come into it are added from the
//! day rows, those that fall out are taken away, groups left with nothing are dropped, and its
//! end moves. A window never built, or a whole window behind, is built again from the day rows;
//! so is one whose sums no longer match the day totals (a process of an older version metered
//! without it). Until a window ends today the page sums the day rows as before.
//!
//! Every write here runs in a ledger write (under the ledger lock on PostgreSQL, `BEGIN
//! IMMEDIATE` on SQLite), so the windows and the day rows change together and one at a time.

use crate::Error;
use crate::db::begin_ledger_write;
use crate::entity::usage_window::{self, Grouping, Span};
use crate::entity::{usage_day_total, usage_window_end};
use crate::service::usage::adding;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DatabaseConnection, EntityTrait, Iterable, Set,
    TransactionSession, TransactionTrait,
};
use std::collections::HashMap;

/// One day row as the metering writes it: its day, its team (0: none), person and key, and its
/// spend, requests, tokens in and tokens out.
pub type DayRow = (i32, [i64; 3], [i64; 4]);

/// The groupings in the order of [`DayRow`]'s ids.
const GROUPINGS: [Grouping; 3] = [Grouping::Team, Grouping::Person, Grouping::Key];

/// Rows per insert: well under both databases' limits on bound values.
const CHUNK: usize = 1_000;

/// The day each window ends on, for the windows that were ever built.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn ends(conn: &impl ConnectionTrait) -> Result<HashMap<Span, i32>, Error> {
    Ok(usage_window_end::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|end| (end.span, end.last_day))
        .collect())
}

/// Whether the `span` window ends on `day` — holds exactly the `span` days up to it.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn ends_on(conn: &impl ConnectionTrait, span: Span, day: i32) -> Result<bool, Error> {
    Ok(usage_window_end::Entity::find_by_id(span)
        .one(conn)
        .await?
        .is_some_and(|end| end.last_day == day))
}

/// Moves the windows on to end today, each in a ledger write of its own, then checks each
/// against the day totals and builds again any that disagree; answers the windows that moved
/// or were built. The server calls it at start (where a first build at a big gateway takes
/// seconds) and every minute.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn keep_up(
    db: &DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Span>, Error> {
    let today = crate::service::day_key(now);
    let mut changed = Vec::new();
    for span in Span::iter() {
        if ends(db)
            .await?
            .get(&span)
            .is_some_and(|last| *last >= today)
        {
            continue;
        }
        let txn = begin_ledger_write(db).await?;
        roll(&txn, span, today).await?;
        txn.commit().await?;
        changed.push(span);
    }
    let txn = begin_ledger_write(db).await?;
    for (span, last) in ends(&txn).await? {
        if !agrees(&txn, span, last).await? {
            tracing::warn!(
                "the usage of the last {} days did not match the day rows (a process of an \
                 older version metering?); built again",
                span.days()
            );
            build(&txn, span, last).await?;
            changed.push(span);
        }
    }
    txn.commit().await?;
    Ok(changed)
}

/// Moves the `span` window on to end on `day`, if it ends before. Call it in a ledger write.
async fn roll(conn: &impl ConnectionTrait, span: Span, day: i32) -> Result<(), Error> {
    let n = span.days();
    let last = match ends(conn).await?.get(&span).copied() {
        Some(last) if last >= day => return Ok(()),
        Some(last) if day - last < n => last,
        _ => return build(conn, span, day).await,
    };
    for grouping in GROUPINGS {
        for gone in (last - n + 1)..=(day - n) {
            take_away(conn, span, grouping, gone).await?;
        }
        bring_in(conn, span, grouping, last + 1, day).await?;
    }
    conn.execute_unprepared(&format!(
        "DELETE FROM usage_windows WHERE span = {n} AND requests <= 0"
    ))
    .await?;
    set_end(conn, span, day).await
}

/// Whether the `span` window ending on `last`, summed over its teams, holds what the day totals
/// of its days hold.
async fn agrees(conn: &impl ConnectionTrait, span: Span, last: i32) -> Result<bool, Error> {
    let sums = |select: &mut sea_orm::sea_query::SelectStatement| {
        select
            .expr(
                Expr::col(Alias::new("spend_micros"))
                    .sum()
                    .cast_as(Alias::new("BIGINT")),
            )
            .expr(
                Expr::col(Alias::new("requests"))
                    .sum()
                    .cast_as(Alias::new("BIGINT")),
            )
            .to_owned()
    };
    let held = sums(
        Query::select()
            .from(usage_window::Entity)
            .and_where(Expr::col(Alias::new("span")).eq(span.days()))
            .and_where(Expr::col(Alias::new("grouped_by")).eq(Grouping::Team.to_value())),
    );
    let days = sums(
        Query::select()
            .from(usage_day_total::Entity)
            .and_where(Expr::col(Alias::new("day")).gt(last - span.days()))
            .and_where(Expr::col(Alias::new("day")).lte(last)),
    );
    let read = |row: Option<sea_orm::QueryResult>| -> Result<(i64, i64), Error> {
        Ok(match row {
            Some(row) => (
                row.try_get_by_index::<Option<i64>>(0)?.unwrap_or(0),
                row.try_get_by_index::<Option<i64>>(1)?.unwrap_or(0),
            ),
            None => (0, 0),
        })
    };
    Ok(read(conn.query_one(&held).await?)? == read(conn.query_one(&days).await?)?)
}

/// Adds a batch of day rows to the windows that hold their day. It runs in the metering's
/// transaction but cannot fail it: on any error its part is undone and the windows are marked
/// unbuilt, so the page sums the day rows until the next [`keep_up`] builds them again.
///
/// # Errors
/// [`Error::Internal`] when even that cannot be done.
pub(crate) async fn add<C>(conn: &C, rows: &[DayRow]) -> Result<(), Error>
where
    C: ConnectionTrait + TransactionTrait,
{
    if rows.is_empty() {
        return Ok(());
    }
    let part = conn.begin().await?;
    match add_in(&part, rows).await {
        Ok(()) => part.commit().await?,
        Err(e) => {
            part.rollback().await?;
            tracing::warn!("could not add to the usage windows, so they will be built again: {e}");
            usage_window_end::Entity::delete_many().exec(conn).await?;
        }
    }
    Ok(())
}

async fn add_in(conn: &impl ConnectionTrait, rows: &[DayRow]) -> Result<(), Error> {
    let ends = ends(conn).await?;
    let mut sums: HashMap<(Span, Grouping, i64), [i64; 4]> = HashMap::new();
    for (day, ids, figures) in rows {
        for (span, last) in &ends {
            if *day > *last || *day <= last - span.days() {
                continue;
            }
            for (grouping, id) in GROUPINGS.into_iter().zip(ids) {
                let sum = sums.entry((*span, grouping, *id)).or_default();
                for (s, f) in sum.iter_mut().zip(figures) {
                    *s = s.saturating_add(*f);
                }
            }
        }
    }
    let models: Vec<usage_window::ActiveModel> = sums
        .into_iter()
        .map(
            |((span, grouping, id), [spend, requests, tokens_in, tokens_out])| {
                usage_window::ActiveModel {
                    span: Set(span),
                    grouped_by: Set(grouping),
                    group_id: Set(id),
                    spend_micros: Set(spend),
                    requests: Set(requests),
                    tokens_in: Set(tokens_in),
                    tokens_out: Set(tokens_out),
                }
            },
        )
        .collect();
    for chunk in models.chunks(CHUNK) {
        usage_window::Entity::insert_many(chunk.to_vec())
            .on_conflict(adding(
                [
                    usage_window::Column::Span,
                    usage_window::Column::GroupedBy,
                    usage_window::Column::GroupId,
                ],
                [
                    usage_window::Column::SpendMicros,
                    usage_window::Column::Requests,
                    usage_window::Column::TokensIn,
                    usage_window::Column::TokensOut,
                ],
            ))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Adds the day rows from `first` to `last` to the `span` window's `grouping` rows.
async fn bring_in(
    conn: &impl ConnectionTrait,
    span: Span,
    grouping: Grouping,
    first: i32,
    last: i32,
) -> Result<(), Error> {
    let figures = ["spend_micros", "requests", "tokens_in", "tokens_out"]
        .map(|f| format!("{f} = usage_windows.{f} + excluded.{f}"))
        .join(", ");
    conn.execute_unprepared(&format!(
        "{} ON CONFLICT (span, grouped_by, group_id) DO UPDATE SET {figures}",
        insert(span, grouping, first, last)
    ))
    .await?;
    Ok(())
}

/// Records that the `span` window ends on `day`.
async fn set_end(conn: &impl ConnectionTrait, span: Span, day: i32) -> Result<(), Error> {
    usage_window_end::Entity::insert(usage_window_end::ActiveModel {
        span: Set(span),
        last_day: Set(day),
    })
    .on_conflict(
        OnConflict::column(usage_window_end::Column::Span)
            .update_column(usage_window_end::Column::LastDay)
            .to_owned(),
    )
    .exec(conn)
    .await?;
    Ok(())
}

/// Takes the day rows of `day` away from the `span` window's `grouping` rows.
async fn take_away(
    conn: &impl ConnectionTrait,
    span: Span,
    grouping: Grouping,
    day: i32,
) -> Result<(), Error> {
    let (n, name, column) = (span.days(), grouping.to_value(), grouping.column());
    conn.execute_unprepared(&format!(
        "UPDATE usage_windows SET \
         spend_micros = usage_windows.spend_micros - gone.spend_micros, \
         requests = usage_windows.requests - gone.requests, \
         tokens_in = usage_windows.tokens_in - gone.tokens_in, \
         tokens_out = usage_windows.tokens_out - gone.tokens_out \
         FROM ({}) AS gone \
         WHERE usage_windows.span = {n} AND usage_windows.grouped_by = '{name}' \
         AND usage_windows.group_id = gone.group_id",
        summed(column, day, day)
    ))
    .await?;
    Ok(())
}

/// Builds the `span` window ending on `day` again from the day rows.
async fn build(conn: &impl ConnectionTrait, span: Span, day: i32) -> Result<(), Error> {
    let n = span.days();
    conn.execute_unprepared(&format!("DELETE FROM usage_windows WHERE span = {n}"))
        .await?;
    for grouping in GROUPINGS {
        conn.execute_unprepared(&insert(span, grouping, day - n + 1, day))
            .await?;
    }
    set_end(conn, span, day).await
}

/// The insert of the day rows from `first` to `last` summed per group into the `span` window's
/// `grouping` rows.
fn insert(span: Span, grouping: Grouping, first: i32, last: i32) -> String {
    format!(
        "INSERT INTO usage_windows \
         (span, grouped_by, group_id, spend_micros, requests, tokens_in, tokens_out) \
         SELECT {}, '{}', group_id, spend_micros, requests, tokens_in, tokens_out \
         FROM ({}) AS days WHERE true",
        span.days(),
        grouping.to_value(),
        summed(grouping.column(), first, last)
    )
}

/// The day rows from `first` to `last` summed per `column`, as `group_id` and the four figures
/// (BIGINT on both databases).
fn summed(column: &str, first: i32, last: i32) -> String {
    format!(
        "SELECT {column} AS group_id, \
         CAST(SUM(spend_micros) AS BIGINT) AS spend_micros, \
         CAST(SUM(requests) AS BIGINT) AS requests, \
         CAST(SUM(tokens_in) AS BIGINT) AS tokens_in, \
         CAST(SUM(tokens_out) AS BIGINT) AS tokens_out \
         FROM usage_days WHERE day >= {first} AND day <= {last} GROUP BY {column}"
    )
}
