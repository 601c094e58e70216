//! Where each of the report's figures is read from, cheapest first. The day rows
//! (`usage_days`) answer everything; for the whole gateway the metering also keeps sums that
//! answer the common views with a few rows instead of every day row:
//! - a whole calendar month grouped by team, person or key: their month rows (when the day
//!   rows cover that month too, so both agree), and the last 7, 30 or 90 days so grouped: the
//!   rolling windows (both in [`super::kept`]);
//! - any range grouped by model: `usage_model_days`;
//! - the whole gateway per day (requests, and the chart's "Other"): `usage_day_totals`.
//!
//! A Member's view reads the day rows of their team through its index, fast as it is.

use super::kept::Kept;
use super::{Only, col, figure, sum, within};
use crate::Error;
use crate::entity::usage_window::Grouping;
use crate::entity::{usage_day, usage_day_total, usage_model_day};
use crate::money::Money;
use crate::usage::{GroupBy, GroupTotals};
use chrono::{Datelike, NaiveDate};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SimpleExpr};

/// The month (`year * 100 + month`) that `first`–`last` covers whole, if it does: from its
/// 1st to its last day, or to `today` in the current month.
pub(super) fn whole_month(first: NaiveDate, last: NaiveDate, today: NaiveDate) -> Option<i32> {
    let same_month = (first.year(), first.month()) == (last.year(), last.month());
    let to_the_end = last == today || last.succ_opt().is_none_or(|next| next.day() == 1);
    (first.day() == 1 && same_month && to_the_end && last <= today)
        .then(|| first.year() * 100 + i32::try_from(first.month()).unwrap_or(1))
}

/// Whether the day rows hold all of the usage from `first` on: they start with the first day
/// anything was metered since they exist, and the month rows of a gateway upgraded mid-month
/// also hold the days before. A month whose day rows are not whole is read from them alone,
/// so its table, its charts and its models agree.
pub(super) async fn days_cover(db: &impl ConnectionTrait, first: i32) -> Result<bool, Error> {
    let select = Query::select()
        .expr(col("day").min())
        .from(usage_day_total::Entity)
        .to_owned();
    let earliest = match db.query_one(&select).await? {
        Some(row) => row.try_get_by_index::<Option<i32>>(0)?,
        None => None,
    };
    Ok(earliest.is_none_or(|day| day <= first))
}

/// The id a grouping reads — its `usage_days` column — or `None` by model.
pub(super) fn grouping(group: GroupBy) -> Option<Grouping> {
    match group {
        GroupBy::Team => Some(Grouping::Team),
        GroupBy::User => Some(Grouping::Person),
        GroupBy::Key => Some(Grouping::Key),
        GroupBy::Model => None,
    }
}

/// The column a grouping reads, as text (ids and model names alike).
pub(super) fn group_key(group: GroupBy) -> SimpleExpr {
    match grouping(group) {
        Some(g) => col(g.column()).cast_as(Alias::new("TEXT")),
        None => col("model"),
    }
}

/// Only the groups `keys` (as [`group_key`] gives them), compared in the column's own type so
/// its index is used.
pub(super) fn one_of(group: GroupBy, keys: &[&str]) -> SimpleExpr {
    match grouping(group) {
        Some(g) => col(g.column()).is_in(keys.iter().filter_map(|k| k.parse::<i64>().ok())),
        None => col("model").is_in(keys.iter().map(|k| (*k).to_owned())),
    }
}

/// Spend, requests and tokens per group over the range: from the sums kept whole for it when
/// there are ([`Kept`]), from the model day sums for the whole gateway by model, else from the
/// day rows.
pub(super) async fn totals(
    db: &impl ConnectionTrait,
    group: GroupBy,
    days: (i32, i32),
    only: Option<Only>,
    kept: Option<Kept>,
) -> Result<Vec<(String, GroupTotals)>, Error> {
    if let Some(kept) = kept {
        let mut rows = kept.all(db).await?;
        rows.extend(no_team(db, kept, days).await?);
        return Ok(rows);
    }
    let select = if group == GroupBy::Model && only.is_none() {
        summed(
            Query::select()
                .expr(col("model"))
                .from(usage_model_day::Entity)
                .cond_where(within(days, None))
                .add_group_by([col("model")]),
        )
    } else {
        summed(
            Query::select()
                .expr(group_key(group))
                .from(usage_day::Entity)
                .cond_where(within(days, only))
                .add_group_by([group_key(group)]),
        )
    };
    read(db, select).await
}

/// The row of keys outside any team, which a month of the team month table lacks: their day
/// rows, through the index.
pub(super) async fn no_team(
    db: &impl ConnectionTrait,
    kept: Kept,
    days: (i32, i32),
) -> Result<Option<(String, GroupTotals)>, Error> {
    if !matches!(kept, Kept::Month(Grouping::Team, _)) {
        return Ok(None);
    }
    let mut no_team = Query::select();
    no_team
        .expr(Expr::val("0"))
        .from(usage_day::Entity)
        .cond_where(within(days, None).add(col("team_id").eq(0)));
    Ok(read(db, summed(&mut no_team)).await?.pop())
}

