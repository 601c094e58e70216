//! Per-minute limits and model access on the `/v1` path, over real HTTP against the stub
//! upstream: a key's requests per minute (a minute's burst, then 429 with the `Retry-After` an
//! OpenAI client honours), a team's limit over all its keys, tokens per minute held at the worst
//! case and given back to the usage, and a key limited to some models.

use crate::support::gateway::{Gateway, MODEL, VISION_ENTRY, VISION_MODEL, chat_at_once, hello};
use domain::rate_limits::{KeyLimits, RateLimits};
use domain::service::{key_limits, teams};
use domain::teams::TeamInput;
use serde_json::json;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

async fn limit_key(gw: &Gateway, secret: &str, limits: KeyLimits) {
    let id = gw.key_id(secret).await;
    key_limits::set(&gw.server.db, &gw.owner(), id, limits)
        .await
        .unwrap();
}

fn rates(requests: Option<u64>, tokens: Option<u64>) -> KeyLimits {
    KeyLimits {
        rates: RateLimits {
            requests_per_minute: requests,
            tokens_per_minute: tokens,
        },
        models: None,
        budget: None,
    }
}

async fn send(gw: &Gateway, key: &str, body: &serde_json::Value) -> reqwest::Response {
    gw.http
        .post(format!("{}/chat/completions", gw.base))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_key_limit_admits_a_minutes_burst_then_asks_to_retry() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    limit_key(&gw, &key, rates(Some(60), None)).await;

    let url = format!("{}/chat/completions", gw.base);
    let statuses = chat_at_once(60, std::slice::from_ref(&url), &key).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    let refused = send(&gw, &key, &hello()).await;
    assert_eq!(refused.status().as_u16(), 429);
    let h = refused.headers().clone();
    assert_eq!(h["retry-after"], "1");
    assert_eq!(h["x-ratelimit-limit-requests"], "60");
    assert_eq!(h["x-ratelimit-remaining-requests"], "0");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert_eq!(body["error"]["type"], "requests");
    assert_eq!(body["error"]["limit"], "key");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("requests per minute on this key: limit 60"),
        "{body}"
    );

    // Honouring Retry-After is admitted, and says where it stands.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let again = send(&gw, &key, &hello()).await;
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(again.headers()["x-ratelimit-limit-requests"], "60");
    assert_eq!(again.headers()["x-ratelimit-remaining-requests"], "0");
    gw.server.finish().await;
}

#[tokio::test]
async fn a_team_limit_counts_every_key_of_the_team() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "").await;
    let (_, first) = gw.member_key("a@example.com", team).await;
    let (_, second) = gw.member_key("b@example.com", team).await;
    let edit = TeamInput {
        name: "Research".into(),
        requests_per_minute: Some("3".into()),
        ..TeamInput::default()
    };
    teams::edit(&gw.server.db, &gw.owner(), team, &edit)
        .await
        .unwrap();
    for key in [&first, &second, &first] {
        assert_eq!(gw.chat(key, hello()).await.0, 200);
    }
    let (status, body) = gw.chat(&second, hello()).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["limit"], "team");
    gw.server.finish().await;
}

#[tokio::test]
async fn tokens_are_held_at_the_worst_case_and_the_unused_given_back() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    // A request holds its prompt bound and 100 output tokens (~250); the stub reports 15 used.
    limit_key(&gw, &key, rates(None, Some(600))).await;
    for n in 0..10 {
        let res = send(&gw, &key, &hello()).await;
        assert_eq!(res.status().as_u16(), 200, "request {n}");
        let remaining: u64 = res.headers()["x-ratelimit-remaining-tokens"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(remaining < 600, "{remaining}");
    }
    // One that could use more than a minute's tokens never fits: no Retry-After.
    let mut large = hello();
    large["max_tokens"] = json!(1000);
    let refused = send(&gw, &key, &large).await;
    assert_eq!(refused.status().as_u16(), 429);
    assert!(refused.headers().get("retry-after").is_none());
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["type"], "tokens");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Request too large for tokens per minute"),
        "{body}"
    );
    gw.server.finish().await;
}

/// A client that hangs up while its request waits for the team's budget takes none of the key's
/// tokens per minute with it: the next request is admitted as if it had never come.
#[tokio::test]
async fn a_request_dropped_while_it_waits_for_the_budget_gives_its_tokens_back() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "100").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    limit_key(&gw, &key, rates(None, Some(600))).await;
    // It holds most of the minute's 600 tokens: its prompt bound and 400 output tokens.
    let mut large = hello();
    large["max_tokens"] = json!(400);
    let body = large.to_string();
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: tollgate\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // While this is open nothing can be written, so the team's first lease waits.
    let writing = domain::db::begin_write(&gw.server.db).await.unwrap();
    let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(tcp);
    tokio::time::sleep(Duration::from_millis(300)).await;
    writing.rollback().await.unwrap();

    let res = send(&gw, &key, &hello()).await;
    let remaining = res.headers().get("x-ratelimit-remaining-tokens").cloned();
    assert_eq!(
        res.status().as_u16(),
        200,
        "{remaining:?} {}",
        res.text().await.unwrap()
    );
    gw.server.finish().await;
}

#[tokio::test]
async fn a_key_limited_to_some_models_gets_404_on_the_others() {
    let gw = Gateway::with_models(30, VISION_ENTRY).await;
    let team = gw.team("Research", "").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    limit_key(
        &gw,
        &key,
        KeyLimits {
            models: Some(vec![VISION_MODEL.to_owned()]),
            ..KeyLimits::default()
        },
    )
    .await;
    let (status, body) = gw.chat(&key, hello()).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "model_not_found");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(MODEL) && message.contains(VISION_MODEL),
        "{message}"
    );
    let mut vision = hello();
    vision["model"] = json!(VISION_MODEL);
    assert_eq!(gw.chat(&key, vision).await.0, 200);

    assert_eq!(gw.model_ids(&key).await, [VISION_MODEL]);
    assert_eq!(gw.model(&key, VISION_MODEL).await.0, 200);
    let (status, body) = gw.model(&key, MODEL).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("model_not_found"))
    );
    gw.server.finish().await;
}
