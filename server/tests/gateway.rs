//! The `/v1` request path over real HTTP, against the stub upstream on loopback: key
//! authentication and its refusals, what is forwarded, metering, streaming, the hard cap
//! (including 200 concurrent requests), upstream failures, clients that leave before the end
//! (charged all the same), and requests whose worst case must bound what the upstream bills.

use crate::stub_upstream::{StubBehaviour, StubUsage};
use crate::support::gateway::{
    Gateway, MODEL, UPSTREAM_KEY, VISION_ENTRY, VISION_MODEL, assert_admitted_exactly_the_budget,
    chat_at_once, hello, team_month,
};
use chrono::Utc;
use domain::entity::{api_key, usage_team_month, usage_user_month};
use domain::service::leases;
use domain::service::{access_epoch, keys, month_key, users};
use domain::{Actor, TeamId};
use futures_util::StreamExt;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use std::time::Duration;

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

/// Sends `body` to the chat endpoint with `key`, answering the response as it came.
async fn post_chat(gw: &Gateway, key: &str, body: &serde_json::Value) -> reqwest::Response {
    gw.http
        .post(format!("{}/chat/completions", gw.base))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap()
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
    let res = post_chat(&gw, &key, &asked).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let text = res.text().await.unwrap();
    for i in 0..5 {
        assert!(text.contains(&format!("part {i} ")), "{text}");
    }
    assert!(text.trim_end().ends_with("data: [DONE]"));
    assert_eq!(gw.stub.last().body["stream_options"]["include_usage"], true);
    // The gateway asked for the usage chunk, not the client: it is not passed on (OpenAI's
    // clients read `choices[0]` of every chunk, and that one has no choices).
    assert!(!text.contains("\"prompt_tokens\""), "{text}");
    assert_eq!(settled(&gw).await, 0);
    // 2,000 × 1 + 100 × 2 micro-dollars.
    assert_eq!(month(&gw, team).await, (2_200, 1, 0));

    // A client that asks for it gets it, and one that says no does not.
    for (include, passed) in [(true, true), (false, false)] {
        asked["stream_options"] = json!({ "include_usage": include });
        let text = post_chat(&gw, &key, &asked).await.text().await.unwrap();
        assert_eq!(text.contains("\"prompt_tokens\":2000"), passed, "{text}");
        assert!(text.contains("part 4 "), "{text}");
        assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    }
    assert_eq!(month(&gw, team).await, (6_600, 3, 0));
    gw.server.finish().await;
}

#[tokio::test]
async fn a_model_is_retrieved_by_its_name_as_the_list_shows_it() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    let (status, body) = gw.model(&key, MODEL).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "id": MODEL, "object": "model", "created": 0, "owned_by": "stub" })
    );
    let (status, body) = gw.model(&key, "gpt-nothing").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "model_not_found");
    assert_eq!(body["error"]["param"], "model");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("gpt-nothing"),
        "{body}"
    );
    // A name with slashes in it (as many providers' names have) is one id, not a deeper path.
    assert_eq!(gw.model(&key, "org/some-model").await.0, 404);
    // A name that is not UTF-8 once decoded is a name no model has, answered the same way.
    let (status, body) = gw.model(&key, "%FF").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("model_not_found"))
    );
    let anonymous = gw
        .http
        .get(format!("{}/models/{MODEL}", gw.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    gw.server.finish().await;
}

#[tokio::test]
async fn unknown_paths_and_methods_under_v1_answer_in_openais_shape() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    for (method, path, status, allow) in [
        ("POST", "/embeddings", 404, None),
        ("POST", "/completions", 404, None),
        ("GET", "/nothing/here", 404, None),
        ("GET", "/chat/completions", 405, Some("POST")),
        ("DELETE", "/models", 405, Some("GET")),
        ("POST", "/models/some-model", 405, Some("GET")),
    ] {
        let res = gw
            .http
            .request(method.parse().unwrap(), format!("{}{path}", gw.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{method} {path}");
        assert_eq!(
            res.headers().get("allow").map(|v| v.to_str().unwrap()),
            allow,
            "{method} {path}"
        );
        let body: serde_json::Value = res.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(&format!("{method} /v1{path}")), "{body}");
        assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
    }
    gw.server.finish().await;
}

#[tokio::test]
async fn the_bearer_scheme_is_read_in_any_case() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let res = gw
            .http
            .get(format!("{}/models", gw.base))
            .header("authorization", format!("{scheme} {key}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{scheme}");
    }
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
async fn a_request_that_could_cost_more_than_is_left_is_told_so_not_that_the_limit_is_reached() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "0.01").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    // Eight choices of up to 1,000 tokens at $2 a million: $0.016 at most, past the $0.01 limit
    // of a team that has spent nothing.
    let mut big = hello();
    big["max_tokens"] = 1000.into();
    big["n"] = 8.into();
    let (status, body) = gw.chat(&key, big).await;
    assert_eq!(status, 402, "{body}");
    let error = &body["error"];
    assert_eq!(error["type"], "budget_exceeded");
    assert_eq!(error["spent_usd"], 0.0);
    let worst = error["request_max_usd"].as_f64().unwrap();
    assert!((0.016..0.017).contains(&worst), "{worst}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Team ‘Research’ has $0.01 left of its monthly spend limit of $0.01 (spent $0.00 this \
             month); this request could cost up to $0.02. Lower max_tokens or n to fit."
        ),
        "{message}"
    );
    assert!(!message.contains("reached"), "{message}");
    assert_eq!(month(&gw, team).await, (0, 0, 0), "nothing was held");
    // The same request, smaller, fits.
    let (status, body) = gw.chat(&key, hello()).await;
    assert_eq!(status, 200, "{body}");
    gw.server.finish().await;
}

