//! Billing over HTTP: only Owners read and change it (the server functions, the page, the
//! statement CSV); the gateway-wide limit an Owner sets refuses requests with a 402 naming the
//! gateway; and a team crossing 90 % of its limit is emailed (to a real SMTP server on loopback)
//! and posted to the webhook with a body signed by the key the page shows — each band once.

use crate::support::TestServer;
use crate::support::gateway::{Gateway, MODEL, hello};
use crate::support::smtp::SmtpStub;
use axum::routing::post;
use domain::billing::{BillingView, Told};
use domain::money::Money;
use domain::service::usage::{self, Metered, Served};
use domain::{Role, TeamId, UserId};
use hmac::{Hmac, Mac};
use http::{HeaderMap, StatusCode};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn settings_form(gateway: &str, emails: &str, webhook: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "gateway_limit={}&team_default_limit=&teamless_limit=&alert_emails={}&webhook_url={}",
        enc(gateway),
        enc(emails),
        enc(webhook)
    )
}

async fn billing(server: &TestServer, cookie: &str) -> (StatusCode, String) {
    let (status, body, _) = server.post("read_billing", "", Some(cookie)).await;
    (status, body)
}

#[tokio::test]
async fn only_owners_read_or_change_billing() {
    let (server, owner) = TestServer::with_owner("Olive Owner", "owner@example.com", &[]).await;
    let owner_cookie = server.sign_in("owner@example.com").await;
    for (email, role) in [
        ("admin@example.com", Role::Admin),
        ("member@example.com", Role::Member),
        ("viewer@example.com", Role::Viewer),
    ] {
        let (_, cookie) = server.add_person(owner, email, role).await;
        assert_eq!(
            billing(&server, &cookie).await.0,
            StatusCode::FORBIDDEN,
            "{role:?}"
        );
        let form = settings_form("5", "", "");
        let (status, body, _) = server.post("save_billing", &form, Some(&cookie)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}: {body}");
        let (status, _, _) = server.post("test_alerts", "", Some(&cookie)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, _) = server.post("rotate_webhook_key", "", Some(&cookie)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = server
            .get(
                "/dashboard/configuration/billing/statement.csv",
                Some(&cookie),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (_, page) = server.get("/dashboard", Some(&cookie)).await;
        assert!(!page.contains(">Billing<"), "no link for {role:?}");
    }
    let (status, body) = billing(&server, &owner_cookie).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view: BillingView = serde_json::from_str(&body).unwrap();
    assert_eq!(
        view.settings.gateway_limit, None,
        "what the others tried was not saved"
    );
    let (_, page) = server.get("/dashboard", Some(&owner_cookie)).await;
    assert!(page.contains(">Billing<"), "the Owner's menu links it");
    let (status, page) = server
        .get("/dashboard/configuration/billing", Some(&owner_cookie))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Gateway-wide settings") && page.contains("Statement"));
    let (status, csv) = server
        .get(
            "/dashboard/configuration/billing/statement.csv?month=2026-11",
            Some(&owner_cookie),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.starts_with("\"month\",\"section\",\"name\",\"spend_usd\",\"requests\"\r\n"));
    assert!(
        csv.contains("\"2026-11\",\"total\",\"Total\",\"0.000000\",\"0\""),
        "{csv}"
    );
    let (status, _) = server
        .get(
            "/dashboard/configuration/billing/statement.csv?month=2026-13",
            Some(&owner_cookie),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // A bad field is named and nothing is saved.
    let form = settings_form("-5", "ops@example.com", "");
    let (status, body, _) = server
        .post("save_billing", &form, Some(&owner_cookie))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("gateway_limit"), "{body}");
    let view: BillingView = serde_json::from_str(&billing(&server, &owner_cookie).await.1).unwrap();
    assert!(view.settings.alert_emails.is_empty());
    server.finish().await;
}

#[tokio::test]
async fn the_gateway_limit_refuses_with_402_naming_the_gateway() {
    let gw = Gateway::start().await;
    let research = gw.team("Research", "").await;
    let (ada, key) = gw.member_key("ada@example.com", research).await;
    assert_eq!(gw.chat(&key, hello()).await.0, 200, "no limit yet");
    let owner = gw.server.sign_in("owner@example.com").await;
    let (status, body, _) = gw
        .server
        .post("save_billing", &settings_form("0.01", "", ""), Some(&owner))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // This month has spent the gateway's whole limit (and more, before it was set).
    let key_id = gw.key_id(&key).await;
    usage::record(
        &gw.server.db,
        &Metered {
            key: key_id,
            user: ada,
            team: Some(research),
            cost: Money::from_micros(10_000),
            at: chrono::Utc::now(),
            served: Served {
                model: MODEL.into(),
                ..Default::default()
            },
        },
    )
    .await
    .unwrap();
    let (status, body) = gw.chat(&key, hello()).await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["error"]["code"], "budget_exceeded");
    assert_eq!(body["error"]["limit"], "gateway", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("The gateway has reached the monthly spend limit its Owners set."),
        "{message}"
    );
    // The whole gateway's figures are the Owners': a key holder is not told them.
    assert!(!message.contains("$0.01"), "{message}");
    assert_eq!(body["error"].get("spent_usd"), None, "{body}");
    // Raised by the Owner: served again at once.
    let (status, _, _) = gw
        .server
        .post("save_billing", &settings_form("1000", "", ""), Some(&owner))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gw.chat(&key, hello()).await.0, 200);
    gw.server.finish().await;
}

