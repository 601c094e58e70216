//! Teams as other pages need them, and deleting a team (which revokes its keys). The Teams
//! page and its other actions are their own issue.

use crate::db::{begin_write, duplicate_as};
use crate::entity::{api_key, team, usage_team_month, user};
use crate::list_query::SortDir;
use crate::money::Money;
use crate::permission::{Action, Actor};
use crate::service::{audit, month_key};
use crate::teams::{
    DESCRIPTION_MAX, TEAM_NAME_MAX, TeamInput, TeamPage, TeamQuery, TeamRemoved, TeamRow, TeamSort,
    TeamSummary,
};
use crate::users::{PER_PAGE, UserRow};
use crate::validation::bounded_text;
use crate::{Error, TeamId, UserId};
use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LikeExpr, Order, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;

/// Every team's id and name, by name: the choices of a Team field.
///
/// # Errors
/// [`Error::Forbidden`] for an inactive actor; [`Error::Internal`] on database failure.
pub async fn options(
    db: &DatabaseConnection,
    actor: &Actor,
) -> Result<Vec<(TeamId, String)>, Error> {
    actor.require(Action::Read)?;
    let teams = team::Entity::find()
        .order_by_asc(team::Column::NameNormalized)
        .all(db)
        .await?;
    Ok(teams.into_iter().map(|t| (TeamId(t.id), t.name)).collect())
}

/// Deletes a team: its members are left without a team, its keys are revoked (they stay
/// listed, so usage history keeps their names), and the usage history stays.
///
/// # Errors
/// [`Error::Forbidden`] below Admin; [`Error::NotFound`] when the team is gone.
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    id: TeamId,
) -> Result<TeamRemoved, Error> {
    actor.require(Action::ManageTeams)?;
    let txn = begin_write(db).await?;
    let found = team::Entity::find_by_id(id.0)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound("This team no longer exists.".to_owned()))?;
    let members = user::Entity::update_many()
        .col_expr(user::Column::TeamId, Expr::value(None::<i64>))
        .filter(user::Column::TeamId.eq(id.0))
        .exec(&txn)
        .await?
        .rows_affected;
    let keys = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(api_key::Column::TeamId.eq(id.0))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    team::Entity::delete_by_id(id.0).exec(&txn).await?;
    let detail = format!(
        "{}: {members} members unassigned, {keys} keys revoked",
        found.name
    );
    audit::record_by(&txn, actor, "team.delete", &format!("team:{id}"), &detail).await?;
    txn.commit().await?;
    Ok(TeamRemoved {
        members_unassigned: members,
        keys_revoked: keys,
    })
}

/// The form's fields, checked: a trimmed name, a description and the limit (blank: none).
fn checked(input: &TeamInput) -> Result<(String, String, Option<Money>), Error> {
    let name = bounded_text("name", &input.name, TEAM_NAME_MAX, "Name the team.")?;
    let description = input.description.trim().to_owned();
    if description.chars().count() > DESCRIPTION_MAX {
        return Err(Error::validation(
            "description",
            format!("Use at most {DESCRIPTION_MAX} characters."),
        ));
    }
    if description
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(Error::validation(
            "description",
            "Remove the control characters.",
        ));
    }
    let limit =
        Money::parse_usd(&input.limit).map_err(|e| Error::validation("limit", e.to_string()))?;
    Ok((name, description, limit))
}

fn duplicate_name() -> Error {
    Error::validation("name", "A team with this name already exists.")
}

