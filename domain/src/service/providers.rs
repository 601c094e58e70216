//! Upstream providers in the database: the Providers page's list and changes (Owners and
//! Admins change, everyone reads, nobody reads a key), the providers file applied at start, and
//! the enabled providers with their keys opened for the gateway. Every change is audited (the
//! fields changed, never a key) and moves the access epoch (a trigger), so every process uses
//! it on its next request.

use crate::entity::{provider, route};
use crate::permission::{Action, Actor};
use crate::providers::{
    Health, Probe, ProviderInput, ProviderRow, ProviderSpec, ProvidersView, last4, name_key,
    origin_of, same_server,
};
use crate::sealing::{Purpose, Sealer};
use crate::secret::Secret;
use crate::service::{audit, begin_as, routes};
use crate::{Error, db};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

/// A provider as the gateway uses it: enabled, its key opened.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub name: String,
    pub base_url: String,
    pub api_key: Option<Secret>,
    pub timeout_secs: u32,
}

/// A provider the providers file names.
#[derive(Debug, Clone)]
pub struct FileProvider {
    pub name: String,
    pub base_url: String,
    pub api_key: Option<Secret>,
    /// The variable the key was read from.
    pub api_key_env: Option<String>,
    pub timeout_secs: u32,
    pub enabled: bool,
}

/// A provider as `tollgate export-config` writes it: never its key, only where a file would
/// read it from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub name: String,
    pub base_url: String,
    /// The file's variable; for a key set on the page, `NAME_API_KEY`.
    pub api_key_env: Option<String>,
    /// Whether the key was set on the page (so the variable must be set before importing).
    pub key_from_page: bool,
    pub timeout_secs: u32,
    pub enabled: bool,
}

impl FileProvider {
    /// The provider as the gateway would use it.
    pub fn upstream(&self) -> Upstream {
        Upstream {
            name: self.name.clone(),
            base_url: self.base_url.clone(),
            api_key: self.api_key.clone(),
            timeout_secs: self.timeout_secs,
        }
    }
}

/// The Providers page, each provider with the routes that send to it.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn view(db: &DatabaseConnection, actor: &Actor) -> Result<ProvidersView, Error> {
    actor.require(Action::Read)?;
    let mut routes = routes::by_provider(db).await?;
    let rows: Vec<ProviderRow> = provider::Entity::find()
        .order_by_asc(provider::Column::NameKey)
        .all(db)
        .await?
        .into_iter()
        .map(|p| {
            let used = routes.remove(&p.id).unwrap_or_default();
            row_of(p, used)
        })
        .collect();
    Ok(ProvidersView {
        routes: route::Entity::find().count(db).await?,
        rows,
        can_change: actor.can(Action::ConfigureGateway),
        generated_at: Utc::now(),
    })
}

fn row_of(p: provider::Model, routes: Vec<String>) -> ProviderRow {
    let health = p.checked_at.map(|at| Health {
        at,
        outcome: match (p.check_status, p.check_error) {
            (Some(status), _) if (200..300).contains(&status) => Probe::Ok {
                models: u32::try_from(p.check_models.unwrap_or(0)).unwrap_or(0),
            },
            (Some(status), _) => Probe::Status(u16::try_from(status).unwrap_or(0)),
            (None, why) => Probe::Failed(why.unwrap_or_default()),
        },
    });
    ProviderRow {
        id: p.id,
        name: p.name,
        base_url: p.base_url,
        key_last4: p.api_key_last4,
        key_env: p.api_key_env,
        timeout_secs: u32::try_from(p.timeout_secs).unwrap_or(0),
        enabled: p.enabled,
        from_file: p.from_file,
        health,
        routes,
    }
}

