//! The Usage page over HTTP: what the gateway served and refused reaches the day figures, and
//! each role reads as much of it as it may — Owners, Admins and Viewers everything, a Member
//! their own team's figures and their own keys' refusals — through the server function, the
//! page itself and the CSV export.

use crate::support::gateway::{Gateway, MODEL, hello};
use domain::Role;
use domain::money::Money;
use domain::service::usage::{self, Metered, Served};
use domain::usage::{GroupBy, Scope, UsageQuery, UsageReport};
use http::StatusCode;

async fn report(gw: &Gateway, cookie: &str, group: GroupBy) -> UsageReport {
    let query = UsageQuery {
        group,
        ..UsageQuery::default()
    };
    let body = serde_json::json!({ "query": query }).to_string();
    let (status, text) = gw.server.post_json("read_usage", &body, cookie).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn labels(r: &UsageReport) -> Vec<&str> {
    r.rows.iter().map(|row| row.label.as_str()).collect()
}

#[tokio::test]
async fn each_role_reads_the_usage_it_may_see() {
    let gw = Gateway::start().await;
    let research = gw.team("Research", "").await;
    let support = gw.team("Support", "0.01").await;
    let (_, ada_key) = gw.member_key("ada@example.com", research).await;
    let (bob, bob_key) = gw.member_key("bob@example.com", support).await;
    for _ in 0..3 {
        assert_eq!(gw.chat(&ada_key, hello()).await.0, 200);
    }
    // Support has spent its whole limit already: Bob's request is refused over it.
    let bob_key_id = gw.key_id(&bob_key).await;
    usage::record(
        &gw.server.db,
        &Metered {
            key: bob_key_id,
            user: bob,
            team: Some(support),
            cost: Money::from_micros(10_000),
            at: chrono::Utc::now(),
            served: Served {
                model: MODEL.into(),
                tokens_in: 100,
                tokens_out: 50,
            },
        },
    )
    .await
    .unwrap();
    let (status, body) = gw.chat(&bob_key, hello()).await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(gw.chat("tg_not-a-key", hello()).await.0, 401);
    gw.flushed().await;

    let owner = gw.server.sign_in("owner@example.com").await;
    let all = report(&gw, &owner, GroupBy::Team).await;
    assert_eq!(all.scope, Scope::Everything);
    assert_eq!(
        all.total.requests, 4,
        "three served for Ada, one seeded for Bob"
    );
    assert_eq!(all.total.refusals, 2);
    let research_row = all.rows.iter().find(|r| r.label == "Research").unwrap();
    assert_eq!(research_row.requests, 3);
    // The stub reports 10 tokens in and 5 out: $1 and $2 per million.
    assert_eq!(research_row.tokens_in, 30);
    assert_eq!(research_row.tokens_out, 15);
    assert_eq!(research_row.spend, Money::from_micros(3 * 20));
    assert!(labels(&all).contains(&"Support"), "{:?}", labels(&all));
    assert!(
        labels(&all).contains(&"No team"),
        "the unknown key's refusal"
    );
    let today = all.requests.last().copied().unwrap();
    assert_eq!(today, 4);
    let refused_today = all.refusals.last().copied().unwrap();
    assert_eq!((refused_today.budget, refused_today.key), (1, 1));
    let over = all
        .blocked
        .iter()
        .find(|b| b.cause == "Team limit")
        .expect("Bob's refusal is listed");
    assert_eq!(
        over.reason,
        "Team ‘Support’ has reached its monthly spend limit of $0.01."
    );
    assert!(body["error"]["message"].as_str().unwrap().starts_with(
        "Team ‘Support’ has reached its monthly spend limit of $0.01 (spent $0.01 this month"
    ));
    let support_forecast = all.forecasts.iter().find(|f| f.team == "Support").unwrap();
    assert!(
        support_forecast
            .sentence()
            .starts_with("At its limit since"),
        "{}",
        support_forecast.sentence()
    );
    let by_model = report(&gw, &owner, GroupBy::Model).await;
    assert_eq!(labels(&by_model), vec![MODEL]);

    // A Member: their team's figures, and only their own keys' refusals.
    let ada_cookie = gw.server.sign_in("ada@example.com").await;
    let mine = report(&gw, &ada_cookie, GroupBy::User).await;
    assert_eq!(mine.scope, Scope::Team("Research".into()));
    assert_eq!(labels(&mine), vec!["Member (ada@example.com)"]);
    assert_eq!(mine.total.requests, 3);
    assert_eq!(mine.total.refusals, 0);
    assert!(mine.blocked.is_empty(), "{:?}", mine.blocked);
    assert!(mine.forecasts.is_empty(), "Research has no limit");
    let bob_cookie = gw.server.sign_in("bob@example.com").await;
    let bobs = report(&gw, &bob_cookie, GroupBy::Key).await;
    assert_eq!(bobs.blocked.len(), 1);
    assert_eq!(bobs.blocked[0].cause, "Team limit");
    assert_eq!(bobs.total.requests, 1);
    assert_eq!(bobs.forecasts.len(), 1);

    // A Viewer and an Admin read everything.
    for (email, role) in [
        ("val@example.com", Role::Viewer),
        ("abe@example.com", Role::Admin),
    ] {
        let (_, cookie) = gw.server.add_person(gw.owner, email, role).await;
        let seen = report(&gw, &cookie, GroupBy::Team).await;
        assert_eq!(seen.scope, Scope::Everything, "{role:?}");
        assert_eq!(seen.total.requests, 4, "{role:?}");
    }

    // The page itself, without JavaScript: charts as SVG with their figures.
    let (status, html) = gw
        .server
        .get("/dashboard?range=7d", Some(&ada_cookie))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Spend per day") && html.contains("<svg"),
        "{html}"
    );
    assert!(html.contains("Why was I blocked"));
    assert!(
        !html.contains("Support"),
        "a Member never sees another team"
    );

    // The export: what the table shows, as the reader may see it.
    let (status, csv) = gw
        .server
        .get("/dashboard/usage.csv?group=team", Some(&ada_cookie))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.starts_with("\"team\",\"spend_usd\",\"requests\""),
        "{csv}"
    );
    assert!(
        csv.contains("\"Research\",\"0.00\",\"3\",\"30\",\"15\",\"0\",\"100.0\""),
        "{csv}"
    );
    assert!(!csv.contains("Support"));
    let (status, _) = gw.server.get("/dashboard/usage.csv", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_deleted_team_keeps_its_history_under_its_name() {
    let gw = Gateway::start().await;
    let platform = gw.team("Platform", "").await;
    let (_, key) = gw.member_key("pat@example.com", platform).await;
    assert_eq!(gw.chat(&key, hello()).await.0, 200);
    gw.flushed().await;
    domain::service::teams::delete(&gw.server.db, &gw.owner(), platform)
        .await
        .unwrap();
    let owner = gw.server.sign_in("owner@example.com").await;
    let all = report(&gw, &owner, GroupBy::Team).await;
    assert_eq!(labels(&all), vec!["Platform (deleted)"]);
    assert_eq!(all.total.requests, 1);
}

/// A caller of the server function sends any range it likes: one the page would not take is
/// refused with the page's words, however it arrived, and the server stays up.
#[tokio::test]
async fn a_range_the_page_would_not_take_is_refused_over_the_api_too() {
    let gw = Gateway::start().await;
    let (_, cookie) = gw
        .server
        .add_person(gw.owner, "mel@example.com", Role::Member)
        .await;
    for (from, to, why) in [
        ("-262144-01-01", "+262143-12-31", ""),
        (
            "2020-01-01",
            "2026-01-01",
            "A range can be at most 366 days.",
        ),
        (
            "2026-02-10",
            "2026-02-01",
            "The first day is after the last.",
        ),
    ] {
        let body = serde_json::json!({ "query": {
            "period": { "Between": [from, to] },
            "group": "Team", "sort": "Spend", "descending": true,
        }})
        .to_string();
        let (status, text) = gw.server.post_json("read_usage", &body, &cookie).await;
        if from.starts_with('-') {
            // Years past 9999 do not even read as days: the server function never runs, and
            // Leptos answers an argument it cannot read with 500 — in words the caller can use.
            assert!(text.contains("could not be read"), "{from}..{to}: {text}");
        } else {
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{from}..{to}: {text}"
            );
            assert!(text.contains(why), "{from}..{to}: {text}");
        }
    }
    let ok = report(&gw, &cookie, GroupBy::Team).await;
    assert_eq!(ok.scope, Scope::Own);
}

/// A key that exists but is refused (revoked here) is counted as its owner's: they read why in
/// "Why was I blocked", with the words their client got.
#[tokio::test]
async fn a_revoked_keys_refusal_is_its_owners_to_read() {
    let gw = Gateway::start().await;
    let lab = gw.team("Lab", "").await;
    let (_, key) = gw.member_key("rey@example.com", lab).await;
    let id = gw.key_id(&key).await;
    domain::service::keys::revoke(&gw.server.db, &gw.owner(), id)
        .await
        .unwrap();
    let (status, body) = gw.chat(&key, hello()).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["message"], "This API key has been revoked.");
    gw.flushed().await;
    let cookie = gw.server.sign_in("rey@example.com").await;
    let mine = report(&gw, &cookie, GroupBy::Key).await;
    assert_eq!(mine.blocked.len(), 1, "{:?}", mine.blocked);
    assert_eq!(mine.blocked[0].cause, "API key");
    assert_eq!(mine.blocked[0].reason, "This API key has been revoked.");
    assert!(
        mine.blocked[0].key.starts_with("laptop (tg_"),
        "{}",
        mine.blocked[0].key
    );
    assert_eq!(mine.total.refusals, 1);
}
