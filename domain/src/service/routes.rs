//! Routes in the database: the Routes page's list with this month's figures (everyone reads),
//! its changes (Owners and Admins; each audited with the fields changed), the providers file's
//! models applied at start, and the routes the gateway serves. A change moves the access epoch
//! (triggers), so every process serves it from its next request; past usage keeps the price it
//! was charged at.

use crate::entity::{
    api_key, guardrail, provider, route, route_target, route_team, usage_model_day,
};
use crate::guardrails::TeamChoice;
use crate::permission::{Action, Actor};
use crate::pricing::Price;
use crate::routes::{
    ProviderChoice, RouteInput, RouteRow, RouteSpec, RouteUsage, RoutesView, TargetRow, TargetSpec,
    name_key, target_field, usd_per_mtok,
};
use crate::service::{audit, begin_as, day_key, team_scope};
use crate::{Error, db};
use chrono::{Datelike, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use std::collections::HashMap;

/// The most routes there may be.
pub const MAX_ROUTES: u64 = 1000;

/// A route as the gateway serves it: enabled, its targets in order (naming their providers, which
/// the gateway skips when disabled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub name: String,
    /// The teams whose keys may use it; `None`: every team, and keys outside any team.
    pub teams: Option<Vec<i64>>,
    pub targets: Vec<ServedTarget>,
}

/// One target of a served route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedTarget {
    /// The provider's name.
    pub provider: String,
    pub upstream_name: String,
    pub price: Price,
    pub max_output_tokens: u64,
    pub image_input_tokens: Option<u64>,
}

/// A route as the providers file writes it (`[[models]]`, or `[[routes]]` with its targets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRoute {
    pub name: String,
    pub targets: Vec<ServedTarget>,
    /// Team names; `None`: every team.
    pub teams: Option<Vec<String>>,
    pub enabled: bool,
}

/// The Routes page.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn view(db: &DatabaseConnection, actor: &Actor) -> Result<RoutesView, Error> {
    actor.require(Action::Read)?;
    let now = Utc::now();
    let teams = team_scope::choices(db).await?;
    let providers: Vec<ProviderChoice> = provider::Entity::find()
        .order_by_asc(provider::Column::NameKey)
        .all(db)
        .await?
        .into_iter()
        .map(|p| ProviderChoice {
            id: p.id,
            name: p.name,
            enabled: p.enabled,
        })
        .collect();
    // Every team's usage: only for those who may read it all.
    let shows_usage = actor.can(Action::ReadAllUsage);
    let mut usage: HashMap<String, RouteUsage> = HashMap::new();
    if shows_usage {
        let month_start = now.date_naive().with_day(1).unwrap_or(now.date_naive());
        let midnight = month_start.and_hms_opt(0, 0, 0).unwrap_or_default();
        for day in usage_model_day::Entity::find()
            .filter(usage_model_day::Column::Day.gte(day_key(midnight.and_utc())))
            .all(db)
            .await?
        {
            let entry = usage.entry(day.model).or_default();
            entry.requests += u64::try_from(day.requests).unwrap_or(0);
            entry.spend_micros += day.spend_micros;
        }
    }
    let mut chosen = chosen_teams(db, &teams).await?;
    let mut targets = target_rows(db, &providers).await?;
    let rows = route::Entity::find()
        .order_by_asc(route::Column::NameKey)
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            let used = shows_usage.then(|| usage.get(&r.name).copied().unwrap_or_default());
            RouteRow {
                id: r.id,
                targets: targets.remove(&r.id).unwrap_or_default(),
                teams: (!r.all_teams).then(|| chosen.remove(&r.id).unwrap_or_default()),
                name: r.name,
                enabled: r.enabled,
                from_file: r.from_file,
                usage: used,
            }
        })
        .collect();
    Ok(RoutesView {
        rows,
        can_change: actor.can(Action::ConfigureGateway),
        shows_usage,
        providers,
        teams,
        month: now.format("%B %Y").to_string(),
        generated_at: now,
    })
}

/// Each route's chosen teams, by name.
async fn chosen_teams(
    conn: &impl ConnectionTrait,
    teams: &[TeamChoice],
) -> Result<HashMap<i64, Vec<TeamChoice>>, Error> {
    let by_id: HashMap<i64, &TeamChoice> = teams.iter().map(|t| (t.id, t)).collect();
    let mut chosen: HashMap<i64, Vec<TeamChoice>> = HashMap::new();
    for row in route_team::Entity::find().all(conn).await? {
        if let Some(t) = by_id.get(&row.team_id) {
            chosen.entry(row.route_id).or_default().push((*t).clone());
        }
    }
    // `teams` is in name order, but the rows were not.
    for list in chosen.values_mut() {
        list.sort_by_key(|t| t.name.to_lowercase());
    }
    Ok(chosen)
}

