//! `POST /v1/chat/completions`: authenticate the key, work out the worst case, reserve it
//! against the team's month, forward upstream, and settle to the real cost from the answer's
//! `usage` (streams: the final usage chunk, which is asked for) — or release when the upstream
//! fails, times out or the client goes away.

use super::GatewayState;
use super::auth::authenticate;
use super::catalog::Model;
use super::error::ApiError;
use super::settlement::Settlement;
use super::stream::{MeteredStream, usage_of};
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;
use domain::pricing::{max_output, prompt_bound};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};

pub async fn completions(
    State(gw): State<GatewayState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let auth = authenticate(&gw, &headers).await?;
    let mut request: Map<String, Value> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid(None, format!("The request body is not a JSON object: {e}"))
    })?;
    let name = match request.get("model") {
        Some(Value::String(name)) => name.clone(),
        _ => return Err(ApiError::invalid(Some("model"), "`model` is required.")),
    };
    let model = gw
        .catalog
        .model(&name)
        .cloned()
        .ok_or_else(|| ApiError::unknown_model(&name))?;
    let streaming = match request.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(on)) => *on,
        Some(_) => {
            return Err(ApiError::invalid(
                Some("stream"),
                "`stream` must be a boolean.",
            ));
        }
    };
    let max_out = limit_output(&mut request, &model)?;
    request.insert("model".into(), Value::String(model.upstream_name.clone()));
    if streaming {
        // The final chunk then carries the usage the request is settled to.
        let options = request.entry("stream_options").or_insert_with(|| json!({}));
        match options {
            Value::Object(options) => {
                options.insert("include_usage".into(), Value::Bool(true));
            }
            _ => {
                return Err(ApiError::invalid(
                    Some("stream_options"),
                    "`stream_options` must be an object.",
                ));
            }
        }
    }
    let forwarded = serde_json::to_vec(&request).map_err(|_| ApiError::unavailable())?;
    let worst = model
        .price
        .worst_case(prompt_bound(forwarded.len()), max_out);

    let hold = match gw.ledger.reserve(&auth, worst, Utc::now()).await? {
        Ok(hold) => hold,
        Err(over) => return Err(ApiError::over_budget(&over)),
    };
    let settlement = Settlement::new(gw.ledger.clone(), hold);

    let mut upstream = gw
        .http
        .post(&model.provider.chat_url)
        .timeout(model.provider.timeout)
        .header(header::CONTENT_TYPE, "application/json")
        .body(forwarded);
    if let Some(key) = &model.provider.api_key {
        upstream = upstream.bearer_auth(key);
    }
    let answer = match upstream.send().await {
        Ok(answer) => answer,
        Err(err) => {
            settlement.release();
            return Err(upstream_failure(&model, &err));
        }
    };
    let status = answer.status();
    if !status.is_success() {
        let text = answer.bytes().await.unwrap_or_default();
        settlement.release();
        return Ok(upstream_refusal(&model, status, text));
    }
    if streaming {
        let events = MeteredStream::new(Box::pin(answer.bytes_stream()), model.price, settlement);
        let mut response = Body::from_stream(events).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return Ok(response);
    }
    let text = match answer.bytes().await {
        Ok(text) => text,
        Err(err) => {
            settlement.release();
            return Err(upstream_failure(&model, &err));
        }
    };
    // An answer without `usage` is charged the worst case: the cap must hold either way.
    let cost = usage_of(&text).map_or(settlement.worst_case(), |u| model.price.cost(u));
    settlement.settle(cost);
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response())
}

/// Clamps the request's output limit to the model's maximum, writing it into the request so
/// the upstream cannot go past what was reserved; answers the limit.
fn limit_output(request: &mut Map<String, Value>, model: &Model) -> Result<u64, ApiError> {
    // Newer OpenAI models take `max_completion_tokens`; older servers only `max_tokens`.
    let field =
        if request.contains_key("max_tokens") && !request.contains_key("max_completion_tokens") {
            "max_tokens"
        } else {
            "max_completion_tokens"
        };
    let asked = match request.get(field) {
        None | Some(Value::Null) => None,
        Some(value) => Some(value.as_u64().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::invalid(
                Some(field),
                format!("`{field}` must be a positive whole number."),
            )
        })?),
    };
    let limit = max_output(asked, model.max_output_tokens);
    request.insert(field.into(), Value::from(limit));
    Ok(limit)
}

fn upstream_failure(model: &Model, err: &reqwest::Error) -> ApiError {
    tracing::warn!(provider = %model.provider.name, error = %err, "upstream request failed");
    if err.is_timeout() {
        ApiError::upstream_timeout()
    } else {
        ApiError::upstream(format!(
            "The upstream provider `{}` could not be reached.",
            model.provider.name
        ))
    }
}

/// The upstream said no: its own answer is passed on, except a refusal of the gateway's
/// credentials, which is ours to fix and not the client's.
fn upstream_refusal(model: &Model, status: StatusCode, text: Bytes) -> Response {
    if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        tracing::error!(provider = %model.provider.name, %status, "upstream refused the gateway's key");
        return ApiError::upstream(format!(
            "The upstream provider `{}` refused the gateway's credentials.",
            model.provider.name
        ))
        .into_response();
    }
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response()
}
