//! Key and member budgets on the `/v1` path, over real HTTP against the stub upstream: each is
//! held like the team's limit, so 200 concurrent requests admit exactly what the narrowest
//! budget allows, the 402 names the budget that refused, and a change reaches a key the gateway
//! has already checked.

use crate::stub_upstream::{StubBehaviour, StubUsage};
use crate::support::gateway::{Gateway, chat_at_once, hello, team_month};
use domain::entity::{usage_key_month, usage_user_month};
use domain::rate_limits::KeyLimits;
use domain::service::{key_limits, keys, leases, month_key};
use domain::teams::TeamInput;
use domain::{Actor, KeyId, Role, Status, UserId};
use sea_orm::EntityTrait;
use std::time::Duration;

async fn budget_key(gw: &Gateway, secret: &str, dollars: &str) {
    let limits = KeyLimits::parse(dollars, "", "", &[], &[]).unwrap();
    let id = gw.key_id(secret).await;
    key_limits::set(&gw.server.db, &gw.owner(), id, limits)
        .await
        .unwrap();
}

/// (spend, requests, reserved) of a key's and a person's month.
async fn key_month(gw: &Gateway, key: KeyId) -> (i64, i64, i64) {
    usage_key_month::Entity::find_by_id((key.0, month_key(chrono::Utc::now())))
        .one(&gw.server.db)
        .await
        .unwrap()
        .map_or((0, 0, 0), |m| {
            (m.spend_micros, m.requests, m.reserved_micros)
        })
}

async fn member_month(gw: &Gateway, user: UserId) -> (i64, i64, i64) {
    usage_user_month::Entity::find_by_id((user.0, month_key(chrono::Utc::now())))
        .one(&gw.server.db)
        .await
        .unwrap()
        .map_or((0, 0, 0), |m| {
            (m.spend_micros, m.requests, m.reserved_micros)
        })
}

/// Every request costs its worst case and takes 50 ms, so hundreds are in flight at once.
fn slow_worst_case(gw: &Gateway) {
    gw.stub.set(StubBehaviour {
        usage: StubUsage::WorstCase,
        latency: Duration::from_millis(50),
        ..StubBehaviour::default()
    });
}

/// Waits until nothing is held any more; answers the month figures then.
async fn settled<F, Fut>(gw: &Gateway, figures: F) -> (i64, i64, i64)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (i64, i64, i64)>,
{
    for _ in 0..100 {
        let now = figures().await;
        if now.2 == 0 && leases::outstanding(&gw.server.db).await.unwrap() == 0 {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("still held: {:?}", figures().await);
}

/// Exactly ⌊budget / each⌋ of `statuses` were admitted, the rest refused with 402.
fn admitted_exactly(statuses: &[u16], spent: i64, requests: i64, budget: i64) {
    let admitted = statuses.iter().filter(|s| **s == 200).count() as i64;
    let refused = statuses.iter().filter(|s| **s == 402).count() as i64;
    assert_eq!(admitted + refused, statuses.len() as i64, "{statuses:?}");
    assert_eq!(requests, admitted);
    let each = spent / admitted;
    assert_eq!(spent, each * admitted);
    assert_eq!(admitted, budget / each, "admitted {admitted} at {each} µ$");
}

#[tokio::test]
async fn two_hundred_concurrent_requests_admit_exactly_a_key_budget() {
    let gw = Gateway::start().await;
    // The team could pay for all of them; the key's $0.05 cannot.
    let team = gw.team("Research", "10").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    budget_key(&gw, &key, "0.05").await;
    slow_worst_case(&gw);

    let url = format!("{}/chat/completions", gw.base);
    let statuses = chat_at_once(200, &[url], &key).await;
    let id = gw.key_id(&key).await;
    let (spent, requests, _) = settled(&gw, || key_month(&gw, id)).await;
    admitted_exactly(&statuses, spent, requests, 50_000);
    let (team_spent, _, team_reserved) = team_month(&gw.server.db, team).await;
    assert_eq!((team_spent, team_reserved), (spent, 0));

    let (status, body) = gw.chat(&key, hello()).await;
    assert_eq!(status, 402);
    let error = &body["error"];
    assert_eq!(error["code"], "budget_exceeded");
    assert_eq!(error["limit"], "key");
    assert_eq!(error["key"], "laptop");
    assert_eq!(error["limit_usd"], 0.05);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("API key ‘laptop’ has reached its monthly budget of $0.05"),
        "{body}"
    );
    gw.server.finish().await;
}

#[tokio::test]
async fn a_member_budget_holds_across_all_their_keys() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "10").await;
    let edit = TeamInput {
        name: "Research".into(),
        limit: "10".into(),
        member_budget: Some("0.05".into()),
        ..TeamInput::default()
    };
    domain::service::teams::edit(&gw.server.db, &gw.owner(), team, &edit)
        .await
        .unwrap();
    let (user, first) = gw.member_key("m@example.com", team).await;
    let second = second_key(&gw, user).await;
    slow_worst_case(&gw);

    let url = format!("{}/chat/completions", gw.base);
    let (a, b) = tokio::join!(
        chat_at_once(100, std::slice::from_ref(&url), &first),
        chat_at_once(100, std::slice::from_ref(&url), &second),
    );
    let statuses: Vec<u16> = a.into_iter().chain(b).collect();
    let (spent, requests, _) = settled(&gw, || member_month(&gw, user)).await;
    admitted_exactly(&statuses, spent, requests, 50_000);

    let (status, body) = gw.chat(&second, hello()).await;
    assert_eq!(status, 402);
    assert_eq!(body["error"]["limit"], "member");
    assert_eq!(body["error"]["member"], "Member");
    gw.server.finish().await;
}