/// Each route's targets, in order, with their providers' names.
async fn target_rows(
    conn: &impl ConnectionTrait,
    providers: &[ProviderChoice],
) -> Result<HashMap<i64, Vec<TargetRow>>, Error> {
    let by_id: HashMap<i64, &ProviderChoice> = providers.iter().map(|p| (p.id, p)).collect();
    let mut rows: HashMap<i64, Vec<TargetRow>> = HashMap::new();
    for t in route_target::Entity::find()
        .order_by_asc(route_target::Column::Position)
        .all(conn)
        .await?
    {
        let (provider, provider_enabled) = by_id
            .get(&t.provider_id)
            .map_or((String::new(), false), |p| (p.name.clone(), p.enabled));
        rows.entry(t.route_id).or_default().push(TargetRow {
            provider_id: t.provider_id,
            provider,
            provider_enabled,
            upstream_name: t.upstream_name,
            input_micros_per_mtok: t.input_micros_per_mtok,
            output_micros_per_mtok: t.output_micros_per_mtok,
            max_output_tokens: u64::try_from(t.max_output_tokens).unwrap_or(0),
            image_input_tokens: t.image_input_tokens.and_then(|n| u64::try_from(n).ok()),
        });
    }
    Ok(rows)
}

/// Checks a form: its fields, that its teams exist, and that each target names a provider that
/// exists and is enabled (`kept` are the providers the route already sent to: one of those may
/// have been disabled since without the route having to change).
async fn checked(
    conn: &impl ConnectionTrait,
    input: &RouteInput,
    kept: &[i64],
) -> Result<RouteSpec, Error> {
    let spec = input.check()?;
    let providers: HashMap<i64, provider::Model> = provider::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    for (i, t) in spec.targets.iter().enumerate() {
        match providers.get(&t.provider_id) {
            None => {
                return Err(Error::validation(
                    &target_field(i, "provider"),
                    "That provider no longer exists: choose another.",
                ));
            }
            Some(p) if !p.enabled && !kept.contains(&p.id) => {
                return Err(Error::validation(
                    &target_field(i, "provider"),
                    format!(
                        "{} is disabled: enable it first, or choose another.",
                        p.name
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    team_scope::ensure_exist(conn, spec.teams.as_deref()).await?;
    Ok(spec)
}

/// Adds a route, enabled.
///
/// # Errors
/// [`Error::Forbidden`] below Admin; [`Error::Validation`] on a field (a name taken in any
/// case, a disabled provider); [`Error::Internal`] on database failure.
pub async fn add(db: &DatabaseConnection, actor: &Actor, input: &RouteInput) -> Result<i64, Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    actor.require(Action::ConfigureGateway)?;
    let spec = checked(&txn, input, &[]).await?;
    if route::Entity::find().count(&txn).await? >= MAX_ROUTES {
        return Err(Error::Conflict(format!(
            "There are already {MAX_ROUTES} routes, the most there may be: delete some first."
        )));
    }
    let now = Utc::now();
    let saved = route::ActiveModel {
        name: Set(spec.name.clone()),
        name_key: Set(name_key(&spec.name)),
        all_teams: Set(spec.teams.is_none()),
        enabled: Set(true),
        from_file: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(db::duplicate_as(name_taken))?;
    set_targets(&txn, saved.id, &spec.targets).await?;
    set_teams(&txn, saved.id, spec.teams.as_deref()).await?;
    let detail = format!(
        "Added {}: {}; teams {}",
        spec.name,
        targets_words(&txn, &spec.targets).await?,
        team_scope::words(&txn, spec.teams.as_deref()).await?
    );
    audit::record_by(&txn, &actor, "route.add", &target(saved.id), &detail).await?;
    txn.commit().await?;
    Ok(saved.id)
}

/// Changes a route made on the page. New prices apply from the next request.
///
/// # Errors
/// As [`add`]; [`Error::Forbidden`] for a route from the providers file; [`Error::NotFound`].
pub async fn edit(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    input: &RouteInput,
) -> Result<(), Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    actor.require(Action::ConfigureGateway)?;
    let found = editable(&txn, id).await?;
    let before = spec_of(&txn, &found).await?;
    let kept: Vec<i64> = before.targets.iter().map(|t| t.provider_id).collect();
    let spec = checked(&txn, input, &kept).await?;
    let mut changes = Vec::new();
    if before.name != spec.name {
        ensure_unnamed(&txn, &before.name).await?;
        changes.push(format!("name {} → {}", before.name, spec.name));
    }
    if before.targets != spec.targets {
        changes.push(format!(
            "targets {} → {}",
            targets_words(&txn, &before.targets).await?,
            targets_words(&txn, &spec.targets).await?
        ));
    }
    if before.teams != spec.teams {
        changes.push(format!(
            "teams {} → {}",
            team_scope::words(&txn, before.teams.as_deref()).await?,
            team_scope::words(&txn, spec.teams.as_deref()).await?
        ));
    }
    if changes.is_empty() {
        return Ok(());
    }
    let mut row = found.into_active_model();
    row.name = Set(spec.name.clone());
    row.name_key = Set(name_key(&spec.name));
    row.all_teams = Set(spec.teams.is_none());
    row.updated_at = Set(Utc::now());
    row.update(&txn)
        .await
        .map_err(db::duplicate_as(name_taken))?;
    if before.targets != spec.targets {
        set_targets(&txn, id, &spec.targets).await?;
    }
    if before.teams != spec.teams {
        set_teams(&txn, id, spec.teams.as_deref()).await?;
    }
    let detail = format!("Edited {}: {}", before.name, changes.join("; "));
    audit::record_by(&txn, &actor, "route.edit", &target(id), &detail).await?;
    txn.commit().await?;
    Ok(())
}

/// Enables or disables a route made on the page. A disabled route is not offered, and requests
/// for it are refused as for a model that does not exist.
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
    let found = editable(&txn, id).await?;
    if found.enabled == enabled {
        return Ok(());
    }
    let name = found.name.clone();
    let mut row = found.into_active_model();
    row.enabled = Set(enabled);
    row.updated_at = Set(Utc::now());
    row.update(&txn).await?;
    audit::record_switch(&txn, &actor, "route", id, &name, enabled).await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes a route made on the page; its usage stays under its name.
///
/// # Errors
/// As [`edit`].
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<(), Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    actor.require(Action::ConfigureGateway)?;
    let found = editable(&txn, id).await?;
    let before = spec_of(&txn, &found).await?;
    route::Entity::delete_by_id(id).exec(&txn).await?;
    let detail = format!(
        "Deleted {} ({})",
        found.name,
        targets_words(&txn, &before.targets).await?
    );
    audit::record_by(&txn, &actor, "route.delete", &target(id), &detail).await?;
    txn.commit().await?;
    Ok(())
}

/// The enabled routes with their targets, for the gateway.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn served(conn: &impl ConnectionTrait) -> Result<Vec<Served>, Error> {
    let routes = route::Entity::find()
        .filter(route::Column::Enabled.eq(true))
        .order_by_asc(route::Column::NameKey)
        .all(conn)
        .await?;
    if routes.is_empty() {
        return Ok(Vec::new());
    }
    let names = provider_names(conn).await?;
    let mut targets: HashMap<i64, Vec<ServedTarget>> = HashMap::new();
    for t in route_target::Entity::find()
        .order_by_asc(route_target::Column::Position)
        .all(conn)
        .await?
    {
        let target = served_target(&t, &names);
        targets.entry(t.route_id).or_default().push(target);
    }
    let mut teams: HashMap<i64, Vec<i64>> = HashMap::new();
    for row in route_team::Entity::find().all(conn).await? {
        teams.entry(row.route_id).or_default().push(row.team_id);
    }
    Ok(routes
        .into_iter()
        .map(|r| Served {
            teams: (!r.all_teams).then(|| teams.remove(&r.id).unwrap_or_default()),
            targets: targets.remove(&r.id).unwrap_or_default(),
            name: r.name,
        })
        .collect())
}

fn served_target(t: &route_target::Model, providers: &HashMap<i64, String>) -> ServedTarget {
    ServedTarget {
        provider: providers.get(&t.provider_id).cloned().unwrap_or_default(),
        upstream_name: t.upstream_name.clone(),
        price: Price {
            input_micros_per_mtok: t.input_micros_per_mtok,
            output_micros_per_mtok: t.output_micros_per_mtok,
        },
        max_output_tokens: u64::try_from(t.max_output_tokens).unwrap_or(1),
        image_input_tokens: t.image_input_tokens.and_then(|n| u64::try_from(n).ok()),
    }
}

async fn provider_names(conn: &impl ConnectionTrait) -> Result<HashMap<i64, String>, Error> {
    Ok(provider::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect())
}

/// Every route's name, by name (what a key's models and a guardrail's may name).
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn names(conn: &impl ConnectionTrait) -> Result<Vec<String>, Error> {
    Ok(route::Entity::find()
        .order_by_asc(route::Column::NameKey)
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect())
}

/// The routes sending to each provider (by the provider's id), by name.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn by_provider(conn: &impl ConnectionTrait) -> Result<HashMap<i64, Vec<String>>, Error> {
    let names: HashMap<i64, String> = route::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let mut by: HashMap<i64, Vec<String>> = HashMap::new();
    for t in route_target::Entity::find().all(conn).await? {
        if let Some(name) = names.get(&t.route_id) {
            let list = by.entry(t.provider_id).or_default();
            if !list.contains(name) {
                list.push(name.clone());
            }
        }
    }
    for list in by.values_mut() {
        list.sort_by_key(|n| n.to_lowercase());
    }
    Ok(by)
}

/// The routes from the providers file that send to provider `id`, by name.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn from_file_sending_to(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Vec<String>, Error> {
    let routes: Vec<i64> = route_target::Entity::find()
        .filter(route_target::Column::ProviderId.eq(id))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| t.route_id)
        .collect();
    Ok(route::Entity::find()
        .filter(route::Column::Id.is_in(routes))
        .filter(route::Column::FromFile.eq(true))
        .order_by_asc(route::Column::NameKey)
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect())
}

