//! `GET /v1/models` and `GET /v1/models/{id}`: the routes on offer (with a target whose provider
//! is enabled) that the key's team may use and the key may call. A model outside that is
//! answered as OpenAI answers one that does not exist, so a key learns nothing of the others.

use super::GatewayState;
use super::auth::authenticate;
use super::catalog::Model;
use super::error::ApiError;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use domain::service::keys::KeyAuth;
use http::{HeaderMap, Uri};
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
        .filter(|m| offered(m, &auth))
        .map(|m| described(m))
        .collect();
    Ok(Json(json!({ "object": "list", "data": data })))
}

/// One model by its name; the name may hold slashes (`org/model`). A name that does not decode
/// (`%FF`) is one no model has: the key is checked first, and the answer is the same 404.
pub async fn retrieve(
    State(gw): State<GatewayState>,
    id: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let auth = authenticate(&gw, &headers).await?;
    let Ok(Path(id)) = id else {
        let raw = uri.path().trim_start_matches("/v1/models/");
        return Err(ApiError::unknown_model(raw));
    };
    let catalog = gw.catalog.current().await;
    catalog
        .model(&id)
        .filter(|m| offered(m, &auth))
        .map(|m| Json(described(m)))
        .ok_or_else(|| ApiError::unknown_model(&id))
}

/// Whether the key may see (and call) the model.
fn offered(model: &Model, auth: &KeyAuth) -> bool {
    model.open_to(auth.team)
        && auth
            .models
            .as_ref()
            .is_none_or(|allowed| allowed.contains(&model.name))
}

/// A model as OpenAI's API describes one.
fn described(model: &Model) -> Value {
    json!({
        "id": model.name,
        "object": "model",
        "created": 0,
        "owned_by": model.first_provider().name,
    })
}
