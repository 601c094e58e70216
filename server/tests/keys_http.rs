//! HTTP-level role tests of the API keys server functions, called directly (not through the UI):
//! refusals are 403 with a message and change nothing; a secret appears only in the answer that
//! issued it.

use crate::support::TestServer;
use chrono::Utc;
use domain::entity::{api_key, team, user};
use domain::{Role, TeamId, UserId};
use http::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};

async fn add_team(server: &TestServer, name: &str) -> TeamId {
    let t = team::ActiveModel {
        name: Set(name.into()),
        name_normalized: Set(name.to_lowercase()),
        description: Set(String::new()),
        monthly_limit_micros: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&server.db)
    .await
    .unwrap();
    TeamId(t.id)
}

async fn join(server: &TestServer, who: UserId, team: TeamId) {
    let mut u: user::ActiveModel = user::Entity::find_by_id(who.0)
        .one(&server.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    u.team_id = Set(Some(team.0));
    u.update(&server.db).await.unwrap();
}

async fn key_count(server: &TestServer) -> u64 {
    api_key::Entity::find().count(&server.db).await.unwrap()
}

#[tokio::test]
async fn keys_are_issued_and_revoked_exactly_as_the_roles_allow() {
    let (server, owner_id) = TestServer::with_owner("Olga", "owner@example.com", &[]).await;
    let owner = server.sign_in("owner@example.com").await;
    let (member_id, member) = server
        .add_person(owner_id, "member@example.com", Role::Member)
        .await;
    let (_, viewer) = server
        .add_person(owner_id, "viewer@example.com", Role::Viewer)
        .await;
    let (red, blue) = (
        add_team(&server, "Red").await,
        add_team(&server, "Blue").await,
    );

    let issue = |name: &str, team: &str| format!("name={name}&expires=&team={team}");
    let (status, body, _) = server
        .post("issue_key", &issue("v", ""), Some(&viewer))
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a Viewer cannot issue: {body}"
    );
    assert!(body.contains("Your role does not allow this."));
    let (status, body, _) = server
        .post("issue_key", &issue("m", ""), Some(&member))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.contains("not in a team"),
        "a Member without a team is told why: {body}"
    );
    join(&server, member_id, red).await;
    let (status, body, _) = server
        .post(
            "issue_key",
            &issue("sneaky", &blue.to_string()),
            Some(&member),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("only within their own team"));
    assert_eq!(key_count(&server).await, 0, "refusals wrote nothing");

    let (status, body, _) = server
        .post("issue_key", &issue("mine", ""), Some(&member))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""secret":"tg_"#), "{body}");
    let (status, owners_key, _) = server
        .post("issue_key", &issue("ops", ""), Some(&owner))
        .await;
    assert_eq!(status, StatusCode::OK);
    let secret = owners_key
        .split(r#""secret":""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let owners_key_id = api_key::Entity::find()
        .all(&server.db)
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.name == "ops")
        .unwrap()
        .id;

    let (status, body, _) = server
        .post("revoke_key", &format!("id={owners_key_id}"), Some(&member))
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a Member cannot revoke another's key: {body}"
    );
    let stored = api_key::Entity::find_by_id(owners_key_id)
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.revoked_at.is_none(),
        "the refused revoke changed nothing"
    );

    let list = |scope: &'static str| {
        let server = &server;
        move |cookie: String| async move {
            let query = format!(
                r#"{{"query":{{"scope":"{scope}","search":"","user":null,"team":null,"status":null,"page":1}}}}"#
            );
            server.post_json("list_keys", &query, &cookie).await
        }
    };
    let (status, _) = list("All")(member.clone()).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "Members see only their own keys"
    );
    let (status, body) = list("All")(owner.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("member@example.com") && body.contains("ops"));
    assert!(!body.contains(&secret), "no key material after creation");

    let (status, body, _) = server
        .post("revoke_key", &format!("id={owners_key_id}"), Some(&owner))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""status":"Revoked""#), "{body}");
    let (_, body) = list("Mine")(owner).await;
    assert!(
        body.contains(r#""status":"Revoked""#),
        "a revoked key stays listed: {body}"
    );
    server.finish().await;
}

/// The Roles table (docs/architecture.md) at the gateway: an Admin's key outside any team works
/// until an Owner demotes them to Member from the dashboard — the very next `/v1` request is
/// refused (Members use keys only within their own team), and as a Viewer none of their keys
/// work.
#[tokio::test]
async fn a_demoted_admins_key_is_refused_on_the_very_next_request() {
    use crate::support::gateway::{Gateway, hello};
    let gw = Gateway::start().await;
    let (admin_id, admin) = gw
        .server
        .add_person(gw.owner, "admin@example.com", Role::Admin)
        .await;
    let (status, body, _) = gw
        .server
        .post("issue_key", "name=ci&expires=&team=", Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let issued: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(issued["key"]["team"].is_null(), "a key outside any team");
    let secret = issued["secret"].as_str().unwrap().to_owned();
    assert_eq!(gw.chat(&secret, hello()).await.0, 200);

    let owner = gw.server.sign_in("owner@example.com").await;
    let demote = |role: &'static str| {
        let (gw, owner) = (&gw, &owner);
        async move {
            let form = format!("id={admin_id}&role={role}");
            let (status, body, _) = gw.server.post("change_user_role", &form, Some(owner)).await;
            assert_eq!(status, StatusCode::OK, "to {role}: {body}");
        }
    };
    demote("member").await;
    let (status, body) = gw.chat(&secret, hello()).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "invalid_api_key");
    assert_eq!(
        body["error"]["message"],
        "This API key is outside its owner's team: Members may only use keys in their own team."
    );
    // The keys page says why the key does not work, in place of "active".
    let (status, html) = gw
        .server
        .get("/dashboard/keys?scope=all", Some(&owner))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("blocked: outside owner\u{2019}s team"),
        "the keys page shows the block"
    );
    demote("viewer").await;
    let (status, body) = gw.chat(&secret, hello()).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        body["error"]["message"],
        "This API key belongs to a Viewer, who cannot use the gateway."
    );
    demote("admin").await;
    assert_eq!(
        gw.chat(&secret, hello()).await.0,
        200,
        "promoted back, the key works again"
    );
    gw.server.finish().await;
}