#[tokio::test]
async fn what_a_402_says_is_left_does_not_count_the_gateways_own_unused_headroom() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "1").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    // Once the database has told it how much room the month has, the gateway leases headroom
    // beyond a request's worst case ($1 / 64, unused once the request ends, and kept for the
    // next for a second: read without flushing, which gives it back).
    let mut reserved = 0;
    for _ in 0..5 {
        assert_eq!(gw.chat(&key, hello()).await.0, 200);
        reserved = team_month(&gw.server.db, team).await.2;
        if reserved > 10_000 {
            break;
        }
    }
    assert!(reserved > 10_000, "the process holds headroom: {reserved}");
    // Another gateway spends $0.95 meanwhile; $0.05 less this request's cost is left.
    usage_team_month::Entity::update_many()
        .col_expr(
            usage_team_month::Column::SpendMicros,
            Expr::col(usage_team_month::Column::SpendMicros).add(950_000),
        )
        .filter(usage_team_month::Column::TeamId.eq(team.0))
        .exec(&gw.server.db)
        .await
        .unwrap();
    // 32 choices of up to 1,000 tokens at $2 a million: $0.064 at most, more than is left.
    let mut big = hello();
    big["max_tokens"] = 1000.into();
    big["n"] = 32.into();
    let (status, body) = gw.chat(&key, big).await;
    assert_eq!(status, 402, "{body}");
    let error = &body["error"];
    assert_eq!(
        error["reserved_usd"], 0.0,
        "no request is in flight: {body}"
    );
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Team ‘Research’ has $0.04 left of its monthly spend limit of $1.00 (spent $0.95 \
             this month); this request could cost up to $0.07."
        ),
        "{message}"
    );
    // And what is left is still there for a request that fits.
    assert_eq!(gw.chat(&key, hello()).await.0, 200);
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
async fn upstream_refusals_release_the_hold_and_timeouts_are_charged() {
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
    assert_eq!(
        month(&gw, team).await,
        (0, 0, 0),
        "refused by the upstream: nothing spent, nothing held"
    );

    // Received but not answered in time: the provider may have worked on it, so its worst
    // case is charged.
    gw.stub.set(StubBehaviour {
        latency: Duration::from_millis(1_500),
        ..StubBehaviour::default()
    });
    let (status, body) = gw.chat(&key, hello()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (504, Some("upstream_timeout"))
    );
    let spent = spent_once_settled(&gw, team, 1).await;
    let forwarded = serde_json::to_vec(&gw.stub.last().body).unwrap().len() as i64;
    assert!(spent >= forwarded + 200, "spent {spent}");
    gw.server.finish().await;
}

