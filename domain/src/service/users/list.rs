//! Reading the users list: one page (search, role filter, sort, page), the summary cards, and an
//! expanded row's detail. Every path is answered by an index or the `user_tallies` counts; none
//! counts or sorts the whole table.

use super::many_matches;
use super::search::{NAME_KEY, Search, bytewise};
use crate::entity::{team, usage_user_month, user};
use crate::list_query::{SortDir, check_search, clamp_page};
use crate::permission::{Action, Actor};
use crate::service::{Window, in_order, month_key, order, parse_stored, stored_role};
use crate::users::{
    PER_PAGE, SEARCH_COUNT_CAP, UserDetail, UserPage, UserQuery, UserRow, UserSort, UserSummary,
};
use crate::{Error, Role, Status, TeamId, UserId};
use chrono::Utc;
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, NullOrdering, Query, SelectStatement, SimpleExpr,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, JoinType,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, RelationTrait, Select,
};
use std::collections::HashMap;

/// A role with at most this many users is searched by reading its rows (role index), not
/// through the search index: "every Owner named …" must not walk every match in the gateway.
const ROLE_SCAN_LIMIT: u64 = 10_000;

/// One page of users matching `query`, with the gateway-wide summary cards. A page out of range
/// is read as the nearest one (past the last, the last when the matches are counted).
///
/// # Errors
/// [`Error::Forbidden`] for an inactive actor; [`Error::Validation`] on `search` past
/// [`SEARCH_MAX`](crate::list_query::SEARCH_MAX) characters; [`Error::Internal`] on database
/// failure.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &UserQuery,
) -> Result<UserPage, Error> {
    actor.require(Action::Read)?;
    check_search(&query.search)?;
    let requested = clamp_page(query.page);
    let backend = db.get_database_backend();
    let tallies = tallies(db).await?;
    let in_role: u64 = tallies
        .iter()
        .filter(|t| query.role.is_none_or(|r| r == t.role))
        .map(|t| t.count)
        .sum();
    let role_filter = role_on_rows(query.role);

    // `many`: a search matching more than the cap, whose page `many_matches` reads.
    let (matching, exact, search_filter, many) = match Search::new(&query.search) {
        None => (in_role, true, None, None),
        Some(search) if query.role.is_some() && in_role <= ROLE_SCAN_LIMIT => {
            let filter = search.on_rows(backend);
            let both = role_filter.clone().map(|r| r.and(filter.clone()));
            (count(db, both).await?, true, Some(filter), None)
        }
        Some(search) => {
            let found = search.matches(backend, query.role, SEARCH_COUNT_CAP);
            let ids = ids(db, &found).await?;
            if ids.len() as u64 <= SEARCH_COUNT_CAP {
                let filter = Expr::col((user::Entity, user::Column::Id)).is_in(ids.clone());
                (ids.len() as u64, true, Some(filter), None)
            } else {
                let filter = search.on_rows(backend);
                (SEARCH_COUNT_CAP, false, Some(filter), Some(search))
            }
        }
    };

    let pages = Ord::max(matching.div_ceil(PER_PAGE), 1);
    let page = if exact {
        Ord::min(requested, pages)
    } else {
        requested
    };
    let filters: Vec<SimpleExpr> = [role_filter.clone(), search_filter]
        .into_iter()
        .flatten()
        .collect();
    let window = Window {
        offset: (page - 1) * PER_PAGE,
        rows: PER_PAGE + 1,
    };
    let mut users = match many {
        // Teams are not bunched by what a search matches: walking them finds the page.
        _ if query.sort == UserSort::Team => {
            by_team(db, &filters, query.dir, window.offset, window.rows).await?
        }
        Some(search) => {
            let order = (query.sort, query.dir);
            many_matches::page(db, &search, query.role, order, window).await?
        }
        None => walk(db, &filters, query.sort, query.dir, window).await?,
    };
    let has_next = users.len() as u64 > PER_PAGE;
    users.truncate(PER_PAGE as usize);
    let team_names = team_names(db, users.iter().filter_map(|u| u.team_id)).await?;
    let rows = users
        .iter()
        .map(|u| row(u, &team_names))
        .collect::<Result<_, _>>()?;
    Ok(UserPage {
        rows,
        matching,
        matching_exact: exact,
        page,
        pages,
        has_next,
        summary: summarize(&tallies),
        generated_at: Utc::now(),
    })
}

