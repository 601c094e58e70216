//! API keys: issuing (the secret is returned once and stored only as its SHA-256), revoking,
//! listing, and authenticating a presented key — the one lookup the gateway path makes.

use crate::entity::api_key::ModelNames;
use crate::entity::{api_key, gateway_setting, team, usage_key_month, user};
use crate::keys::{
    IssuedKey, KEY_NAME_MAX, KEY_PREFIX, KeyBlock, KeyPage, KeyQuery, KeyRow, KeyScope, KeyStatus,
    VISIBLE_PREFIX_LEN,
};
use crate::list_query::{PER_PAGE, check_search, page_count, page_offset, page_served};
use crate::money::Money;
use crate::permission::{Action, Actor};
use crate::rate_limits::{Above, KeyLimits, RateLimits, budget_summary, loosens};
use crate::secret::Secret;
use crate::service::leases::gateway_limit;
use crate::service::users::lookup;
use crate::service::{audit, begin_as, escape_like, month_key};
use crate::validation::bounded_text;
use crate::{Error, KeyId, Role, Status, TeamId, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use rand::Rng;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, JoinType, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;

/// The characters of a key after `tg_`.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 43 base62 characters carry 256 random bits (43 × log2 62 ≈ 256.0).
const SECRET_CHARS: usize = 43;

/// A new key's secret: `tg_` and 43 uniformly random base62 characters.
pub fn new_secret() -> Secret {
    let mut rng = rand::rng();
    let mut out = String::with_capacity(KEY_PREFIX.len() + SECRET_CHARS);
    out.push_str(KEY_PREFIX);
    while out.len() < KEY_PREFIX.len() + SECRET_CHARS {
        // Rejection sampling keeps every character equally likely (248 = 4 × 62).
        let byte: u8 = rng.random();
        if byte < 248 {
            out.push(BASE62[usize::from(byte % 62)] as char);
        }
    }
    Secret::new(out)
}

/// What the Create key form sends.
#[derive(Debug, Clone, Default)]
pub struct IssueInput {
    pub name: String,
    /// `YYYY-MM-DD`: the last day the key works (UTC); empty for no expiry.
    pub expires_on: String,
    /// The key's team; `None` means the issuer's own team (or no team for Owners and Admins
    /// without one).
    pub team: Option<TeamId>,
    /// Its own budget, per-minute limits and models, checked by the caller
    /// ([`KeyLimits::parse`]).
    pub limits: KeyLimits,
}

/// Issues a key for the actor. The answer carries the secret; nothing stores or logs it.
///
/// It runs as an access-list write, as deleting a team does: the team read here still exists
/// at commit, or its deletion (which revokes the team's keys) runs after and revokes this one.
///
/// # Errors
/// [`Error::Forbidden`] for a Viewer, a Member without a team or a Member naming another team;
/// [`Error::Validation`] on `name` or `expires`; [`Error::NotFound`] for an unknown team.
pub async fn issue(
    db: &DatabaseConnection,
    actor: &Actor,
    input: IssueInput,
) -> Result<IssuedKey, Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    let actor = &actor;
    let me = lookup::find(&txn, actor.id).await?;
    let own_team = me.team_id.map(TeamId);
    let into = input.team.or(own_team);
    actor.require(Action::IssueKey { own_team, into })?;
    let name = bounded_text("name", &input.name, KEY_NAME_MAX, "Name the key.")?;
    let now = Utc::now();
    let expires_at = expiry(&input.expires_on, now)?;
    let team = match into {
        Some(team_id) => Some(
            team::Entity::find_by_id(team_id.0)
                .one(&txn)
                .await?
                .ok_or_else(|| Error::validation("team", "This team no longer exists."))?,
        ),
        None => None,
    };
    let limits = input.limits;
    if limits != KeyLimits::default() {
        let above = limits_above(&txn, team.as_ref(), Some(&me)).await?;
        actor.require(Action::SetKeyLimits {
            owner: Some(actor.id),
            loosens: loosens(&KeyLimits::default(), above, &limits),
        })?;
    }
    let (requests_per_minute, tokens_per_minute) = limits.rates.columns();
    let secret = new_secret();
    let prefix: String = secret.expose().chars().take(VISIBLE_PREFIX_LEN).collect();
    let key = api_key::ActiveModel {
        user_id: Set(Some(actor.id.0)),
        team_id: Set(into.map(|t| t.0)),
        name: Set(name.clone()),
        prefix: Set(prefix.clone()),
        secret_hash: Set(secret.digest()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        requests_per_minute: Set(requests_per_minute),
        tokens_per_minute: Set(tokens_per_minute),
        models: Set(limits.models.clone().map(ModelNames)),
        monthly_limit_micros: Set(limits.budget.map(Money::micros)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let by = audit::By {
        id: Some(actor.id.0),
        email: &me.email,
    };
    let detail = match limits_detail(&limits) {
        Some(limits) => format!("{name} ({prefix}…), {limits}"),
        None => format!("{name} ({prefix}…)"),
    };
    audit::record(&txn, by, "key.issue", &format!("key:{}", key.id), &detail).await?;
    let row = rows(&txn, vec![key], now).await?.remove(0);
    txn.commit().await?;
    Ok(IssuedKey {
        key: row,
        secret: secret.expose().to_owned(),
    })
}

/// What applies to a key of `team` owned by `owner` besides its own limits: the team's
/// per-minute limits, and the least of the team's monthly limit and the owner's member budget.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub(crate) async fn limits_above(
    conn: &impl ConnectionTrait,
    team: Option<&team::Model>,
    owner: Option<&user::Model>,
) -> Result<Above, Error> {
    let member = match owner {
        Some(person) if person.monthly_limit_micros.is_some() => person.monthly_limit_micros,
        Some(person) => match person.team_id {
            Some(id) if Some(id) == team.map(|t| t.id) => team.and_then(|t| t.member_limit_micros),
            Some(id) => team::Entity::find_by_id(id)
                .one(conn)
                .await?
                .and_then(|t| t.member_limit_micros),
            None => None,
        },
        None => None,
    };
    let team_limit = team.and_then(|t| t.monthly_limit_micros);
    Ok(Above {
        rates: team
            .map(|t| RateLimits::from_columns(t.requests_per_minute, t.tokens_per_minute))
            .unwrap_or_default(),
        budget: member.into_iter().chain(team_limit).min().map(Money),
    })
}

/// A key's limits as the audit log writes them; `None` without any.
pub(crate) fn limits_detail(limits: &KeyLimits) -> Option<String> {
    let parts: Vec<String> = [
        limits.budget.map(budget_summary),
        limits.rates.summary(),
        limits
            .models
            .as_ref()
            .map(|m| format!("models: {}", m.join(", "))),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Reads the expiry field: the key works through that day (UTC).
fn expiry(input: &str, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, Error> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    let day = NaiveDate::parse_from_str(input, "%Y-%m-%d")
        .map_err(|_| Error::validation("expires", "Enter a date like 2027-01-31."))?;
    if day < now.date_naive() {
        return Err(Error::validation("expires", "Pick today or a later day."));
    }
    let end = day
        .succ_opt()
        .and_then(|next| next.and_hms_opt(0, 0, 0))
        .ok_or_else(|| Error::validation("expires", "Pick an earlier day."))?;
    Ok(Some(end.and_utc()))
}

/// Revokes a key; it stays listed as revoked. Revoking a revoked key changes nothing.
///
/// # Errors
/// [`Error::Forbidden`] when the actor may not revoke it; [`Error::NotFound`] for no such key.
pub async fn revoke(db: &DatabaseConnection, actor: &Actor, id: KeyId) -> Result<KeyRow, Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    let actor = &actor;
    let key = find(&txn, id).await?;
    actor.require(Action::RevokeKey {
        owner: key.user_id.map(UserId),
    })?;
    let now = Utc::now();
    let key = if key.revoked_at.is_some() {
        key
    } else {
        let mut active: api_key::ActiveModel = key.into();
        active.revoked_at = Set(Some(now));
        let key = active.update(&txn).await?;
        record_on_key(&txn, actor, "key.revoke", &key, None).await?;
        key
    };
    let row = rows(&txn, vec![key], now).await?.remove(0);
    txn.commit().await?;
    Ok(row)
}

/// Loads a key or answers that it is gone.
pub(crate) async fn find(conn: &impl ConnectionTrait, id: KeyId) -> Result<api_key::Model, Error> {
    api_key::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound("This key no longer exists.".to_owned()))
}

/// Records `verb` on `key` in the audit log, by `actor`, with its name and prefix and `more`.
pub(crate) async fn record_on_key(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    verb: &str,
    key: &api_key::Model,
    more: Option<&str>,
) -> Result<(), Error> {
    let named = format!("{} ({}…)", key.name, key.prefix);
    let detail = match more {
        Some(more) => format!("{named}: {more}"),
        None => named,
    };
    audit::record_by(conn, actor, verb, &format!("key:{}", key.id), &detail).await
}

/// One page of keys: the actor's own, or (Owners and Admins) everyone's, filtered. A page out of
/// range is read as the nearest one.
///
/// # Errors
/// [`Error::Forbidden`] when a Member or Viewer asks for everyone's keys; [`Error::Validation`]
/// on `search` past [`SEARCH_MAX`](crate::list_query::SEARCH_MAX) characters.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &KeyQuery,
) -> Result<KeyPage, Error> {
    actor.require(Action::Read)?;
    check_search(&query.search)?;
    let now = Utc::now();
    let mut select = api_key::Entity::find();
    match query.scope {
        KeyScope::Mine => select = select.filter(api_key::Column::UserId.eq(actor.id.0)),
        KeyScope::All => {
            actor.require(Action::RevokeAnyKey)?;
            if let Some(user) = query.user {
                select = select.filter(api_key::Column::UserId.eq(user.0));
            }
            if let Some(team) = query.team {
                select = select.filter(api_key::Column::TeamId.eq(team.0));
            }
        }
    }
    if let Some(status) = query.status {
        select = select.filter(status_condition(status, now));
    }
    let needle = query.search.trim().to_lowercase();
    if !needle.is_empty() {
        let pattern = format!("%{}%", escape_like(&needle));
        select = select.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(api_key::Column::Name)))
                        .like(LikeExpr::new(pattern.clone()).escape('\\')),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col(api_key::Column::Prefix)))
                        .like(LikeExpr::new(pattern).escape('\\')),
                ),
        );
    }
    let matching = select.clone().count(db).await?;
    let pages = page_count(matching);
    let page = page_served(query.page, matching);
    let keys = select
        .order_by_desc(api_key::Column::CreatedAt)
        .order_by_desc(api_key::Column::Id)
        .offset(page_offset(page))
        .limit(PER_PAGE)
        .all(db)
        .await?;
    Ok(KeyPage {
        rows: rows(db, keys, now).await?,
        matching,
        page,
        pages,
        generated_at: now,
    })
}