/// Every route as a providers file would hold it, by name.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn export(conn: &impl ConnectionTrait) -> Result<Vec<FileRoute>, Error> {
    let names = provider_names(conn).await?;
    let teams = team_scope::choices(conn).await?;
    let mut chosen = chosen_teams(conn, &teams).await?;
    let mut targets: HashMap<i64, Vec<ServedTarget>> = HashMap::new();
    for t in route_target::Entity::find()
        .order_by_asc(route_target::Column::Position)
        .all(conn)
        .await?
    {
        let target = served_target(&t, &names);
        targets.entry(t.route_id).or_default().push(target);
    }
    Ok(route::Entity::find()
        .order_by_asc(route::Column::NameKey)
        .all(conn)
        .await?
        .into_iter()
        .map(|r| FileRoute {
            targets: targets.remove(&r.id).unwrap_or_default(),
            teams: (!r.all_teams).then(|| {
                chosen
                    .remove(&r.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| t.name)
                    .collect()
            }),
            name: r.name,
            enabled: r.enabled,
        })
        .collect())
}

/// Makes the database hold the file's routes (after its providers): each is created, or updated
/// where it differs, and marked as from the file; a route the file no longer names stays,
/// disabled and editable on the page. Audited once when anything changed. Returns how many were created and
/// updated.
///
/// # Errors
/// [`Error::Validation`] naming a provider that does not exist; [`Error::Internal`] on database
/// failure.
pub async fn apply_file(
    db: &DatabaseConnection,
    file: &[FileRoute],
) -> Result<(usize, usize), Error> {
    let txn = db::begin_access_write(db).await?;
    let providers: HashMap<String, i64> = provider::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| (p.name_key, p.id))
        .collect();
    let teams: HashMap<String, i64> = team_scope::choices(&txn)
        .await?
        .into_iter()
        .map(|t| (t.name.to_lowercase(), t.id))
        .collect();
    let stored = route::Entity::find().all(&txn).await?;
    let now = Utc::now();
    let (mut created, mut updated) = (Vec::new(), Vec::new());
    for entry in file {
        let spec = file_spec(entry, &providers, &teams)?;
        let existing = stored.iter().find(|r| r.name_key == name_key(&entry.name));
        if let Some(r) = existing
            && r.from_file
            && r.enabled == entry.enabled
            && r.name == spec.name
            && spec_of(&txn, r).await? == spec
        {
            continue;
        }
        let mut row = match existing {
            Some(r) => r.clone().into_active_model(),
            None => route::ActiveModel {
                created_at: Set(now),
                ..Default::default()
            },
        };
        row.name = Set(spec.name.clone());
        row.name_key = Set(name_key(&spec.name));
        row.all_teams = Set(spec.teams.is_none());
        row.enabled = Set(entry.enabled);
        row.from_file = Set(true);
        row.updated_at = Set(now);
        let id = match existing {
            Some(r) => {
                row.update(&txn).await?;
                updated.push(spec.name.clone());
                r.id
            }
            None => {
                let saved = row.insert(&txn).await?;
                created.push(spec.name.clone());
                saved.id
            }
        };
        set_targets(&txn, id, &spec.targets).await?;
        set_teams(&txn, id, spec.teams.as_deref()).await?;
    }
    let named: Vec<String> = file.iter().map(|f| name_key(&f.name)).collect();
    // As a model the file no longer lists stopped being served, a route it no longer names is
    // disabled: editable on the page, and enabled there again by someone who means it.
    let released = route::Entity::update_many()
        .col_expr(route::Column::FromFile, false.into())
        .col_expr(route::Column::Enabled, false.into())
        .col_expr(route::Column::UpdatedAt, now.into())
        .filter(route::Column::FromFile.eq(true))
        .filter(route::Column::NameKey.is_not_in(named))
        .exec(&txn)
        .await?
        .rows_affected;
    if !created.is_empty() || !updated.is_empty() || released > 0 {
        let mut parts = Vec::new();
        if !created.is_empty() {
            parts.push(format!("created {}", created.join(", ")));
        }
        if !updated.is_empty() {
            parts.push(format!("updated {}", updated.join(", ")));
        }
        if released > 0 {
            parts.push(format!(
                "{released} no longer in the file, now disabled and editable"
            ));
        }
        let by = audit::By {
            id: None,
            email: "providers file",
        };
        let detail = format!("Applied the providers file's routes: {}", parts.join("; "));
        audit::record(&txn, by, "route.file", "route:file", &detail).await?;
    }
    txn.commit().await?;
    Ok((created.len(), updated.len()))
}