/// Adds a provider from the page.
///
/// # Errors
/// [`Error::Forbidden`] below Admin; [`Error::Validation`] on a field, a name taken (any case)
/// included; [`Error::Internal`] on database failure.
pub async fn add(
    db: &DatabaseConnection,
    sealer: &Sealer,
    actor: &Actor,
    input: &ProviderInput,
) -> Result<i64, Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    actor.require(Action::ConfigureGateway)?;
    let spec = input.check()?;
    ensure_name_free(&txn, &spec.name, None).await?;
    let now = Utc::now();
    let mut row = provider::ActiveModel {
        name: Set(spec.name.clone()),
        name_key: Set(name_key(&spec.name)),
        base_url: Set(spec.base_url.clone()),
        timeout_secs: Set(timeout_column(spec.timeout_secs)),
        enabled: Set(true),
        from_file: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    if let Some(key) = &spec.api_key {
        set_key(&mut row, sealer, &spec.base_url, key);
    }
    let saved = row
        .insert(&txn)
        .await
        .map_err(db::duplicate_as(name_taken))?;
    let detail = format!(
        "Added {}: {}, key {}, timeout {} s",
        spec.name,
        spec.base_url,
        if spec.api_key.is_some() {
            "set"
        } else {
            "none"
        },
        spec.timeout_secs
    );
    audit::record_by(&txn, &actor, "provider.add", &target(saved.id), &detail).await?;
    txn.commit().await?;
    Ok(saved.id)
}

/// Changes a provider made on the page; a blank key keeps the key there is. Routes made on the
/// page name it by its id, so a new name is theirs at once; the providers file names it by name,
/// so a provider its routes send to keeps its name.
///
/// # Errors
/// [`Error::Forbidden`] below Admin or for a provider from the file; [`Error::NotFound`];
/// [`Error::Validation`] on a field; [`Error::Internal`] on database failure.
pub async fn edit(
    db: &DatabaseConnection,
    sealer: &Sealer,
    actor: &Actor,
    id: i64,
    input: &ProviderInput,
) -> Result<(), Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    actor.require(Action::ConfigureGateway)?;
    let found = editable(&txn, id).await?;
    let spec = input.check()?;
    ensure_name_free(&txn, &spec.name, Some(id)).await?;
    // A stored key goes only to the server it was entered for: pointing a provider elsewhere
    // must not send its key there unseen.
    if found.api_key_sealed.is_some()
        && spec.api_key.is_none()
        && !same_server(&found.base_url, &spec.base_url)
    {
        return Err(Error::validation(
            "api_key",
            "The base URL now points at another server: enter the key again (a stored key is only sent to the server it was entered for).",
        ));
    }
    // The providers file names providers by name: renaming one its routes send to would stop
    // the next start.
    if found.name != spec.name {
        let from_file = routes::from_file_sending_to(&txn, id).await?;
        if !from_file.is_empty() {
            return Err(Error::validation(
                "name",
                format!(
                    "The providers file's routes {} name {}: rename it in the file too, or change those routes first.",
                    from_file.join(", "),
                    found.name
                ),
            ));
        }
    }
    let changes = changed_fields(&found, &spec);
    if changes.is_empty() {
        return Ok(());
    }
    let mut row = found.clone().into_active_model();
    row.name = Set(spec.name.clone());
    row.name_key = Set(name_key(&spec.name));
    row.base_url = Set(spec.base_url.clone());
    row.timeout_secs = Set(timeout_column(spec.timeout_secs));
    // Without a new key the stored one stays sealed to the same server (another server needs the
    // key again, above).
    if let Some(key) = &spec.api_key {
        set_key(&mut row, sealer, &spec.base_url, key);
        row.api_key_env = Set(None);
    }
    if spec.api_key.is_some() || found.base_url != spec.base_url {
        forget_test(&mut row);
    }
    row.updated_at = Set(Utc::now());
    row.update(&txn)
        .await
        .map_err(db::duplicate_as(name_taken))?;
    let detail = format!("Edited {}: {}", found.name, changes.join("; "));
    audit::record_by(&txn, &actor, "provider.edit", &target(id), &detail).await?;
    txn.commit().await?;
    Ok(())
}

/// What an edit changes, in words for the audit log (a key only as "replaced").
fn changed_fields(found: &provider::Model, spec: &ProviderSpec) -> Vec<String> {
    let mut changes = Vec::new();
    if found.name != spec.name {
        changes.push(format!("name {} → {}", found.name, spec.name));
    }
    if found.base_url != spec.base_url {
        changes.push(format!("base URL {} → {}", found.base_url, spec.base_url));
    }
    if found.timeout_secs != timeout_column(spec.timeout_secs) {
        changes.push(format!(
            "timeout {} s → {} s",
            found.timeout_secs, spec.timeout_secs
        ));
    }
    if spec.api_key.is_some() {
        changes.push("key replaced".to_owned());
    }
    changes
}

