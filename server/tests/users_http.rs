//! HTTP-level role tests of the users server functions: each role calls them directly (not
//! through the UI) and is allowed or refused exactly as the permission table in
//! docs/architecture.md says. A refusal is a 403 with a message, and nothing changes.

use crate::support::{PASSWORD, TestServer};
use domain::secret::Secret;
use domain::service::invites;
use domain::{Actor, Role, Status, UserId};
use http::StatusCode;

struct World {
    server: TestServer,
    /// Session cookie and id per role.
    people: Vec<(Role, String, UserId)>,
}

impl World {
    /// An Owner from setup, and an Admin, a Member and a Viewer who accepted invites; all signed in.
    async fn new() -> World {
        let (server, owner) = TestServer::with_owner("Olga", "owner@example.com", &[]).await;
        let owner_actor = Actor {
            id: owner,
            role: Role::Owner,
            status: Status::Active,
        };
        let mut world = World {
            server,
            people: Vec::new(),
        };
        let cookie = world.server.sign_in("owner@example.com").await;
        world.people.push((Role::Owner, cookie, owner));
        for role in [Role::Admin, Role::Member, Role::Viewer] {
            let email = format!("{}@example.com", role.as_str());
            let input = invites::InviteInput {
                email: email.clone(),
                role,
                team: None,
            };
            let invited = invites::invite(&world.server.db, &owner_actor, input)
                .await
                .unwrap();
            invites::accept(
                &world.server.db,
                &invited.token,
                role.label(),
                &Secret::new(PASSWORD),
            )
            .await
            .unwrap();
            let cookie = world.server.sign_in(&email).await;
            world.people.push((role, cookie, invited.user.id));
        }
        world
    }

    fn cookie(&self, role: Role) -> &str {
        &self.people.iter().find(|p| p.0 == role).unwrap().1
    }

    fn id(&self, role: Role) -> UserId {
        self.people.iter().find(|p| p.0 == role).unwrap().2
    }

    async fn post(
        &self,
        endpoint: &str,
        form: &str,
        cookie: Option<&str>,
    ) -> (StatusCode, String, Option<String>) {
        self.server.post(endpoint, form, cookie).await
    }

    /// The first page of users as `role` sees it (the list takes JSON).
    async fn list(&self, role: Role) -> (StatusCode, String) {
        let query = r#"{"query":{"search":"","role":null,"sort":"Name","dir":"Asc","page":1}}"#;
        self.server
            .post_json("list_users", query, self.cookie(role))
            .await
    }

