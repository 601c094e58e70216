//! The teams list sorted by this month's spend or requests, read along an index of this month's
//! figures (migration `list_sort_speed`) instead of looking up every team's month to sort them.
//!
//! A team without usage this month has no month row: its figure is 0. So the order is two
//! runs, each read from an index: the teams whose figure is above 0 (the month index, by figure
//! then team id, deleted teams' rows kept apart by `team_deleted`) and the teams at 0 (the
//! teams' key, by id, without a positive month row).
//! Ascending, the zeros come first; descending, last. A page may span both.
//!
//! A search narrowing the list to a few teams reads their months instead: a narrow name filter
//! would make the month index walk past most of its rows to find them.

use crate::Error;
use crate::entity::{team, usage_team_month};
use crate::list_query::SortDir;
use crate::service::{Window, in_order, month_key, order};
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement, SimpleExpr, SubQueryStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

/// Up to this many matching teams, a search reads each team's month and sorts them.
const NARROW: u64 = 1_000;

/// Which of this month's figures orders the list.
#[derive(Debug, Clone, Copy)]
pub(super) enum Figure {
    Spend,
    Requests,
}

impl Figure {
    fn column(self) -> usage_team_month::Column {
        match self {
            Figure::Spend => usage_team_month::Column::SpendMicros,
            Figure::Requests => usage_team_month::Column::Requests,
        }
    }
}

/// The page of teams passing `filter` (of which there are `matching`), by `figure`, ties by id.
pub(super) async fn page(
    db: &DatabaseConnection,
    filter: Option<SimpleExpr>,
    matching: u64,
    figure: Figure,
    dir: SortDir,
    window: Window,
) -> Result<Vec<team::Model>, Error> {
    let month = month_key(Utc::now());
    let teams = || {
        let select = team::Entity::find();
        match &filter {
            Some(filter) => select.filter(filter.clone()),
            None => select,
        }
    };
    if filter.is_some() && matching <= NARROW {
        return looked_up(teams(), month, figure, dir, window)
            .all(db)
            .await
            .map_err(Error::from);
    }
    let positive_first = matches!(dir, SortDir::Desc);
    let run = |positive_run: bool, offset: u64, rows: u64| {
        let window = Window { offset, rows };
        let filter = filter.as_ref();
        async move {
            if positive_run {
                positive_teams(db, filter, month, figure, dir, window).await
            } else {
                let zeros = zero_teams(teams(), month, figure, dir);
                Ok(zeros.offset(offset).limit(rows).all(db).await?)
            }
        }
    };
    let count_first_run = || async {
        let positive = count_positive(db, filter.as_ref(), month, figure).await?;
        Ok::<_, Error>(if positive_first {
            positive
        } else {
            matching.saturating_sub(positive)
        })
    };
    // Ascending, the zeros come first, read by walking the teams by id: that walk cannot skip
    // ahead and stops early only when told how many zeros there are, so they are counted first.
    // Descending, the positive run is a range of the month index: read it first, and count it
    // (every positive month checked against the filter) only for a page that lies past it.
    let first_len = if positive_first {
        None
    } else {
        Some(count_first_run().await?)
    };
    let first_rows = first_len.map_or(window.rows, |len| {
        Ord::min(window.rows, len.saturating_sub(window.offset))
    });
    let mut found = if first_rows > 0 {
        run(positive_first, window.offset, first_rows).await?
    } else {
        Vec::new()
    };
    let left = window.rows - found.len() as u64;
    if left == 0 {
        return Ok(found);
    }
    let first_len = match first_len {
        Some(len) => len,
        None if found.is_empty() => count_first_run().await?,
        None => window.offset + found.len() as u64,
    };
    let offset = window.offset.saturating_sub(first_len);
    found.extend(run(!positive_first, offset, left).await?);
    Ok(found)
}

/// This month's row of the team, with its figure above 0.
fn positive_month(month: i32, figure: Figure) -> SimpleExpr {
    Expr::col((usage_team_month::Entity, usage_team_month::Column::Month))
        .eq(month)
        .and(Expr::col((usage_team_month::Entity, figure.column())).gt(0))
}

