//! `Authorization: Bearer tg_…` → the key's owner and team, through the keys service (answered
//! from [`KeyCache`] while the access epoch stands still): revoked, expired, or owned by someone
//! who is not active → 401; database trouble → 503.

use super::GatewayState;
use super::error::ApiError;
use chrono::Utc;
use domain::secret::Secret;
use domain::service::keys::KeyAuth;
use http::{HeaderMap, header};

/// The key presented with this request, checked now: a suspension, a revocation or a changed
/// limit applies to the very next request.
///
/// # Errors
/// [`ApiError`] 401 or 503.
pub async fn authenticate(gw: &GatewayState, headers: &HeaderMap) -> Result<KeyAuth, ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(ApiError::missing_key)?;
    let checked = gw
        .keys
        .authenticate(&gw.db, &Secret::new(presented), Utc::now())
        .await;
    if checked.access_changed {
        gw.ledger.limits_changed();
    }
    checked.answer.map_err(ApiError::refused_key)
}
