//! One request's exchange with its route's targets — the next tried when one cannot be reached,
//! times out, or answers 429 or 5xx — run in a task of its own so that it ends the same
//! way whatever the client does: a client that leaves — before the answer, or mid-stream — no
//! longer cuts the upstream call short. The gateway reads the answer to its end (as far as the
//! provider's timeout) and settles the request to the usage the upstream reports, so what the
//! provider bills is what the team is charged.

use super::bound::{Delivery, Forwarded};
use super::catalog::{Model, Provider};
use super::error::ApiError;
use super::settlement::Settlement;
use super::stream::{UsageScanner, usage_of};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use domain::service::keys::KeyAuth;
use futures_util::StreamExt;
use http::{HeaderValue, StatusCode, header};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

/// Stream chunks buffered between the upstream and a slow client.
const STREAM_BUFFER: usize = 16;

/// Exchanges still running, so a stopping server can let them finish and settle.
#[derive(Debug, Default)]
pub struct Running {
    count: AtomicUsize,
    idle: Notify,
}

impl Running {
    /// Waits until no exchange is running (each ends within its provider's timeout).
    pub async fn finished(&self) {
        loop {
            let idle = self.idle.notified();
            if self.count.load(Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }
}

/// Counts one exchange for as long as it lives.
struct Counted(Arc<Running>);

impl Counted {
    fn new(running: &Arc<Running>) -> Self {
        running.count.fetch_add(1, Ordering::AcqRel);
        Counted(Arc::clone(running))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Statuses an upstream (or a proxy in front of it) answers after the model may have run:
/// charged, not given back.
fn worked_on(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 502 | 504 | 520..=524)
}

/// Statuses after which a route tries its next target: the provider is busy or failing, not
/// refusing the request itself.
fn falls_back(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// What the exchange has for the client.
enum Answer {
    /// The whole (non-streamed) answer, already settled.
    Whole(Bytes),
    /// Events as they arrive.
    Events(mpsc::Receiver<Result<Bytes, std::io::Error>>),
    /// A refusal or failure; released or charged as the rule says.
    Failed(Response),
}

/// Sends `forwarded` to `model`'s targets in turn — the next when one cannot be reached, times
/// out, or answers 429 or 5xx — and answers the client with the first answer, settling through
/// `settlement` at that target's prices whether or not the client waits for the end. A target
/// that failed after it may have worked on the request (a timeout, 408, 502, 504) is charged
/// its worst case, and the next is tried only under a new hold of `auth`'s budgets.
pub async fn forward(
    http: reqwest::Client,
    running: &Arc<Running>,
    model: Arc<Model>,
    auth: KeyAuth,
    forwarded: Forwarded,
    delivery: Delivery,
    settlement: Settlement,
) -> Response {
    let (answer, answered) = oneshot::channel();
    let counted = Counted::new(running);
    tokio::spawn(async move {
        exchange(http, model, auth, forwarded, delivery, settlement, answer).await;
        drop(counted);
    });
    match answered.await {
        Ok(Answer::Whole(text)) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            text,
        )
            .into_response(),
        Ok(Answer::Events(events)) => {
            let mut events = events;
            let body = futures_util::stream::poll_fn(move |cx| events.poll_recv(cx));
            let mut response = Body::from_stream(body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        Ok(Answer::Failed(response)) => response,
        Err(_) => ApiError::unavailable().into_response(),
    }
}

async fn exchange(
    http: reqwest::Client,
    model: Arc<Model>,
    auth: KeyAuth,
    mut forwarded: Forwarded,
    delivery: Delivery,
    mut settlement: Settlement,
    client: oneshot::Sender<Answer>,
) {
    let last = model.targets.len() - 1;
    let mut answered = None;
    for (i, target) in model.targets.iter().enumerate() {
        let Some(body) = forwarded.body_for(i, &target.upstream_name) else {
            break;
        };
        let mut upstream = http
            .post(target.provider.chat_url.clone())
            .timeout(target.provider.timeout)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(key) = &target.provider.api_key {
            upstream = upstream.bearer_auth(key.expose());
        }
        let deadline = Instant::now() + target.provider.timeout;
        // From here on the provider may be working on it: an exchange cut short (the process
        // stopping) charges its worst case. Only what provably never got an answer is given
        // back.
        settlement.accepted();
        let (billed, failure, retry) = match upstream.send().await {
            Ok(answer) if answer.status().is_success() => {
                answered = Some((target, answer, deadline));
                break;
            }
            Ok(answer) => {
                let status = answer.status();
                let text = answer.bytes().await.unwrap_or_default();
                (
                    worked_on(status),
                    upstream_refusal(&target.provider, status, text),
                    i < last && falls_back(status),
                )
            }
            Err(err) => (
                // Never reached (or never built, e.g. a key a header cannot carry): nothing to
                // bill. Reached but not answered in time: it may have run.
                !(err.is_connect() || err.is_builder()),
                upstream_failure(&target.provider, &err).into_response(),
                i < last,
            ),
        };
        if retry && !billed {
            tracing::warn!(route = %model.name, provider = %target.provider.name, "upstream failed; trying the route's next target");
            continue;
        }
        if retry {
            // The target that failed may bill for it: it stays charged at its worst case, and
            // the next target gets a hold of its own — without room for one, it is not tried.
            if let Some(next) = settlement.again(&auth).await {
                tracing::warn!(route = %model.name, provider = %target.provider.name, "upstream failed after it may have worked; charged its worst case, trying the route's next target");
                drop(std::mem::replace(&mut settlement, next));
                continue;
            }
        }
        if billed {
            drop(settlement);
        } else {
            settlement.release();
        }
        let _ = client.send(Answer::Failed(failure));
        return;
    }
    // The bodies are no longer needed while the answer is read.
    drop(forwarded);
    let Some((target, answer, deadline)) = answered else {
        // A body could not be written for a target: nothing was sent to it.
        settlement.release();
        let _ = client.send(Answer::Failed(ApiError::unavailable().into_response()));
        return;
    };
    let provider = &target.provider;
    // The request is charged at the prices of the target that answered.
    let price = target.price;
    let Delivery::Stream { usage_asked } = delivery else {
        match answer.bytes().await {
            Ok(text) => {
                settlement.settle_to(usage_of(&text), price);
                let _ = client.send(Answer::Whole(text));
            }
            Err(err) => {
                drop(settlement);
                let _ = client.send(Answer::Failed(
                    upstream_failure(provider, &err).into_response(),
                ));
            }
        }
        return;
    };
    let (events, to_client) = mpsc::channel(STREAM_BUFFER);
    let mut events = client
        .send(Answer::Events(to_client))
        .is_ok()
        .then_some(events);
    let mut scanner = UsageScanner::new(usage_asked);
    let mut body = answer.bytes_stream();
    while let Some(piece) = body.next().await {
        match piece {
            Ok(bytes) => {
                let bytes = scanner.pass(bytes);
                if bytes.is_empty() {
                    continue;
                }
                // A client that has gone, or stopped reading until the provider's timeout, is
                // sent no more; the upstream is read on to its usage.
                if let Some(to) = &events
                    && !matches!(
                        tokio::time::timeout_at(deadline, to.send(Ok(bytes))).await,
                        Ok(Ok(()))
                    )
                {
                    events = None;
                }
            }
            Err(err) => {
                tracing::warn!(provider = %provider.name, error = %without_url(&err), "upstream stream broke off");
                if let Some(to) = &events {
                    let _ = to.try_send(Err(std::io::Error::other(err)));
                }
                // A usage seen before the break may be a running count: the worst case holds.
                drop(settlement);
                return;
            }
        }
    }
    if let (Some(to), Some(rest)) = (&events, scanner.rest()) {
        let _ = tokio::time::timeout_at(deadline, to.send(Ok(rest))).await;
    }
    settlement.settle_to(scanner.usage, price);
}

fn upstream_failure(provider: &Provider, err: &reqwest::Error) -> ApiError {
    tracing::warn!(provider = %provider.name, error = %without_url(err), "upstream request failed");
    if err.is_timeout() {
        ApiError::upstream_timeout()
    } else {
        ApiError::upstream(format!(
            "The upstream provider `{}` could not be reached.",
            provider.name
        ))
    }
}

/// The upstream said no: its own answer is passed on, except a refusal of the gateway's
/// credentials, which is ours to fix and not the client's.
fn upstream_refusal(provider: &Provider, status: StatusCode, text: Bytes) -> Response {
    if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        tracing::error!(provider = %provider.name, %status, "upstream refused the gateway's key");
        return ApiError::upstream(format!(
            "The upstream provider `{}` refused the gateway's credentials.",
            provider.name
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

/// What an upstream error says, for the log, without the URL reqwest puts in its text: a
/// provider's base URL may carry credentials (`https://user:secret@host/v1`).
fn without_url(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else if err.is_body() || err.is_decode() {
        "the answer's body broke off"
    } else {
        "the request failed"
    }
    .to_owned();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::without_url;

    #[tokio::test]
    async fn upstream_errors_are_logged_without_their_url() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let err = reqwest::Client::new()
            .get(format!("http://user:SECRET@127.0.0.1:{port}/v1/models"))
            .send()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("127.0.0.1"), "{err}");
        let text = without_url(&err);
        assert!(text.starts_with("could not connect"), "{text}");
        assert!(
            !text.contains("SECRET") && !text.contains("/v1/models"),
            "{text}"
        );
    }
}