fn joined_to_team() -> SimpleExpr {
    Expr::col((usage_team_month::Entity, usage_team_month::Column::TeamId))
        .equals((team::Entity, team::Column::Id))
}

/// This month's rows of live teams (passing `filter`) with the figure above 0: a range of the
/// month index, the team looked up only to apply a filter.
fn positive_months(month: i32, figure: Figure, filter: Option<&SimpleExpr>) -> SelectStatement {
    let mut select = Query::select();
    select
        .from(usage_team_month::Entity)
        .and_where(positive_month(month, figure))
        .and_where(
            Expr::col((
                usage_team_month::Entity,
                usage_team_month::Column::TeamDeleted,
            ))
            .eq(false),
        );
    if let Some(filter) = filter {
        let team_passes = Query::select()
            .expr(Expr::val(1))
            .from(team::Entity)
            .and_where(joined_to_team())
            .and_where(filter.clone())
            .to_owned();
        select.and_where(Expr::exists(team_passes));
    }
    select
}

/// How many live teams passing the filter have a figure above 0 this month.
async fn count_positive(
    db: &DatabaseConnection,
    filter: Option<&SimpleExpr>,
    month: i32,
    figure: Figure,
) -> Result<u64, Error> {
    let mut select = positive_months(month, figure, filter);
    select.expr(Expr::col((usage_team_month::Entity, usage_team_month::Column::TeamId)).count());
    let n: i64 = match db.query_one(&select).await? {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The teams with a figure above 0 in `window` of their order: ids along the month index, then
/// those teams.
async fn positive_teams(
    db: &DatabaseConnection,
    filter: Option<&SimpleExpr>,
    month: i32,
    figure: Figure,
    dir: SortDir,
    window: Window,
) -> Result<Vec<team::Model>, Error> {
    let team_id = (usage_team_month::Entity, usage_team_month::Column::TeamId);
    let mut select = positive_months(month, figure, filter);
    select
        .column(team_id)
        .order_by((usage_team_month::Entity, figure.column()), order(dir))
        .order_by(team_id, order(dir))
        .offset(window.offset)
        .limit(window.rows);
    let ids: Vec<i64> = db
        .query_all(&select)
        .await?
        .iter()
        .map(|row| row.try_get_by_index(0))
        .collect::<Result<_, _>>()?;
    let teams = team::Entity::find()
        .filter(team::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    Ok(in_order(&ids, teams, |t| t.id))
}

/// The teams at 0 (no positive month row), by id.
fn zero_teams(
    select: Select<team::Entity>,
    month: i32,
    figure: Figure,
    dir: SortDir,
) -> Select<team::Entity> {
    let has_positive = Query::select()
        .expr(Expr::val(1))
        .from(usage_team_month::Entity)
        .and_where(joined_to_team())
        .and_where(positive_month(month, figure))
        .to_owned();
    select
        .filter(Expr::exists(has_positive).not())
        .order_by(team::Column::Id, order(dir))
}

/// A few teams: each one's month looked up, then sorted.
fn looked_up(
    select: Select<team::Entity>,
    month: i32,
    figure: Figure,
    dir: SortDir,
    window: Window,
) -> Select<team::Entity> {
    let of_team = Query::select()
        .expr(Expr::col((usage_team_month::Entity, figure.column())))
        .from(usage_team_month::Entity)
        .and_where(joined_to_team())
        .and_where(Expr::col((usage_team_month::Entity, usage_team_month::Column::Month)).eq(month))
        .to_owned();
    select
        .order_by(
            Expr::expr(SimpleExpr::SubQuery(
                None,
                Box::new(SubQueryStatement::SelectStatement(of_team)),
            ))
            .if_null(0),
            order(dir),
        )
        .order_by(team::Column::Id, order(dir))
        .offset(window.offset)
        .limit(window.rows)
}
