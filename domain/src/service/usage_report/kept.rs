//! The sums the metering keeps whole per group, for views of the whole gateway: a calendar
//! month's rows of the team, person and key month tables, and the rolling windows of the last
//! 7, 30 and 90 days (`usage_windows`). Read one row per group — all of them, or only the first
//! in the table's order through the database's sort (by spend, through an index), with how
//! many groups there are.

use super::source::{days_cover, grouping, read, whole_month};
use super::{Only, col, day_of};
use crate::Error;
use crate::entity::usage_window::{self, Grouping, Span};
use crate::entity::{usage_key_month, usage_team_month, usage_user_month};
use crate::service::usage_windows;
use crate::usage::{GroupBy, GroupTotals, UsageSort};
use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{ActiveEnum, ConnectionTrait, Iterable};
use std::collections::HashSet;

/// Where a view's per-group sums are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kept {
    /// One calendar month (`year * 100 + month`) of a month table.
    Month(Grouping, i32),
    /// A rolling window ending today.
    Window(Span, Grouping),
}

impl Kept {
    /// The kept sums that answer `group` over `first`–`last` exactly, if any: only for the whole
    /// gateway (a Member's view reads their team's day rows), not by model (its day sums are
    /// small), and only while they hold exactly that range — a whole month the day rows cover
    /// too, or a window that ends today.
    ///
    /// # Errors
    /// [`Error::Internal`] on database failure.
    pub(super) async fn of(
        db: &impl ConnectionTrait,
        group: GroupBy,
        (first, last): (NaiveDate, NaiveDate),
        today: NaiveDate,
        only: Option<Only>,
    ) -> Result<Option<Kept>, Error> {
        let Some(grouping) = grouping(group).filter(|_| only.is_none()) else {
            return Ok(None);
        };
        if let Some(month) = whole_month(first, last, today) {
            let covered = days_cover(db, day_of(first)).await?;
            return Ok(covered.then_some(Kept::Month(grouping, month)));
        }
        let days = (last - first).num_days() + 1;
        let Some(span) = Span::iter().find(|span| i64::from(span.days()) == days) else {
            return Ok(None);
        };
        let current = last == today && usage_windows::ends_on(db, span, day_of(today)).await?;
        Ok(current.then_some(Kept::Window(span, grouping)))
    }

    /// The group's id column.
    fn id(self) -> &'static str {
        match self {
            Kept::Month(grouping, _) => grouping.column(),
            Kept::Window(_, _) => "group_id",
        }
    }

    /// The rows with requests, each as its id in text and the four figures.
    fn rows(self) -> SelectStatement {
        let mut select = Query::select();
        match self {
            Kept::Month(grouping, month) => {
                match grouping {
                    Grouping::Team => select.from(usage_team_month::Entity),
                    Grouping::Person => select.from(usage_user_month::Entity),
                    Grouping::Key => select.from(usage_key_month::Entity),
                };
                // A budget's month row may hold a reservation before any request.
                select
                    .and_where(col("month").eq(month))
                    .and_where(col("requests").gt(0));
            }
            // A window keeps no row without requests.
            Kept::Window(span, grouping) => {
                select
                    .from(usage_window::Entity)
                    .and_where(col("span").eq(span.days()))
                    .and_where(col("grouped_by").eq(grouping.to_value()));
            }
        }
        select
            // Named apart from the column: PostgreSQL would sort `ORDER BY id` by the text.
            .expr_as(
                col(self.id()).cast_as(Alias::new("TEXT")),
                Alias::new("group_key"),
            )
            .expr(col("spend_micros"))
            .expr(col("requests"))
            .expr(col("tokens_in"))
            .expr(col("tokens_out"))
            .to_owned()
    }

    /// Every group's row.
    ///
    /// # Errors
    /// [`Error::Internal`] on database failure.
    pub(super) async fn all(
        self,
        db: &impl ConnectionTrait,
    ) -> Result<Vec<(String, GroupTotals)>, Error> {
        read(db, self.rows()).await
    }

    /// The first `n` groups in order of a figure (`by` is not a name or refusals), ties by id.
    ///
    /// # Errors
    /// [`Error::Internal`] on database failure.
    pub(super) async fn first(
        self,
        db: &impl ConnectionTrait,
        by: UsageSort,
        descending: bool,
        n: usize,
    ) -> Result<Vec<(String, GroupTotals)>, Error> {
        let column = match by {
            UsageSort::Requests => "requests",
            UsageSort::TokensIn => "tokens_in",
            UsageSort::TokensOut => "tokens_out",
            UsageSort::Spend | UsageSort::Name | UsageSort::Refusals => "spend_micros",
        };
        let order = if descending { Order::Desc } else { Order::Asc };
        let select = self
            .rows()
            .order_by_expr(col(column), order)
            .order_by_expr(col(self.id()), Order::Asc)
            .limit(u64::try_from(n).unwrap_or(u64::MAX))
            .to_owned();
        read(db, select).await
    }

    /// How many groups have a row: counted in the index that orders them by spend.
    ///
    /// # Errors
    /// [`Error::Internal`] on database failure.
    pub(super) async fn count(self, db: &impl ConnectionTrait) -> Result<u64, Error> {
        let mut select = self.rows();
        select.clear_selects();
        select.expr(Expr::cust("COUNT(*)"));
        let n = match db.query_one(&select).await? {
            Some(row) => row.try_get_by_index::<i64>(0)?,
            None => 0,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Which of the groups `keys` have a row.
    ///
    /// # Errors
    /// [`Error::Internal`] on database failure.
    pub(super) async fn having(
        self,
        db: &impl ConnectionTrait,
        keys: &[&str],
    ) -> Result<HashSet<String>, Error> {
        let ids: Vec<i64> = keys.iter().filter_map(|k| k.parse().ok()).collect();
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let select = self.rows().and_where(col(self.id()).is_in(ids)).to_owned();
        Ok(read(db, select)
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }
}