/// Creates a team.
///
/// # Errors
/// [`Error::Forbidden`] below Admin; [`Error::Validation`] on `name` (empty, too long, taken
/// whatever its case), `description` or `limit` (not an amount, negative).
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &TeamInput,
) -> Result<TeamRow, Error> {
    actor.require(Action::ManageTeams)?;
    let (name, description, limit) = checked(input)?;
    let txn = begin_write(db).await?;
    let created = team::ActiveModel {
        name_normalized: Set(name.to_lowercase()),
        name: Set(name.clone()),
        description: Set(description),
        monthly_limit_micros: Set(limit.map(Money::micros)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(duplicate_as(duplicate_name))?;
    let detail = audit_detail(&name, limit);
    finish(txn, actor, "team.create", TeamId(created.id), &detail).await
}

/// Changes a team's name, description or limit.
///
/// # Errors
/// As [`create`], and [`Error::NotFound`] when the team is gone.
pub async fn edit(
    db: &DatabaseConnection,
    actor: &Actor,
    id: TeamId,
    input: &TeamInput,
) -> Result<TeamRow, Error> {
    actor.require(Action::ManageTeams)?;
    let (name, description, limit) = checked(input)?;
    let txn = begin_write(db).await?;
    let mut found: team::ActiveModel = find(&txn, id).await?.into();
    found.name_normalized = Set(name.to_lowercase());
    found.name = Set(name.clone());
    found.description = Set(description);
    found.monthly_limit_micros = Set(limit.map(Money::micros));
    found
        .update(&txn)
        .await
        .map_err(duplicate_as(duplicate_name))?;
    let detail = audit_detail(&name, limit);
    finish(txn, actor, "team.edit", id, &detail).await
}

/// Puts `user` in `team`, or (`None`) in no team, and answers their row as it now stands. The
/// Users page (Change Team) and the Teams page (members) both assign through this.
///
/// # Errors
/// [`Error::Forbidden`] below Admin; [`Error::NotFound`] when the user or the team is gone.
pub async fn assign(
    db: &DatabaseConnection,
    actor: &Actor,
    who: UserId,
    team: Option<TeamId>,
) -> Result<UserRow, Error> {
    actor.require(Action::ManageTeams)?;
    let txn = begin_write(db).await?;
    let person = super::users::find(&txn, who).await?;
    let detail = match team {
        Some(id) => format!("to {}", find(&txn, id).await?.name),
        None => "to no team".to_owned(),
    };
    let mut changed: user::ActiveModel = person.into();
    changed.team_id = Set(team.map(|t| t.0));
    changed.update(&txn).await?;
    super::users::commit_change(txn, actor, "user.team", who, &detail).await
}

async fn find(conn: &impl ConnectionTrait, id: TeamId) -> Result<team::Model, Error> {
    team::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound("This team no longer exists.".to_owned()))
}

/// What the audit log says of a created or edited team.
fn audit_detail(name: &str, limit: Option<Money>) -> String {
    match limit {
        Some(limit) => format!("{name}, limit {limit}"),
        None => format!("{name}, no limit"),
    }
}

/// Audit entry, the row as it now stands, commit.
async fn finish(
    txn: DatabaseTransaction,
    actor: &Actor,
    verb: &str,
    id: TeamId,
    detail: &str,
) -> Result<TeamRow, Error> {
    audit::record_by(&txn, actor, verb, &format!("team:{id}"), detail).await?;
    let row = row(&txn, id).await?;
    txn.commit().await?;
    Ok(row)
}

/// One team with its member count and this month's spend and requests.
///
/// # Errors
/// [`Error::NotFound`] when the team is gone.
pub async fn row(conn: &impl ConnectionTrait, id: TeamId) -> Result<TeamRow, Error> {
    let found = find(conn, id).await?;
    Ok(rows_for(conn, vec![found]).await?.remove(0))
}

/// Stored teams as rows: members, this month's figures and live keys, read for all of them at
/// once (one grouped query each, not one per team).
async fn rows_for(
    conn: &impl ConnectionTrait,
    found: Vec<team::Model>,
) -> Result<Vec<TeamRow>, Error> {
    let ids: Vec<i64> = found.iter().map(|t| t.id).collect();
    let counts = |rows: Vec<(Option<i64>, i64)>| -> HashMap<i64, u64> {
        rows.into_iter()
            .filter_map(|(id, n)| id.map(|id| (id, u64::try_from(n).unwrap_or(0))))
            .collect()
    };
    let members = counts(
        user::Entity::find()
            .select_only()
            .column(user::Column::TeamId)
            .column_as(user::Column::Id.count(), "n")
            .filter(user::Column::TeamId.is_in(ids.clone()))
            .group_by(user::Column::TeamId)
            .into_tuple()
            .all(conn)
            .await?,
    );
    let live_keys = counts(
        api_key::Entity::find()
            .select_only()
            .column(api_key::Column::TeamId)
            .column_as(api_key::Column::Id.count(), "n")
            .filter(api_key::Column::TeamId.is_in(ids.clone()))
            .filter(api_key::Column::RevokedAt.is_null())
            .group_by(api_key::Column::TeamId)
            .into_tuple()
            .all(conn)
            .await?,
    );
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
                members: members.get(&t.id).copied().unwrap_or(0),
                spend: Money::from_micros(month.map_or(0, |m| m.spend_micros)),
                requests: month.map_or(0, |m| m.requests),
                limit: t.monthly_limit_micros.map(Money::from_micros),
                live_keys: live_keys.get(&t.id).copied().unwrap_or(0),
                name: t.name,
                description: t.description,
                created_at: t.created_at,
            }
        })
        .collect())
}