/// A user's newest keys (at most a page of them), as their expanded row on the Users page shows
/// them; the row links to the keys page for the rest.
pub(crate) async fn of_user(db: &impl ConnectionTrait, id: UserId) -> Result<Vec<KeyRow>, Error> {
    let keys = api_key::Entity::find()
        .filter(api_key::Column::UserId.eq(id.0))
        .order_by_desc(api_key::Column::CreatedAt)
        .order_by_desc(api_key::Column::Id)
        .limit(PER_PAGE)
        .all(db)
        .await?;
    rows(db, keys, Utc::now()).await
}

/// A team's keys, newest first, as the Teams page's expanded row shows them (prefixes only).
///
/// # Errors
/// [`Error::Forbidden`] for an inactive actor.
pub async fn of_team(
    db: &DatabaseConnection,
    actor: &Actor,
    team: TeamId,
) -> Result<Vec<KeyRow>, Error> {
    actor.require(Action::Read)?;
    let keys = api_key::Entity::find()
        .filter(api_key::Column::TeamId.eq(team.0))
        .order_by_desc(api_key::Column::CreatedAt)
        .order_by_desc(api_key::Column::Id)
        .limit(PER_PAGE)
        .all(db)
        .await?;
    rows(db, keys, Utc::now()).await
}

