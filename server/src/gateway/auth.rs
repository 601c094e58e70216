//! `Authorization: Bearer tg_…` → the key's owner and team, through the keys service (answered
//! from [`KeyCache`] while the access epoch stands still): revoked, expired, or owned by someone
//! who is not active → 401, counted as a refusal (as the key's owner's, when the key exists);
//! database trouble → 503.

use super::GatewayState;
use super::error::ApiError;
use super::refused::{Whose, counted};
use chrono::Utc;
use domain::entity::refusal_day::RefusalKind;
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
        // The scheme is case-insensitive (RFC 9110 §11.1).
        .and_then(|v| {
            v.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, key)| key)
        })
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            counted(
                gw,
                Whose::default(),
                RefusalKind::Key,
                ApiError::missing_key(),
            )
        })?;
    let checked = gw
        .keys
        .authenticate(&gw.db, &Secret::new(presented), Utc::now())
        .await;
    if checked.access_changed {
        gw.ledger.limits_changed();
    }
    let whose = checked.refused_owner.map(Whose::from).unwrap_or_default();
    checked
        .answer
        .map_err(|why| counted(gw, whose, RefusalKind::Key, ApiError::refused_key(why)))
}
