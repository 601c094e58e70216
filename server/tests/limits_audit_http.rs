//! HTTP-level role tests of the key limits and audit log server functions, called directly: a
//! Member tightens their own key but is refused (403) raising a limit or touching another's, and
//! nothing changes; bad numbers are 422 on their field; only Owners and Admins read the log.

use crate::support::TestServer;
use domain::Role;
use domain::entity::api_key;
use http::StatusCode;
use sea_orm::EntityTrait;

#[tokio::test]
async fn key_limits_change_exactly_as_the_roles_allow() {
    let (server, owner_id) = TestServer::with_owner("Olga", "owner@example.com", &[]).await;
    let owner = server.sign_in("owner@example.com").await;
    let (_, member) = server
        .add_person(owner_id, "member@example.com", Role::Member)
        .await;
    let (_, admin) = server
        .add_person(owner_id, "admin@example.com", Role::Admin)
        .await;
    let (status, body, _) = server
        .post(
            "issue_key",
            "name=ci&expires=&team=&requests_per_minute=60&tokens_per_minute=",
            Some(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let key = api_key::Entity::find()
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    let set = |rpm: &str| format!("id={}&requests_per_minute={rpm}&tokens_per_minute=", key.id);

    // Someone else's key: a Member is refused, whatever the change.
    let (status, _, _) = server
        .post("set_key_limits", &set("10"), Some(&member))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Not a number: 422 on the field, nothing stored.
    let (status, body, _) = server
        .post("set_key_limits", &set("ten"), Some(&owner))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("requests_per_minute"), "{body}");
    // The Owner tightens it (and names a model the gateway does not serve: refused).
    let (status, _, _) = server
        .post(
            "set_key_limits",
            &(set("30") + "&models[]=nope"),
            Some(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = server
        .post("set_key_limits", &set("30"), Some(&owner))
        .await;
    assert_eq!(status, StatusCode::OK);
    // An Admin may loosen it.
    let (status, _, _) = server.post("set_key_limits", &set(""), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    let stored = api_key::Entity::find_by_id(key.id)
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.requests_per_minute, None);

    // Only Owners and Admins read the audit log, where the changes are.
    for (cookie, expected) in [
        (&member, StatusCode::FORBIDDEN),
        (&admin, StatusCode::OK),
        (&owner, StatusCode::OK),
    ] {
        let (status, body) = server
            .post_json(
                "list_audit",
                r#"{"query":{"search":"","kind":"Keys","from":null,"to":null,"page":1}}"#,
                cookie,
            )
            .await;
        assert_eq!(status, expected, "{body}");
        if expected == StatusCode::OK {
            assert!(
                body.contains("key.limits") && body.contains("30 req/min"),
                "{body}"
            );
        }
    }
    server.finish().await;
}

#[tokio::test]
async fn a_member_only_lowers_the_budget_of_their_own_key() {
    let (server, owner_id) = TestServer::with_owner("Olga", "owner@example.com", &[]).await;
    let owner = server.sign_in("owner@example.com").await;
    let (_, member) = server
        .add_person(owner_id, "member@example.com", Role::Member)
        .await;
    let (status, body, _) = server
        .post(
            "create_team",
            "name=Platform&description=&limit=",
            Some(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let team = body
        .split(r#""id":"#)
        .nth(1)
        .and_then(|s| s.split([',', '}']).next())
        .unwrap()
        .to_owned();
    let (status, body, _) = server
        .post(
            "add_team_member",
            &format!("id={team}&email=member%40example.com"),
            Some(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = server
        .post(
            "issue_key",
            "name=ci&expires=&team=&budget=5",
            Some(&member),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let key = api_key::Entity::find()
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    let budget = || async {
        api_key::Entity::find_by_id(key.id)
            .one(&server.db)
            .await
            .unwrap()
            .unwrap()
            .monthly_limit_micros
    };
    assert_eq!(budget().await, Some(5_000_000));
    let set = |budget: &str| format!("id={}&budget={budget}", key.id);
    let (status, body, _) = server
        .post("set_key_limits", &set("3"), Some(&member))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (raised, expected) in [
        ("4", StatusCode::FORBIDDEN),
        ("", StatusCode::FORBIDDEN),
        ("-1", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, body, _) = server
            .post("set_key_limits", &set(raised), Some(&member))
            .await;
        assert_eq!(status, expected, "{raised:?}: {body}");
        assert_eq!(
            budget().await,
            Some(3_000_000),
            "{raised:?} changed nothing"
        );
    }
    let (status, _, _) = server
        .post("set_key_limits", &set("40"), Some(&owner))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(budget().await, Some(40_000_000));
}