    /// Everyone's rows and the cards, to show a refused call changed nothing.
    async fn snapshot(&self) -> String {
        let (status, body) = self.list(Role::Owner).await;
        assert_eq!(status, StatusCode::OK);
        // The read time differs between two reads; everything else must not.
        body.split(r#","generated_at""#)
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    async fn finish(self) {
        self.server.finish().await;
    }
}

#[tokio::test]
async fn every_role_reads_the_list() {
    let w = World::new().await;
    for role in Role::ALL {
        let (status, body) = w.list(role).await;
        assert_eq!(status, StatusCode::OK, "{role} lists users: {body}");
        assert!(body.contains("owner@example.com"));
    }
    let res = w
        .post("user_detail", &format!("id={}", w.id(Role::Owner)), None)
        .await;
    assert_eq!(res.0, StatusCode::UNAUTHORIZED, "no session, no list");
    w.finish().await;
}

#[tokio::test]
async fn mutations_are_refused_with_403_and_change_nothing() {
    let w = World::new().await;
    let before = w.snapshot().await;
    let target = w.id(Role::Viewer);
    let admin = w.id(Role::Admin);
    let owner = w.id(Role::Owner);
    let cases: Vec<(Role, &str, String, &str)> = vec![
        (
            Role::Member,
            "suspend_user",
            format!("id={target}"),
            "Your role does not allow this.",
        ),
        (
            Role::Viewer,
            "delete_user",
            format!("id={admin}"),
            "Your role does not allow this.",
        ),
        (
            Role::Member,
            "invite_user",
            "email=x%40example.com&role=viewer&team=".into(),
            "Your role does not allow this.",
        ),
        (
            Role::Viewer,
            "invite_user",
            "email=x%40example.com&role=viewer&team=".into(),
            "Your role does not allow this.",
        ),
        (
            Role::Owner,
            "invite_user",
            "email=x%40example.com&role=owner&team=".into(),
            "Invites can only be for Admin, Member or Viewer.",
        ),
        (
            Role::Admin,
            "change_user_role",
            format!("id={target}&role=member"),
            "Only Owners can change roles.",
        ),
        (
            Role::Admin,
            "suspend_user",
            format!("id={owner}"),
            "Admins cannot act on Admins or Owners.",
        ),
        (
            Role::Admin,
            "delete_user",
            format!("id={owner}"),
            "Admins cannot act on Admins or Owners.",
        ),
        (
            Role::Owner,
            "delete_user",
            format!("id={owner}"),
            "You cannot delete yourself.",
        ),
        (
            Role::Owner,
            "change_user_role",
            format!("id={owner}&role=viewer"),
            "You cannot change your own role.",
        ),
        (
            Role::Admin,
            "resend_invite",
            format!("id={target}"),
            "Only invited users have an invite to resend or revoke.",
        ),
        (
            Role::Admin,
            "reset_access_list",
            "confirmation=delete+access+list".into(),
            "Your role does not allow this.",
        ),
    ];
    for (role, endpoint, form, message) in cases {
        let (status, body, _) = w.post(endpoint, &form, Some(w.cookie(role))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role} {endpoint}: {body}");
        assert!(body.contains(message), "{role} {endpoint}: {body}");
    }
    assert_eq!(w.snapshot().await, before, "refused calls changed nothing");
    w.finish().await;
}

#[tokio::test]
async fn allowed_mutations_succeed_and_a_suspended_session_ends() {
    let w = World::new().await;
    let member = w.id(Role::Member);
    let (status, body, _) = w
        .post(
            "suspend_user",
            &format!("id={member}"),
            Some(w.cookie(Role::Admin)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) = w
        .post("current_user", "", Some(w.cookie(Role::Member)))
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the suspended member's next request is refused"
    );

    let (status, body, _) = w
        .post(
            "invite_user",
            "email=new%40example.com&role=viewer&team=",
            Some(w.cookie(Role::Admin)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("/invite/"),
        "the inviter gets the link: {body}"
    );
    let (status, body, _) = w
        .post(
            "invite_user",
            "email=NEW%40example.com&role=viewer&team=",
            Some(w.cookie(Role::Admin)),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("already on the access list"), "{body}");
    let (status, _, _) = w
        .post(
            "invite_user",
            "email=other%40example.com&role=viewer&team=abc",
            Some(w.cookie(Role::Admin)),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a made-up team id is a field error"
    );

    let viewer = w.id(Role::Viewer);
    let (status, _, _) = w
        .post(
            "change_user_role",
            &format!("id={viewer}&role=admin"),
            Some(w.cookie(Role::Owner)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = w
        .post(
            "delete_user",
            &format!("id={viewer}"),
            Some(w.cookie(Role::Owner)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, _) = w
        .post(
            "delete_user",
            &format!("id={viewer}"),
            Some(w.cookie(Role::Owner)),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "acting on a user someone just deleted: {body}"
    );
    w.finish().await;
}

/// Pages render on a multi-threaded runtime, where a render can end on another worker thread
/// than it began on. Every response must be whole: a value tied to one thread, dropped on
/// another, once panicked mid-stream and cut pages short (the browser then never finished
/// loading them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_whole_under_concurrent_load() {
    let w = std::sync::Arc::new(World::new().await);
    let mut renders = Vec::new();
    for _ in 0..120 {
        let w = w.clone();
        renders.push(tokio::spawn(async move {
            let (status, html) = w
                .server
                .get(
                    "/dashboard/configuration/users?q=own",
                    Some(w.cookie(Role::Owner)),
                )
                .await;
            (status, html.contains("</html>"))
        }));
    }
    for render in renders {
        let (status, whole) = render.await.expect("the render task did not panic");
        assert_eq!(status, StatusCode::OK);
        assert!(whole, "the whole page arrived");
    }
    std::sync::Arc::into_inner(w).unwrap().finish().await;
}

/// The lists take JSON from any caller, not only what the pages' URLs produce: a page number
/// out of range (zero, negative, past what a database offset holds, not even an integer) is
/// read as the nearest page, and a search past the limit is a 422 with a message — never a 500.
#[tokio::test]
async fn odd_pages_and_huge_searches_never_fail_a_list() {
    let w = World::new().await;
    let cookie = w.cookie(Role::Owner);
    let lists = [
        (
            "list_users",
            r#"{"query":{"search":SEARCH,"role":null,"sort":"Email","dir":"Desc","page":PAGE}}"#,
        ),
        (
            "list_teams",
            r#"{"query":{"search":SEARCH,"sort":"Spend","dir":"Asc","page":PAGE}}"#,
        ),
        (
            "list_keys",
            r#"{"query":{"scope":"All","search":SEARCH,"user":null,"team":null,"status":null,"page":PAGE}}"#,
        ),
    ];
    let pages = [
        "0",
        "-1",
        "-9223372036854775808",
        "9223372036854775808",
        "18446744073709551615",
        "100000000000000000000000000000",
        "1e300",
        "2.5",
    ];
    for (endpoint, shape) in lists {
        for search in [r#""""#, r#""owner""#] {
            for page in pages {
                let query = shape.replace("SEARCH", search).replace("PAGE", page);
                let (status, body) = w.server.post_json(endpoint, &query, cookie).await;
                assert_eq!(status, StatusCode::OK, "{endpoint} page {page}: {body}");
                let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert!(
                    answer["page"].as_u64().is_some_and(|p| p >= 1),
                    "{endpoint} page {page}: {body}"
                );
            }
        }
        let huge = format!(r#""{}""#, "x".repeat(10_000));
        let query = shape.replace("SEARCH", &huge).replace("PAGE", "1");
        let (status, body) = w.server.post_json(endpoint, &query, cookie).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{endpoint} huge search: {body}"
        );
        assert!(body.contains("Search is at most"), "{endpoint}: {body}");
    }
    w.finish().await;
}
