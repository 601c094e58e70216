//! `Authorization: Bearer tg_…` → the key's owner and team, through the keys service: revoked,
//! expired, or owned by someone who is not active → 401; database trouble → 503.

use super::error::ApiError;
use domain::db::DatabaseConnection;
use domain::secret::Secret;
use domain::service::keys::{self, KeyAuth};
use http::{HeaderMap, header};

/// The key presented with this request, checked now (no cache: a suspension or revocation
/// applies to the very next request).
///
/// # Errors
/// [`ApiError`] 401 or 503.
pub async fn authenticate(
    db: &DatabaseConnection,
    headers: &HeaderMap,
) -> Result<KeyAuth, ApiError> {
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
    keys::authenticate(db, &Secret::new(presented))
        .await
        .map_err(ApiError::refused_key)
}
