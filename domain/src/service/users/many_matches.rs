//! One page of a search that matches more users than [`SEARCH_COUNT_CAP`]: too many to list by
//! id. Sorted by role, status, team or last activity, the matches are spread through the order
//! (what a name or email contains says nothing of those), so walking the sort index with the
//! search as a row filter fills a page after reading about (page end × users ÷ matches) rows.
//!
//! Sorted by name or email they may be bunched together — "gr" sorted by email finds its first
//! match only after every a–f address — and a walk could read most of the table. Those two are
//! read from `user_sort_keys` alone (its indexes hold id, name key, email and role), and only
//! the page's own rows from `users`:
//!
//! - a one- or two-character search is two ranges, one per index: the page is read from the
//!   first rows of each, exactly, at any size ([`merge_the_ranges`]);
//! - a longer search, cheapest first:
//!   1. walk the first entries of the sort index (ten per row the page needs, at most
//!      [`WALK_ROWS`]) and keep the matches: enough when the matches are spread or bunched at
//!      the start;
//!   2. take up to [`SORT_CAP`] matches from the trigram index and sort just those;
//!   3. otherwise walk the sort index until the page is full: with more than [`SORT_CAP`]
//!      matches they are dense enough for that.
//!
//! [`SEARCH_COUNT_CAP`]: crate::users::SEARCH_COUNT_CAP

use super::search::{Search, in_role, keys_column, keys_table, stored_key};
use super::walk::{by_id, ids, order_rows, role_on_rows, walk};
use crate::entity::user;
use crate::list_query::SortDir;
use crate::service::Window;
use crate::users::UserSort;
use crate::{Error, Role};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, Query, SelectStatement, SimpleExpr, UnionType, WithClause,
};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// The most matches sorted (each costs one read of its `user_sort_keys` row).
const SORT_CAP: u64 = 10_000;

/// Step 1 walks ten index entries per row it needs (so a search matching one user in ten or
/// more fills its page there), and at most this many.
const WALK_ROWS: u64 = 5_000;
const WALK_PER_ROW: u64 = 10;

/// The page's rows, in order: `role` narrows the users, `search` matches them.
pub(super) async fn page(
    db: &DatabaseConnection,
    search: &Search,
    role: Option<Role>,
    sort: UserSort,
    dir: SortDir,
    window: Window,
) -> Result<Vec<user::Model>, Error> {
    let backend = db.get_database_backend();
    let Some(key) = stored_key(sort, backend) else {
        let filters: Vec<SimpleExpr> = role_on_rows(role)
            .into_iter()
            .chain([search.on_rows(backend)])
            .collect();
        return walk(db, &filters, sort, dir, window).await;
    };
    let sorted = Sorted { key, dir, window };
    let bound = Ord::min((window.offset + window.rows) * WALK_PER_ROW, WALK_ROWS);
    let ids = if let Some([names, emails]) = search.ranges(backend) {
        let along_across = match sort {
            UserSort::Name => [names, emails],
            _ => [emails, names],
        };
        merge_the_ranges(db, along_across, role, sorted).await?
    } else if let Some(ids) = walk_keys(db, search, role, sorted.clone(), Some(bound)).await? {
        ids
    } else if let Some(ids) = sort_the_matches(db, search, role, sorted.clone()).await? {
        ids
    } else {
        walk_keys(db, search, role, sorted, None)
            .await?
            .unwrap_or_default()
    };
    by_id(db, ids).await
}

/// A page sorted by a `user_sort_keys` column.
#[derive(Clone)]
struct Sorted {
    /// The column holding the sort's key (name key or email), as the sort compares it.
    key: Expr,
    dir: SortDir,
    window: Window,
}

/// Orders a read of `user_sort_keys` by its `sort_key` column, ties by id (a name or email:
/// never empty, so ordered as the name sort is).
fn by_sort_key(select: &mut SelectStatement, dir: SortDir) {
    let (key, id) = (
        Expr::col(Alias::new("sort_key")),
        Expr::col(Alias::new("id")),
    );
    order_rows(select, key, id, UserSort::Name, dir);
}

