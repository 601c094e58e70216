//! Who a single sign-on lets in, and as whom: someone new is created as the settings say (or as
//! their mapped group says), someone invited accepts the invite by signing in, the provider's
//! subject keeps finding the same account, and the settings' refusals (domain, unverified,
//! unknown, suspended, linked) each land on the sign-in page with their code and no session.

use super::idp::{Claims, Tweak};
use super::{NEXT, OWNER_EMAIL, PUBLIC_URL, Setup, World};
use domain::entity::audit_entry;
use domain::service::invites::{self, InviteInput};
use domain::{Actor, Role, Status};
use http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// The audit log's entries for `action`.
async fn audit(w: &World, action: &str) -> Vec<audit_entry::Model> {
    audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq(action))
        .all(&w.server.db)
        .await
        .unwrap()
}

/// Someone nobody invited follows "Sign in with Test IdP" from the keys page: they come back
/// signed in, on the keys page, as a new Member named as the provider names them, and the audit
/// log says they signed in with single sign-on. The same redirect sent again (a replayed code)
/// signs nobody in, and a sign-in begun with a `next` off the site lands on the dashboard.
#[tokio::test]
async fn someone_new_joins_as_a_member_and_lands_where_they_were_going() {
    let w = World::new().await;
    let people = w.users().await;

    let started = w.start(NEXT).await;
    assert_eq!(
        started.auth.redirect_uri,
        format!("{PUBLIC_URL}/auth/sso/callback")
    );
    let mut claims = Claims::good(&w.idp, &started.auth, "sub-ann", "Ann@Example.com");
    claims.name = Some("Ann Example".to_owned());
    let code = w.idp.grant(&started.auth, claims.signed());
    let back = started.with_code(&code);
    let session = w.back(&back, Some(&started.cookie)).await.signed_in(NEXT);
    // The stub gives the token only for the client secret and the right PKCE verifier.
    assert_eq!(w.idp.exchanges(), 1, "{:?}", w.idp.refusals());

    let ann = w.me(&session).await;
    assert_eq!((ann.role, ann.status), (Role::Member, Status::Active));
    assert_eq!(
        (ann.email.as_str(), ann.name.as_str()),
        ("Ann@Example.com", "Ann Example")
    );
    assert_eq!(w.users().await, people + 1);
    let (status, page) = w.server.get(NEXT, Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("API keys"));

    let signed_in = audit(&w, "session.sign_in_sso").await;
    assert_eq!(signed_in.len(), 1, "{signed_in:?}");
    assert_eq!(signed_in[0].actor_id, Some(ann.id.0));
    assert!(
        signed_in[0].detail.contains("Test IdP"),
        "{}",
        signed_in[0].detail
    );
    assert_eq!(audit(&w, "user.sso_create").await.len(), 1);

    w.back(&back, Some(&started.cookie))
        .await
        .assert_refused("failed", "a replayed code");
    assert_eq!(
        w.idp.refusals().len(),
        1,
        "the provider refused the used code"
    );

    let started = w.start("https://evil.example/steal").await;
    let claims = Claims::good(&w.idp, &started.auth, "sub-ann", "ann@example.com");
    let code = w.idp.grant(&started.auth, claims.signed());
    let again = w
        .back(&started.with_code(&code), Some(&started.cookie))
        .await
        .signed_in("/dashboard");
    assert_eq!(w.me(&again).await.id, ann.id);
    assert_eq!(w.users().await, people + 1);
    assert_eq!(audit(&w, "session.sign_in_sso").await.len(), 2);
    w.finish().await;
}

/// The provider vouches for an address the settings do not let in — outside `example.com`, or
/// not verified by the provider, or none at all: the sign-in page says why, no session begins
/// and no account is made.
#[tokio::test]
async fn addresses_the_settings_do_not_let_in_are_refused() {
    let w = World::new().await;
    let (people, sessions) = (w.users().await, w.sessions().await);
    let cases: [(&str, &str, Tweak); 5] = [
        ("domain", "another domain", |c: &mut Claims| {
            c.email = Some("eve@elsewhere.test".to_owned());
        }),
        ("domain", "a look-alike domain", |c: &mut Claims| {
            c.email = Some("eve@example.com.evil.test".to_owned());
        }),
        ("unverified", "email_verified false", |c: &mut Claims| {
            c.email_verified = Some(false);
        }),
        ("unverified", "no email_verified", |c: &mut Claims| {
            c.email_verified = None;
        }),
        ("unverified", "no email", |c: &mut Claims| {
            c.email = None;
        }),
    ];
    for (code, case, tweak) in cases {
        w.sign_in_as("sub-eve", "eve@example.com", tweak)
            .await
            .assert_refused(code, case);
    }
    assert_eq!((w.users().await, w.sessions().await), (people, sessions));
    w.finish().await;
}