/// One page of teams matching `query`, with the cards.
///
/// # Errors
/// [`Error::Forbidden`] for an inactive actor; [`Error::Internal`] on database failure.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TeamQuery,
) -> Result<TeamPage, Error> {
    actor.require(Action::Read)?;
    let mut select = team::Entity::find();
    let needle = query.search.trim().to_lowercase();
    if !needle.is_empty() {
        let pattern = format!(
            "%{}%",
            needle
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        select = select.filter(
            Expr::col((team::Entity, team::Column::NameNormalized))
                .like(LikeExpr::new(pattern).escape('\\')),
        );
    }
    let matching = select.clone().count(db).await?;
    let pages = Ord::max(matching.div_ceil(PER_PAGE), 1);
    let page = Ord::min(query.page, pages);
    let order = match query.dir {
        SortDir::Asc => Order::Asc,
        SortDir::Desc => Order::Desc,
    };
    // The month is a number we computed, not input: safe inside the SQL text.
    let month = month_key(Utc::now());
    let this_month = |column: &str| {
        Expr::cust(format!(
            "COALESCE((SELECT m.{column} FROM usage_team_months m \
             WHERE m.team_id = teams.id AND m.month = {month}), 0)"
        ))
    };
    let by = match query.sort {
        TeamSort::Name => Expr::col((team::Entity, team::Column::NameNormalized)),
        TeamSort::Members => {
            Expr::cust("(SELECT COUNT(*) FROM users u WHERE u.team_id = teams.id)")
        }
        TeamSort::Spend => this_month("spend_micros"),
        TeamSort::Requests => this_month("requests"),
    };
    let found = select
        .order_by(by, order.clone())
        .order_by(team::Column::Id, order)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
        .all(db)
        .await?;
    Ok(TeamPage {
        rows: rows_for(db, found).await?,
        matching,
        page,
        pages,
        summary: summary(db).await?,
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
    let sum =
        |column: usage_team_month::Column| Expr::col(column).sum().cast_as(Alias::new("BIGINT"));
    let month = Query::select()
        .expr(sum(usage_team_month::Column::SpendMicros))
        .expr(sum(usage_team_month::Column::Requests))
        .from(usage_team_month::Entity)
        .and_where(Expr::col(usage_team_month::Column::Month).eq(month_key(Utc::now())))
        .to_owned();
    let totals = db.query_one(&month).await?;
    let total = |i: usize| -> Result<i64, Error> {
        Ok(match &totals {
            Some(row) => row.try_get_by_index::<Option<i64>>(i)?.unwrap_or(0),
            None => 0,
        })
    };
    Ok(TeamSummary {
        teams: team::Entity::find().count(db).await?,
        members: user::Entity::find()
            .filter(user::Column::TeamId.is_not_null())
            .count(db)
            .await?,
        spend: Money::from_micros(total(0)?),
        requests: total(1)?,
    })
}
