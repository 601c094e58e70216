//! Signing in: one message for every failure, only active users get in, repeated failures wait.

use crate::support::{PASSWORD, add_user, databases};
use domain::secret::Secret;
use domain::service::session::{self, SessionPolicy};
use domain::service::sign_in::{FAILED, sign_in};
use domain::{Error, Role, Status};

fn failed() -> Error {
    Error::validation("email", FAILED)
}

#[tokio::test]
async fn the_right_password_signs_in_and_starts_a_session() {
    for t in databases().await {
        let id = add_user(&t.db, "ada@example.com", Role::Admin, Status::Active).await;
        let policy = SessionPolicy::default();
        let signed = sign_in(
            &t.db,
            " ADA@example.com",
            &Secret::new(PASSWORD),
            "10.0.0.1",
            policy,
        )
        .await
        .unwrap();
        assert_eq!(signed.user.id, id, "{}", t.kind);
        let again = session::authenticate(&t.db, &signed.token, policy)
            .await
            .unwrap();
        assert_eq!((again.id, again.role), (id, Role::Admin));
        t.finish().await;
    }
}

#[tokio::test]
async fn every_failure_gets_the_same_answer() {
    for t in databases().await {
        add_user(&t.db, "ada@example.com", Role::Member, Status::Active).await;
        add_user(&t.db, "ivy@example.com", Role::Member, Status::Invited).await;
        add_user(&t.db, "sam@example.com", Role::Member, Status::Suspended).await;
        let p = SessionPolicy::default();
        let wrong = Secret::new("wrong password here");
        let right = Secret::new(PASSWORD);
        let attempts = [
            ("ada@example.com", &wrong),
            ("nobody@example.com", &right),
            ("ivy@example.com", &right),
            ("sam@example.com", &right),
            ("not an email", &right),
        ];
        for (i, (email, pw)) in attempts.into_iter().enumerate() {
            let addr = format!("10.0.0.{i}");
            let err = sign_in(&t.db, email, pw, &addr, p).await.expect_err(email);
            assert_eq!(err, failed(), "{}: {email}", t.kind);
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn repeated_failures_for_one_email_are_slowed_down() {
    for t in databases().await {
        add_user(&t.db, "ada@example.com", Role::Member, Status::Active).await;
        let p = SessionPolicy::default();
        let wrong = Secret::new("wrong password here");
        for i in 0..5 {
            let err = sign_in(&t.db, "ada@example.com", &wrong, &format!("10.0.1.{i}"), p)
                .await
                .unwrap_err();
            assert_eq!(err, failed());
        }
        // From another address, even with the right password, this email must wait now.
        let err = sign_in(
            &t.db,
            "ada@example.com",
            &Secret::new(PASSWORD),
            "10.0.2.1",
            p,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, Error::RateLimited { retry_after_secs } if retry_after_secs >= 1),
            "{}: {err:?}",
            t.kind
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn repeated_failures_from_one_address_are_slowed_down() {
    for t in databases().await {
        let p = SessionPolicy::default();
        let wrong = Secret::new("wrong password here");
        for i in 0..5 {
            sign_in(
                &t.db,
                &format!("user{i}@example.com"),
                &wrong,
                "10.9.9.9",
                p,
            )
            .await
            .unwrap_err();
        }
        let err = sign_in(&t.db, "other@example.com", &wrong, "10.9.9.9", p)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::RateLimited { .. }),
            "{}: {err:?}",
            t.kind
        );
        t.finish().await;
    }
}
