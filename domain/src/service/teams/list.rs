//! Reading the Teams page: one page of teams (search, sort, page) with the cards, and one team
//! found by id and as a row. Every sort reads an index (migration `list_sort_speed`); the month
//! figures come from the usage aggregates, never from requests.

use super::month_order::{self, Figure};
use crate::entity::{api_key, team, usage_team_month};
use crate::list_query::{PER_PAGE, check_search, page_count, page_offset, page_served};
use crate::money::Money;
use crate::permission::{Action, Actor};
use crate::rate_limits::RateLimits;
use crate::service::{Window, escape_like, month_key, order};
use crate::teams::{TeamPage, TeamQuery, TeamRow, TeamSort, TeamSummary};
use crate::{Error, TeamId};
use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LikeExpr, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::HashMap;

/// Loads a team or answers that it is gone.
pub(super) async fn find(conn: &impl ConnectionTrait, id: TeamId) -> Result<team::Model, Error> {
    team::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound("This team no longer exists.".to_owned()))
}

/// One team with its member count and this month's spend and requests.
///
/// # Errors
/// [`Error::NotFound`] when the team is gone.
pub async fn row(conn: &impl ConnectionTrait, id: TeamId) -> Result<TeamRow, Error> {
    let found = find(conn, id).await?;
    Ok(rows_for(conn, vec![found]).await?.remove(0))
}

/// Stored teams as rows: this month's figures and live keys, read for all of them at once (one
/// query each, not one per team); members are the count the triggers keep.
async fn rows_for(
    conn: &impl ConnectionTrait,
    found: Vec<team::Model>,
) -> Result<Vec<TeamRow>, Error> {
    let ids: Vec<i64> = found.iter().map(|t| t.id).collect();
    let live_keys: HashMap<i64, u64> = api_key::Entity::find()
        .select_only()
        .column(api_key::Column::TeamId)
        .column_as(api_key::Column::Id.count(), "n")
        .filter(api_key::Column::TeamId.is_in(ids.clone()))
        .filter(api_key::Column::RevokedAt.is_null())
        .group_by(api_key::Column::TeamId)
        .into_tuple::<(Option<i64>, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|(id, n)| id.map(|id| (id, u64::try_from(n).unwrap_or(0))))
        .collect();
    let months: HashMap<i64, usage_team_month::Model> = usage_team_month::Entity::find()
        .filter(usage_team_month::Column::TeamId.is_in(ids))
        .filter(usage_team_month::Column::Month.eq(month_key(Utc::now())))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.team_id, m))
        .collect();
    Ok(found
        .into_iter()
        .map(|t| {
            let month = months.get(&t.id);
            TeamRow {
                id: TeamId(t.id),
                members: u64::try_from(t.member_count).unwrap_or(0),
                spend: Money::from_micros(month.map_or(0, |m| m.spend_micros)),
                requests: month.map_or(0, |m| m.requests),
                limit: t.monthly_limit_micros.map(Money::from_micros),
                rates: RateLimits::from_columns(t.requests_per_minute, t.tokens_per_minute),
                member_budget: t.member_limit_micros.map(Money::from_micros),
                live_keys: live_keys.get(&t.id).copied().unwrap_or(0),
                name: t.name,
                description: t.description,
                created_at: t.created_at,
            }
        })
        .collect())
}

/// The search box as a filter on team names: a case-insensitive substring.
fn name_filter(search: &str) -> Option<SimpleExpr> {
    let needle = search.trim().to_lowercase();
    if needle.is_empty() {
        return None;
    }
    let pattern = format!("%{}%", escape_like(&needle));
    Some(
        Expr::col((team::Entity, team::Column::NameNormalized))
            .like(LikeExpr::new(pattern).escape('\\')),
    )
}

/// One page of teams matching `query`, with the cards. A page out of range is read as the
/// nearest one.
///
/// # Errors
/// [`Error::Forbidden`] for an inactive actor; [`Error::Validation`] on `search` past
/// [`SEARCH_MAX`](crate::list_query::SEARCH_MAX) characters; [`Error::Internal`] on database
/// failure.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TeamQuery,
) -> Result<TeamPage, Error> {
    actor.require(Action::Read)?;
    check_search(&query.search)?;
    let filter = name_filter(&query.search);
    let mut select = team::Entity::find();
    if let Some(filter) = &filter {
        select = select.filter(filter.clone());
    }
    let matching = select.clone().count(db).await?;
    let pages = page_count(matching);
    let page = page_served(query.page, matching);
    let window = Window {
        offset: page_offset(page),
        rows: PER_PAGE,
    };
    let by_index = |column: team::Column| {
        select
            .clone()
            .order_by(column, order(query.dir))
            .order_by(team::Column::Id, order(query.dir))
            .offset(window.offset)
            .limit(window.rows)
            .all(db)
    };
    let found = match query.sort {
        TeamSort::Name => by_index(team::Column::NameNormalized).await?,
        TeamSort::Members => by_index(team::Column::MemberCount).await?,
        TeamSort::Spend => {
            month_order::page(db, filter, matching, Figure::Spend, query.dir, window).await?
        }
        TeamSort::Requests => {
            month_order::page(db, filter, matching, Figure::Requests, query.dir, window).await?
        }
    };
    Ok(TeamPage {
        rows: rows_for(db, found).await?,
        matching,
        page,
        pages,
        summary: summary(db).await?,
        new_team_limit: if actor.can(Action::ManageTeams) {
            crate::service::billing::team_default_limit(db).await?
        } else {
            None
        },
        generated_at: Utc::now(),
    })
}

/// The Teams page's cards: teams, members, and this month's spend and requests.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn summary(db: &impl ConnectionTrait) -> Result<TeamSummary, Error> {
    // Summed by the database from the month index; never every team-month row. (PostgreSQL
    // sums BIGINT as NUMERIC: cast back.)
    let sum = |column: SimpleExpr| column.sum().cast_as(Alias::new("BIGINT"));
    let month = Query::select()
        .expr(sum(Expr::col(usage_team_month::Column::SpendMicros)))
        .expr(sum(Expr::col(usage_team_month::Column::Requests)))
        .from(usage_team_month::Entity)
        .and_where(Expr::col(usage_team_month::Column::Month).eq(month_key(Utc::now())))
        .to_owned();
    let teams = Query::select()
        .expr(Expr::col(team::Column::Id).count())
        .expr(sum(Expr::col(team::Column::MemberCount)))
        .from(team::Entity)
        .to_owned();
    let figures = |row: Option<sea_orm::QueryResult>| -> Result<(i64, i64), Error> {
        Ok(match row {
            Some(row) => (
                row.try_get_by_index::<Option<i64>>(0)?.unwrap_or(0),
                row.try_get_by_index::<Option<i64>>(1)?.unwrap_or(0),
            ),
            None => (0, 0),
        })
    };
    let (spend, requests) = figures(db.query_one(&month).await?)?;
    let (teams, members) = figures(db.query_one(&teams).await?)?;
    Ok(TeamSummary {
        teams: u64::try_from(teams).unwrap_or(0),
        members: u64::try_from(members).unwrap_or(0),
        spend: Money::from_micros(spend),
        requests,
    })
}