/// Opens a streamed chat with `key`, reads until `enough` says so, then hangs up.
async fn stream_and_leave(gw: &Gateway, key: &str, enough: impl Fn(&str) -> bool) {
    let mut asked = hello();
    asked["stream"] = json!(true);
    let res = gw
        .http
        .post(format!("{}/chat/completions", gw.base))
        .bearer_auth(key)
        .json(&asked)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut events = res.bytes_stream();
    let mut seen = String::new();
    while !enough(&seen) {
        let chunk = events.next().await.expect("more events").unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        !seen.contains("\"usage\":{"),
        "left before the usage: {seen}"
    );
}

/// Waits until the team's month counts `requests` requests, nothing is held and no lease is
/// left; answers its spend.
async fn spent_once_settled(gw: &Gateway, team: TeamId, requests: i64) -> i64 {
    for _ in 0..150 {
        let (spent, counted, reserved) = month(gw, team).await;
        if (counted, reserved) == (requests, 0) && settled(gw).await == 0 {
            return spent;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the team's month is {:?}", month(gw, team).await);
}

#[tokio::test]
async fn a_client_leaving_before_the_usage_chunk_is_charged_what_the_upstream_reports() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "10").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    gw.stub.set(StubBehaviour {
        usage: StubUsage::Fixed {
            prompt: 3_000,
            completion: 400,
        },
        stream_chunks: 3,
        usage_pause: Duration::from_millis(300),
        ..StubBehaviour::default()
    });
    // Every content chunk read, then gone before the usage chunk: the answer was had in full.
    stream_and_leave(&gw, &key, |seen| seen.contains("part 2")).await;
    // 3,000 × 1 + 400 × 2 micro-dollars: the gateway read on to the upstream's own figures.
    assert_eq!(spent_once_settled(&gw, team, 1).await, 3_800);
    gw.server.finish().await;
}

#[tokio::test]
async fn a_client_leaving_mid_stream_is_charged_too() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "10").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    gw.stub.set(StubBehaviour {
        stream_chunks: 20,
        chunk_pause: Duration::from_millis(20),
        ..StubBehaviour::default()
    });
    stream_and_leave(&gw, &key, |seen| seen.contains("part 0")).await;
    // The default usage: 10 × 1 + 5 × 2.
    assert_eq!(spent_once_settled(&gw, team, 1).await, 20);
    gw.server.finish().await;
}

#[tokio::test]
async fn an_upstream_breaking_off_mid_stream_is_charged_the_worst_case() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "10").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    gw.stub.set(StubBehaviour {
        stream_chunks: 5,
        break_after: Some(2),
        ..StubBehaviour::default()
    });
    let mut asked = hello();
    asked["stream"] = json!(true);
    let sent = gw
        .http
        .post(format!("{}/chat/completions", gw.base))
        .bearer_auth(&key)
        .json(&asked)
        .send()
        .await;
    // The break reaches the client as a broken response, before or after its headers.
    let broke = match sent {
        Ok(res) => res.status() == 200 && res.text().await.is_err(),
        Err(_) => true,
    };
    assert!(broke, "the client sees the stream break");
    // No usage came: the upstream accepted the request, so its worst case is charged — the
    // forwarded body's bytes in, 100 tokens out at 2 µ$.
    let spent = spent_once_settled(&gw, team, 1).await;
    let forwarded = serde_json::to_vec(&gw.stub.last().body).unwrap().len() as i64;
    assert!(spent >= forwarded + 200, "spent {spent}");
    gw.server.finish().await;
}

#[tokio::test]
async fn a_client_leaving_before_the_answer_is_charged_what_the_upstream_reports() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "10").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    gw.stub.set(StubBehaviour {
        usage: StubUsage::Fixed {
            prompt: 1_000,
            completion: 50,
        },
        latency: Duration::from_millis(400),
        ..StubBehaviour::default()
    });
    let gone = gw
        .http
        .post(format!("{}/chat/completions", gw.base))
        .bearer_auth(&key)
        .timeout(Duration::from_millis(100))
        .json(&hello())
        .send()
        .await;
    assert!(gone.is_err(), "the client gave up first");
    assert_eq!(spent_once_settled(&gw, team, 1).await, 1_100);
    gw.server.finish().await;
}