/// A file's route with its providers and teams found by name.
///
/// # Errors
/// [`Error::Validation`] naming a provider that does not exist.
fn file_spec(
    entry: &FileRoute,
    providers: &HashMap<String, i64>,
    teams: &HashMap<String, i64>,
) -> Result<RouteSpec, Error> {
    let targets = entry
        .targets
        .iter()
        .map(|t| {
            let provider_id = *providers
                .get(&crate::providers::name_key(&t.provider))
                .ok_or_else(|| {
                    Error::validation(
                        "provider",
                        format!("Route {}: no provider is named {}.", entry.name, t.provider),
                    )
                })?;
            Ok(TargetSpec {
                provider_id,
                upstream_name: t.upstream_name.clone(),
                input_micros_per_mtok: t.price.input_micros_per_mtok,
                output_micros_per_mtok: t.price.output_micros_per_mtok,
                max_output_tokens: t.max_output_tokens,
                image_input_tokens: t.image_input_tokens,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    // A team the file names that is not there (renamed or deleted on the Teams page since)
    // keeps the route from no one more: it is left out, and said in the log — the gateway
    // still starts, and the route opens to no team it was not meant for.
    let teams = entry.teams.as_ref().map(|names| {
        let mut ids: Vec<i64> = names
            .iter()
            .filter_map(|n| {
                let found = teams.get(&n.trim().to_lowercase()).copied();
                if found.is_none() {
                    tracing::warn!(
                        "the providers file keeps route {} to the team {n}, which does not exist: the route is kept to the other teams it names",
                        entry.name
                    );
                }
                found
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    });
    Ok(RouteSpec {
        name: entry.name.clone(),
        targets,
        teams,
    })
}

/// A stored route as a checked form would give it.
async fn spec_of(conn: &impl ConnectionTrait, r: &route::Model) -> Result<RouteSpec, Error> {
    let targets = route_target::Entity::find()
        .filter(route_target::Column::RouteId.eq(r.id))
        .order_by_asc(route_target::Column::Position)
        .all(conn)
        .await?
        .into_iter()
        .map(|t| TargetSpec {
            provider_id: t.provider_id,
            upstream_name: t.upstream_name,
            input_micros_per_mtok: t.input_micros_per_mtok,
            output_micros_per_mtok: t.output_micros_per_mtok,
            max_output_tokens: u64::try_from(t.max_output_tokens).unwrap_or(1),
            image_input_tokens: t.image_input_tokens.and_then(|n| u64::try_from(n).ok()),
        })
        .collect();
    let teams = if r.all_teams {
        None
    } else {
        let mut ids: Vec<i64> = route_team::Entity::find()
            .filter(route_team::Column::RouteId.eq(r.id))
            .all(conn)
            .await?
            .into_iter()
            .map(|t| t.team_id)
            .collect();
        ids.sort_unstable();
        Some(ids)
    };
    Ok(RouteSpec {
        name: r.name.clone(),
        targets,
        teams,
    })
}

async fn set_targets(
    conn: &impl ConnectionTrait,
    id: i64,
    targets: &[TargetSpec],
) -> Result<(), Error> {
    route_target::Entity::delete_many()
        .filter(route_target::Column::RouteId.eq(id))
        .exec(conn)
        .await?;
    if targets.is_empty() {
        return Ok(());
    }
    let big = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    route_target::Entity::insert_many(targets.iter().enumerate().map(|(i, t)| {
        route_target::ActiveModel {
            route_id: Set(id),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            provider_id: Set(t.provider_id),
            upstream_name: Set(t.upstream_name.clone()),
            input_micros_per_mtok: Set(t.input_micros_per_mtok),
            output_micros_per_mtok: Set(t.output_micros_per_mtok),
            max_output_tokens: Set(big(t.max_output_tokens)),
            image_input_tokens: Set(t.image_input_tokens.map(big)),
        }
    }))
    .exec(conn)
    .await?;
    Ok(())
}

async fn set_teams(
    conn: &impl ConnectionTrait,
    id: i64,
    teams: Option<&[i64]>,
) -> Result<(), Error> {
    route_team::Entity::delete_many()
        .filter(route_team::Column::RouteId.eq(id))
        .exec(conn)
        .await?;
    if let Some(teams) = teams.filter(|t| !t.is_empty()) {
        route_team::Entity::insert_many(teams.iter().map(|t| route_team::ActiveModel {
            route_id: Set(id),
            team_id: Set(*t),
        }))
        .exec(conn)
        .await?;
    }
    Ok(())
}

/// Targets in words for the audit log: "openai gpt-4o-mini at $0.15 / $0.60 per Mtok, up to
/// 16384 out, then …".
async fn targets_words(
    conn: &impl ConnectionTrait,
    targets: &[TargetSpec],
) -> Result<String, Error> {
    let names = provider_names(conn).await?;
    Ok(targets
        .iter()
        .map(|t| {
            format!(
                "{} {} at ${} / ${} per Mtok, up to {} out{}",
                names.get(&t.provider_id).map_or("?", String::as_str),
                t.upstream_name,
                usd_per_mtok(t.input_micros_per_mtok),
                usd_per_mtok(t.output_micros_per_mtok),
                t.max_output_tokens,
                t.image_input_tokens
                    .map(|n| format!(", images {n} tokens"))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", then "))
}

/// Refuses renaming a route that guardrails or live keys name (they name models by name: a new
/// name would leave a guardrail checking nothing and a key refused the route).
async fn ensure_unnamed(conn: &impl ConnectionTrait, name: &str) -> Result<(), Error> {
    let rules: Vec<String> = guardrail::Entity::find()
        .order_by_asc(guardrail::Column::NameKey)
        .all(conn)
        .await?
        .into_iter()
        .filter(|g| g.models.0.iter().any(|m| m == name))
        .map(|g| g.name)
        .collect();
    let keys = api_key::Entity::find()
        .filter(api_key::Column::RevokedAt.is_null())
        .filter(api_key::Column::Models.is_not_null())
        .all(conn)
        .await?
        .into_iter()
        .filter(|k| {
            k.models
                .as_ref()
                .is_some_and(|m| m.0.iter().any(|m| m == name))
        })
        .count();
    let mut users = Vec::new();
    if !rules.is_empty() {
        users.push(format!("Guardrails {}", rules.join(", ")));
    }
    match keys {
        0 => {}
        1 => users.push("1 API key".to_owned()),
        n => users.push(format!("{n} API keys")),
    }
    if users.is_empty() {
        return Ok(());
    }
    Err(Error::validation(
        "name",
        format!(
            "{} name {name}: change them first, or add a new route and disable this one.",
            users.join(" and ")
        ),
    ))
}

fn target(id: i64) -> String {
    format!("route:{id}")
}

fn name_taken() -> Error {
    Error::validation("name", "Another route has this name (names ignore case).")
}

async fn find(conn: &impl ConnectionTrait, id: i64) -> Result<route::Model, Error> {
    route::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound("That route no longer exists.".to_owned()))
}

/// A route the page may change: one not from the providers file.
async fn editable(conn: &impl ConnectionTrait, id: i64) -> Result<route::Model, Error> {
    let found = find(conn, id).await?;
    if found.from_file {
        return Err(Error::Forbidden(format!(
            "{} comes from the providers file: change it there and restart.",
            found.name
        )));
    }
    Ok(found)
}