#[tokio::test]
async fn budgets_set_on_the_dashboard_reach_a_key_already_checked() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "").await;
    let (user, key) = gw.member_key("m@example.com", team).await;
    let id = gw.key_id(&key).await;
    // Checked and remembered by the gateway before any budget exists.
    assert_eq!(gw.chat(&key, hello()).await.0, 200);
    let owner = gw.server.sign_in("owner@example.com").await;
    let set_member = |budget: &str| format!("id={}&user={}&budget={budget}", team.0, user.0);

    let (status, body, _) = gw
        .server
        .post("set_member_budget", &set_member("0"), Some(&owner))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = gw.chat(&key, hello()).await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["error"]["limit"], "member");

    // Back to the team's default — none — and the key works again.
    gw.server
        .post("set_member_budget", &set_member(""), Some(&owner))
        .await;
    assert_eq!(gw.chat(&key, hello()).await.0, 200);

    let (status, body, _) = gw
        .server
        .post(
            "set_key_limits",
            &format!("id={}&budget=0", id.0),
            Some(&owner),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = gw.chat(&key, hello()).await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["error"]["limit"], "key");
    gw.server.finish().await;
}

#[tokio::test]
async fn the_narrowest_budget_refuses_and_the_others_keep_nothing_held() {
    let gw = Gateway::start().await;
    // Team $0.05, key $1: the team's month refuses, after the key's slice was taken.
    let team = gw.team("Research", "0.05").await;
    let (user, key) = gw.member_key("m@example.com", team).await;
    budget_key(&gw, &key, "1").await;
    slow_worst_case(&gw);
    let url = format!("{}/chat/completions", gw.base);
    let statuses = chat_at_once(200, &[url], &key).await;
    let (spent, requests, _) = settled(&gw, || team_month(&gw.server.db, team)).await;
    admitted_exactly(&statuses, spent, requests, 50_000);
    let id = gw.key_id(&key).await;
    assert_eq!(key_month(&gw, id).await, (spent, requests, 0));
    assert_eq!(member_month(&gw, user).await, (spent, requests, 0));
    let (_, body) = gw.chat(&key, hello()).await;
    assert_eq!(body["error"]["limit"], "team");
    assert_eq!(body["error"]["team"], "Research");
    gw.server.finish().await;
}

/// Another key for `user`, issued by them.
async fn second_key(gw: &Gateway, user: UserId) -> String {
    let member = Actor {
        id: user,
        role: Role::Member,
        status: Status::Active,
    };
    keys::issue(
        &gw.server.db,
        &member,
        keys::IssueInput {
            name: "ci".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .secret
}
