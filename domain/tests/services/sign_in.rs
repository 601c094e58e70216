//! Signing in: one message for every failure, only active users get in, repeated failures wait.

use crate::support::{PASSWORD, add_user, databases};
use domain::secret::{Secret, hashing_permits, verifications_started};
use domain::service::session::{self, SessionPolicy};
use domain::service::sign_in::{FAILED, FREE_FAILURES, purge_expired, sign_in};
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

/// Whether `err` is the generic failure or a throttling refusal.
fn failed_or_throttled(err: &Error) -> bool {
    *err == failed() || matches!(err, Error::RateLimited { .. })
}

#[tokio::test]
async fn parallel_wrong_passwords_for_one_email_get_only_the_free_failures_checked() {
    for t in databases().await {
        add_user(&t.db, "ada@example.com", Role::Member, Status::Active).await;
        add_user(&t.db, "bob@example.com", Role::Member, Status::Active).await;
        let p = SessionPolicy::default();
        let before = verifications_started();
        let mut attempts = tokio::task::JoinSet::new();
        for _ in 0..300 {
            let db = t.db.clone();
            attempts.spawn(async move {
                let wrong = Secret::new("wrong password here");
                sign_in(&db, "ada@example.com", &wrong, "10.7.7.7", p).await
            });
        }
        let (mut checked, mut limited) = (0, 0);
        while let Some(outcome) = attempts.join_next().await {
            match outcome.unwrap() {
                Err(e) if e == failed() => checked += 1,
                Err(Error::RateLimited { retry_after_secs }) => {
                    assert!(retry_after_secs >= 1);
                    limited += 1;
                }
                other => panic!("{}: {other:?}", t.kind),
            }
        }
        let started = usize::try_from(verifications_started() - before).unwrap();
        // The fifth failure makes the next attempt wait 1 s, the sixth 2 s: a slow run may let
        // one or two more through, never more than there are hashing permits.
        let admitted = usize::try_from(FREE_FAILURES).unwrap() + hashing_permits();
        assert!(
            checked <= admitted,
            "{}: {checked} wrong passwords were checked, {limited} refused",
            t.kind
        );
        assert_eq!(checked + limited, 300);
        // Other tests in this binary may check a few passwords meanwhile; 300 would not be few.
        assert!(
            started <= admitted + 20,
            "{}: {started} password checks started",
            t.kind
        );

        // The address is throttled now, bob's email is not: his right password still gets in.
        let bob = sign_in(
            &t.db,
            "bob@example.com",
            &Secret::new(PASSWORD),
            "10.7.7.7",
            p,
        )
        .await;
        assert!(bob.is_ok(), "{}: {bob:?}", t.kind);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_throttled_address_slows_wrong_passwords_but_never_refuses_a_right_one() {
    for t in databases().await {
        let ada = add_user(&t.db, "ada@example.com", Role::Member, Status::Active).await;
        add_user(&t.db, "cy@example.com", Role::Member, Status::Active).await;
        let p = SessionPolicy::default();
        let wrong = Secret::new("wrong password here");
        // Everyone behind one proxy address: someone fails eight times on made-up emails (the
        // address then waits 8 s, longer than this test takes).
        for i in 0..8 {
            let email = format!("guess{i}@example.com");
            let err = sign_in(&t.db, &email, &wrong, "10.3.3.3", p)
                .await
                .unwrap_err();
            assert!(failed_or_throttled(&err), "{}: {err:?}", t.kind);
        }
        // Ada, from the same address, with her right password: in.
        let signed = sign_in(
            &t.db,
            "ada@example.com",
            &Secret::new(PASSWORD),
            "10.3.3.3",
            p,
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {e:?}", t.kind));
        assert_eq!(signed.user.id, ada);
        // Cy, from the same address, mistyping: refused as throttled, not as incorrect.
        let err = sign_in(&t.db, "cy@example.com", &wrong, "10.3.3.3", p)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::RateLimited { .. }),
            "{}: {err:?}",
            t.kind
        );
        // Ada's success did not wash away the address's failures.
        let err = sign_in(&t.db, "dee@example.com", &wrong, "10.3.3.3", p)
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

#[tokio::test]
async fn ipv6_addresses_are_throttled_by_their_64_prefix() {
    for t in databases().await {
        let p = SessionPolicy::default();
        let wrong = Secret::new("wrong password here");
        // One host walking through its /64: every attempt from a fresh address.
        for i in 0..8 {
            let addr = format!("2001:db8:1:2::{:x}", i + 1);
            let email = format!("guess{i}@example.com");
            let err = sign_in(&t.db, &email, &wrong, &addr, p).await.unwrap_err();
            assert!(failed_or_throttled(&err), "{}: {err:?}", t.kind);
        }
        let err = sign_in(
            &t.db,
            "other@example.com",
            &wrong,
            "2001:db8:1:2:ffff::9",
            p,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, Error::RateLimited { .. }),
            "{}: {err:?}",
            t.kind
        );
        // The next /64 is someone else.
        let err = sign_in(&t.db, "other@example.com", &wrong, "2001:db8:1:3::1", p)
            .await
            .unwrap_err();
        assert_eq!(err, failed(), "{}", t.kind);
        t.finish().await;
    }
}

#[tokio::test]
async fn failure_counts_whose_window_closed_are_purged() {
    use chrono::{Duration, Utc};
    use domain::entity::sign_in_failure;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    for t in databases().await {
        let p = SessionPolicy::default();
        let wrong = Secret::new("wrong password here");
        sign_in(&t.db, "fresh@example.com", &wrong, "10.4.4.4", p)
            .await
            .unwrap_err();
        let old = Utc::now() - Duration::minutes(16);
        sign_in_failure::ActiveModel {
            subject: Set("email:old@example.com".to_owned()),
            failures: Set(9),
            first_failed_at: Set(old),
            last_failed_at: Set(old),
        }
        .insert(&t.db)
        .await
        .unwrap();
        assert_eq!(purge_expired(&t.db).await.unwrap(), 1, "{}", t.kind);
        let left: Vec<String> = sign_in_failure::Entity::find()
            .all(&t.db)
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.subject)
            .collect();
        assert_eq!(left.len(), 2, "{}: {left:?}", t.kind);
        assert!(left.contains(&"email:fresh@example.com".to_owned()));
        t.finish().await;
    }
}