/// Enables or disables a provider made on the page. A disabled provider's models are not
/// offered, and requests for them are refused as for a model that does not exist.
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
    audit::record_switch(&txn, &actor, "provider", id, &name, enabled).await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes a provider made on the page that no route sends to.
///
/// # Errors
/// [`Error::Conflict`] naming the routes that use it; otherwise as [`edit`].
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<(), Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    actor.require(Action::ConfigureGateway)?;
    let found = editable(&txn, id).await?;
    let used = routes::by_provider(&txn)
        .await?
        .remove(&id)
        .unwrap_or_default();
    if !used.is_empty() {
        return Err(Error::Conflict(format!(
            "Routes {} send to {}: it cannot be deleted while they use it. Change them, or disable it instead.",
            used.join(", "),
            found.name
        )));
    }
    provider::Entity::delete_by_id(id).exec(&txn).await?;
    let detail = format!("Deleted {} ({})", found.name, found.base_url);
    audit::record_by(&txn, &actor, "provider.delete", &target(id), &detail).await?;
    txn.commit().await?;
    Ok(())
}

/// What a connection test needs: the provider with its key opened. Only those who may change
/// providers may test them (a test sends the key).
///
/// # Errors
/// [`Error::Forbidden`] below Admin; [`Error::NotFound`]; [`Error::Internal`] when the key
/// does not open.
pub async fn to_test(
    db: &DatabaseConnection,
    sealer: &Sealer,
    actor: &Actor,
    id: i64,
) -> Result<ToTest, Error> {
    actor.require(Action::ConfigureGateway)?;
    let found = find(db, id).await?;
    let as_of = found.updated_at;
    Ok(ToTest {
        upstream: upstream_of(sealer, found)?,
        as_of,
    })
}

/// A provider to test, as it was when the test started.
#[derive(Debug)]
pub struct ToTest {
    pub upstream: Upstream,
    /// When the provider was last changed: a result is kept only if it was not changed since.
    pub as_of: DateTime<Utc>,
}

/// Keeps the outcome of a connection test of `tested` on the provider's row (no audit entry,
/// no epoch move) — unless the provider was changed while it ran.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn record_test(
    db: &DatabaseConnection,
    id: i64,
    tested: &ToTest,
    probe: &Probe,
    at: DateTime<Utc>,
) -> Result<Health, Error> {
    let (status, models, error) = match probe {
        Probe::Ok { models } => (Some(200), i32::try_from(*models).ok(), None),
        Probe::Status(code) => (Some(i32::from(*code)), None, None),
        Probe::Failed(why) => (None, None, Some(why.clone())),
    };
    provider::Entity::update_many()
        .col_expr(provider::Column::CheckedAt, at.into())
        .col_expr(provider::Column::CheckStatus, status.into())
        .col_expr(provider::Column::CheckModels, models.into())
        .col_expr(provider::Column::CheckError, error.into())
        .filter(provider::Column::Id.eq(id))
        .filter(provider::Column::UpdatedAt.eq(tested.as_of))
        .exec(db)
        .await?;
    Ok(Health {
        at,
        outcome: probe.clone(),
    })
}

/// The enabled providers with their keys opened, for the gateway. A provider whose key does not
/// open (sealed under a data key this process lacks) is left out, and logged.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn enabled(db: &impl ConnectionTrait, sealer: &Sealer) -> Result<Vec<Upstream>, Error> {
    Ok(provider::Entity::find()
        .filter(provider::Column::Enabled.eq(true))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|p| {
            let name = p.name.clone();
            upstream_of(sealer, p)
                .inspect_err(|_| {
                    tracing::error!(
                        "the key of provider {name} does not open with this process's TOLLGATE_SECRET_KEY: its models are not served"
                    );
                })
                .ok()
        })
        .collect())
}

/// Whether any provider has a sealed key (so a data key must already exist).
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn any_sealed(db: &impl ConnectionTrait) -> Result<bool, Error> {
    Ok(provider::Entity::find()
        .filter(provider::Column::ApiKeySealed.is_not_null())
        .one(db)
        .await?
        .is_some())
}

