//! Guardrails in the database: the Guardrails page's list with this month's counts (everyone
//! reads), its changes (Owners and Admins; each audited with the fields changed), and the
//! enabled rules compiled for the gateway. A change moves the access epoch (triggers), so every
//! process checks requests with it from its next one; [`hits`] counts what the rules matched.

pub mod hits;

use crate::entity::guardrail::{self, Lines};
use crate::entity::{guardrail_hit, guardrail_team};
use crate::guardrails::matcher::{self, Definition, RuleSet, Scope};
use crate::guardrails::{
    GuardrailInput, GuardrailRow, GuardrailSpec, GuardrailsView, TeamChoice, Test, name_key,
};
use crate::permission::{Action, Actor};
use crate::service::{audit, begin_as, month_key, team_scope};
use crate::{Error, db};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

/// The most guardrails there may be (each is checked, to its end, against every request it
/// applies to).
pub const MAX_RULES: u64 = 100;
use std::collections::HashMap;

/// The Guardrails page; `offered` are the models the gateway offers.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn view(
    db: &DatabaseConnection,
    actor: &Actor,
    offered: &[String],
) -> Result<GuardrailsView, Error> {
    actor.require(Action::Read)?;
    let now = Utc::now();
    let teams = team_scope::choices(db).await?;
    let team_names: HashMap<i64, &TeamChoice> = teams.iter().map(|t| (t.id, t)).collect();
    let mut chosen: HashMap<i64, Vec<TeamChoice>> = HashMap::new();
    for row in guardrail_team::Entity::find().all(db).await? {
        if let Some(t) = team_names.get(&row.team_id) {
            chosen
                .entry(row.guardrail_id)
                .or_default()
                .push((*t).clone());
        }
    }
    let hits: HashMap<i64, i64> = guardrail_hit::Entity::find()
        .filter(guardrail_hit::Column::Month.eq(month_key(now)))
        .all(db)
        .await?
        .into_iter()
        .map(|h| (h.guardrail_id, h.hits))
        .collect();
    let sees_lists = actor.can(Action::ConfigureGateway);
    let rows = guardrail::Entity::find()
        .order_by_asc(guardrail::Column::NameKey)
        .all(db)
        .await?
        .into_iter()
        .map(|g| {
            let teams = (!g.all_teams).then(|| {
                let mut teams = chosen.remove(&g.id).unwrap_or_default();
                teams.sort_by_key(|t| t.name.to_lowercase());
                teams
            });
            let test = test_of(&g);
            let (test, summary) = if sees_lists {
                let summary = test.summary();
                (test, summary)
            } else {
                (test.withheld(), test.outline())
            };
            GuardrailRow {
                id: g.id,
                hits: u64::try_from(hits.get(&g.id).copied().unwrap_or(0)).unwrap_or(0),
                name: g.name.clone(),
                test,
                summary,
                models: g.models.0,
                teams,
                enforcement: g.action,
                enabled: g.enabled,
            }
        })
        .collect();
    Ok(GuardrailsView {
        rows,
        can_change: sees_lists,
        models: offered.to_vec(),
        teams,
        month: now.format("%B %Y").to_string(),
        generated_at: now,
    })
}

fn test_of(g: &guardrail::Model) -> Test {
    match g.check_kind {
        crate::guardrails::Check::PromptSize => Test::PromptSize {
            max_bytes: u64::try_from(g.max_bytes.unwrap_or(0)).unwrap_or(0),
        },
        crate::guardrails::Check::Terms => Test::Terms(g.patterns.0.clone()),
        crate::guardrails::Check::Pattern => Test::Pattern(g.patterns.0.clone()),
    }
}

/// Checks a form: its fields, its expressions, and that its teams exist.
async fn checked(
    conn: &impl ConnectionTrait,
    input: &GuardrailInput,
    offered: &[String],
) -> Result<GuardrailSpec, Error> {
    let spec = input.check(offered)?;
    matcher::check(&spec.test)?;
    team_scope::ensure_exist(conn, spec.teams.as_deref()).await?;
    Ok(spec)
}