/// A suspended person signs in with the provider: they read the same refusal as a wrong
/// password, and get no session — whether or not they had signed in with it before.
#[tokio::test]
async fn a_suspended_person_is_refused() {
    let w = World::new().await;
    let owner = w.server.sign_in(OWNER_EMAIL).await;
    let (sam, _) = w
        .server
        .add_person(w.owner, "sam@example.com", Role::Member)
        .await;
    let (kim, _) = w
        .server
        .add_person(w.owner, "kim@example.com", Role::Member)
        .await;
    // Kim has signed in with the provider before; Sam never has.
    let kims = w
        .sign_in_as("sub-kim", "kim@example.com", |_| {})
        .await
        .signed_in(NEXT);
    for id in [sam, kim] {
        let (status, body, _) = w
            .server
            .post("suspend_user", &format!("id={id}"), Some(&owner))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _, _) = w.server.post("current_user", "", Some(&kims)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "Kim's session ended");
    let sessions = w.sessions().await;
    for (subject, email) in [
        ("sub-sam", "sam@example.com"),
        ("sub-kim", "kim@example.com"),
    ] {
        w.sign_in_as(subject, email, |_| {})
            .await
            .assert_refused("suspended", email);
    }
    assert_eq!(w.sessions().await, sessions);
    w.finish().await;
}

/// People in the provider's `gateway-admins` group are Admins here: someone new joins as one, a
/// Member already here becomes one, and the Owner stays the Owner. A group nobody mapped gives
/// nothing: that person joins as a Member.
#[tokio::test]
async fn a_mapped_group_makes_an_admin_but_never_touches_an_owner() {
    let w = World::new().await;
    let (mia, _) = w
        .server
        .add_person(w.owner, "mia@example.com", Role::Member)
        .await;
    let admins = |c: &mut Claims| {
        c.groups = Some(vec!["gateway-admins".to_owned()]);
    };
    let others = |c: &mut Claims| {
        c.groups = Some(vec!["gateway-viewers".to_owned()]);
    };
    let gus = w
        .sign_in_as("sub-gus", "gus@example.com", admins)
        .await
        .signed_in(NEXT);
    assert_eq!(w.me(&gus).await.role, Role::Admin, "someone new");
    let mias = w
        .sign_in_as("sub-mia", "mia@example.com", admins)
        .await
        .signed_in(NEXT);
    let me = w.me(&mias).await;
    assert_eq!(
        (me.id, me.role),
        (mia, Role::Admin),
        "a Member already here"
    );
    let olgas = w
        .sign_in_as("sub-olga", OWNER_EMAIL, admins)
        .await
        .signed_in(NEXT);
    let me = w.me(&olgas).await;
    assert_eq!((me.id, me.role), (w.owner, Role::Owner), "the Owner");
    let nat = w
        .sign_in_as("sub-nat", "nat@example.com", others)
        .await
        .signed_in(NEXT);
    assert_eq!(w.me(&nat).await.role, Role::Member, "an unmapped group");
    w.finish().await;
}

/// With new people refused, someone nobody invited is told to ask an Admin for an invite, and
/// no account is made. Someone invited as a Viewer signs in with the provider instead of
/// choosing a password (the address's case as the provider writes it), and lands active, as a
/// Viewer, in the account the invite made.
#[tokio::test]
async fn with_new_people_refused_only_the_invited_get_in() {
    let w = World::with(Setup {
        new_people: "refuse",
        ..Setup::default()
    })
    .await;
    let people = w.users().await;
    w.sign_in_as("sub-stranger", "stranger@example.com", |_| {})
        .await
        .assert_refused("unknown", "nobody invited them");
    assert_eq!(w.users().await, people);

    let owner = Actor {
        id: w.owner,
        role: Role::Owner,
        status: Status::Active,
    };
    let input = InviteInput {
        email: "ivy@example.com".to_owned(),
        role: Role::Viewer,
        team: None,
    };
    let invited = invites::invite(&w.server.db, &owner, input).await.unwrap();
    let session = w
        .sign_in_as("sub-ivy", "Ivy@Example.com", |_| {})
        .await
        .signed_in(NEXT);
    let ivy = w.me(&session).await;
    assert_eq!(ivy.id, invited.user.id);
    assert_eq!((ivy.role, ivy.status), (Role::Viewer, Status::Active));
    assert_eq!(w.users().await, people + 1, "only the invite's account");
    assert_eq!(audit(&w, "user.accept_invite").await.len(), 1);
    w.finish().await;
}

/// The provider's subject is the account: after the address changes at the provider, the same
/// person signs in to the same account (no second one is made). Someone else at the provider
/// who now shows that account's old address is refused, as tied to another identity.
#[tokio::test]
async fn the_subject_finds_the_account_whatever_the_address() {
    let w = World::new().await;
    let first = w
        .sign_in_as("sub-ann", "ann@example.com", |_| {})
        .await
        .signed_in(NEXT);
    let ann = w.me(&first).await;
    let people = w.users().await;
    let second = w
        .sign_in_as("sub-ann", "ann.new@example.com", |_| {})
        .await
        .signed_in(NEXT);
    assert_eq!(w.me(&second).await.id, ann.id);
    assert_eq!(w.users().await, people);
    w.sign_in_as("sub-someone-else", "ann@example.com", |_| {})
        .await
        .assert_refused("linked", "another subject with Ann's old address");
    assert_eq!(w.users().await, people);
    w.finish().await;
}
