//! The actions on teams: create, edit, delete (which revokes the team's keys) and assigning a
//! user to a team. The Teams page's list and cards live in `list.rs`, its month-figure sorts in
//! `month_order.rs`.

mod list;
mod month_order;

use list::find;
pub use list::{list, row, summary};

use crate::db::duplicate_as;
use crate::entity::{api_key, team, user};
use crate::money::Money;
use crate::permission::{Action, Actor};
use crate::rate_limits::RateLimits;
use crate::service::usage_report::names::{self, Departed};
use crate::service::{audit, begin_as, users};
use crate::teams::{DESCRIPTION_MAX, TEAM_NAME_MAX, TeamInput, TeamRemoved, TeamRow};
use crate::users::UserRow;
use crate::validation::bounded_text;
use crate::{Error, Role, TeamId, UserId};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
};

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

/// Deletes a team: its members are left without a team (their own budgets, set within it, end),
/// its keys are revoked (they stay listed, so usage history keeps their names), and the usage
/// history stays. Taking everyone out of the team is moving each of them, so an Admin may not
/// while an Admin or Owner is in it. It runs as an
/// access-list write, as issuing a key does, so a key issued into the team at the same moment
/// is either refused (the team is gone) or revoked with the others.
///
/// # Errors
/// [`Error::Forbidden`] below Admin, or for an Admin while an Admin or Owner is in the team;
/// [`Error::NotFound`] when the team is gone.
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    id: TeamId,
) -> Result<TeamRemoved, Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    let actor = &actor;
    actor.require(Action::ManageTeams)?;
    let found = team::Entity::find_by_id(id.0)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound("This team no longer exists.".to_owned()))?;
    for person in user::Entity::find()
        .filter(user::Column::TeamId.eq(id.0))
        .all(&txn)
        .await?
    {
        let target = users::lookup::subject(&txn, &person).await?;
        if !actor.can(Action::AssignTeam { target }) {
            return Err(Error::Forbidden(
                "Only an Owner can delete a team with an Owner or Admin in it.".to_owned(),
            ));
        }
    }
    let members = user::Entity::update_many()
        .col_expr(user::Column::TeamId, Expr::value(None::<i64>))
        .col_expr(user::Column::MonthlyLimitMicros, Expr::value(None::<i64>))
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
    names::remember(&txn, Departed::Team, id.0, &found.name).await?;
    crate::service::alerts::drop_untold(&txn, Some(id)).await?;
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

/// A team form's fields, checked.
struct Checked {
    name: String,
    description: String,
    limit: Option<Money>,
    /// Requests and tokens per minute: `None` for a field the form did not send.
    requests: Option<Option<u64>>,
    tokens: Option<Option<u64>>,
    /// The default member budget: `None` when the form did not send it.
    member_budget: Option<Option<Money>>,
}

