//! Invites: who may invite whom, duplicates, teams, resending, accepting, and dead links.

use crate::support::{actor, add_user, databases};
use domain::secret::Secret;
use domain::service::invites::{self, InviteInput};
use domain::service::users;
use domain::users::UserQuery;
use domain::{Error, Role, Status, TeamId};

fn input(email: &str, role: Role) -> InviteInput {
    InviteInput {
        email: email.into(),
        role,
        team: None,
    }
}

#[tokio::test]
async fn an_invite_can_be_accepted_once() {
    for t in databases().await {
        let admin = add_user(&t.db, "admin@example.com", Role::Admin, Status::Active).await;
        let a = actor(admin, Role::Admin);
        let invited = invites::invite(&t.db, &a, input("  New.Person@Example.com ", Role::Member))
            .await
            .unwrap();
        assert_eq!(
            (invited.user.status, invited.user.email.as_str()),
            (Status::Invited, "New.Person@Example.com"),
            "{}",
            t.kind
        );

        let info = invites::info(&t.db, &invited.token).await.unwrap();
        assert_eq!(info.role, Role::Member);
        assert_eq!(info.invited_by.as_deref(), Some("admin"));

        let pw = Secret::new("a long enough password");
        let refused = invites::accept(&t.db, &invited.token, "", &pw)
            .await
            .unwrap_err();
        assert!(refused.message_for("name").is_some());
        let user = invites::accept(&t.db, &invited.token, "New Person", &pw)
            .await
            .unwrap();
        assert_eq!(
            (user.status, user.name.as_str()),
            (Status::Active, "New Person")
        );
        let again = invites::accept(&t.db, &invited.token, "Someone", &pw).await;
        assert_eq!(
            again,
            Err(Error::NotFound(
                "This invite has already been used. Sign in instead.".into()
            ))
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn duplicates_are_refused_whatever_their_case_or_spaces() {
    for t in databases().await {
        let owner = add_user(&t.db, "o@example.com", Role::Owner, Status::Active).await;
        let me = actor(owner, Role::Owner);
        invites::invite(&t.db, &me, input("dup@example.com", Role::Viewer))
            .await
            .unwrap();
        for email in ["DUP@example.com", "  dup@EXAMPLE.com  ", "O@example.com"] {
            let err = invites::invite(&t.db, &me, input(email, Role::Viewer))
                .await
                .unwrap_err();
            assert_eq!(
                err.message_for("email").as_deref(),
                Some("Someone with this email is already on the access list."),
                "{}: {email}",
                t.kind
            );
        }
        assert_eq!(
            users::list(&t.db, &me, &UserQuery::default())
                .await
                .unwrap()
                .matching,
            2,
            "nothing half-written"
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn only_owners_and_admins_invite_and_never_as_owner() {
    for t in databases().await {
        let owner = add_user(&t.db, "o@example.com", Role::Owner, Status::Active).await;
        let member = add_user(&t.db, "m@example.com", Role::Member, Status::Active).await;
        let viewer = add_user(&t.db, "v@example.com", Role::Viewer, Status::Active).await;
        let as_owner = invites::invite(
            &t.db,
            &actor(owner, Role::Owner),
            input("x@example.com", Role::Owner),
        )
        .await;
        assert_eq!(
            as_owner.map(|_| ()),
            Err(Error::Forbidden(
                "Invites can only be for Admin, Member or Viewer.".into()
            )),
            "{}",
            t.kind
        );
        for (id, role) in [(member, Role::Member), (viewer, Role::Viewer)] {
            let r = invites::invite(
                &t.db,
                &actor(id, role),
                input("x@example.com", Role::Viewer),
            )
            .await;
            assert_eq!(
                r.map(|_| ()),
                Err(Error::Forbidden("Your role does not allow this.".into()))
            );
        }
        let bad = invites::invite(
            &t.db,
            &actor(owner, Role::Owner),
            input("not an email", Role::Viewer),
        )
        .await
        .unwrap_err();
        assert!(bad.message_for("email").is_some());
        let no_team = InviteInput {
            team: Some(TeamId(424_242)),
            ..input("y@example.com", Role::Viewer)
        };
        let err = invites::invite(&t.db, &actor(owner, Role::Owner), no_team)
            .await
            .unwrap_err();
        assert!(err.message_for("team").is_some());
        assert_eq!(
            users::list(&t.db, &actor(owner, Role::Owner), &UserQuery::default())
                .await
                .unwrap()
                .matching,
            3
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn resending_kills_the_old_link() {
    for t in databases().await {
        let owner = add_user(&t.db, "o@example.com", Role::Owner, Status::Active).await;
        let me = actor(owner, Role::Owner);
        let first = invites::invite(&t.db, &me, input("x@example.com", Role::Viewer))
            .await
            .unwrap();
        let second = invites::resend(&t.db, &me, first.user.id).await.unwrap();
        assert!(second.expires_at >= first.expires_at);
        assert!(
            matches!(
                invites::info(&t.db, &first.token).await,
                Err(Error::NotFound(_))
            ),
            "{}",
            t.kind
        );
        assert!(invites::info(&t.db, &second.token).await.is_ok());
        let active = add_user(&t.db, "a@example.com", Role::Member, Status::Active).await;
        assert_eq!(
            invites::resend(&t.db, &me, active).await.map(|_| ()),
            Err(Error::Forbidden(
                "Only invited users have an invite to resend or revoke.".into()
            ))
        );
        assert!(matches!(
            invites::info(&t.db, &Secret::new("made-up")).await,
            Err(Error::NotFound(_))
        ));
        t.finish().await;
    }
}

/// A team's budget per member binds an Admin put in it, and an Admin's budget is an Owner's to
/// set: an Admin may invite an Admin, but not into a team with a budget per member. Refused on
/// the team field, nobody is listed; into a team without one, or by an Owner, it goes through.
#[tokio::test]
async fn an_admin_may_not_invite_an_admin_into_a_team_with_a_budget_per_member() {
    use domain::service::teams;
    use domain::teams::TeamInput;
    for t in databases().await {
        let owner = actor(
            add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await,
            Role::Owner,
        );
        let admin = actor(
            add_user(&t.db, "admin@example.com", Role::Admin, Status::Active).await,
            Role::Admin,
        );
        let team = |name: &str, member_budget: &str| TeamInput {
            name: name.into(),
            member_budget: Some(member_budget.into()),
            ..TeamInput::default()
        };
        let capped = teams::create(&t.db, &admin, &team("Capped", "0"))
            .await
            .unwrap()
            .id;
        let open = teams::create(&t.db, &admin, &team("Open", ""))
            .await
            .unwrap()
            .id;
        let into = |email: &str, team: TeamId| InviteInput {
            email: email.into(),
            role: Role::Admin,
            team: Some(team),
        };

        let refused = invites::invite(&t.db, &admin, into("a2@example.com", capped))
            .await
            .unwrap_err();
        assert!(
            refused.message_for("team").is_some(),
            "{}: {refused:?}",
            t.kind
        );
        let listed = users::list(
            &t.db,
            &owner,
            &UserQuery {
                search: "a2@".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(listed.rows.is_empty(), "{}", t.kind);

        invites::invite(&t.db, &admin, into("a3@example.com", open))
            .await
            .unwrap();
        invites::invite(&t.db, &owner, into("a2@example.com", capped))
            .await
            .unwrap();
        // Members go into either.
        let member = InviteInput {
            role: Role::Member,
            ..into("m@example.com", capped)
        };
        invites::invite(&t.db, &admin, member).await.unwrap();
        t.finish().await;
    }
}
