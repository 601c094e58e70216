//! A stand-in for an OpenAI-compatible provider, on loopback: the gateway's tests and its
//! benchmark send real HTTP to it instead of to the internet. What it answers — usage, latency,
//! failures, streaming — is set through [`StubControl`], and it remembers the last request it
//! received so tests can check what the gateway forwarded.
//!
//! Part of `tollgate-bench`, never of the served binary; `server/tests` include this file by path.

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the stub reports as `usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StubUsage {
    /// These counts.
    Fixed { prompt: u64, completion: u64 },
    /// What a provider bills when every choice runs to the output limit: the body's length in
    /// bytes in, the output limit (the larger of `max_tokens` and `max_completion_tokens` when
    /// both are sent — a provider may honour either) times `n` out, plus `image_tokens` for every
    /// image part — what the gateway reserves, so admissions can be counted exactly.
    WorstCase,
    /// No `usage` at all.
    Omitted,
}

/// How the stub behaves; change it between requests.
#[derive(Debug, Clone)]
pub struct StubBehaviour {
    pub usage: StubUsage,
    /// Before the answer starts.
    pub latency: Duration,
    /// Answer with this status and an OpenAI-shaped error instead.
    pub fail_with: Option<u16>,
    /// Content chunks in a stream, and the pause before each.
    pub stream_chunks: usize,
    pub chunk_pause: Duration,
    /// The pause between the last content chunk and the usage chunk.
    pub usage_pause: Duration,
    /// Break the connection after this many content chunks (a provider failing mid-stream).
    pub break_after: Option<usize>,
    /// Prompt tokens a provider bills for each image part (whatever its URL or size).
    pub image_tokens: u64,
}

impl Default for StubBehaviour {
    fn default() -> Self {
        StubBehaviour {
            usage: StubUsage::Fixed {
                prompt: 10,
                completion: 5,
            },
            latency: Duration::ZERO,
            fail_with: None,
            stream_chunks: 3,
            chunk_pause: Duration::ZERO,
            usage_pause: Duration::ZERO,
            break_after: None,
            image_tokens: 0,
        }
    }
}

/// The request the stub last received.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub body: Value,
    pub authorization: Option<String>,
}

#[derive(Debug, Default)]
struct Shared {
    behaviour: Mutex<StubBehaviour>,
    last: Mutex<Received>,
    requests: AtomicU64,
}

/// A running stub; its base URL is `http://ADDR/v1`.
#[derive(Debug, Clone)]
pub struct StubControl {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl StubControl {
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn set(&self, behaviour: StubBehaviour) {
        *self.shared.behaviour.lock().expect("stub lock") = behaviour;
    }

    pub fn last(&self) -> Received {
        self.shared.last.lock().expect("stub lock").clone()
    }

    /// How many chat requests reached the stub.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }
}

/// Starts the stub on a free loopback port, serving until the runtime ends.
///
/// # Errors
/// When no port can be bound.
pub async fn start() -> std::io::Result<StubControl> {
    start_on("127.0.0.1:0").await
}

/// `GET /v1/models`: one model, for a caller that sends a key (401 without one, as providers
/// answer).
async fn models(headers: HeaderMap) -> Response {
    if headers.get(header::AUTHORIZATION).is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"message": "no key"}})),
        )
            .into_response();
    }
    Json(json!({
        "object": "list",
        "data": [{"id": "stub-upstream-mini", "object": "model", "owned_by": "stub"}],
    }))
    .into_response()
}

/// Starts the stub on `addr`, serving until the runtime ends; `GET /healthz` answers when it is
/// up.
///
/// # Errors
/// When `addr` cannot be bound.
pub async fn start_on(addr: &str) -> std::io::Result<StubControl> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let control = StubControl {
        addr: listener.local_addr()?,
        shared: Arc::new(Shared::default()),
    };
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", axum::routing::get(models))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .with_state(Arc::clone(&control.shared));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(control)
}

async fn chat(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    *shared.last.lock().expect("stub lock") = Received {
        body: request.clone(),
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let behaviour = shared.behaviour.lock().expect("stub lock").clone();
    if !behaviour.latency.is_zero() {
        tokio::time::sleep(behaviour.latency).await;
    }
    if let Some(code) = behaviour.fail_with {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let error = json!({"error": {"message": "stub failure", "type": "server_error", "param": null, "code": null}});
        return (status, Json(error)).into_response();
    }
    let model = request["model"].as_str().unwrap_or("stub").to_owned();
    let usage = match behaviour.usage {
        StubUsage::Fixed { prompt, completion } => Some(
            json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}),
        ),
        StubUsage::WorstCase => {
            let limits = [&request["max_completion_tokens"], &request["max_tokens"]];
            let out = limits.iter().filter_map(|v| v.as_u64()).max().unwrap_or(0)
                * request["n"].as_u64().unwrap_or(1);
            let prompt = body.len() as u64 + behaviour.image_tokens * image_parts(&request);
            Some(
                json!({"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out}),
            )
        }
        StubUsage::Omitted => None,
    };
    if request["stream"].as_bool() == Some(true) {
        let with_usage = request["stream_options"]["include_usage"].as_bool() == Some(true);
        return stream(model, behaviour, usage.filter(|_| with_usage));
    }
    let mut answer = json!({
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "Hello from the stub."},
            "finish_reason": "stop"
        }]
    });
    if let Some(usage) = usage {
        answer["usage"] = usage;
    }
    Json(answer).into_response()
}

/// How many `image_url` parts the request's messages hold.
fn image_parts(request: &Value) -> u64 {
    let messages = request["messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    messages
        .iter()
        .filter_map(|m| m["content"].as_array())
        .flatten()
        .filter(|part| part["type"] == "image_url")
        .count() as u64
}

fn stream(model: String, behaviour: StubBehaviour, usage: Option<Value>) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let chunk = |delta: Value, usage: Value| {
            let event = json!({
                "id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0,
                "model": model, "choices": delta, "usage": usage,
            });
            Ok(Bytes::from(format!("data: {event}\n\n")))
        };
        for i in 0..behaviour.stream_chunks {
            if behaviour.break_after == Some(i) {
                let _ = tx.send(Err(std::io::Error::other("stub broke off"))).await;
                return;
            }
            if !behaviour.chunk_pause.is_zero() {
                tokio::time::sleep(behaviour.chunk_pause).await;
            }
            let delta = json!([{"index": 0, "delta": {"content": format!("part {i} ")}, "finish_reason": null}]);
            if tx.send(chunk(delta, Value::Null)).await.is_err() {
                return;
            }
        }
        if !behaviour.usage_pause.is_zero() {
            tokio::time::sleep(behaviour.usage_pause).await;
        }
        if let Some(usage) = usage {
            let _ = tx.send(chunk(json!([]), usage)).await;
        }
        let _ = tx.send(Ok(Bytes::from_static(b"data: [DONE]\n\n"))).await;
    });
    let body = Body::from_stream(tokio_stream_from(rx));
    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