/// Adds a rule, enabled.
///
/// # Errors
/// [`Error::Forbidden`] below Admin; [`Error::Validation`] on a field (a name taken in any
/// case, an expression that does not compile); [`Error::Internal`] on database failure.
pub async fn add(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &GuardrailInput,
    offered: &[String],
) -> Result<i64, Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    actor.require(Action::ConfigureGateway)?;
    let spec = checked(&txn, input, offered).await?;
    if guardrail::Entity::find().count(&txn).await? >= MAX_RULES {
        return Err(Error::Conflict(format!(
            "There are already {MAX_RULES} guardrails, the most the gateway checks: delete or combine some first."
        )));
    }
    let now = Utc::now();
    let mut row = guardrail::ActiveModel {
        enabled: Set(true),
        created_at: Set(now),
        ..Default::default()
    };
    fill(&mut row, &spec);
    let saved = row
        .insert(&txn)
        .await
        .map_err(db::duplicate_as(name_taken))?;
    set_teams(&txn, saved.id, spec.teams.as_deref()).await?;
    let detail = format!("Added {}: {}", spec.name, describe(&spec, &txn).await?);
    audit::record_by(&txn, &actor, "guardrail.add", &target(saved.id), &detail).await?;
    txn.commit().await?;
    Ok(saved.id)
}

/// Changes a rule; its counts stay.
///
/// # Errors
/// As [`add`], and [`Error::NotFound`].
pub async fn edit(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    input: &GuardrailInput,
    offered: &[String],
) -> Result<(), Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    actor.require(Action::ConfigureGateway)?;
    let found = find(&txn, id).await?;
    let spec = checked(&txn, input, offered).await?;
    let before = GuardrailSpec {
        name: found.name.clone(),
        test: test_of(&found),
        models: (!found.models.0.is_empty()).then(|| found.models.0.clone()),
        teams: if found.all_teams {
            None
        } else {
            Some(teams_of(&txn, id).await?)
        },
        enforcement: found.action,
    };
    let mut changes = Vec::new();
    if before.name != spec.name {
        changes.push(format!("name {} → {}", before.name, spec.name));
    }
    if before.test != spec.test {
        changes.push(format!(
            "check {} → {}",
            before.test.summary(),
            spec.test.summary()
        ));
    }
    if before.models != spec.models {
        changes.push(format!(
            "models {} → {}",
            models_words(before.models.as_deref()),
            models_words(spec.models.as_deref())
        ));
    }
    if before.teams != spec.teams {
        changes.push(format!(
            "teams {} → {}",
            team_scope::words(&txn, before.teams.as_deref()).await?,
            team_scope::words(&txn, spec.teams.as_deref()).await?
        ));
    }
    if before.enforcement != spec.enforcement {
        changes.push(format!(
            "action {} → {}",
            before.enforcement.label(),
            spec.enforcement.label()
        ));
    }
    if changes.is_empty() {
        return Ok(());
    }
    let mut row = found.into_active_model();
    fill(&mut row, &spec);
    row.update(&txn)
        .await
        .map_err(db::duplicate_as(name_taken))?;
    set_teams(&txn, id, spec.teams.as_deref()).await?;
    let detail = format!("Edited {}: {}", before.name, changes.join("; "));
    audit::record_by(&txn, &actor, "guardrail.edit", &target(id), &detail).await?;
    txn.commit().await?;
    Ok(())
}

/// Enables or disables a rule. A disabled rule checks nothing; its counts stay.
///
/// # Errors
/// As [`edit`].
pub async fn set_enabled(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    enabled: bool,
) -> Result<(), Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    actor.require(Action::ConfigureGateway)?;
    let found = find(&txn, id).await?;
    if found.enabled == enabled {
        return Ok(());
    }
    let name = found.name.clone();
    let mut row = found.into_active_model();
    row.enabled = Set(enabled);
    row.updated_at = Set(Utc::now());
    row.update(&txn).await?;
    audit::record_switch(&txn, &actor, "guardrail", id, &name, enabled).await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes a rule and its counts.
///
/// # Errors
/// As [`edit`].
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<(), Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    actor.require(Action::ConfigureGateway)?;
    let found = find(&txn, id).await?;
    guardrail_hit::Entity::delete_many()
        .filter(guardrail_hit::Column::GuardrailId.eq(id))
        .exec(&txn)
        .await?;
    guardrail::Entity::delete_by_id(id).exec(&txn).await?;
    let detail = format!("Deleted {} ({})", found.name, test_of(&found).summary());
    audit::record_by(&txn, &actor, "guardrail.delete", &target(id), &detail).await?;
    txn.commit().await?;
    Ok(())
}

