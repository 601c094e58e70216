//! First start: the setup token creates exactly one Owner, then setup is closed for good.

use crate::support::databases;
use domain::secret::Secret;
use domain::service::setup::{self, FirstOwner};
use domain::{Error, Role, Status};

fn owner(email: &str) -> FirstOwner {
    FirstOwner {
        name: "Ada Lovelace".into(),
        email: email.into(),
        password: Secret::new("correct horse battery"),
    }
}

#[tokio::test]
async fn setup_creates_the_first_owner_once() {
    for t in databases().await {
        let token = setup::issue_token(&t.db)
            .await
            .unwrap()
            .expect("a token while nobody exists");
        assert!(setup::is_open(&t.db, &token).await.unwrap());

        let user = setup::complete(&t.db, &token, owner(" Ada@Example.com "))
            .await
            .unwrap();
        assert_eq!(
            (user.role, user.status),
            (Role::Owner, Status::Active),
            "{}",
            t.kind
        );
        assert_eq!(user.email, "Ada@Example.com");

        assert!(!setup::is_open(&t.db, &token).await.unwrap());
        assert!(matches!(
            setup::complete(&t.db, &token, owner("eve@example.com")).await,
            Err(Error::NotFound(_))
        ));
        assert!(
            setup::issue_token(&t.db).await.unwrap().is_none(),
            "no new token once an Owner exists"
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn a_replaced_or_made_up_token_does_not_open_setup() {
    for t in databases().await {
        let first = setup::issue_token(&t.db).await.unwrap().unwrap();
        let second = setup::issue_token(&t.db).await.unwrap().unwrap();
        assert!(
            !setup::is_open(&t.db, &first).await.unwrap(),
            "a restart replaces the link"
        );
        assert!(setup::is_open(&t.db, &second).await.unwrap());
        assert!(
            !setup::is_open(&t.db, &Secret::new("made-up"))
                .await
                .unwrap()
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_leaves_setup_open() {
    for t in databases().await {
        let token = setup::issue_token(&t.db).await.unwrap().unwrap();
        let cases = [
            (
                FirstOwner {
                    email: "not-an-email".into(),
                    ..owner("x")
                },
                "email",
            ),
            (
                FirstOwner {
                    name: "   ".into(),
                    ..owner("ada@example.com")
                },
                "name",
            ),
            (
                FirstOwner {
                    name: "x".repeat(10_000),
                    ..owner("ada@example.com")
                },
                "name",
            ),
            (
                FirstOwner {
                    password: Secret::new("short"),
                    ..owner("ada@example.com")
                },
                "password",
            ),
        ];
        for (input, field) in cases {
            let err = setup::complete(&t.db, &token, input)
                .await
                .expect_err("must be refused");
            assert!(
                err.message_for(field).is_some(),
                "{}: {field}: {err:?}",
                t.kind
            );
        }
        assert!(
            setup::is_open(&t.db, &token).await.unwrap(),
            "nothing was written"
        );
        t.finish().await;
    }
}