/// The form's fields, checked: a trimmed name with single spaces, a description, the limit and the per-minute
/// limits (blank: none).
fn checked(input: &TeamInput) -> Result<Checked, Error> {
    let name = bounded_text("name", &input.name, TEAM_NAME_MAX, "Name the team.")?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
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
    // Each field not sent keeps what is stored (`None` here), so parse them one at a time.
    let requests = input
        .requests_per_minute
        .as_deref()
        .map(RateLimits::parse_requests)
        .transpose()?;
    let tokens = input
        .tokens_per_minute
        .as_deref()
        .map(RateLimits::parse_tokens)
        .transpose()?;
    let member_budget = input
        .member_budget
        .as_deref()
        .map(|b| Money::parse_usd(b).map_err(|e| Error::validation("member_budget", e.to_string())))
        .transpose()?;
    Ok(Checked {
        name,
        description,
        limit,
        requests,
        tokens,
        member_budget,
    })
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
    let Checked {
        name,
        description,
        limit,
        requests,
        tokens,
        member_budget,
    } = checked(input)?;
    let (txn, actor) = begin_as(db, actor).await?;
    let actor = &actor;
    actor.require(Action::ManageTeams)?;
    let rates = RateLimits {
        requests_per_minute: requests.flatten(),
        tokens_per_minute: tokens.flatten(),
    };
    let (requests_per_minute, tokens_per_minute) = rates.columns();
    let created = team::ActiveModel {
        name_normalized: Set(name.to_lowercase()),
        name: Set(name.clone()),
        description: Set(description),
        monthly_limit_micros: Set(limit.map(Money::micros)),
        requests_per_minute: Set(requests_per_minute),
        tokens_per_minute: Set(tokens_per_minute),
        member_limit_micros: Set(member_budget.flatten().map(Money::micros)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(duplicate_as(duplicate_name))?;
    let detail = create_detail(&Settings {
        name,
        description: created.description.clone(),
        limit,
        rates,
        member_budget: member_budget.flatten(),
    });
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
    let Checked {
        name,
        description,
        limit,
        requests,
        tokens,
        member_budget,
    } = checked(input)?;
    let (txn, actor) = begin_as(db, actor).await?;
    let actor = &actor;
    actor.require(Action::ManageTeams)?;
    let current = find(&txn, id).await?;
    let stored = RateLimits::from_columns(current.requests_per_minute, current.tokens_per_minute);
    let rates = RateLimits {
        requests_per_minute: requests.unwrap_or(stored.requests_per_minute),
        tokens_per_minute: tokens.unwrap_or(stored.tokens_per_minute),
    };
    let (requests_per_minute, tokens_per_minute) = rates.columns();
    let member_budget =
        member_budget.unwrap_or(current.member_limit_micros.map(Money::from_micros));
    if member_budget != current.member_limit_micros.map(Money::from_micros) {
        require_budget_setter(&txn, actor, id).await?;
    }
    let before = Settings {
        name: current.name.clone(),
        description: current.description.clone(),
        limit: current.monthly_limit_micros.map(Money::from_micros),
        rates: stored,
        member_budget: current.member_limit_micros.map(Money::from_micros),
    };
    let after = Settings {
        name: name.clone(),
        description: description.clone(),
        limit,
        rates,
        member_budget,
    };
    let mut found: team::ActiveModel = current.into();
    found.name_normalized = Set(name.to_lowercase());
    found.name = Set(name.clone());
    found.description = Set(description);
    found.monthly_limit_micros = Set(limit.map(Money::micros));
    found.requests_per_minute = Set(requests_per_minute);
    found.tokens_per_minute = Set(tokens_per_minute);
    found.member_limit_micros = Set(member_budget.map(Money::micros));
    found
        .update(&txn)
        .await
        .map_err(duplicate_as(duplicate_name))?;
    let detail = edit_detail(&before, &after);
    finish(txn, actor, "team.edit", id, &detail).await
}

/// Refuses `actor` a change of `team`'s budget per member unless they may set the budget of
/// each member it binds — those without one of their own: an Admin's and an Owner's budget are
/// an Owner's to set, one by one or for the whole team.
async fn require_budget_setter(
    txn: &DatabaseTransaction,
    actor: &Actor,
    team: TeamId,
) -> Result<(), Error> {
    let bound = user::Entity::find()
        .filter(user::Column::TeamId.eq(team.0))
        .filter(user::Column::MonthlyLimitMicros.is_null())
        .filter(user::Column::Role.is_in([Role::Owner, Role::Admin]))
        .all(txn)
        .await?;
    for person in bound {
        let target = users::lookup::subject(txn, &person).await?;
        if !actor.can(Action::SetMemberBudget { target }) {
            return Err(Error::Forbidden(
                "Only an Owner can change the budget per member while it applies to an Owner or Admin in the team."
                    .to_owned(),
            ));
        }
    }
    Ok(())
}

/// Puts `user` in `team`, or (`None`) in no team, and answers their row as it now stands; a
/// budget of their own ends with the team they leave. The Users page (Change Team) and the
/// Teams page (members) both assign through this. A Member's
/// keys then work only if they are in the new team: the gateway checks at every use.
///
/// # Errors
/// [`Error::Forbidden`] below Admin, or for an Admin moving an Admin or Owner;
/// [`Error::NotFound`] when the user or the team is gone.
pub async fn assign(
    db: &DatabaseConnection,
    actor: &Actor,
    who: UserId,
    team: Option<TeamId>,
) -> Result<UserRow, Error> {
    assign_if(db, actor, who, team, |_| Ok(())).await
}

/// [`assign`], if `expect` accepts the person as they stand once the move holds the access
/// lock (the Members list's "still in this team"): checked any earlier, a move another Admin
/// commits meanwhile would go unseen, and this one would undo it.
///
/// # Errors
/// As [`assign`], and whatever `expect` answers.
pub(crate) async fn assign_if(
    db: &DatabaseConnection,
    actor: &Actor,
    who: UserId,
    team: Option<TeamId>,
    expect: impl FnOnce(&user::Model) -> Result<(), Error>,
) -> Result<UserRow, Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    let actor = &actor;
    actor.require(Action::ManageTeams)?;
    let person = users::lookup::find(&txn, who).await?;
    // Whoever may move them may also end a budget of their own set within the team they
    // leave: the two are one rule (an Admin's budget and team are an Owner's to change).
    actor.require(Action::AssignTeam {
        target: users::lookup::subject(&txn, &person).await?,
    })?;
    expect(&person)?;
    let mut detail = match team {
        Some(id) => format!("to {}", find(&txn, id).await?.name),
        None => "to no team".to_owned(),
    };
    // A budget of their own was set within the team they leave.
    let moved = person.team_id != team.map(|t| t.0);
    let cleared = person.monthly_limit_micros.filter(|_| moved);
    if let Some(budget) = cleared {
        detail.push_str(&format!(
            " (their own budget of {}/month ends)",
            Money::from_micros(budget)
        ));
    }
    let mut changed: user::ActiveModel = person.into();
    changed.team_id = Set(team.map(|t| t.0));
    if cleared.is_some() {
        changed.monthly_limit_micros = Set(None);
    }
    changed.update(&txn).await?;
    users::change::commit_change(txn, actor, "user.team", who, &detail).await
}

/// What the audit log says of a created team: its settings (`Research, limit $10.00`).
fn create_detail(team: &Settings) -> String {
    let mut detail = match team.limit {
        Some(limit) => format!("{}, limit {limit}", team.name),
        None => format!("{}, no limit", team.name),
    };
    if let Some(rates) = team.rates.summary() {
        detail.push_str(&format!(", {rates}"));
    }
    if let Some(budget) = team.member_budget {
        detail.push_str(&format!(", members {budget}/month each"));
    }
    detail
}

/// What a team form sets, as the audit log writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    name: String,
    description: String,
    limit: Option<Money>,
    rates: RateLimits,
    member_budget: Option<Money>,
}