/// A webhook receiver on loopback: every body and its signature header.
async fn webhook_receiver() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&got);
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let keep = Arc::clone(&keep);
            async move {
                let signature = headers
                    .get("tollgate-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                keep.lock().unwrap().push((signature, body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (url, got)
}

/// Whether `signature` (`t=…,v1=…`) is `body` signed with `secret`.
fn signed(secret: &str, signature: &str, body: &str) -> bool {
    let Some((t, v1)) = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::decode(v1).is_ok_and(|v| mac.verify_slice(&v).is_ok())
}

#[tokio::test]
async fn a_team_crossing_90_percent_is_emailed_and_posted_once() {
    let smtp = SmtpStub::start().await;
    let (hook_url, posted) = webhook_receiver().await;
    let mut notifier = None;
    let (server, owner) = TestServer::with_owner_and(
        "Olive Owner",
        "owner@example.com",
        &[
            "--smtp-url",
            &smtp.url,
            "--public-url",
            "http://gateway.test",
        ],
        |state| notifier = Some(state.alerts.clone()),
    )
    .await;
    notifier.unwrap().spawn(server.db.clone());
    let cookie = server.sign_in("owner@example.com").await;
    let form = settings_form("", "ops@example.com\nfinance@example.com", &hook_url);
    let (status, body, _) = server.post("save_billing", &form, Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view: BillingView = serde_json::from_str(&billing(&server, &cookie).await.1).unwrap();
    let secret = view
        .webhook_secret
        .expect("a signing key once a webhook is set");

    let owner_actor = domain::Actor {
        id: owner,
        role: Role::Owner,
        status: domain::Status::Active,
    };
    let input = domain::teams::TeamInput {
        name: "Research".into(),
        limit: "10".into(),
        ..Default::default()
    };
    let team = domain::service::teams::create(&server.db, &owner_actor, &input)
        .await
        .unwrap()
        .id;
    let spend = |dollars_cents: i64| Metered {
        key: domain::KeyId(0),
        user: UserId(owner.0),
        team: Some(TeamId(team.0)),
        cost: Money::from_micros(dollars_cents * 10_000),
        at: chrono::Utc::now(),
        served: Served::default(),
    };
    // $9.10 of $10 in one go: past 70 % and 90 % — one message, for 90 %.
    usage::record(&server.db, &spend(910)).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while (smtp.inbox().is_empty() || posted.lock().unwrap().is_empty())
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // More spend within the same band tells nobody again.
    usage::record(&server.db, &spend(10)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;

    let mails = smtp.inbox();
    // Headers folded, the text quoted-printable: read as a person's mail program shows them.
    let shown = |data: &str| data.replace("\r\n ", " ").replace("=\r\n", "");
    let ninety: Vec<_> = mails
        .iter()
        .filter(|m| shown(&m.data).contains("has used 90 % of its monthly limit\r\n"))
        .collect();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(ninety.len(), 1, "{mails:#?}");
    assert_eq!(
        ninety[0].to,
        [
            "ops@example.com".to_owned(),
            "finance@example.com".to_owned()
        ]
    );
    let text = shown(&ninety[0].data);
    assert!(
        text.contains("has spent $9.10 of its $10.00 monthly limit"),
        "{text}"
    );

    let posted = posted.lock().unwrap().clone();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    for (signature, body) in &posted {
        assert!(signed(&secret, signature, body), "{signature} {body}");
        assert!(!signed("whsec_wrong", signature, body));
    }
    let bodies: Vec<serde_json::Value> = posted
        .iter()
        .map(|(_, b)| serde_json::from_str(b).unwrap())
        .collect();
    let hook90 = bodies
        .iter()
        .find(|b| b["threshold_percent"] == 90)
        .expect("the 90 % alert");
    assert_eq!(hook90["type"], "budget.threshold_crossed");
    assert_eq!(hook90["team"]["name"], "Research");
    assert_eq!(hook90["spent_usd"], 9.1);
    assert_eq!(hook90["limit_usd"], 10.0);

    let view: BillingView = serde_json::from_str(&billing(&server, &cookie).await.1).unwrap();
    let told: Vec<(i32, bool)> = view
        .alerts
        .iter()
        .map(|a| (a.band, matches!(a.told, Told::Sent(_))))
        .collect();
    assert!(
        told.contains(&(90, true)) && told.contains(&(70, false)),
        "{told:?}"
    );
    server.finish().await;
}
