//! A route's fallback over real HTTP, against two stub upstreams on loopback (and closed ports
//! for providers that cannot be reached): the route sends to its first target, and to the next
//! when the first cannot be reached, times out, or answers 429 or 5xx — the client gets the
//! answer of the target that answered, charged at that target's prices on the usage it
//! reported. A refusal of the request itself (400) is passed on without trying the next; when
//! every target fails the client gets the last failure, and what never reached a provider, or
//! was refused by it, is not charged.

use crate::stub_upstream::{self, StubBehaviour, StubControl, StubUsage};
use crate::support::gateway::{Gateway, hello, team_month};
use domain::TeamId;
use std::time::Duration;

/// The route with a fallback.
const ROUTE: &str = "fallback-mini";

/// What both stubs report: 1,000 tokens in and 100 out.
const USAGE: StubUsage = StubUsage::Fixed {
    prompt: 1_000,
    completion: 100,
};
/// That usage at the first target's prices ($1 / $2 per Mtok).
const AT_FIRST: i64 = 1_000 + 200;
/// That usage at the second target's prices ($3 / $6 per Mtok).
const AT_SECOND: i64 = 3_000 + 600;

/// A `[[providers]]` entry (no key).
fn provider(name: &str, base_url: &str) -> String {
    format!(
        r#"
[[providers]]
name = "{name}"
base_url = "{base_url}"
timeout_seconds = 30
"#
    )
}

/// The `[[routes]]` entry: `first-model` on `first` at $1 / $2 per Mtok, then `second-model` on
/// `then` at $3 / $6.
fn route(first: &str, then: &str) -> String {
    format!(
        r#"
[[routes]]
name = "{ROUTE}"

[[routes.targets]]
provider = "{first}"
upstream_name = "first-model"
input_usd_per_mtok = 1.0
output_usd_per_mtok = 2.0
max_output_tokens = 1000

[[routes.targets]]
provider = "{then}"
upstream_name = "second-model"
input_usd_per_mtok = 3.0
output_usd_per_mtok = 6.0
max_output_tokens = 1000
"#
    )
}

/// Base URLs on which nothing listens: two ports bound at once, then let go.
fn closed_ports() -> [String; 2] {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    [a, b].map(|l| format!("http://{}/v1", l.local_addr().unwrap()))
}

/// The gateway with, beside its own stub (provider `stub`): a second stub (provider
/// `second`) and two providers that cannot be reached (`gone`, `gone-too`); the route sends to
/// `first`, then `then`. The file's `stub` waits `timeout_seconds` for an answer.
struct Fallback {
    gw: Gateway,
    /// The stub behind provider `second`.
    second: StubControl,
    team: TeamId,
    /// A Member's key in `team`.
    key: String,
}

impl Fallback {
    async fn start(first: &str, then: &str, timeout_seconds: u64) -> Self {
        let second = stub_upstream::start().await.expect("second stub upstream");
        let [gone, gone_too] = closed_ports();
        let more = provider("second", &second.base_url())
            + &provider("gone", &gone)
            + &provider("gone-too", &gone_too)
            + &route(first, then);
        let gw = Gateway::with_models(timeout_seconds, &more).await;
        for stub in [&gw.stub, &second] {
            stub.set(StubBehaviour {
                usage: USAGE,
                ..StubBehaviour::default()
            });
        }
        let team = gw.team("Research", "10").await;
        let (_, key) = gw.member_key("m@example.com", team).await;
        Fallback {
            gw,
            second,
            team,
            key,
        }
    }

    /// The first stub answers `status` (an OpenAI-shaped error) instead.
    fn first_fails_with(&self, status: Option<u16>) {
        self.gw.stub.set(StubBehaviour {
            usage: USAGE,
            fail_with: status,
            ..StubBehaviour::default()
        });
    }

    fn second_fails_with(&self, status: Option<u16>) {
        self.second.set(StubBehaviour {
            usage: USAGE,
            fail_with: status,
            ..StubBehaviour::default()
        });
    }

    /// A chat request for the route; answers the status and the JSON body.
    async fn ask(&self) -> (u16, serde_json::Value) {
        let mut ask = hello();
        ask["model"] = ROUTE.into();
        self.gw.chat(&self.key, ask).await
    }

    /// The team's month once written: (spend in micro-dollars, requests, reserved).
    async fn month(&self) -> (i64, i64, i64) {
        self.gw.flushed().await;
        team_month(&self.gw.server.db, self.team).await
    }

    async fn finish(self) {
        self.gw.server.finish().await;
    }
}

