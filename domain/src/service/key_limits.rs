//! Changing a key's own limits — its monthly budget, requests and tokens per minute, and the
//! models it may call — after it was issued. Whoever may revoke a key may tighten them; only Owners and Admins may
//! loosen them (`rate_limits::loosens`). The change reaches every process's gateway on its next
//! request (the columns move the access epoch).

use crate::entity::api_key::{self, ModelNames};
use crate::entity::{team, user};
use crate::keys::{KeyRow, KeyStatus};
use crate::money::Money;
use crate::permission::{Action, Actor};
use crate::rate_limits::{KeyLimits, loosens};
use crate::service::begin_as;
use crate::service::keys::{find, limits_above, limits_detail, limits_of, record_on_key, rows};
use crate::{Error, KeyId, UserId};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};

/// Sets key `id`'s limits to `limits` (checked by the caller, as for issuing). Setting what it
/// has already changes nothing and records nothing.
///
/// # Errors
/// [`Error::Forbidden`] when the actor may not revoke the key, or is a Member loosening a limit;
/// [`Error::NotFound`] for no such key; [`Error::Conflict`] for a revoked or expired key.
pub async fn set(
    db: &DatabaseConnection,
    actor: &Actor,
    id: KeyId,
    limits: KeyLimits,
) -> Result<KeyRow, Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    let key = find(&txn, id).await?;
    let current = limits_of(&key);
    let team = match key.team_id {
        Some(id) => team::Entity::find_by_id(id).one(&txn).await?,
        None => None,
    };
    let owner = match key.user_id {
        Some(id) => user::Entity::find_by_id(id).one(&txn).await?,
        None => None,
    };
    let above = limits_above(&txn, team.as_ref(), owner.as_ref()).await?;
    actor.require(Action::SetKeyLimits {
        owner: key.user_id.map(UserId),
        loosens: loosens(&current, above, &limits),
    })?;
    let now = Utc::now();
    if KeyStatus::of(key.revoked_at, key.expires_at, now) != KeyStatus::Active {
        return Err(Error::Conflict(
            "This key no longer works, so its limits cannot change.".to_owned(),
        ));
    }
    let key = if current == limits {
        key
    } else {
        let (requests_per_minute, tokens_per_minute) = limits.rates.columns();
        let mut active: api_key::ActiveModel = key.into();
        active.requests_per_minute = Set(requests_per_minute);
        active.tokens_per_minute = Set(tokens_per_minute);
        active.models = Set(limits.models.clone().map(ModelNames));
        active.monthly_limit_micros = Set(limits.budget.map(Money::micros));
        let key = active.update(&txn).await?;
        let said = |l: &KeyLimits| limits_detail(l).unwrap_or_else(|| "no limits".to_owned());
        let change = format!("{} → {}", said(&current), said(&limits));
        record_on_key(&txn, &actor, "key.limits", &key, Some(&change)).await?;
        key
    };
    let row = rows(&txn, vec![key], now).await?.remove(0);
    txn.commit().await?;
    Ok(row)
}
