//! One page of a search that matches more users than [`SEARCH_COUNT_CAP`]: too many to list by
//! id. Sorted by role, status, team or last activity, the matches are spread through the order
//! (what a name or email contains says nothing of those), so walking the sort index with the
//! search as a row filter fills a page after reading about (page end × users ÷ matches) rows.
//! Sorted by name or email they may be bunched together — "gr" sorted by email finds its first
//! match only after every a–g address — and that walk could read most of the table. So for
//! those two, three reads, cheapest first:
//!
//! 1. walk the first rows of the sort order (ten per row the page needs, at most
//!    [`WALK_ROWS`]) and keep the matches: enough when the matches are spread or bunched at
//!    the start;
//! 2. take up to [`SORT_CAP`] matches from the search index and sort just those: bunched
//!    matches;
//! 3. otherwise walk the sort order until the page is full: with more than [`SORT_CAP`]
//!    matches they are dense enough for that.
//!
//! [`SEARCH_COUNT_CAP`]: crate::users::SEARCH_COUNT_CAP

use super::list::{by_id, ids, order_rows, sort_key, walk};
use super::search::Search;
use crate::Error;
use crate::entity::user;
use crate::list_query::SortDir;
use crate::service::Window;
use crate::users::UserSort;
use sea_orm::sea_query::{
    Alias, Asterisk, CommonTableExpression, Expr, Query, SimpleExpr, WithClause,
};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// The most matches sorted (each costs one row read: about 1.6 µs on SQLite, 2–3 µs on
/// PostgreSQL on the benchmark machine).
const SORT_CAP: u64 = 10_000;

/// Step 1 walks ten rows per row it needs (so a search matching one user in ten or more
/// fills its page there), and at most this many.
const WALK_ROWS: u64 = 5_000;
const WALK_PER_ROW: u64 = 10;

/// The page's rows, in order: `role` narrows the users, `search` matches them.
pub(super) async fn page(
    db: &DatabaseConnection,
    search: &Search,
    role: Option<SimpleExpr>,
    (sort, dir): (UserSort, SortDir),
    window: Window,
) -> Result<Vec<user::Model>, Error> {
    let on_rows = search.on_rows(db.get_database_backend());
    let filters: Vec<SimpleExpr> = role.iter().cloned().chain([on_rows.clone()]).collect();
    if !matches!(sort, UserSort::Name | UserSort::Email) {
        return walk(db, &filters, sort, dir, window).await;
    }
    if let Some(ids) = walk_the_start(db, on_rows, role.clone(), sort, dir, window).await? {
        return by_id(db, ids).await;
    }
    if let Some(ids) = sort_the_matches(db, search, role, sort, dir, window).await? {
        return by_id(db, ids).await;
    }
    walk(db, &filters, sort, dir, window).await
}

/// Step 1: the page from the first rows of the sort order, or `None` when they hold too few
/// matches. The walked rows are a subquery named `users`, so the search filter reads them as
/// it reads the table.
async fn walk_the_start(
    db: &DatabaseConnection,
    on_rows: SimpleExpr,
    role: Option<SimpleExpr>,
    sort: UserSort,
    dir: SortDir,
    window: Window,
) -> Result<Option<Vec<i64>>, Error> {
    let needed = window.offset + window.rows;
    let mut walked = Query::select();
    walked.column(Asterisk).from(user::Entity);
    if let Some(role) = role {
        walked.and_where(role);
    }
    let id = Expr::col((user::Entity, user::Column::Id));
    order_rows(&mut walked, sort_key(sort), id.clone(), sort, dir);
    walked.limit(Ord::min(needed * WALK_PER_ROW, WALK_ROWS));

    let mut kept = Query::select();
    kept.expr(id.clone())
        .from_subquery(walked, Alias::new("users"))
        .and_where(on_rows);
    order_rows(&mut kept, sort_key(sort), id, sort, dir);
    kept.offset(window.offset).limit(window.rows);
    let ids = ids(db, &kept).await?;
    Ok((ids.len() as u64 == window.rows).then_some(ids))
}

/// Step 2: the page from sorting up to [`SORT_CAP`] matches, or `None` when there are more (or the
/// page lies past them, where the count cannot be read).
async fn sort_the_matches(
    db: &DatabaseConnection,
    search: &Search,
    role: Option<SimpleExpr>,
    sort: UserSort,
    dir: SortDir,
    window: Window,
) -> Result<Option<Vec<i64>>, Error> {
    let (key, found) = (Alias::new("sort_key"), Alias::new("found"));
    let mut matched = search.matches(db.get_database_backend(), role, SORT_CAP);
    matched.expr_as(sort_key(sort), key.clone());
    // Named once and read twice (counted, sorted): both databases materialize it once.
    let found_once = CommonTableExpression::new()
        .query(matched)
        .table_name(found.clone())
        .to_owned();

    let mut sorted = Query::select();
    sorted
        .column(Alias::new("id"))
        .expr(Expr::cust("(SELECT COUNT(*) FROM found)"))
        .from(found);
    order_rows(
        &mut sorted,
        Expr::col(key),
        Expr::col(Alias::new("id")),
        sort,
        dir,
    );
    sorted.offset(window.offset).limit(window.rows);
    let sorted = sorted.with(WithClause::new().cte(found_once).to_owned());
    let rows = db.query_all(&sorted).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let matches: i64 = first.try_get_by_index(1)?;
    if u64::try_from(matches).unwrap_or(u64::MAX) > SORT_CAP {
        return Ok(None);
    }
    Ok(Some(
        rows.iter()
            .map(|row| row.try_get_by_index(0))
            .collect::<Result<_, _>>()?,
    ))
}