#[tokio::test]
async fn a_first_target_answering_429_or_5xx_falls_back_at_the_next_targets_prices() {
    let f = Fallback::start("stub", "second", 30).await;
    assert!(
        f.gw.model_ids(&f.key).await.iter().any(|m| m == ROUTE),
        "the route is listed"
    );

    // The first answers: charged at its prices; the second is not asked.
    let (status, body) = f.ask().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(f.gw.stub.last().body["model"], "first-model");
    assert_eq!((f.gw.stub.requests(), f.second.requests()), (1, 0));
    assert_eq!(f.month().await, (AT_FIRST, 1, 0));

    let mut spent = AT_FIRST;
    let mut requests = 1;
    for failure in [503, 429, 500] {
        f.first_fails_with(Some(failure));
        let (first_before, second_before) = (f.gw.stub.requests(), f.second.requests());
        let (status, body) = f.ask().await;
        assert_eq!(status, 200, "first answered {failure}: {body}");
        assert_eq!(
            body["choices"][0]["message"]["content"], "Hello from the stub.",
            "{failure}"
        );
        assert_eq!(body["usage"]["prompt_tokens"], 1_000, "{failure}");
        assert_eq!(
            (f.gw.stub.requests(), f.second.requests()),
            (first_before + 1, second_before + 1),
            "the first was tried, then the second ({failure})"
        );
        assert_eq!(
            f.second.last().body["model"],
            "second-model",
            "the second target gets its own upstream name"
        );
        // Charged once, at the second target's prices on the usage it reported: a failure
        // that came before any work adds nothing.
        spent += AT_SECOND;
        requests += 1;
        assert_eq!(f.month().await, (spent, requests, 0), "{failure}");
    }

    // A 502 may come after the model ran (a proxy in front of it): the first may bill for it,
    // so it is charged its worst case, and the second answers under a hold of its own.
    f.first_fails_with(Some(502));
    let (status, body) = f.ask().await;
    assert_eq!(status, 200, "{body}");
    let (after, counted, reserved) = f.month().await;
    let first_charge = after - spent - AT_SECOND;
    assert!(
        first_charge > 0,
        "the first is charged its worst case ({first_charge} µ$), the second its usage"
    );
    assert_eq!(
        (counted, reserved),
        (requests + 2, 0),
        "two charges, nothing left held"
    );
    spent = after;
    requests += 2;

    // The first answers again: it serves, the second is left alone.
    f.first_fails_with(None);
    let second_before = f.second.requests();
    let (status, body) = f.ask().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(f.second.requests(), second_before);
    assert_eq!(f.month().await, (spent + AT_FIRST, requests + 1, 0));
    f.finish().await;
}

#[tokio::test]
async fn a_first_target_that_cannot_be_reached_falls_back_to_the_next() {
    let f = Fallback::start("gone", "second", 30).await;
    let (status, body) = f.ask().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(f.second.requests(), 1);
    assert_eq!(f.second.last().body["model"], "second-model");
    assert_eq!(f.month().await, (AT_SECOND, 1, 0));
    // Listed as the first provider's, whether or not it answers.
    let listed: serde_json::Value =
        f.gw.http
            .get(format!("{}/models", f.gw.base))
            .bearer_auth(&f.key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let route = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == ROUTE)
        .cloned()
        .unwrap_or_default();
    assert_eq!(route["owned_by"], "gone", "{listed}");
    f.finish().await;
}

#[tokio::test]
async fn a_first_target_that_times_out_is_charged_its_worst_case_and_the_next_answers() {
    // The file's `stub` waits one second; the second stub thirty.
    let f = Fallback::start("stub", "second", 1).await;
    f.gw.stub.set(StubBehaviour {
        usage: USAGE,
        latency: Duration::from_millis(1_500),
        ..StubBehaviour::default()
    });
    let (status, body) = f.ask().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((f.gw.stub.requests(), f.second.requests()), (1, 1));
    // The first may have run the model and bill for it: the hard cap counts its worst case.
    let (spent, requests, reserved) = f.month().await;
    assert!(
        spent > AT_SECOND,
        "the worst case of the first, then the second's usage: {spent}"
    );
    assert_eq!((requests, reserved), (2, 0));
    f.finish().await;
}

#[tokio::test]
async fn when_no_target_can_be_reached_the_client_is_told_and_nothing_is_charged() {
    let f = Fallback::start("gone", "gone-too", 30).await;
    let (status, body) = f.ask().await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "upstream_error");
    assert_eq!(
        body["error"]["message"], "The upstream provider `gone-too` could not be reached.",
        "the last target's failure"
    );
    assert_eq!(f.month().await, (0, 0, 0), "nothing spent, counted or held");
    assert_eq!((f.gw.stub.requests(), f.second.requests()), (0, 0));
    f.finish().await;
}