/// A team whose limit is `limit`, a Member's key in it, and the stub billing every request's
/// worst case as a provider would.
async fn billed_at_worst(gw: &Gateway, limit: &str) -> (TeamId, String) {
    let team = gw.team("Research", limit).await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    gw.stub.set(StubBehaviour {
        usage: StubUsage::WorstCase,
        image_tokens: 20_000,
        ..StubBehaviour::default()
    });
    (team, key)
}

#[tokio::test]
async fn several_choices_are_held_for_every_choice() {
    let gw = Gateway::start().await;
    // $0.01: one choice of 100 tokens (≈ 300 µ$) fits many times, but 8 choices of 1,000
    // tokens (16,000 µ$ out) do not fit at all.
    let (team, key) = billed_at_worst(&gw, "0.01").await;
    let mut asked = hello();
    asked["n"] = json!(8);
    asked["max_tokens"] = json!(1_000);
    let (status, body) = gw.chat(&key, asked).await;
    assert_eq!(status, 402, "{body}");
    let mut asked = hello();
    asked["n"] = json!(3);
    let (status, body) = gw.chat(&key, asked).await;
    assert_eq!(status, 200, "{body}");
    let spent = spent_once_settled(&gw, team, 1).await;
    assert!((600..=10_000).contains(&spent), "spent {spent}");
    for bad in [json!(0), json!(-1), json!(1.5), json!("2"), json!(129)] {
        let mut asked = hello();
        asked["n"] = bad.clone();
        let (status, body) = gw.chat(&key, asked).await;
        assert_eq!(
            (status, body["error"]["param"].as_str()),
            (400, Some("n")),
            "n = {bad}: {body}"
        );
    }
    gw.server.finish().await;
}

#[tokio::test]
async fn both_output_limits_are_clamped() {
    let gw = Gateway::start().await;
    let (team, key) = billed_at_worst(&gw, "10").await;
    let mut asked = hello();
    asked["max_tokens"] = json!(50_000);
    asked["max_completion_tokens"] = json!(10);
    assert_eq!(gw.chat(&key, asked).await.0, 200);
    let sent = gw.stub.last().body;
    assert_eq!(
        (&sent["max_tokens"], &sent["max_completion_tokens"]),
        (&json!(10), &json!(10)),
        "both fields carry the limit that was held"
    );
    spent_once_settled(&gw, team, 1).await;
    gw.server.finish().await;
}

