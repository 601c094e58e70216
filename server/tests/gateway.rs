//! The `/v1` request path over real HTTP, against the stub upstream on loopback: key
//! authentication and its refusals, what is forwarded, metering, streaming, the hard cap
//! (including 200 concurrent requests), upstream failures and a client leaving mid-stream.

mod support;

use chrono::Utc;
use domain::entity::{api_key, usage_user_month};
use domain::service::leases;
use domain::service::{access_epoch, keys, month_key, users};
use domain::{Actor, TeamId};
use futures_util::StreamExt;
use sea_orm::EntityTrait;
use serde_json::json;
use std::time::Duration;
use support::gateway::{
    Gateway, MODEL, UPSTREAM_KEY, assert_admitted_exactly_the_budget, chat_at_once, hello,
    team_month,
};
use tollgate::stub_upstream::{StubBehaviour, StubUsage};

/// The team's month once the ledger has written what it holds behind.
async fn month(gw: &Gateway, team: TeamId) -> (i64, i64, i64) {
    gw.flushed().await;
    team_month(&gw.server.db, team).await
}

/// Budget leases left once the ledger has given back what no request holds (waiting up to two
/// seconds for requests still finishing: a server notices a client gone at its next write).
async fn settled(gw: &Gateway) -> u64 {
    for _ in 0..100 {
        gw.flushed().await;
        let left = leases::outstanding(&gw.server.db).await.unwrap();
        if left == 0 {
            return 0;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    leases::outstanding(&gw.server.db).await.unwrap()
}

#[tokio::test]
async fn keys_are_checked_on_every_request() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "").await;
    let (member, key) = gw.member_key("m@example.com", team).await;

    let (status, body) = gw.chat("", hello()).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "invalid_api_key");
    let (status, body) = gw.chat("tg_notarealkeyatall", hello()).await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (401, Some("Incorrect API key provided."))
    );

    let models = gw
        .http
        .get(format!("{}/models", gw.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(models.status(), 200);
    let models: serde_json::Value = models.json().await.unwrap();
    assert_eq!(models["data"][0]["id"], MODEL);
    assert_eq!(models["data"][0]["owned_by"], "stub");
    let anonymous = gw
        .http
        .get(format!("{}/models", gw.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    assert_eq!(gw.chat(&key, hello()).await.0, 200);
    // Suspended from the dashboard: refused on the very next request; reactivated: accepted.
    let owner = gw.server.sign_in("owner@example.com").await;
    let suspend = gw
        .server
        .post("suspend_user", &format!("id={}", member.0), Some(&owner))
        .await;
    assert_eq!(suspend.0, 200, "{}", suspend.1);
    let (status, body) = gw.chat(&key, hello()).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let reactivate = gw
        .server
        .post("reactivate_user", &format!("id={}", member.0), Some(&owner))
        .await;
    assert_eq!(reactivate.0, 200, "{}", reactivate.1);
    assert_eq!(gw.chat(&key, hello()).await.0, 200);
    // Revoked from the dashboard: refused at once.
    let key_id = keys::authenticate(&gw.server.db, &domain::secret::Secret::new(key.clone()))
        .await
        .unwrap()
        .key;
    let revoke = gw
        .server
        .post("revoke_key", &format!("id={}", key_id.0), Some(&owner))
        .await;
    assert_eq!(revoke.0, 200, "{}", revoke.1);
    let (status, body) = gw.chat(&key, hello()).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["message"], "This API key has been revoked.");

    // A change made by another process (here: straight in the database) is seen once the
    // access epoch is next polled, within milliseconds.
    let (_, other) = gw.member_key("n@example.com", team).await;
    assert_eq!(gw.chat(&other, hello()).await.0, 200);
    let other_id = keys::authenticate(&gw.server.db, &domain::secret::Secret::new(other.clone()))
        .await
        .unwrap()
        .user;
    users::suspend(&gw.server.db, &gw.owner(), other_id)
        .await
        .unwrap();
    tokio::time::sleep(access_epoch::POLL_EVERY * 4).await;
    assert_eq!(gw.chat(&other, hello()).await.0, 401);
    assert_eq!(
        gw.stub.requests(),
        3,
        "refused requests never reach the upstream"
    );
    gw.server.finish().await;
}

#[tokio::test]
async fn a_request_is_forwarded_clamped_and_metered() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "10").await;
    let (member, key) = gw.member_key("m@example.com", team).await;
    gw.stub.set(StubBehaviour {
        usage: StubUsage::Fixed {
            prompt: 1_000,
            completion: 250,
        },
        ..StubBehaviour::default()
    });
    let mut asked = hello();
    asked["max_tokens"] = json!(50_000);
    let (status, body) = gw.chat(&key, asked).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hello from the stub."
    );
    assert_eq!(body["usage"]["prompt_tokens"], 1_000);

    let sent = gw.stub.last();
    assert_eq!(sent.body["model"], "stub-upstream-mini");
    assert_eq!(
        sent.body["max_tokens"], 1000,
        "clamped to the model's maximum"
    );
    assert_eq!(
        sent.authorization.as_deref(),
        Some(format!("Bearer {UPSTREAM_KEY}").as_str()),
        "the upstream gets the gateway's key, not the client's"
    );
    assert!(!body.to_string().contains(UPSTREAM_KEY));

    // 1,000 × $1/Mtok + 250 × $2/Mtok = $0.0015.
    assert_eq!(month(&gw, team).await, (1_500, 1, 0));
    let user_month = usage_user_month::Entity::find_by_id((member.0, month_key(Utc::now())))
        .one(&gw.server.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((user_month.spend_micros, user_month.requests), (1_500, 1));
    let key_row = api_key::Entity::find()
        .one(&gw.server.db)
        .await
        .unwrap()
        .unwrap();
    assert!(key_row.last_used_at.is_some());

    // Bad requests are refused before anything is held or sent.
    let (status, body) = gw
        .chat(&key, json!({"model": "gpt-nonexistent", "messages": []}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "model_not_found");
    let (status, body) = gw
        .chat(&key, json!({"model": MODEL, "max_tokens": -5}))
        .await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("max_tokens"))
    );
    assert_eq!(gw.stub.requests(), 1);
    gw.server.finish().await;
}