#[tokio::test]
async fn when_every_target_fails_the_client_gets_the_last_failure() {
    let f = Fallback::start("stub", "second", 30).await;
    for (first, last) in [(503, 429), (429, 503), (500, 500)] {
        f.first_fails_with(Some(first));
        f.second_fails_with(Some(last));
        let (status, body) = f.ask().await;
        assert_eq!(status, last, "first {first}, then {last}: {body}");
        assert_eq!(body["error"]["message"], "stub failure");
    }
    assert_eq!(
        (f.gw.stub.requests(), f.second.requests()),
        (3, 3),
        "each tried in turn"
    );
    // Refused by both, neither having worked on it: nothing charged.
    assert_eq!(f.month().await, (0, 0, 0), "nothing spent, counted or held");
    f.finish().await;
}

#[tokio::test]
async fn a_refusal_of_the_request_is_passed_on_without_trying_the_next() {
    let f = Fallback::start("stub", "second", 30).await;
    f.first_fails_with(Some(400));
    let (status, body) = f.ask().await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["message"], "stub failure");
    assert_eq!(
        (f.gw.stub.requests(), f.second.requests()),
        (1, 0),
        "the next target would refuse it too"
    );
    assert_eq!(f.month().await, (0, 0, 0), "nothing spent, counted or held");
    f.finish().await;
}

#[tokio::test]
async fn without_room_for_a_second_hold_the_next_target_is_not_tried() {
    let f = Fallback::start("stub", "second", 30).await;
    // A cent: room for one worst case of this request (about $0.0068 with 1,000 tokens out at
    // $6/Mtok), not two.
    let tight = f.gw.team("Tight", "0.01").await;
    let (_, key) = f.gw.member_key("t@example.com", tight).await;
    f.first_fails_with(Some(502));
    let mut ask = hello();
    ask["model"] = ROUTE.into();
    ask["max_tokens"] = 1_000.into();
    let (status, body) = f.gw.chat(&key, ask).await;
    assert_eq!(status, 502, "the first target's failure: {body}");
    assert_eq!(
        (f.gw.stub.requests(), f.second.requests()),
        (1, 0),
        "the second is not tried without a hold"
    );
    f.gw.flushed().await;
    let (spent, requests, reserved) = team_month(&f.gw.server.db, tight).await;
    assert!(
        spent > AT_SECOND && spent <= 10_000,
        "one worst case: {spent}"
    );
    assert_eq!((requests, reserved), (1, 0));
    f.finish().await;
}

/// A first target that timed out may bill for the request, so its worst case stays counted in
/// the key's tokens per minute as in its budget — also when the next target cannot be reached
/// and the client gets 502.
#[tokio::test]
async fn a_timed_out_first_target_keeps_its_tokens_counted_when_the_next_fails() {
    use domain::rate_limits::{KeyLimits, RateLimits};
    // The file's `stub` waits one second; `gone` cannot be reached.
    let f = Fallback::start("stub", "gone", 1).await;
    let id = f.gw.key_id(&f.key).await;
    let limits = KeyLimits {
        rates: RateLimits {
            requests_per_minute: None,
            tokens_per_minute: Some(3_000),
        },
        models: None,
        budget: None,
    };
    domain::service::key_limits::set(&f.gw.server.db, &f.gw.owner(), id, limits)
        .await
        .unwrap();
    f.gw.stub.set(StubBehaviour {
        usage: USAGE,
        latency: Duration::from_millis(1_500),
        ..StubBehaviour::default()
    });
    // Its worst case is over 1,000 tokens: up to 1,000 out, and its prompt.
    let mut ask = hello();
    ask["model"] = ROUTE.into();
    ask["max_tokens"] = 1_000.into();
    let (status, body) = f.gw.chat(&f.key, ask).await;
    assert_eq!(status, 502, "{body}");
    assert!(
        f.month().await.0 > 0,
        "the first target's worst case is charged"
    );

    // A small request now finds the first's worst case still counted (the limit refills 50
    // tokens a second).
    f.gw.stub.set(StubBehaviour {
        usage: USAGE,
        ..StubBehaviour::default()
    });
    let answer =
        f.gw.http
            .post(format!("{}/chat/completions", f.gw.base))
            .bearer_auth(&f.key)
            .json(&hello())
            .send()
            .await
            .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let remaining: u64 = answer.headers()["x-ratelimit-remaining-tokens"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(remaining < 2_500, "{remaining} of 3,000 tokens left");
    f.finish().await;
}