/// The filter for one status: the SQL form of [`KeyStatus::of`].
fn status_condition(status: KeyStatus, now: DateTime<Utc>) -> Condition {
    let unexpired = Condition::any()
        .add(api_key::Column::ExpiresAt.is_null())
        .add(api_key::Column::ExpiresAt.gt(now));
    match status {
        KeyStatus::Revoked => Condition::all().add(api_key::Column::RevokedAt.is_not_null()),
        KeyStatus::Active => Condition::all()
            .add(api_key::Column::RevokedAt.is_null())
            .add(unexpired),
        KeyStatus::Expired => Condition::all()
            .add(api_key::Column::RevokedAt.is_null())
            .add(api_key::Column::ExpiresAt.lte(now)),
    }
}

/// Stored keys as rows, with their owners' emails and teams' names, and — for active keys — what
/// in their owner's role or team keeps them from working.
pub(crate) async fn rows(
    db: &impl ConnectionTrait,
    keys: Vec<api_key::Model>,
    now: DateTime<Utc>,
) -> Result<Vec<KeyRow>, Error> {
    let owner_ids: Vec<i64> = keys.iter().filter_map(|k| k.user_id).collect();
    let team_ids: Vec<i64> = keys.iter().filter_map(|k| k.team_id).collect();
    let owners: HashMap<i64, user::Model> = if owner_ids.is_empty() {
        HashMap::new()
    } else {
        user::Entity::find()
            .filter(user::Column::Id.is_in(owner_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect()
    };
    let key_ids: Vec<i64> = keys.iter().map(|k| k.id).collect();
    let spent: HashMap<i64, i64> = usage_key_month::Entity::find()
        .filter(usage_key_month::Column::KeyId.is_in(key_ids))
        .filter(usage_key_month::Column::Month.eq(month_key(now)))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.key_id, m.spend_micros))
        .collect();
    let teams: HashMap<i64, String> = if team_ids.is_empty() {
        HashMap::new()
    } else {
        team::Entity::find()
            .filter(team::Column::Id.is_in(team_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect()
    };
    Ok(keys
        .into_iter()
        .map(|k| {
            let owner = k.user_id.and_then(|id| owners.get(&id));
            let status = KeyStatus::of(k.revoked_at, k.expires_at, now);
            let blocked = match owner {
                Some(o) if status == KeyStatus::Active => {
                    KeyBlock::of(o.role, o.team_id.map(TeamId), k.team_id.map(TeamId))
                }
                _ => None,
            };
            KeyRow {
                id: KeyId(k.id),
                owner: owner.map(|o| (UserId(o.id), o.email.clone())),
                team: k
                    .team_id
                    .and_then(|id| teams.get(&id).map(|n| (TeamId(id), n.clone()))),
                status,
                blocked,
                limits: limits_of(&k),
                spent_this_month: Money(spent.get(&k.id).copied().unwrap_or(0)),
                name: k.name,
                prefix: k.prefix,
                created_at: k.created_at,
                last_used_at: k.last_used_at,
                expires_at: k.expires_at,
            }
        })
        .collect())
}

/// A stored key's own limits.
pub(crate) fn limits_of(key: &api_key::Model) -> KeyLimits {
    KeyLimits {
        rates: RateLimits::from_columns(key.requests_per_minute, key.tokens_per_minute),
        models: key.models.clone().map(|m| m.0),
        budget: key.monthly_limit_micros.map(Money::from_micros),
    }
}

/// A key that may be used now, with what the gateway needs to admit and meter a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAuth {
    pub key: KeyId,
    pub user: UserId,
    pub team: Option<TeamId>,
    /// The team's monthly spend limit; `None` when there is no team or no limit.
    pub team_limit: Option<Money>,
    /// The key's own monthly budget.
    pub key_limit: Option<Money>,
    /// Its owner's monthly budget as a member: their own, or else their team's default.
    pub member_limit: Option<Money>,
    /// The whole gateway's monthly limit.
    pub gateway_limit: Option<Money>,
    /// The monthly cap of keys outside any team; `None` when this key is in a team.
    pub teamless_limit: Option<Money>,
    /// When the key stops working, if ever (a cached answer checks it again on every use).
    pub expires_at: Option<DateTime<Utc>>,
    /// The key's own per-minute limits.
    pub rates: RateLimits,
    /// Its team's per-minute limits, over all the team's keys.
    pub team_rates: RateLimits,
    /// The models it may call; `None` is every model.
    pub models: Option<Vec<String>>,
}

impl From<KeyBlock> for KeyRefused {
    fn from(block: KeyBlock) -> Self {
        match block {
            KeyBlock::OwnerIsViewer => KeyRefused::OwnerIsViewer,
            KeyBlock::OutsideOwnersTeam => KeyRefused::OutsideOwnersTeam,
        }
    }
}

/// Why a presented key was refused. The gateway answers every one with 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefused {
    #[error("Incorrect API key provided.")]
    Unknown,
    #[error("This API key has been revoked.")]
    Revoked,
    #[error("This API key has expired.")]
    Expired,
    #[error("The owner of this API key cannot use it: their account is not active.")]
    OwnerInactive,
    #[error("This API key belongs to a Viewer, who cannot use the gateway.")]
    OwnerIsViewer,
    #[error(
        "This API key is outside its owner's team: Members may only use keys in their own team."
    )]
    OutsideOwnersTeam,
    /// The database could not be asked (logged); the gateway answers 503, not 401.
    #[error("Keys cannot be checked right now. Try again shortly.")]
    Unavailable,
}