#[tokio::test]
async fn streams_pass_through_and_settle_to_the_final_usage() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "10").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    gw.stub.set(StubBehaviour {
        usage: StubUsage::Fixed {
            prompt: 2_000,
            completion: 100,
        },
        stream_chunks: 5,
        ..StubBehaviour::default()
    });
    let mut asked = hello();
    asked["stream"] = json!(true);
    let res = gw
        .http
        .post(format!("{}/chat/completions", gw.base))
        .bearer_auth(&key)
        .json(&asked)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let text = res.text().await.unwrap();
    for i in 0..5 {
        assert!(text.contains(&format!("part {i} ")), "{text}");
    }
    assert!(text.trim_end().ends_with("data: [DONE]"));
    assert_eq!(gw.stub.last().body["stream_options"]["include_usage"], true);
    assert_eq!(settled(&gw).await, 0);
    // 2,000 × 1 + 100 × 2 micro-dollars.
    assert_eq!(month(&gw, team).await, (2_200, 1, 0));
    gw.server.finish().await;
}

#[tokio::test]
async fn past_the_limit_requests_get_402_naming_the_team() {
    let gw = Gateway::start().await;
    // $0.01 = 10,000 µ$. The stub reports each request's worst case (about 200 µ$ in and
    // 200 out), so requests are admitted until the next one would pass the limit.
    let team = gw.team("Research", "0.01").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    gw.stub.set(StubBehaviour {
        usage: StubUsage::WorstCase,
        ..StubBehaviour::default()
    });
    let mut admitted = 0;
    let refusal = loop {
        let (status, body) = gw.chat(&key, hello()).await;
        match status {
            200 => admitted += 1,
            402 => break body,
            other => panic!("unexpected {other}: {body}"),
        }
        assert!(admitted < 100, "the cap never bit");
    };
    let (spent, requests, reserved) = month(&gw, team).await;
    assert_eq!((requests, reserved), (admitted, 0));
    let each = spent / admitted;
    assert!(
        spent <= 10_000 && spent + each > 10_000,
        "spent {spent}, each {each}"
    );
    let error = &refusal["error"];
    assert_eq!(error["type"], "budget_exceeded");
    assert_eq!(error["code"], "budget_exceeded");
    assert_eq!(error["team"], "Research");
    assert_eq!(error["limit_usd"], 0.01);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Team ‘Research’ has reached its monthly spend limit of $0.01")
    );
    assert!(
        error["resets_at"]
            .as_str()
            .unwrap()
            .ends_with("-01T00:00:00Z")
    );
    assert_eq!(
        gw.stub.requests() as i64,
        admitted,
        "refused requests never reach the upstream"
    );
    gw.server.finish().await;
}