/// Every provider, by name, as a providers file would hold it.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn export(db: &impl ConnectionTrait) -> Result<Vec<Exported>, Error> {
    let rows = provider::Entity::find()
        .order_by_asc(provider::Column::NameKey)
        .all(db)
        .await?;
    // Variables the file already names, and those proposed so far: no two providers share one.
    let mut taken: std::collections::HashSet<String> =
        rows.iter().filter_map(|p| p.api_key_env.clone()).collect();
    let mut unique = |stem: String| {
        let mut name = format!("{stem}_API_KEY");
        let mut n = 2;
        while !taken.insert(name.clone()) {
            name = format!("{stem}_{n}_API_KEY");
            n += 1;
        }
        name
    };
    Ok(rows
        .into_iter()
        .map(|p| {
            let key_from_page = p.api_key_sealed.is_some() && p.api_key_env.is_none();
            let api_key_env = p.api_key_env.clone().or_else(|| {
                key_from_page.then(|| {
                    let stem: String = p
                        .name
                        .chars()
                        .map(|c| {
                            if c.is_ascii_alphanumeric() {
                                c.to_ascii_uppercase()
                            } else {
                                '_'
                            }
                        })
                        .collect();
                    unique(stem)
                })
            });
            Exported {
                name: p.name,
                base_url: p.base_url,
                api_key_env,
                key_from_page,
                timeout_secs: u32::try_from(p.timeout_secs).unwrap_or(1),
                enabled: p.enabled,
            }
        })
        .collect())
}

/// Every provider's name, enabled or not (what the providers file's models may name).
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn names(db: &impl ConnectionTrait) -> Result<Vec<String>, Error> {
    Ok(provider::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect())
}

/// Makes the database hold the file's providers: each is created, or updated where it differs,
/// and marked as from the file; a provider the file no longer names stays, editable on the page.
/// Audited once when anything changed. Returns how many were created and updated.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn apply_file(
    db: &DatabaseConnection,
    sealer: &Sealer,
    file: &[FileProvider],
) -> Result<(usize, usize), Error> {
    let txn = db::begin_access_write(db).await?;
    let stored = provider::Entity::find().all(&txn).await?;
    let now = Utc::now();
    let (mut created, mut updated) = (Vec::new(), Vec::new());
    for entry in file {
        let key = name_key(&entry.name);
        let same_key = |p: &provider::Model| match (&entry.api_key, &p.api_key_sealed) {
            (None, None) => true,
            (Some(k), Some(sealed)) => sealer
                .open(Purpose::ProviderKey, &origin_of(&p.base_url), sealed)
                .is_ok_and(|o| o.secret == *k && !o.under_previous),
            _ => false,
        };
        match stored.iter().find(|p| p.name_key == key) {
            Some(p)
                if p.from_file
                    && p.enabled == entry.enabled
                    && p.name == entry.name
                    && p.base_url == entry.base_url
                    && p.timeout_secs == timeout_column(entry.timeout_secs)
                    && p.api_key_env == entry.api_key_env
                    && same_key(p) => {}
            Some(p) => {
                let mut row = p.clone().into_active_model();
                fill_from_file(&mut row, sealer, entry, now);
                row.update(&txn).await?;
                updated.push(entry.name.clone());
            }
            None => {
                let mut row = provider::ActiveModel {
                    created_at: Set(now),
                    ..Default::default()
                };
                fill_from_file(&mut row, sealer, entry, now);
                row.insert(&txn).await?;
                created.push(entry.name.clone());
            }
        }
    }
    let named: Vec<String> = file.iter().map(|f| name_key(&f.name)).collect();
    // Released to the page: its key was the file's variable's; the page now owns it.
    let released = provider::Entity::update_many()
        .col_expr(provider::Column::FromFile, false.into())
        .col_expr(provider::Column::ApiKeyEnv, Option::<String>::None.into())
        .filter(provider::Column::FromFile.eq(true))
        .filter(provider::Column::NameKey.is_not_in(named))
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
            parts.push(format!("{released} no longer in the file, now editable"));
        }
        let by = audit::By {
            id: None,
            email: "providers file",
        };
        let detail = format!("Applied the providers file: {}", parts.join("; "));
        audit::record(&txn, by, "provider.file", "provider:file", &detail).await?;
    }
    txn.commit().await?;
    Ok((created.len(), updated.len()))
}

