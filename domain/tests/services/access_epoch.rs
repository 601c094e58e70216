//! How a process hears that access changed in the database when another process (or anyone
//! with a connection) changed it: on PostgreSQL by `LISTEN`, well before the once-a-second
//! safety poll would, even after its connection was cut; on SQLite by the 5 ms poll.

use crate::support::{actor, add_user, databases};
use domain::service::access_epoch::{AccessWatch, SAFETY_POLL_EVERY};
use domain::service::users;
use domain::{Role, Status};
use sea_orm::{ConnectionTrait, Statement};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Waits until the watch's version passes `before`; answers how long that took, or `None`
/// after `within`.
async fn moved_past(watch: &AccessWatch, before: u64, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if watch.version() > before {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    None
}

/// Less than half the safety poll's interval: a change seen within it was heard, not polled.
const HEARD_WITHIN: Duration = Duration::from_millis(400);

#[tokio::test]
async fn a_change_made_elsewhere_is_heard_within_milliseconds() {
    assert!(HEARD_WITHIN * 2 < SAFETY_POLL_EVERY);
    for t in databases().await {
        let owner = actor(
            add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await,
            Role::Owner,
        );
        let member = add_user(&t.db, "member@example.com", Role::Member, Status::Active).await;
        let watch = Arc::new(AccessWatch::default());
        watch.watch(t.db.clone());
        // The first look, and the safety poll's first tick (at once), pass.
        moved_past(&watch, 0, Duration::from_secs(5))
            .await
            .expect("a first look");
        tokio::time::sleep(Duration::from_millis(100)).await;

        for round in 0..3 {
            let before = watch.version();
            if round % 2 == 0 {
                users::suspend(&t.db, &owner, member).await.unwrap();
            } else {
                users::reactivate(&t.db, &owner, member).await.unwrap();
            }
            let took = moved_past(&watch, before, HEARD_WITHIN).await;
            assert!(
                took.is_some(),
                "{}: round {round} not heard within {HEARD_WITHIN:?}",
                t.kind
            );
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn on_postgres_a_listener_whose_connection_is_cut_listens_again() {
    for t in databases().await {
        if t.kind != "postgres" {
            t.finish().await;
            continue;
        }
        let owner = actor(
            add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await,
            Role::Owner,
        );
        let member = add_user(&t.db, "member@example.com", Role::Member, Status::Active).await;
        let watch = Arc::new(AccessWatch::default());
        watch.watch(t.db.clone());
        moved_past(&watch, 0, Duration::from_secs(5))
            .await
            .expect("a first look");
        tokio::time::sleep(Duration::from_millis(100)).await;

        let cut =
            t.db.query_all_raw(Statement::from_string(
                t.db.get_database_backend(),
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND query LIKE 'LISTEN%'",
            ))
            .await
            .unwrap();
        assert_eq!(cut.len(), 1, "one listening connection, cut");
        tokio::time::sleep(Duration::from_millis(200)).await;
        // The next change is heard on a new connection, long before the safety poll.
        let before = watch.version();
        users::suspend(&t.db, &owner, member).await.unwrap();
        assert!(
            moved_past(&watch, before, HEARD_WITHIN).await.is_some(),
            "not heard after the reconnect"
        );
        t.finish().await;
    }
}
