//! A team's members: who is in it and what each spent against their budget, adding someone by
//! email, taking someone out (both through [`teams::assign`](super::teams::assign), as the Users
//! page does, so the two pages agree), and setting a member's own monthly budget.

use crate::budget::MemberBudget;
use crate::entity::{team, usage_user_month, user};
use crate::money::Money;
use crate::permission::{Action, Actor};
use crate::service::{begin_as, month_key, teams, users};
use crate::teams::TeamMember;
use crate::validation;
use crate::{Error, TeamId, UserId};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;

/// The most members an expanded row lists; the count on the row is exact.
pub const MEMBERS_SHOWN: u64 = 200;

/// The team's members, by name (invited people by email), at most [`MEMBERS_SHOWN`].
///
/// # Errors
/// [`Error::Forbidden`] for someone who may not read; [`Error::Internal`] on database failure.
pub async fn members(
    db: &DatabaseConnection,
    actor: &Actor,
    team: TeamId,
) -> Result<Vec<TeamMember>, Error> {
    actor.require(Action::Read)?;
    let rows = user::Entity::find()
        .filter(user::Column::TeamId.eq(team.0))
        .order_by_asc(user::Column::Name)
        .order_by_asc(user::Column::EmailNormalized)
        .limit(MEMBERS_SHOWN)
        .all(db)
        .await?;
    let budgets = budgets(db, &rows).await?;
    Ok(rows.iter().map(|u| member(u, &budgets)).collect())
}

/// Puts the person with `email` in `team` (moving them from any other team).
///
/// # Errors
/// [`Error::Forbidden`] below Admin, or for an Admin adding an Admin or Owner;
/// [`Error::Validation`] on `email` when it is malformed,
/// nobody on the gateway has it, or they are already in this team; [`Error::NotFound`] when the
/// team is gone.
pub async fn add(
    db: &DatabaseConnection,
    actor: &Actor,
    team: TeamId,
    email: &str,
) -> Result<TeamMember, Error> {
    actor.require(Action::ManageTeams)?;
    let email = validation::email(email)?;
    let person = user::Entity::find()
        .filter(user::Column::EmailNormalized.eq(email.normalized))
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::validation(
                "email",
                "Nobody on this gateway has that email. Invite them from the Users page first.",
            )
        })?;
    teams::assign_if(db, actor, UserId(person.id), Some(team), |now| {
        if now.team_id == Some(team.0) {
            return Err(Error::validation("email", "They are already in this team."));
        }
        Ok(())
    })
    .await?;
    // As they now stand: a budget of their own ended with the team they left.
    let person = users::lookup::find(db, UserId(person.id)).await?;
    let budgets = budgets(db, std::slice::from_ref(&person)).await?;
    Ok(member(&person, &budgets))
}

/// Sets `who`'s own monthly budget (`input` as typed; empty: their team's default applies).
/// They must still be in `team`, whose page the change was made on.
///
/// # Errors
/// [`Error::Forbidden`] below Admin, or for an Admin setting an Admin's or Owner's;
/// [`Error::Validation`] on `budget` when it is not an amount from $0; [`Error::Conflict`] when they are no longer in this team; [`Error::NotFound`] when
/// they are gone.
pub async fn set_budget(
    db: &DatabaseConnection,
    actor: &Actor,
    team: TeamId,
    who: UserId,
    input: &str,
) -> Result<TeamMember, Error> {
    actor.require(Action::ManageTeams)?;
    let budget = crate::rate_limits::parse_budget(input)?;
    let (txn, actor) = begin_as(db, actor).await?;
    let person = users::lookup::find(&txn, who).await?;
    actor.require(Action::SetMemberBudget {
        target: users::lookup::subject(&txn, &person).await?,
    })?;
    if person.team_id != Some(team.0) {
        return Err(not_in_team());
    }
    let before = person.monthly_limit_micros.map(Money::from_micros);
    let person = if before == budget {
        person
    } else {
        let mut changed: user::ActiveModel = person.into();
        changed.monthly_limit_micros = Set(budget.map(Money::micros));
        let person = changed.update(&txn).await?;
        let said = |b: Option<Money>| {
            b.map_or_else(|| "team default".to_owned(), |b| format!("{b}/month"))
        };
        let detail = format!(
            "{}: budget {} → {}",
            person.email,
            said(before),
            said(budget)
        );
        crate::service::audit::record_by(
            &txn,
            &actor,
            "user.budget",
            &format!("user:{}", who.0),
            &detail,
        )
        .await?;
        person
    };
    let budgets = budgets(&txn, std::slice::from_ref(&person)).await?;
    txn.commit().await?;
    Ok(member(&person, &budgets))
}

/// Each person's budget as a member of their team and this month's spend, by their id.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub(crate) async fn budgets(
    conn: &impl ConnectionTrait,
    people: &[user::Model],
) -> Result<HashMap<i64, MemberBudget>, Error> {
    let team_ids: Vec<i64> = people.iter().filter_map(|u| u.team_id).collect();
    let defaults: HashMap<i64, Option<i64>> = team::Entity::find()
        .filter(team::Column::Id.is_in(team_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| (t.id, t.member_limit_micros))
        .collect();
    let spent: HashMap<i64, i64> = usage_user_month::Entity::find()
        .filter(usage_user_month::Column::UserId.is_in(people.iter().map(|u| u.id)))
        .filter(usage_user_month::Column::Month.eq(month_key(Utc::now())))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.user_id, m.spend_micros))
        .collect();
    Ok(people
        .iter()
        .map(|u| {
            let budget = MemberBudget {
                spent: Money(spent.get(&u.id).copied().unwrap_or(0)),
                own: u.monthly_limit_micros.map(Money::from_micros),
                team_default: u
                    .team_id
                    .and_then(|t| defaults.get(&t).copied().flatten())
                    .map(Money::from_micros),
            };
            (u.id, budget)
        })
        .collect())
}

fn not_in_team() -> Error {
    Error::Conflict("They are no longer in this team. Reload to see its members.".to_owned())
}

/// Takes `who` out of `team`, leaving them without a team. Their keys stay with the team.
///
/// # Errors
/// [`Error::Forbidden`] below Admin, or for an Admin taking out an Admin or Owner;
/// [`Error::Conflict`] when they are no longer in this team.
pub async fn remove(
    db: &DatabaseConnection,
    actor: &Actor,
    team: TeamId,
    who: UserId,
) -> Result<(), Error> {
    actor.require(Action::ManageTeams)?;
    teams::assign_if(db, actor, who, None, |now| {
        if now.team_id != Some(team.0) {
            return Err(not_in_team());
        }
        Ok(())
    })
    .await
    .map(|_| ())
}

fn member(u: &user::Model, budgets: &HashMap<i64, MemberBudget>) -> TeamMember {
    TeamMember {
        id: UserId(u.id),
        name: u.name.clone().unwrap_or_else(|| u.email.clone()),
        email: u.email.clone(),
        role: u.role,
        status: u.status,
        budget: budgets.get(&u.id).copied().unwrap_or_default(),
    }
}