/// Authenticates a presented key with one indexed lookup (the secret's hash) that also reads
/// the owner's status, role and team and the team's limit.
///
/// # Errors
/// [`KeyRefused`] for a key that is unknown, revoked, expired, or whose owner is not active
/// (suspended, invited or deleted), is a Viewer, or is a Member outside the key's team
/// ([`KeyBlock`]); [`KeyRefused::Unavailable`] when the database fails.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    presented: &Secret,
) -> Result<KeyAuth, KeyRefused> {
    authenticate_known(db, presented).await.0
}

/// A key the gateway found but refused: whose it is, so the refusal is counted as theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyOwner {
    pub key: KeyId,
    /// `None` when the owner was deleted.
    pub user: Option<UserId>,
    pub team: Option<TeamId>,
}

/// [`authenticate`], and for a key that exists but is refused, whose it is.
pub async fn authenticate_known(
    db: &impl ConnectionTrait,
    presented: &Secret,
) -> (Result<KeyAuth, KeyRefused>, Option<KeyOwner>) {
    if !presented.expose().starts_with(KEY_PREFIX) {
        return (Err(KeyRefused::Unknown), None);
    }
    // `Error`'s conversion from a database error has logged it.
    let found = match presented_key(db, presented).await {
        Ok(Some(found)) => found,
        Ok(None) => return (Err(KeyRefused::Unknown), None),
        Err(_) => return (Err(KeyRefused::Unavailable), None),
    };
    let owner = KeyOwner {
        key: KeyId(found.key_id),
        user: found.owner_id.map(UserId),
        team: found.key_team.map(TeamId),
    };
    match found.judge(Utc::now()) {
        Ok(auth) => (Ok(auth), None),
        Err(why) => (Err(why), Some(owner)),
    }
}

