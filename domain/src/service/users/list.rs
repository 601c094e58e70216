//! Reading the users list: one page (search, role filter, sort, page), the summary cards, and an
//! expanded row's detail. Every path is answered by an index or the `user_tallies` counts; none
//! counts or sorts the whole table.
//!
//! A search is answered by one of three [`Plan`]s, chosen by the search and the role's size;
//! what it finds ([`Matches`]) decides the count shown and how the page's rows are read.

use super::lookup::{find, row, team_names};
use super::many_matches;
use super::search::Search;
use super::walk::{filtered, ids, role_on_rows, walk};
use crate::entity::{team, usage_user_month, user};
use crate::list_query::{PER_PAGE, SortDir, check_search, clamp_page, page_count, page_offset};
use crate::permission::{Action, Actor};
use crate::service::{Window, month_key, order};
use crate::users::{SEARCH_COUNT_CAP, UserDetail, UserPage, UserQuery, UserSort, UserSummary};
use crate::{Error, Role, Status, UserId};
use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};

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
    let tallies = tallies(db).await?;
    let in_role: u64 = tallies
        .iter()
        .filter(|t| query.role.is_none_or(|r| r == t.role))
        .map(|t| t.count)
        .sum();
    let plan = Plan::for_query(query, in_role);
    let found = plan.run(db, query.role, in_role).await?;

    let pages = page_count(found.count);
    let page = if found.exact {
        Ord::min(requested, pages)
    } else {
        requested
    };
    let filters: Vec<SimpleExpr> = [role_on_rows(query.role), found.filter]
        .into_iter()
        .flatten()
        .collect();
    let window = Window {
        offset: page_offset(page),
        rows: PER_PAGE + 1,
    };
    let mut users = match found.too_many {
        // Teams are not bunched by what a search matches: walking them finds the page.
        _ if query.sort == UserSort::Team => by_team(db, &filters, query.dir, window).await?,
        Some(search) => {
            many_matches::page(db, &search, query.role, query.sort, query.dir, window).await?
        }
        None => walk(db, &filters, query.sort, query.dir, window).await?,
    };
    let has_next = users.len() as u64 > PER_PAGE;
    users.truncate(PER_PAGE as usize);
    let team_names = team_names(db, users.iter().filter_map(|u| u.team_id)).await?;
    Ok(UserPage {
        rows: users.iter().map(|u| row(u, &team_names)).collect(),
        matching: found.count,
        matching_exact: found.exact,
        page,
        pages,
        has_next,
        summary: summarize(&tallies),
        generated_at: Utc::now(),
    })
}

/// How the list finds the users a search matches.
enum Plan {
    /// No search: every user in the role (or everyone), counted by the tallies.
    Everyone,
    /// A search within a role of at most [`ROLE_SCAN_LIMIT`] users: the role's rows (role
    /// index) are read and checked, and the matches counted exactly.
    ScanRole(Search),
    /// Any other search, answered by its index (trigram or prefix ranges): up to
    /// [`SEARCH_COUNT_CAP`] matches are listed by id; past that the count stops at the cap.
    SearchIndex(Search),
}

/// What a [`Plan`] found.
struct Matches {
    /// How many users match: exactly, or (`exact` false) at least this many.
    count: u64,
    exact: bool,
    /// The search as a filter on `users` rows; `None` without a search.
    filter: Option<SimpleExpr>,
    /// The search, when it matches more than [`SEARCH_COUNT_CAP`]: too many to list by id, so
    /// `many_matches` reads their page.
    too_many: Option<Search>,
}

impl Plan {
    fn for_query(query: &UserQuery, in_role: u64) -> Self {
        match Search::new(&query.search) {
            None => Plan::Everyone,
            Some(search) if query.role.is_some() && in_role <= ROLE_SCAN_LIMIT => {
                Plan::ScanRole(search)
            }
            Some(search) => Plan::SearchIndex(search),
        }
    }

    /// The matches among the `in_role` users in `role`.
    async fn run(
        self,
        db: &DatabaseConnection,
        role: Option<Role>,
        in_role: u64,
    ) -> Result<Matches, Error> {
        let backend = db.get_database_backend();
        Ok(match self {
            Plan::Everyone => Matches {
                count: in_role,
                exact: true,
                filter: None,
                too_many: None,
            },
            Plan::ScanRole(search) => {
                let filter = search.on_rows(backend);
                let both = role_on_rows(role).map(|r| r.and(filter.clone()));
                Matches {
                    count: count(db, both).await?,
                    exact: true,
                    filter: Some(filter),
                    too_many: None,
                }
            }
            Plan::SearchIndex(search) => {
                let found = ids(db, &search.matches(backend, role, SEARCH_COUNT_CAP)).await?;
                if found.len() as u64 <= SEARCH_COUNT_CAP {
                    Matches {
                        count: found.len() as u64,
                        exact: true,
                        filter: Some(Expr::col((user::Entity, user::Column::Id)).is_in(found)),
                        too_many: None,
                    }
                } else {
                    Matches {
                        count: SEARCH_COUNT_CAP,
                        exact: false,
                        filter: Some(search.on_rows(backend)),
                        too_many: Some(search),
                    }
                }
            }
        })
    }
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

/// Sorted by team name, users without a team last, read as two walks: teams in name order with
/// each team's users (the team index), then the users without a team. One sorted join would
/// sort every user to show fifty.
async fn by_team(
    db: &DatabaseConnection,
    filters: &[SimpleExpr],
    dir: SortDir,
    window: Window,
) -> Result<Vec<user::Model>, Error> {
    let Window {
        offset,
        rows: limit,
    } = window;
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
            let n: i64 = row.try_get_by_index(2)?;
            Ok(Tally {
                role: row.try_get_by_index(0)?,
                status: row.try_get_by_index(1)?,
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
    let u = find(db, id).await?;
    let now = Utc::now();
    let keys = crate::service::keys::of_user(db, id).await?;
    let usage = usage_user_month::Entity::find()
        .filter(usage_user_month::Column::UserId.eq(id.0))
        .all(db)
        .await?;
    let this_month = month_key(now);
    let budget = crate::service::team_members::budgets(db, std::slice::from_ref(&u))
        .await?
        .remove(&u.id)
        .unwrap_or_default();
    Ok(UserDetail {
        budget,
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
