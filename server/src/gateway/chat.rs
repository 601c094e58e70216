//! `POST /v1/chat/completions`: authenticate the key from the headers, read the body (no more
//! than the configured limit), work out the worst case ([`super::bound`]), check the model is
//! a route open to the key's team and one the key may call, admit it under the key's and team's per-minute limits
//! ([`super::rates`]), check that no guardrail blocks it ([`super::guard`]), hold it against the
//! team's month, and hand the request to its exchange with the upstream ([`super::exchange`]), which
//! settles it to the real cost. A request refused for its key, a budget, a per-minute limit,
//! its model or a guardrail is counted with its reason ([`super::refused`]).

use super::GatewayState;
use super::auth::authenticate;
use super::bound::{Unbounded, bound};
use super::error::ApiError;
use super::exchange::forward;
use super::guard;
use super::rates::{headers, limits_of};
use super::refused::{Whose, counted};
use super::settlement::Settlement;
use axum::extract::{Request, State};
use axum::response::Response;
use chrono::Utc;
use domain::entity::budget_lease::BudgetKind;
use domain::entity::refusal_day::RefusalKind;
use domain::service::leases::is_capped;
use domain::service::ledger::ReserveError;
use domain::service::rate_limiter::TokensHeld;
use std::sync::Arc;
use std::time::Instant;

pub async fn completions(
    State(gw): State<GatewayState>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    // Before a byte of the body is read: anonymous senders cost a count in memory, no more.
    let auth = authenticate(&gw, &parts.headers).await?;
    let body = axum::body::to_bytes(body, gw.max_body).await.map_err(|e| {
        if crate::listen::ReadTimedOut::caused(&e) {
            ApiError::request_timeout()
        } else {
            ApiError::too_large(gw.max_body)
        }
    })?;
    let catalog = gw.catalog.current().await;
    let request = bound(&body, &catalog, is_capped(&auth), auth.team).map_err(|e| match e {
        Unbounded::Refused(refusal) => refusal,
        Unbounded::NotForTeam(refusal) => {
            counted(&gw, Whose::from(&auth), RefusalKind::Model, refusal)
        }
    })?;
    drop(body);
    if let Some(allowed) = &auth.models
        && !allowed.contains(&request.model.name)
    {
        let refusal = ApiError::model_not_allowed(&request.model.name, allowed);
        return Err(counted(
            &gw,
            Whose::from(&auth),
            RefusalKind::Model,
            refusal,
        ));
    }
    let limits = limits_of(&auth);
    let admitted = gw
        .rates
        .admit(&limits, request.tokens, Instant::now())
        .map_err(|refused| {
            let refusal =
                ApiError::rate_limited(&refused, headers(refused.requests, refused.tokens));
            counted(&gw, Whose::from(&auth), RefusalKind::Rate, refusal)
        })?;
    let standing = headers(admitted.requests, admitted.tokens);
    // Given back whole if the request goes no further, its client hanging up included.
    let tokens = TokensHeld::of(&gw.rates, admitted.ticket);
    // After the per-minute limits, so probing the rules costs a key its requests like any other.
    let logged = guard::guard(&gw, &catalog, &auth, &request)?;
    let hold = match gw.ledger.reserve(&auth, request.worst, Utc::now()).await {
        Ok(hold) => hold,
        Err(refusal) => {
            return Err(match refusal {
                ReserveError::OverBudget(over) => {
                    let kind = match over.budget {
                        BudgetKind::Team => RefusalKind::TeamBudget,
                        BudgetKind::Member => RefusalKind::MemberBudget,
                        BudgetKind::Key => RefusalKind::KeyBudget,
                        BudgetKind::Gateway => RefusalKind::GatewayBudget,
                        BudgetKind::Teamless => RefusalKind::TeamlessBudget,
                    };
                    counted(
                        &gw,
                        Whose::from(&auth),
                        kind,
                        ApiError::over_budget(&over, request.worst),
                    )
                }
                ReserveError::Store(e) => e.into(),
            });
        }
    };
    guard::count(&gw, &logged);
    let settlement = Settlement::new(
        gw.ledger.clone(),
        hold,
        request.worst,
        tokens,
        Arc::from(request.model.name.as_str()),
    );
    let mut response = forward(
        gw.http.clone(),
        &gw.running,
        request.model,
        auth,
        request.forwarded,
        request.delivery,
        settlement,
    )
    .await;
    response.headers_mut().extend(standing);
    Ok(response)
}