/// `id` and `sort_key` (the sort's `key`) of the `user_sort_keys` entries in `role`.
fn keyed(key: Expr, role: Option<Role>) -> SelectStatement {
    let mut select = Query::select();
    select
        .expr_as(keys_column("id"), Alias::new("id"))
        .expr_as(key, Alias::new("sort_key"))
        .from(keys_table());
    if let Some(role) = in_role(role) {
        select.and_where(role);
    }
    select
}

/// `id` and `sort_key` of the rows of `inner`, read as a subquery named `name`.
fn keyed_from(inner: SelectStatement, name: Alias) -> SelectStatement {
    Query::select()
        .columns([Alias::new("id"), Alias::new("sort_key")])
        .from_subquery(inner, name)
        .to_owned()
}

/// Steps 1 and 3: the page read along the sort key's index of `user_sort_keys`, the search
/// checked on each entry. With a `bound`, only that many entries are read (the role's, when
/// there is one), and `None` is the answer when they hold too few matches for the page.
async fn walk_keys(
    db: &DatabaseConnection,
    search: &Search,
    role: Option<Role>,
    Sorted { key, dir, window }: Sorted,
    bound: Option<u64>,
) -> Result<Option<Vec<i64>>, Error> {
    let mut walked = keyed(key, role);
    by_sort_key(&mut walked, dir);
    let mut kept = match bound {
        None => walked.and_where(search.on_keys()).to_owned(),
        Some(bound) => {
            // The walked entries are a subquery named `user_sort_keys`, so the search reads
            // them as it reads the table.
            walked
                .columns([
                    (keys_table(), Alias::new("name_key")),
                    (keys_table(), Alias::new("email_key")),
                ])
                .limit(bound);
            let mut kept = keyed_from(walked, keys_table());
            kept.and_where(search.on_keys());
            by_sort_key(&mut kept, dir);
            kept
        }
    };
    kept.offset(window.offset).limit(window.rows);
    let ids = ids(db, &kept).await?;
    Ok((bound.is_none() || ids.len() as u64 == window.rows).then_some(ids))
}

/// The page of a one- or two-character search, exactly, however many it matches. The
/// matches are the union of two ranges (name key, email) and the page is within the first
/// `offset + rows` of each in the sort order: the range `along` the sort key is read in order
/// from its index; the one `across` it is read whole from its index (which holds the sort
/// key) and sorted.
async fn merge_the_ranges(
    db: &DatabaseConnection,
    [along, across]: [SimpleExpr; 2],
    role: Option<Role>,
    Sorted { key, dir, window }: Sorted,
) -> Result<Vec<i64>, Error> {
    let range = |range: SimpleExpr| {
        let mut read = keyed(key.clone(), role);
        read.and_where(range);
        read
    };
    let first = |mut read: SelectStatement, name: &str| {
        by_sort_key(&mut read, dir);
        read.limit(window.offset + window.rows);
        keyed_from(read, Alias::new(name))
    };
    // A LIMIT keeps the across range a subquery of its own: otherwise PostgreSQL may walk the
    // sort key's index looking for it, as if its matches were spread (they are bunched).
    let mut whole = range(across);
    whole.limit(i64::MAX as u64);
    let across_whole = keyed_from(whole, Alias::new("across_whole"));

    let mut merged = first(range(along), "along");
    merged.union(UnionType::Distinct, first(across_whole, "across"));
    by_sort_key(&mut merged, dir);
    merged.offset(window.offset).limit(window.rows);
    ids(db, &merged).await
}

/// Step 2: the page from sorting up to [`SORT_CAP`] matches, or `None` when there are more (or the
/// page lies past them, where the count cannot be read).
async fn sort_the_matches(
    db: &DatabaseConnection,
    search: &Search,
    role: Option<Role>,
    Sorted { key, dir, window }: Sorted,
) -> Result<Option<Vec<i64>>, Error> {
    let found = Alias::new("found");
    let mut matched = search.matches(db.get_database_backend(), role, SORT_CAP);
    matched.expr_as(key, Alias::new("sort_key"));
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
    by_sort_key(&mut sorted, dir);
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
