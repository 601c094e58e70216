//! HTTP-level role tests of the teams server functions, called directly: Owners and Admins
//! manage teams; Members and Viewers only read, and a refusal is a 403 that changes nothing.

use crate::support::TestServer;
use domain::Role;
use domain::entity::{team, user};
use http::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};

#[tokio::test]
async fn teams_are_managed_only_by_owners_and_admins() {
    let (server, owner_id) = TestServer::with_owner("Olga", "owner@example.com", &[]).await;
    let owner = server.sign_in("owner@example.com").await;
    let (_, admin) = server
        .add_person(owner_id, "admin@example.com", Role::Admin)
        .await;
    let (member_id, member) = server
        .add_person(owner_id, "member@example.com", Role::Member)
        .await;
    let (_, viewer) = server
        .add_person(owner_id, "viewer@example.com", Role::Viewer)
        .await;
    let teams = || async { team::Entity::find().count(&server.db).await.unwrap() };

    let form = "name=Platform&description=&limit=1%2C500";
    let (status, body, _) = server.post("create_team", form, Some(&owner)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""name":"Platform""#), "{body}");
    let id = team::Entity::find()
        .one(&server.db)
        .await
        .unwrap()
        .unwrap()
        .id;

    for (who, cookie) in [("member", &member), ("viewer", &viewer)] {
        let (status, body, _) = server
            .post("create_team", "name=Ops&description=&limit=", Some(cookie))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who} creates: {body}");
        assert!(body.contains("Your role does not allow this."));
        let edit = format!("id={id}&name=Hijacked&description=&limit=");
        let (status, _, _) = server.post("edit_team", &edit, Some(cookie)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who} edits");
        let (status, _, _) = server
            .post("delete_team", &format!("id={id}"), Some(cookie))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who} deletes");
        let (status, _, _) = server
            .post("team_keys", &format!("id={id}"), Some(cookie))
            .await;
        assert_eq!(status, StatusCode::OK, "{who} reads a team's key prefixes");
        let (status, _, _) = server
            .post("team_members", &format!("id={id}"), Some(cookie))
            .await;
        assert_eq!(status, StatusCode::OK, "{who} reads the members");
        let add = format!("id={id}&email=member%40example.com");
        let (status, body, _) = server.post("add_team_member", &add, Some(cookie)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who} adds a member: {body}");
        let remove = format!("id={id}&user={owner_id}");
        let (status, _, _) = server
            .post("remove_team_member", &remove, Some(cookie))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who} removes a member");
        let change = format!("id={owner_id}&team={id}");
        let (status, _, _) = server.post("change_user_team", &change, Some(cookie)).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{who} changes someone's team"
        );
        let query = r#"{"query":{"search":"","sort":"Name","dir":"Asc","page":1}}"#;
        let (status, body) = server.post_json("list_teams", query, cookie).await;
        assert_eq!(status, StatusCode::OK, "{who} reads the list");
        assert!(body.contains("Platform"));
    }
    let stored = team::Entity::find_by_id(id)
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.name.as_str(), teams().await),
        ("Platform", 1),
        "refusals changed nothing"
    );

    let in_team = || async {
        user::Entity::find_by_id(member_id.0)
            .one(&server.db)
            .await
            .unwrap()
            .unwrap()
            .team_id
    };
    assert_eq!(in_team().await, None, "refused adds changed nothing");

    // An Admin adds the Member by email (any case), sees them listed, and takes them out.
    let add = format!("id={id}&email=MEMBER%40example.com");
    let (status, body, _) = server.post("add_team_member", &add, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(in_team().await, Some(id));
    let (_, body, _) = server
        .post("team_members", &format!("id={id}"), Some(&viewer))
        .await;
    assert!(body.contains("member@example.com"), "{body}");
    let (status, body, _) = server.post("add_team_member", &add, Some(&admin)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("They are already in this team."), "{body}");
    let nobody = format!("id={id}&email=nobody%40example.com");
    let (status, body, _) = server.post("add_team_member", &nobody, Some(&admin)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("Invite them from the Users page first."),
        "{body}"
    );
    let remove = format!("id={id}&user={}", member_id.0);
    let (status, _, _) = server
        .post("remove_team_member", &remove, Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(in_team().await, None);
    let (status, body, _) = server
        .post("remove_team_member", &remove, Some(&admin))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "removing twice says so: {body}"
    );

    // The Users page's Change Team goes through the same assignment: the Teams page agrees.
    let change = format!("id={}&team={id}", member_id.0);
    let (status, body, _) = server.post("change_user_team", &change, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Platform"), "the row names the team: {body}");
    assert_eq!(in_team().await, Some(id));
    let (_, body, _) = server
        .post("team_members", &format!("id={id}"), Some(&viewer))
        .await;
    assert!(body.contains("member@example.com"), "{body}");
    let (status, body, _) = server
        .post(
            "change_user_team",
            &format!("id={}&team=abc", member_id.0),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("Pick a team from the list."), "{body}");
    assert_eq!(in_team().await, Some(id), "a bad team changes nothing");
    let (status, _, _) = server
        .post(
            "change_user_team",
            &format!("id={}&team=", member_id.0),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(in_team().await, None);

    let (status, body, _) = server
        .post("create_team", "name=x&description=&limit=-5", Some(&admin))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("The amount cannot be negative."));
    let (status, _, _) = server
        .post("delete_team", &format!("id={id}"), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "an Admin deletes");
    assert_eq!(teams().await, 0);
    let (status, _, _) = server
        .post("delete_team", &format!("id={id}"), Some(&admin))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "deleting a deleted team says so"
    );
    server.finish().await;
}