fn fill_from_file(
    row: &mut provider::ActiveModel,
    sealer: &Sealer,
    entry: &FileProvider,
    now: DateTime<Utc>,
) {
    row.name = Set(entry.name.clone());
    row.name_key = Set(name_key(&entry.name));
    row.base_url = Set(entry.base_url.clone());
    row.timeout_secs = Set(timeout_column(entry.timeout_secs));
    row.enabled = Set(entry.enabled);
    row.from_file = Set(true);
    row.api_key_env = Set(entry.api_key_env.clone());
    match &entry.api_key {
        Some(key) => set_key(row, sealer, &entry.base_url, key.expose()),
        None => {
            row.api_key_sealed = Set(None);
            row.api_key_last4 = Set(None);
        }
    }
    forget_test(row);
    row.updated_at = Set(now);
}

/// What [`reseal`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Keys sealed again under the current key.
    pub count: usize,
    /// Providers whose key neither data key opens (left as they are; their models are not
    /// served by this process).
    pub unreadable: Vec<String>,
}

/// Seals again, under the current key, every key still sealed under the previous one, and
/// names the providers whose keys neither opens.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn reseal(db: &DatabaseConnection, sealer: &Sealer) -> Result<Resealed, Error> {
    let txn = db::begin_write(db).await?;
    let mut done = Resealed::default();
    for p in provider::Entity::find()
        .filter(provider::Column::ApiKeySealed.is_not_null())
        .all(&txn)
        .await?
    {
        let Some(sealed) = &p.api_key_sealed else {
            continue;
        };
        let origin = origin_of(&p.base_url);
        let Ok(opened) = sealer.open(Purpose::ProviderKey, &origin, sealed) else {
            done.unreadable.push(p.name.clone());
            continue;
        };
        if opened.under_previous {
            let mut row = p.into_active_model();
            row.api_key_sealed = Set(Some(sealer.seal(
                Purpose::ProviderKey,
                &origin,
                opened.secret.expose(),
            )));
            row.update(&txn).await?;
            done.count += 1;
        }
    }
    txn.commit().await?;
    Ok(done)
}

/// Seals `key` to the server of `base_url`: it opens only for a provider pointing there.
fn set_key(row: &mut provider::ActiveModel, sealer: &Sealer, base_url: &str, key: &str) {
    row.api_key_sealed = Set(Some(sealer.seal(
        Purpose::ProviderKey,
        &origin_of(base_url),
        key,
    )));
    row.api_key_last4 = Set(Some(last4(key)));
}

/// A test of what the provider was is no news about what it is now.
fn forget_test(row: &mut provider::ActiveModel) {
    row.checked_at = Set(None);
    row.check_status = Set(None);
    row.check_models = Set(None);
    row.check_error = Set(None);
}

fn upstream_of(sealer: &Sealer, p: provider::Model) -> Result<Upstream, Error> {
    let api_key = match &p.api_key_sealed {
        Some(sealed) => Some(
            sealer
                .open(Purpose::ProviderKey, &origin_of(&p.base_url), sealed)?
                .secret,
        ),
        None => None,
    };
    Ok(Upstream {
        name: p.name,
        base_url: p.base_url,
        api_key,
        timeout_secs: u32::try_from(p.timeout_secs).unwrap_or(1),
    })
}

fn timeout_column(secs: u32) -> i32 {
    i32::try_from(secs).unwrap_or(i32::MAX)
}

fn target(id: i64) -> String {
    format!("provider:{id}")
}

fn name_taken() -> Error {
    Error::validation(
        "name",
        "Another provider has this name (names ignore case).",
    )
}

async fn find(conn: &impl ConnectionTrait, id: i64) -> Result<provider::Model, Error> {
    provider::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound("That provider no longer exists.".to_owned()))
}

/// A provider the page may change: one not from the providers file.
async fn editable(conn: &impl ConnectionTrait, id: i64) -> Result<provider::Model, Error> {
    let found = find(conn, id).await?;
    if found.from_file {
        return Err(Error::Forbidden(format!(
            "{} comes from the providers file: change it there and restart.",
            found.name
        )));
    }
    Ok(found)
}

async fn ensure_name_free(
    conn: &impl ConnectionTrait,
    name: &str,
    except: Option<i64>,
) -> Result<(), Error> {
    let mut query = provider::Entity::find().filter(provider::Column::NameKey.eq(name_key(name)));
    if let Some(id) = except {
        query = query.filter(provider::Column::Id.ne(id));
    }
    if query.one(conn).await?.is_some() {
        return Err(name_taken());
    }
    Ok(())
}