/// The whole gateway's spend, requests and tokens over the range.
pub(super) async fn gateway_total(
    db: &impl ConnectionTrait,
    days: (i32, i32),
) -> Result<GroupTotals, Error> {
    let mut select = Query::select();
    select
        .expr(Expr::val("total"))
        .from(usage_day_total::Entity)
        .cond_where(within(days, None));
    Ok(read(db, summed(&mut select))
        .await?
        .pop()
        .map(|(_, total)| total)
        .unwrap_or_default())
}

/// `select` with the four figures summed after its group column.
fn summed(select: &mut SelectStatement) -> SelectStatement {
    select
        .expr(sum("spend_micros"))
        .expr(sum("requests"))
        .expr(sum("tokens_in"))
        .expr(sum("tokens_out"))
        .to_owned()
}

/// Rows of (group, spend, requests, tokens in, tokens out), those with any requests.
pub(super) async fn read(
    db: &impl ConnectionTrait,
    select: SelectStatement,
) -> Result<Vec<(String, GroupTotals)>, Error> {
    let mut rows = Vec::new();
    for row in db.query_all(&select).await? {
        let totals = GroupTotals {
            spend: Money(figure(&row, 1)?),
            requests: figure(&row, 2)?,
            tokens_in: figure(&row, 3)?,
            tokens_out: figure(&row, 4)?,
            ..GroupTotals::default()
        };
        if totals.requests > 0 {
            rows.push((row.try_get_by_index::<String>(0)?, totals));
        }
    }
    Ok(rows)
}

/// Spend per day of the groups `keys`: (day, group, spend).
pub(super) async fn spend_of(
    db: &impl ConnectionTrait,
    group: GroupBy,
    days: (i32, i32),
    only: Option<Only>,
    keys: &[&str],
) -> Result<Vec<(i32, String, i64)>, Error> {
    let table: SelectStatement = if group == GroupBy::Model && only.is_none() {
        Query::select().from(usage_model_day::Entity).to_owned()
    } else {
        Query::select().from(usage_day::Entity).to_owned()
    };
    let select = table
        .clone()
        .expr(col("day"))
        .expr(group_key(group))
        .expr(sum("spend_micros"))
        .cond_where(within(days, only).add(one_of(group, keys)))
        .add_group_by([col("day"), group_key(group)])
        .to_owned();
    db.query_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get_by_index(0)?,
                row.try_get_by_index(1)?,
                figure(row, 2)?,
            ))
        })
        .collect()
}

/// Spend and requests per day, of the whole gateway or of the reader's part: (day, spend,
/// requests).
pub(super) async fn per_day(
    db: &impl ConnectionTrait,
    days: (i32, i32),
    only: Option<Only>,
) -> Result<Vec<(i32, i64, i64)>, Error> {
    let select = if only.is_none() {
        Query::select()
            .expr(col("day"))
            .expr(col("spend_micros"))
            .expr(col("requests"))
            .from(usage_day_total::Entity)
            .cond_where(within(days, None))
            .to_owned()
    } else {
        Query::select()
            .expr(col("day"))
            .expr(sum("spend_micros"))
            .expr(sum("requests"))
            .from(usage_day::Entity)
            .cond_where(within(days, only))
            .add_group_by([col("day")])
            .to_owned()
    };
    db.query_all(&select)
        .await?
        .iter()
        .map(|row| Ok((row.try_get_by_index(0)?, figure(row, 1)?, figure(row, 2)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::whole_month;
    use chrono::NaiveDate;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_range_is_a_whole_month_from_its_first_to_its_last_day_or_today() {
        let today = day("2026-11-20");
        assert_eq!(whole_month(day("2026-11-01"), today, today), Some(202_611));
        assert_eq!(
            whole_month(day("2026-10-01"), day("2026-10-31"), today),
            Some(202_610)
        );
        assert_eq!(
            whole_month(day("2026-02-01"), day("2026-02-28"), today),
            Some(202_602)
        );
        assert_eq!(whole_month(day("2026-11-02"), today, today), None);
        // Leap years, and December into January.
        assert_eq!(
            whole_month(day("2028-02-01"), day("2028-02-29"), day("2028-03-05")),
            Some(202_802)
        );
        assert_eq!(
            whole_month(day("2028-02-01"), day("2028-02-28"), day("2028-03-05")),
            None
        );
        assert_eq!(
            whole_month(day("2026-12-01"), day("2026-12-31"), day("2027-01-01")),
            Some(202_612)
        );
        // Today the 1st: the month so far is that one day.
        assert_eq!(
            whole_month(day("2026-12-01"), day("2026-12-01"), day("2026-12-01")),
            Some(202_612)
        );
        assert_eq!(
            whole_month(day("2026-10-01"), day("2026-10-30"), today),
            None
        );
        assert_eq!(whole_month(day("2026-10-01"), today, today), None);
        // A month that has not ended is whole only up to today.
        assert_eq!(
            whole_month(day("2026-11-01"), day("2026-11-19"), today),
            None
        );
    }
}