/// What the audit log says of an edit: each setting that changed, before → after
/// (`Lab: name Research → Lab; limit $10.00 → $20.00`).
fn edit_detail(before: &Settings, after: &Settings) -> String {
    let limit = |l: Option<Money>| l.map_or_else(|| "no limit".to_owned(), |l| l.to_string());
    let rates = |r: RateLimits| r.summary().unwrap_or_else(|| "none".to_owned());
    let budget = |b: Option<Money>| b.map_or_else(|| "none".to_owned(), |b| format!("{b}/month"));
    let mut changes = Vec::new();
    if before.name != after.name {
        changes.push(format!("name {} → {}", before.name, after.name));
    }
    if before.description != after.description {
        changes.push("description changed".to_owned());
    }
    if before.limit != after.limit {
        changes.push(format!(
            "limit {} → {}",
            limit(before.limit),
            limit(after.limit)
        ));
    }
    if before.rates != after.rates {
        changes.push(format!(
            "per minute {} → {}",
            rates(before.rates),
            rates(after.rates)
        ));
    }
    if before.member_budget != after.member_budget {
        changes.push(format!(
            "budget per member {} → {}",
            budget(before.member_budget),
            budget(after.member_budget)
        ));
    }
    if changes.is_empty() {
        return format!("{}: nothing changed", after.name);
    }
    format!("{}: {}", after.name, changes.join("; "))
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

#[cfg(test)]
mod tests {
    use super::{Settings, edit_detail};
    use crate::money::Money;
    use crate::rate_limits::RateLimits;

    #[test]
    fn an_edit_says_what_changed_from_what_to_what() {
        let before = Settings {
            name: "Research".into(),
            description: "Models".into(),
            limit: Some(Money(10_000_000)),
            rates: RateLimits::default(),
            member_budget: None,
        };
        let after = Settings {
            name: "Lab".into(),
            limit: Some(Money(20_000_000)),
            rates: RateLimits {
                requests_per_minute: Some(60),
                tokens_per_minute: None,
            },
            member_budget: Some(Money(5_000_000)),
            ..before.clone()
        };
        assert_eq!(
            edit_detail(&before, &after),
            "Lab: name Research → Lab; limit $10.00 → $20.00; per minute none → 60 req/min; \
             budget per member none → $5.00/month"
        );
        let described = Settings {
            description: "Models and data".into(),
            limit: None,
            ..before.clone()
        };
        assert_eq!(
            edit_detail(&before, &described),
            "Research: description changed; limit $10.00 → no limit"
        );
        assert_eq!(edit_detail(&before, &before), "Research: nothing changed");
    }
}