#[tokio::test]
async fn images_are_held_at_the_models_bound_or_refused() {
    let gw = Gateway::with_models(30, VISION_ENTRY).await;
    // $0.01 = 10,000 µ$: the text alone fits, an image at 20,000 tokens does not.
    let (team, key) = billed_at_worst(&gw, "0.01").await;
    let with_image = |model: &str, url: &str| {
        json!({
            "model": model,
            "max_tokens": 10,
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": url}}
            ]}]
        })
    };
    // A model whose entry does not bound images: refused before anything is held or sent.
    let (status, body) = gw
        .chat(&key, with_image(MODEL, "http://example.com/cat.png"))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("image"),
        "{body}"
    );
    let (status, body) = gw
        .chat(
            &key,
            with_image(MODEL, "data:image/png;base64,iVBORw0KGgo="),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    // A model that bounds them: held at 20,000 tokens an image, so this one is past the limit.
    let (status, body) = gw
        .chat(&key, with_image(VISION_MODEL, "http://example.com/cat.png"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (402, Some("budget_exceeded")),
        "{body}"
    );
    assert_eq!(gw.stub.requests(), 0);
    assert_eq!(month(&gw, team).await, (0, 0, 0));
    gw.server.finish().await;
}

#[tokio::test]
async fn options_that_change_the_price_are_refused() {
    let gw = Gateway::start().await;
    let (_, key) = billed_at_worst(&gw, "10").await;
    for (field, value) in [
        ("service_tier", json!("priority")),
        ("audio", json!({"voice": "alloy", "format": "wav"})),
        ("modalities", json!(["text", "audio"])),
        ("prediction", json!({"type": "content", "content": "x"})),
        ("web_search_options", json!({})),
    ] {
        let mut asked = hello();
        asked[field] = value;
        let (status, body) = gw.chat(&key, asked).await;
        assert_eq!(
            (status, body["error"]["param"].as_str()),
            (400, Some(field)),
            "{body}"
        );
    }
    let mut asked = hello();
    asked["service_tier"] = json!("default");
    asked["modalities"] = json!(["text"]);
    assert_eq!(gw.chat(&key, asked).await.0, 200);
    assert_eq!(gw.stub.requests(), 1);
    gw.server.finish().await;
}

#[tokio::test]
async fn fields_outside_the_chat_api_are_refused_not_forwarded() {
    let gw = Gateway::start().await;
    let (_, key) = billed_at_worst(&gw, "10").await;
    let mut fallback = hello();
    fallback["models"] = json!(["a-dearer-model"]);
    let mut cached = hello();
    cached["messages"] = json!([{"role": "user", "content": [
        {"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral", "ttl": "1h"}}
    ]}]);
    let mut audio_reply = hello();
    audio_reply["messages"] = json!([{"role": "assistant", "audio": {"id": "audio_1"}}]);
    let mut running_usage = hello();
    running_usage["stream"] = json!(true);
    running_usage["stream_options"] = json!({"continuous_usage_stats": true});
    for (what, asked, named) in [
        ("a provider extension", fallback, "models"),
        ("a part field", cached, "cache_control"),
        ("a message field", audio_reply, "audio"),
        ("a stream option", running_usage, "continuous_usage_stats"),
    ] {
        let (status, body) = gw.chat(&key, asked).await;
        assert_eq!(status, 400, "{what}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{what}: {message}");
    }
    assert_eq!(gw.stub.requests(), 0, "nothing reached the upstream");
    gw.server.finish().await;
}

#[tokio::test]
async fn the_key_is_checked_before_the_body_is_read() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "10").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    let huge = vec![b' '; 40 * 1024 * 1024];
    let anonymous = gw
        .http
        .post(format!("{}/chat/completions", gw.base))
        .header("content-type", "application/json")
        .body(huge.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401, "refused from the headers alone");
    let too_big = gw
        .http
        .post(format!("{}/chat/completions", gw.base))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    let body: serde_json::Value = too_big.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("bytes"),
        "{body}"
    );
    gw.server.finish().await;
}

#[tokio::test]
async fn only_writes_that_change_access_make_the_gateway_forget_keys() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "10").await;
    let (member, key) = gw.member_key("m@example.com", team).await;
    let owner = gw.server.sign_in("owner@example.com").await;
    assert_eq!(gw.chat(&key, hello()).await.0, 200);
    // The set-up's own changes (made straight in the database) are seen by the poll first.
    tokio::time::sleep(access_epoch::POLL_EVERY * 4).await;
    let before = gw.access.version();
    // Unauthenticated writes, writes to nowhere, refused writes and reads over POST.
    for _ in 0..20 {
        gw.server
            .post("suspend_user", &format!("id={}", member.0), None)
            .await;
        gw.server.post("no_such_function", "", Some(&owner)).await;
        gw.server
            .post("suspend_user", "id=not-a-number", Some(&owner))
            .await;
    }
    let query = r#"{"query":{"search":"","role":null,"sort":"Name","dir":"Asc","page":1}}"#;
    let list = gw.server.post_json("list_users", query, &owner).await;
    assert_eq!(list.0, 200, "{}", list.1);
    assert_eq!(
        gw.access.version(),
        before,
        "nothing that changes access happened"
    );
    let suspend = gw
        .server
        .post("suspend_user", &format!("id={}", member.0), Some(&owner))
        .await;
    assert_eq!(suspend.0, 200, "{}", suspend.1);
    assert_ne!(
        gw.access.version(),
        before,
        "a suspension is noticed before its answer"
    );
    assert_eq!(gw.chat(&key, hello()).await.0, 401);
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