/// A stored key as [`authenticate`] reads it: its team's limit, and its owner as they are now.
#[derive(Debug, FromQueryResult)]
struct PresentedKey {
    key_id: i64,
    key_team: Option<i64>,
    revoked_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    /// The key's team's monthly limit, in micro-dollars.
    team_limit: Option<i64>,
    key_limit: Option<i64>,
    member_limit: Option<i64>,
    /// The gateway-wide caps (Billing).
    gateway_limit: Option<i64>,
    teamless_limit: Option<i64>,
    key_rpm: Option<i64>,
    key_tpm: Option<i64>,
    models: Option<ModelNames>,
    team_rpm: Option<i64>,
    team_tpm: Option<i64>,
    /// The owner's columns: all `None` when the key has no owner any more.
    owner_id: Option<i64>,
    owner_role: Option<Role>,
    owner_status: Option<Status>,
    owner_team: Option<i64>,
}

/// The key whose secret hashes as `presented`'s does, if any, in one query.
async fn presented_key(
    db: &impl ConnectionTrait,
    presented: &Secret,
) -> Result<Option<PresentedKey>, Error> {
    let (keys, users, teams, owner_teams) = (
        Alias::new("api_keys"),
        Alias::new("users"),
        Alias::new("teams"),
        Alias::new("owner_teams"),
    );
    let select = Query::select()
        .expr_as(Expr::col((keys.clone(), api_key::Column::Id)), "key_id")
        .expr_as(
            Expr::col((keys.clone(), api_key::Column::TeamId)),
            "key_team",
        )
        .expr_as(
            Expr::col((keys.clone(), api_key::Column::RevokedAt)),
            "revoked_at",
        )
        .expr_as(
            Expr::col((keys.clone(), api_key::Column::ExpiresAt)),
            "expires_at",
        )
        .expr_as(
            Expr::col((teams.clone(), team::Column::MonthlyLimitMicros)),
            "team_limit",
        )
        .expr_as(
            Expr::col((keys.clone(), api_key::Column::MonthlyLimitMicros)),
            "key_limit",
        )
        .expr_as(
            Func::coalesce([
                Expr::col((users.clone(), user::Column::MonthlyLimitMicros)),
                Expr::col((owner_teams.clone(), team::Column::MemberLimitMicros)),
            ]),
            "member_limit",
        )
        .expr_as(
            Expr::SubQuery(
                None,
                Box::new(gateway_limit(gateway_setting::Column::MonthlyLimitMicros).into()),
            ),
            "gateway_limit",
        )
        .expr_as(
            Expr::SubQuery(
                None,
                Box::new(gateway_limit(gateway_setting::Column::TeamlessLimitMicros).into()),
            ),
            "teamless_limit",
        )
        .expr_as(
            Expr::col((keys.clone(), api_key::Column::RequestsPerMinute)),
            "key_rpm",
        )
        .expr_as(
            Expr::col((keys.clone(), api_key::Column::TokensPerMinute)),
            "key_tpm",
        )
        .expr_as(Expr::col((keys.clone(), api_key::Column::Models)), "models")
        .expr_as(
            Expr::col((teams.clone(), team::Column::RequestsPerMinute)),
            "team_rpm",
        )
        .expr_as(
            Expr::col((teams.clone(), team::Column::TokensPerMinute)),
            "team_tpm",
        )
        .expr_as(Expr::col((users.clone(), user::Column::Id)), "owner_id")
        .expr_as(Expr::col((users.clone(), user::Column::Role)), "owner_role")
        .expr_as(
            Expr::col((users.clone(), user::Column::Status)),
            "owner_status",
        )
        .expr_as(
            Expr::col((users.clone(), user::Column::TeamId)),
            "owner_team",
        )
        .from(keys.clone())
        .left_join(
            users.clone(),
            Expr::col((users.clone(), user::Column::Id))
                .equals((keys.clone(), api_key::Column::UserId)),
        )
        .left_join(
            teams.clone(),
            Expr::col((teams, team::Column::Id)).equals((keys.clone(), api_key::Column::TeamId)),
        )
        .join_as(
            JoinType::LeftJoin,
            team::Entity,
            owner_teams.clone(),
            Expr::col((owner_teams, team::Column::Id))
                .equals((users.clone(), user::Column::TeamId)),
        )
        .and_where(Expr::col((keys, api_key::Column::SecretHash)).eq(presented.digest()))
        .to_owned();
    let found = db.query_one(&select).await?;
    Ok(found
        .map(|row| PresentedKey::from_query_result(&row, ""))
        .transpose()?)
}