#[tokio::test]
async fn two_hundred_concurrent_requests_admit_exactly_what_the_budget_allows() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "0.05").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    gw.stub.set(StubBehaviour {
        usage: StubUsage::WorstCase,
        latency: Duration::from_millis(50),
        ..StubBehaviour::default()
    });
    let url = format!("{}/chat/completions", gw.base);
    let statuses = chat_at_once(200, &[url], &key).await;
    // The settlements are committed before the answers: nothing left to wait for.
    assert_admitted_exactly_the_budget(&gw.server.db, team, &statuses, 50_000).await;
    gw.server.finish().await;
}

#[tokio::test]
async fn upstream_failures_release_the_hold() {
    let gw = Gateway::with_timeout(1).await;
    let team = gw.team("Research", "10").await;
    let (_, key) = gw.member_key("m@example.com", team).await;

    gw.stub.set(StubBehaviour {
        fail_with: Some(500),
        ..StubBehaviour::default()
    });
    let (status, body) = gw.chat(&key, hello()).await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (500, Some("stub failure"))
    );

    gw.stub.set(StubBehaviour {
        fail_with: Some(401),
        ..StubBehaviour::default()
    });
    let (status, body) = gw.chat(&key, hello()).await;
    assert_eq!(
        status, 502,
        "the upstream refusing our key is not the client's 401: {body}"
    );

    gw.stub.set(StubBehaviour {
        latency: Duration::from_millis(1_500),
        ..StubBehaviour::default()
    });
    let (status, body) = gw.chat(&key, hello()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (504, Some("upstream_timeout"))
    );

    assert_eq!(
        month(&gw, team).await,
        (0, 0, 0),
        "nothing spent, nothing held"
    );
    assert_eq!(settled(&gw).await, 0);
    gw.server.finish().await;
}

#[tokio::test]
async fn a_client_leaving_mid_stream_leaves_no_hold() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "10").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    gw.stub.set(StubBehaviour {
        stream_chunks: 50,
        chunk_pause: Duration::from_millis(100),
        ..StubBehaviour::default()
    });
    let mut asked = hello();
    asked["stream"] = json!(true);
    let res = gw
        .http
        .post(format!("{}/chat/completions", gw.base))
        .bearer_auth(&key)
        .json(&asked)
        .send()
        .await
        .unwrap();
    let mut events = res.bytes_stream();
    let first = events.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("part 0"));
    assert_eq!(leases::outstanding(&gw.server.db).await.unwrap(), 1);
    drop(events);
    assert_eq!(
        settled(&gw).await,
        0,
        "the hold is released when the client goes"
    );
    let (spent, requests, reserved) = month(&gw, team).await;
    assert_eq!((spent, requests, reserved), (0, 0, 0));
    gw.server.finish().await;
}

#[tokio::test]
async fn keys_without_a_team_are_metered_without_a_cap() {
    let gw = Gateway::start().await;
    let owner: Actor = gw.owner();
    let issued = keys::issue(
        &gw.server.db,
        &owner,
        keys::IssueInput {
            name: "ops".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(gw.chat(&issued.secret, hello()).await.0, 200);
    gw.flushed().await;
    let user_month = usage_user_month::Entity::find_by_id((gw.owner.0, month_key(Utc::now())))
        .one(&gw.server.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((user_month.spend_micros, user_month.requests), (20, 1));
    gw.server.finish().await;
}
