//! The users list and the actions on one user, allowed and refused, on both databases.

use crate::support::{actor, add_user, databases};
use domain::list_query::SortDir;
use domain::secret::Secret;
use domain::service::session::{self, SessionPolicy};
use domain::service::sign_in::sign_in;
use domain::service::users;
use domain::users::{UserQuery, UserSort};
use domain::{Error, Role, Status, UserId};

#[tokio::test]
async fn the_list_searches_filters_sorts_and_pages_on_the_server() {
    for t in databases().await {
        let owner = add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await;
        for i in 0..60 {
            let role = if i % 3 == 0 {
                Role::Admin
            } else {
                Role::Member
            };
            add_user(
                &t.db,
                &format!("user{i:02}@example.com"),
                role,
                Status::Active,
            )
            .await;
        }
        add_user(
            &t.db,
            "Zed.Invited@Example.com",
            Role::Viewer,
            Status::Invited,
        )
        .await;
        let me = actor(owner, Role::Owner);

        let page1 = users::list(&t.db, &me, &UserQuery::default())
            .await
            .unwrap();
        assert_eq!(
            (page1.matching, page1.pages, page1.rows.len()),
            (62, 2, 50),
            "{}",
            t.kind
        );
        assert_eq!(page1.summary.total, 62);
        assert_eq!(page1.summary.active, 61);
        assert_eq!(page1.summary.admins, 21, "20 admins and the owner");
        assert_eq!(page1.summary.pending_invites, 1);
        let page2 = users::list(
            &t.db,
            &me,
            &UserQuery {
                page: 2,
                ..UserQuery::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(page2.rows.len(), 12);

        let search = UserQuery {
            search: "ZED.inv".into(),
            ..UserQuery::default()
        };
        let found = users::list(&t.db, &me, &search).await.unwrap();
        assert_eq!(found.rows.len(), 1);
        assert_eq!(
            (found.rows[0].status, found.rows[0].name.clone()),
            (Status::Invited, None)
        );
        assert_eq!(found.summary.total, 62, "cards count the whole gateway");

        let admins = UserQuery {
            role: Some(Role::Admin),
            ..UserQuery::default()
        };
        assert_eq!(users::list(&t.db, &me, &admins).await.unwrap().matching, 20);

        let by_email_desc = UserQuery {
            sort: UserSort::Email,
            dir: SortDir::Desc,
            ..UserQuery::default()
        };
        let rows = users::list(&t.db, &me, &by_email_desc).await.unwrap().rows;
        assert_eq!(rows[0].email, "Zed.Invited@Example.com");
        let by_role = UserQuery {
            sort: UserSort::Role,
            ..UserQuery::default()
        };
        assert_eq!(
            users::list(&t.db, &me, &by_role).await.unwrap().rows[0].role,
            Role::Owner
        );

        let wildcard = UserQuery {
            search: "%".into(),
            ..UserQuery::default()
        };
        assert_eq!(
            users::list(&t.db, &me, &wildcard).await.unwrap().matching,
            0,
            "% is a character, not a wildcard"
        );
        let past_the_end = UserQuery {
            page: 99,
            ..UserQuery::default()
        };
        assert_eq!(
            users::list(&t.db, &me, &past_the_end).await.unwrap().page,
            2
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn owners_change_roles_but_never_their_own_nor_the_last_owners() {
    for t in databases().await {
        let owner = add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await;
        let member = add_user(&t.db, "m@example.com", Role::Member, Status::Active).await;
        let admin = add_user(&t.db, "a@example.com", Role::Admin, Status::Active).await;
        let me = actor(owner, Role::Owner);

        let row = users::change_role(&t.db, &me, member, Role::Admin)
            .await
            .unwrap();
        assert_eq!(row.role, Role::Admin, "{}", t.kind);
        let refused =
            users::change_role(&t.db, &actor(admin, Role::Admin), member, Role::Viewer).await;
        assert_eq!(
            refused,
            Err(Error::Forbidden("Only Owners can change roles.".into()))
        );
        assert_eq!(
            users::change_role(&t.db, &me, owner, Role::Admin).await,
            Err(Error::Forbidden("You cannot change your own role.".into()))
        );
        // A second Owner may demote the first only while another active Owner remains.
        let second = add_user(&t.db, "o2@example.com", Role::Owner, Status::Active).await;
        users::change_role(&t.db, &actor(second, Role::Owner), owner, Role::Admin)
            .await
            .unwrap();
        // Someone whose request still says Owner (read before they were changed) is judged as
        // they are now: the Admin cannot demote the last Owner.
        assert_eq!(
            users::change_role(&t.db, &actor(admin, Role::Owner), second, Role::Admin).await,
            Err(Error::Forbidden("Only Owners can change roles.".into()))
        );
        // And an Owner demoted a moment ago cannot demote the one who did it.
        assert_eq!(
            users::change_role(&t.db, &actor(owner, Role::Owner), second, Role::Admin).await,
            Err(Error::Forbidden("Only Owners can change roles.".into()))
        );
        let still = users::list(&t.db, &me, &UserQuery::default())
            .await
            .unwrap();
        assert!(
            still
                .rows
                .iter()
                .any(|r| r.id == second && r.role == Role::Owner),
            "{}: the last Owner stays",
            t.kind
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn suspending_ends_sessions_and_reactivating_restores_sign_in() {
    for t in databases().await {
        let admin = add_user(&t.db, "a@example.com", Role::Admin, Status::Active).await;
        let member = add_user(&t.db, "m@example.com", Role::Member, Status::Active).await;
        let p = SessionPolicy::default();
        let s = sign_in(
            &t.db,
            "m@example.com",
            &Secret::new(crate::support::PASSWORD),
            "x",
            p,
        )
        .await
        .unwrap();
        let me = actor(admin, Role::Admin);

        assert_eq!(
            users::suspend(&t.db, &me, member).await.unwrap().status,
            Status::Suspended,
            "{}",
            t.kind
        );
        assert_eq!(
            session::authenticate(&t.db, &s.token, p).await,
            Err(Error::Unauthenticated)
        );
        assert_eq!(
            users::suspend(&t.db, &me, member).await,
            Err(Error::Forbidden("This user is already suspended.".into()))
        );
        assert_eq!(
            users::reactivate(&t.db, &me, member).await.unwrap().status,
            Status::Active
        );
        assert!(
            sign_in(
                &t.db,
                "m@example.com",
                &Secret::new(crate::support::PASSWORD),
                "x",
                p
            )
            .await
            .is_ok()
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn admins_never_act_on_admins_or_owners_and_members_act_on_nobody() {
    for t in databases().await {
        let admin = add_user(&t.db, "a@example.com", Role::Admin, Status::Active).await;
        let other_admin = add_user(&t.db, "a2@example.com", Role::Admin, Status::Active).await;
        let owner = add_user(&t.db, "o@example.com", Role::Owner, Status::Active).await;
        let member = add_user(&t.db, "m@example.com", Role::Member, Status::Active).await;
        let viewer = add_user(&t.db, "v@example.com", Role::Viewer, Status::Active).await;
        let outranked = Err(Error::Forbidden(
            "Admins cannot act on Admins or Owners.".into(),
        ));
        let a = actor(admin, Role::Admin);
        assert_eq!(
            users::suspend(&t.db, &a, other_admin).await.map(|_| ()),
            outranked.clone(),
            "{}",
            t.kind
        );
        assert_eq!(users::delete(&t.db, &a, owner).await, outranked);
        let m = actor(member, Role::Member);
        assert_eq!(
            users::suspend(&t.db, &m, viewer).await.map(|_| ()),
            Err(Error::Forbidden("Your role does not allow this.".into()))
        );
        assert_eq!(
            users::delete(&t.db, &m, viewer).await,
            Err(Error::Forbidden("Your role does not allow this.".into()))
        );
        // Nothing changed.
        let everyone = users::list(&t.db, &a, &UserQuery::default()).await.unwrap();
        assert!(everyone.rows.iter().all(|r| r.status == Status::Active));
        assert_eq!(everyone.matching, 5);
        t.finish().await;
    }
}

#[tokio::test]
async fn deleting_removes_the_user_and_acting_on_a_deleted_user_says_so() {
    for t in databases().await {
        let owner = add_user(&t.db, "o@example.com", Role::Owner, Status::Active).await;
        let member = add_user(&t.db, "m@example.com", Role::Member, Status::Active).await;
        let me = actor(owner, Role::Owner);
        users::delete(&t.db, &me, member).await.unwrap();
        assert!(
            matches!(
                users::delete(&t.db, &me, member).await,
                Err(Error::NotFound(_))
            ),
            "{}",
            t.kind
        );
        assert!(matches!(
            users::suspend(&t.db, &me, member).await,
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            users::change_role(&t.db, &me, UserId(999_999), Role::Viewer).await,
            Err(Error::NotFound(_))
        ));
        assert_eq!(
            users::delete(&t.db, &me, owner).await,
            Err(Error::Forbidden("You cannot delete yourself.".into()))
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn the_detail_shows_dates_and_counts() {
    for t in databases().await {
        let owner = add_user(&t.db, "o@example.com", Role::Owner, Status::Active).await;
        let d = users::detail(&t.db, &actor(owner, Role::Viewer), owner)
            .await
            .unwrap();
        assert_eq!(
            (d.requests_this_month, d.requests_all_time, d.keys.len()),
            (0, 0, 0),
            "{}",
            t.kind
        );
        t.finish().await;
    }
}
