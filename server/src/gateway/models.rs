//! `GET /v1/models`: the routes on offer (with a target whose provider is enabled) that the
//! key's team may use and the key may call.

use super::GatewayState;
use super::auth::authenticate;
use super::error::ApiError;
use axum::Json;
use axum::extract::State;
use http::HeaderMap;
use serde_json::{Value, json};

pub async fn list(
    State(gw): State<GatewayState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let auth = authenticate(&gw, &headers).await?;
    let catalog = gw.catalog.current().await;
    let data: Vec<Value> = catalog
        .models()
        .iter()
        .filter(|m| {
            m.open_to(auth.team)
                && auth
                    .models
                    .as_ref()
                    .is_none_or(|allowed| allowed.contains(&m.name))
        })
        .map(|m| {
            json!({
                "id": m.name,
                "object": "model",
                "created": 0,
                "owned_by": m.first_provider().name,
            })
        })
        .collect();
    Ok(Json(json!({ "object": "list", "data": data })))
}