#[tokio::test]
async fn member_budgets_are_set_over_people_one_outranks() {
    let (server, owner_id) = TestServer::with_owner("Olga", "owner@example.com", &[]).await;
    let owner = server.sign_in("owner@example.com").await;
    let (admin_id, admin) = server
        .add_person(owner_id, "admin@example.com", Role::Admin)
        .await;
    let (member_id, member) = server
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
    let team = team::Entity::find()
        .one(&server.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    for who in [admin_id, member_id] {
        let form = format!("id={team}&email={}", email_of(&server, who).await);
        let (status, body, _) = server.post("add_team_member", &form, Some(&owner)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let budget_of = |id: domain::UserId| {
        let db = server.db.clone();
        async move {
            user::Entity::find_by_id(id.0)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .monthly_limit_micros
        }
    };
    let set =
        |who: domain::UserId, budget: &str| format!("id={team}&user={}&budget={budget}", who.0);

    // Refused with 403, and nothing changes: a Member for anyone, an Admin for an Admin
    // (themselves included).
    for (cookie, target) in [
        (&member, member_id),
        (&member, admin_id),
        (&admin, admin_id),
    ] {
        let (status, body, _) = server
            .post("set_member_budget", &set(target, "1"), Some(cookie))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(budget_of(target).await, None);
    }
    // Bad input: refused on the field.
    let (status, body, _) = server
        .post("set_member_budget", &set(member_id, "-2"), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("budget"), "{body}");
    assert_eq!(budget_of(member_id).await, None);

    let (status, body, _) = server
        .post("set_member_budget", &set(member_id, "12.50"), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(budget_of(member_id).await, Some(12_500_000));
    let (status, body, _) = server
        .post("set_member_budget", &set(admin_id, "100"), Some(&owner))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(budget_of(admin_id).await, Some(100_000_000));
    // Blank: back to the team's default.
    server
        .post("set_member_budget", &set(member_id, ""), Some(&admin))
        .await;
    assert_eq!(budget_of(member_id).await, None);
}

async fn email_of(server: &TestServer, id: domain::UserId) -> String {
    user::Entity::find_by_id(id.0)
        .one(&server.db)
        .await
        .unwrap()
        .unwrap()
        .email
}