/// The role filter on `users`.
pub(super) fn role_on_rows(role: Option<Role>) -> Option<SimpleExpr> {
    role.map(|r| Expr::col((user::Entity, user::Column::Role)).eq(stored_role(r)))
}

/// `COUNT(*)` of users passing `filter`.
async fn count(db: &DatabaseConnection, filter: Option<SimpleExpr>) -> Result<u64, Error> {
    let mut select = Query::select();
    select.expr(Expr::val(1)).from(user::Entity);
    if let Some(filter) = filter {
        select.and_where(filter);
    }
    count_rows(db, select).await
}

/// How many rows `inner` yields.
async fn count_rows(
    db: &DatabaseConnection,
    inner: sea_orm::sea_query::SelectStatement,
) -> Result<u64, Error> {
    let outer = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(inner, Alias::new("matched"))
        .to_owned();
    let n: i64 = match db.query_one(&outer).await? {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

fn filtered(filters: &[SimpleExpr]) -> Select<user::Entity> {
    filters
        .iter()
        .fold(user::Entity::find(), |select, f| select.filter(f.clone()))
}

/// The page of users passing `filters`, read along the sort's index.
pub(super) async fn walk(
    db: &DatabaseConnection,
    filters: &[SimpleExpr],
    sort: UserSort,
    dir: SortDir,
    window: Window,
) -> Result<Vec<user::Model>, Error> {
    let mut select = filtered(filters);
    let id = Expr::col((user::Entity, user::Column::Id));
    order_rows(
        QueryTrait::query(&mut select),
        sort_key(sort, db.get_database_backend()),
        id,
        sort,
        dir,
    );
    Ok(select
        .offset(window.offset)
        .limit(window.rows)
        .all(db)
        .await?)
}

/// What a sort orders rows of `users` by; each has its index (migrations `users_list_speed`,
/// `list_sort_speed` and `user_sort_keys`). Team is read by `by_team`: its key here is only
/// the team id.
pub(super) fn sort_key(sort: UserSort, backend: DbBackend) -> SimpleExpr {
    match sort {
        UserSort::Name => bytewise(backend, Expr::cust(NAME_KEY)),
        UserSort::Email => bytewise(
            backend,
            Expr::col((user::Entity, user::Column::EmailNormalized)),
        ),
        UserSort::Role => role_rank(),
        UserSort::Status => Expr::col((user::Entity, user::Column::Status)),
        UserSort::Team => Expr::col((user::Entity, user::Column::TeamId)),
        UserSort::LastActive => Expr::col((user::Entity, user::Column::LastActiveAt)),
    }
}

/// Orders `select` by `key` (never-active users last either way), ties broken by `id`.
pub(super) fn order_rows(
    select: &mut SelectStatement,
    key: SimpleExpr,
    id: SimpleExpr,
    sort: UserSort,
    dir: SortDir,
) {
    if sort == UserSort::LastActive {
        select.order_by_expr_with_nulls(key, order(dir), NullOrdering::Last);
    } else {
        select.order_by_expr(key, order(dir));
    }
    select.order_by_expr(id, order(dir));
}

/// The ids `select` yields in its first column.
pub(super) async fn ids(
    db: &DatabaseConnection,
    select: &SelectStatement,
) -> Result<Vec<i64>, Error> {
    db.query_all(select)
        .await?
        .iter()
        .map(|row| Ok(row.try_get_by_index(0)?))
        .collect()
}

/// The users with `ids`, in that order.
pub(super) async fn by_id(
    db: &DatabaseConnection,
    ids: Vec<i64>,
) -> Result<Vec<user::Model>, Error> {
    let found = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    Ok(in_order(&ids, found, |u| u.id))
}

/// Sorted by team name, users without a team last, read as two walks: teams in name order with
/// each team's users (the team index), then the users without a team. One sorted join would
/// sort every user to show fifty.
async fn by_team(
    db: &DatabaseConnection,
    filters: &[SimpleExpr],
    dir: SortDir,
    offset: u64,
    limit: u64,
) -> Result<Vec<user::Model>, Error> {
    let teamed = filtered(filters)
        .join(JoinType::InnerJoin, user::Relation::Team.def())
        .order_by(
            Expr::col((team::Entity, team::Column::NameNormalized)),
            order(dir),
        )
        .order_by(user::Column::Id, order(dir));
    let mut rows = teamed.clone().offset(offset).limit(limit).all(db).await?;
    let found = rows.len() as u64;
    if found == limit {
        return Ok(rows);
    }
    let teamed_total = if found > 0 {
        offset + found
    } else {
        teamed.count(db).await?
    };
    let without_team = filtered(filters)
        .filter(user::Column::TeamId.is_null())
        .order_by(user::Column::Id, order(dir))
        .offset(offset.saturating_sub(teamed_total))
        .limit(limit - found)
        .all(db)
        .await?;
    rows.extend(without_team);
    Ok(rows)
}

/// Owner first, Viewer last, whatever the stored names sort as.
fn role_rank() -> SimpleExpr {
    Expr::cust(
        "CASE users.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'member' THEN 2 ELSE 3 END",
    )
}

pub(super) async fn team_names(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, String>, Error> {
    let ids: Vec<i64> = ids.collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let teams = team::Entity::find()
        .filter(team::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(teams.into_iter().map(|t| (t.id, t.name)).collect())
}

pub(super) fn row(u: &user::Model, team_names: &HashMap<i64, String>) -> Result<UserRow, Error> {
    Ok(UserRow {
        id: UserId(u.id),
        name: u.name.clone(),
        email: u.email.clone(),
        role: parse_stored(&u.role, "role")?,
        status: parse_stored(&u.status, "status")?,
        team: u
            .team_id
            .and_then(|id| team_names.get(&id).map(|n| (TeamId(id), n.clone()))),
        last_active_at: u.last_active_at,
    })
}

/// Users per (role, status), as the triggers keep it.
struct Tally {
    role: Role,
    status: Status,
    count: u64,
}

async fn tallies(db: &impl ConnectionTrait) -> Result<Vec<Tally>, Error> {
    let select = Query::select()
        .columns([Alias::new("role"), Alias::new("status"), Alias::new("n")])
        .from(Alias::new("user_tallies"))
        .to_owned();
    db.query_all(&select)
        .await?
        .into_iter()
        .map(|row| {
            let role: String = row.try_get_by_index(0)?;
            let status: String = row.try_get_by_index(1)?;
            let n: i64 = row.try_get_by_index(2)?;
            Ok(Tally {
                role: parse_stored(&role, "role")?,
                status: parse_stored(&status, "status")?,
                count: u64::try_from(n).unwrap_or(0),
            })
        })
        .collect()
}

fn summarize(tallies: &[Tally]) -> UserSummary {
    let sum = |keep: &dyn Fn(&Tally) -> bool| -> u64 {
        tallies.iter().filter(|t| keep(t)).map(|t| t.count).sum()
    };
    UserSummary {
        total: sum(&|_| true),
        active: sum(&|t| t.status == Status::Active),
        admins: sum(&|t| matches!(t.role, Role::Owner | Role::Admin)),
        pending_invites: sum(&|t| t.status == Status::Invited),
    }
}

/// The four cards, counted over the whole gateway.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn summary(db: &impl ConnectionTrait) -> Result<UserSummary, Error> {
    Ok(summarize(&tallies(db).await?))
}

/// What expanding a row shows: the user's keys, request counts, join date and last activity.
///
/// # Errors
/// [`Error::NotFound`] when the user is gone.
pub async fn detail(
    db: &DatabaseConnection,
    actor: &Actor,
    id: UserId,
) -> Result<UserDetail, Error> {
    actor.require(Action::Read)?;
    let u = super::find(db, id).await?;
    let now = Utc::now();
    let keys = crate::service::keys::of_user(db, id).await?;
    let usage = usage_user_month::Entity::find()
        .filter(usage_user_month::Column::UserId.eq(id.0))
        .all(db)
        .await?;
    let this_month = month_key(now);
    Ok(UserDetail {
        keys,
        requests_this_month: usage
            .iter()
            .filter(|m| m.month == this_month)
            .map(|m| m.requests)
            .sum(),
        requests_all_time: usage.iter().map(|m| m.requests).sum(),
        joined_at: u.joined_at,
        last_active_at: u.last_active_at,
    })
}