/// The enabled rules, compiled for the gateway — reusing what `previous` compiled for rules
/// unchanged since (`RuleSet::build` says what happens to one that no longer compiles).
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn rule_set(conn: &impl ConnectionTrait, previous: &RuleSet) -> Result<RuleSet, Error> {
    let found = guardrail::Entity::find()
        .filter(guardrail::Column::Enabled.eq(true))
        .order_by_asc(guardrail::Column::NameKey)
        .all(conn)
        .await?;
    if found.is_empty() {
        return Ok(RuleSet::default());
    }
    let mut teams: HashMap<i64, Vec<i64>> = HashMap::new();
    for row in guardrail_team::Entity::find().all(conn).await? {
        teams.entry(row.guardrail_id).or_default().push(row.team_id);
    }
    let definitions = found
        .into_iter()
        .map(|g| Definition {
            id: g.id,
            test: test_of(&g),
            scope: Scope {
                teams: (!g.all_teams).then(|| teams.remove(&g.id).unwrap_or_default()),
                models: (!g.models.0.is_empty()).then(|| g.models.0.clone()),
            },
            name: g.name,
            changed_at: g.updated_at,
            enforcement: g.action,
        })
        .collect();
    Ok(RuleSet::build(definitions, previous))
}

fn fill(row: &mut guardrail::ActiveModel, spec: &GuardrailSpec) {
    row.name = Set(spec.name.clone());
    row.name_key = Set(name_key(&spec.name));
    row.check_kind = Set(spec.test.check());
    row.max_bytes = Set(match spec.test {
        Test::PromptSize { max_bytes } => Some(i64::try_from(max_bytes).unwrap_or(i64::MAX)),
        _ => None,
    });
    row.patterns = Set(Lines(match &spec.test {
        Test::PromptSize { .. } => Vec::new(),
        Test::Terms(lines) | Test::Pattern(lines) => lines.clone(),
    }));
    row.models = Set(Lines(spec.models.clone().unwrap_or_default()));
    row.all_teams = Set(spec.teams.is_none());
    row.action = Set(spec.enforcement);
    row.updated_at = Set(Utc::now());
}

async fn set_teams(
    conn: &impl ConnectionTrait,
    id: i64,
    teams: Option<&[i64]>,
) -> Result<(), Error> {
    guardrail_team::Entity::delete_many()
        .filter(guardrail_team::Column::GuardrailId.eq(id))
        .exec(conn)
        .await?;
    if let Some(teams) = teams.filter(|t| !t.is_empty()) {
        guardrail_team::Entity::insert_many(teams.iter().map(|t| guardrail_team::ActiveModel {
            guardrail_id: Set(id),
            team_id: Set(*t),
        }))
        .exec(conn)
        .await?;
    }
    Ok(())
}

async fn teams_of(conn: &impl ConnectionTrait, id: i64) -> Result<Vec<i64>, Error> {
    let mut teams: Vec<i64> = guardrail_team::Entity::find()
        .filter(guardrail_team::Column::GuardrailId.eq(id))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| t.team_id)
        .collect();
    teams.sort_unstable();
    Ok(teams)
}

/// A rule in words for the audit log.
async fn describe(spec: &GuardrailSpec, conn: &impl ConnectionTrait) -> Result<String, Error> {
    Ok(format!(
        "{}; models {}; teams {}; {}",
        spec.test.summary(),
        models_words(spec.models.as_deref()),
        team_scope::words(conn, spec.teams.as_deref()).await?,
        spec.enforcement.label().to_lowercase()
    ))
}

fn models_words(models: Option<&[String]>) -> String {
    models.map_or_else(|| "all".to_owned(), |m| m.join(", "))
}

fn target(id: i64) -> String {
    format!("guardrail:{id}")
}

fn name_taken() -> Error {
    Error::validation(
        "name",
        "Another guardrail has this name (names ignore case).",
    )
}

async fn find(conn: &impl ConnectionTrait, id: i64) -> Result<guardrail::Model, Error> {
    guardrail::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound("That guardrail no longer exists.".to_owned()))
}
