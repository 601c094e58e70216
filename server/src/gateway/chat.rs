//! `POST /v1/chat/completions`: authenticate the key from the headers, read the body (no more
//! than the configured limit), work out the worst case ([`super::bound`]), hold it against the
//! team's month, and hand the request to its exchange with the upstream
//! ([`super::exchange`]), which settles it to the real cost.

use super::GatewayState;
use super::auth::authenticate;
use super::bound::bound;
use super::error::ApiError;
use super::exchange::forward;
use super::settlement::Settlement;
use axum::extract::{Request, State};
use axum::response::Response;
use chrono::Utc;
use domain::service::leases::is_capped;
use domain::service::ledger::ReserveError;

pub async fn completions(
    State(gw): State<GatewayState>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    // Before a byte of the body is read: anonymous senders cost nothing.
    let auth = authenticate(&gw, &parts.headers).await?;
    let body = axum::body::to_bytes(body, gw.max_body)
        .await
        .map_err(|_| ApiError::too_large(gw.max_body))?;
    let request = bound(&body, &gw.catalog, is_capped(&auth))?;
    drop(body);
    let hold = match gw.ledger.reserve(&auth, request.worst, Utc::now()).await {
        Ok(hold) => hold,
        Err(ReserveError::OverBudget(over)) => return Err(ApiError::over_budget(&over)),
        Err(ReserveError::Store(e)) => return Err(e.into()),
    };
    let settlement = Settlement::new(gw.ledger.clone(), hold, request.worst);
    Ok(forward(
        gw.http.clone(),
        &gw.running,
        request.model,
        request.forwarded,
        request.streaming,
        settlement,
    )
    .await)
}