impl PresentedKey {
    /// Whether the key may be used at `now`: it is live, and its owner — their role and team
    /// as they are now, not as they were when the key was issued, so a demoted Admin's key
    /// outside their team stops at the next request — is active and may use it.
    fn judge(self, now: DateTime<Utc>) -> Result<KeyAuth, KeyRefused> {
        match KeyStatus::of(self.revoked_at, self.expires_at, now) {
            KeyStatus::Revoked => return Err(KeyRefused::Revoked),
            KeyStatus::Expired => return Err(KeyRefused::Expired),
            KeyStatus::Active => {}
        }
        let (Some(owner), Some(role), Some(Status::Active)) =
            (self.owner_id, self.owner_role, self.owner_status)
        else {
            return Err(KeyRefused::OwnerInactive);
        };
        let team = self.key_team.map(TeamId);
        if let Some(block) = KeyBlock::of(role, self.owner_team.map(TeamId), team) {
            return Err(block.into());
        }
        Ok(KeyAuth {
            key: KeyId(self.key_id),
            user: UserId(owner),
            team,
            team_limit: self.team_limit.map(Money::from_micros),
            key_limit: self.key_limit.map(Money::from_micros),
            member_limit: self.member_limit.map(Money::from_micros),
            gateway_limit: self.gateway_limit.map(Money::from_micros),
            teamless_limit: self
                .teamless_limit
                .filter(|_| team.is_none())
                .map(Money::from_micros),
            expires_at: self.expires_at,
            rates: RateLimits::from_columns(self.key_rpm, self.key_tpm),
            team_rates: RateLimits::from_columns(self.team_rpm, self.team_tpm),
            models: self.models.map(|m| m.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{expiry, new_secret};
    use chrono::{TimeZone, Utc};

    #[test]
    fn secrets_are_tg_and_43_base62_characters_and_differ() {
        let a = new_secret();
        let b = new_secret();
        assert_ne!(a.expose(), b.expose());
        let body = a.expose().strip_prefix("tg_").unwrap();
        assert_eq!(body.len(), 43);
        assert!(body.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn expiry_is_the_end_of_the_chosen_day() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 15, 0, 0).unwrap();
        assert_eq!(expiry("", now).unwrap(), None);
        assert_eq!(
            expiry("2026-11-26", now).unwrap(),
            Some(Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap())
        );
        assert!(expiry("2026-11-25", now).is_err());
        assert!(expiry("26/11/2026", now).is_err());
    }
}
