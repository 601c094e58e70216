//! The hard cap on both databases: reserve within the limit, refuse past it with the figures a
//! 402 names, settle to the real cost, release, sweep reservations a dead process left, and
//! exactly as many admissions as the budget allows under concurrent requests.

use crate::support::{actor, add_user, databases};
use chrono::{Duration, Utc};
use domain::entity::{team, usage_team_month, user};
use domain::money::Money;
use domain::secret::Secret;
use domain::service::keys::{self, KeyAuth};
use domain::service::month_key;
use domain::service::reservations::{self, next_month};
use domain::{Role, Status};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};

/// A Member of a team limited to `limit_micros` (or unlimited), and their key's authentication.
async fn member_key(db: &DatabaseConnection, limit_micros: Option<i64>) -> KeyAuth {
    let t = team::ActiveModel {
        name: Set("Research".into()),
        name_normalized: Set("research".into()),
        description: Set(String::new()),
        monthly_limit_micros: Set(limit_micros),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let id = add_user(db, "m@example.com", Role::Member, Status::Active).await;
    let mut m: user::ActiveModel = user::Entity::find_by_id(id.0)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .into();
    m.team_id = Set(Some(t.id));
    m.update(db).await.unwrap();
    let issued = keys::issue(
        db,
        &actor(id, Role::Member),
        keys::IssueInput {
            name: "k".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    keys::authenticate(db, &Secret::new(issued.secret))
        .await
        .unwrap()
}

async fn month_row(db: &DatabaseConnection, auth: &KeyAuth) -> (i64, i64, i64) {
    let row = usage_team_month::Entity::find_by_id((auth.team.unwrap().0, month_key(Utc::now())))
        .one(db)
        .await
        .unwrap()
        .unwrap_or(usage_team_month::Model {
            team_id: 0,
            month: 0,
            spend_micros: 0,
            requests: 0,
            reserved_micros: 0,
        });
    (row.spend_micros, row.reserved_micros, row.requests)
}

#[tokio::test]
async fn reserve_settle_release_and_the_refusal() {
    for t in databases().await {
        let auth = member_key(&t.db, Some(1_000_000)).await;
        let now = Utc::now();

        let first = reservations::reserve(&t.db, &auth, Money(600_000), now)
            .await
            .unwrap()
            .expect("within the limit");
        assert_eq!(month_row(&t.db, &auth).await, (0, 600_000, 0), "{}", t.kind);
        assert_eq!(reservations::outstanding(&t.db).await.unwrap(), 1);

        // 600,000 held + 500,000 more would pass $1: refused, with what the 402 says.
        let refused = reservations::reserve(&t.db, &auth, Money(500_000), now)
            .await
            .unwrap()
            .expect_err("past the limit");
        assert_eq!(refused.team, "Research");
        assert_eq!(refused.limit, Money(1_000_000));
        assert_eq!(refused.spent, Money(0));
        assert_eq!(refused.reserved, Money(600_000));
        assert_eq!(refused.resets_at, next_month(now));
        assert_eq!(month_row(&t.db, &auth).await, (0, 600_000, 0));

        // Settled to its real cost: the hold goes, the spend and the request count stay.
        reservations::settle(&t.db, &first, Money(250_000))
            .await
            .unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (250_000, 0, 1), "{}", t.kind);
        assert_eq!(reservations::outstanding(&t.db).await.unwrap(), 0);
        let key = domain::entity::api_key::Entity::find_by_id(auth.key.0)
            .one(&t.db)
            .await
            .unwrap()
            .unwrap();
        assert!(key.last_used_at.is_some(), "the key is marked used");

        // Exactly the rest of the budget fits; one micro-dollar more does not.
        let rest = reservations::reserve(&t.db, &auth, Money(750_000), now)
            .await
            .unwrap()
            .expect("exactly the remaining budget");
        assert!(
            reservations::reserve(&t.db, &auth, Money(1), now)
                .await
                .unwrap()
                .is_err()
        );
        // Released (the upstream failed): nothing spent, budget back; twice changes nothing.
        reservations::release(&t.db, &rest).await.unwrap();
        reservations::release(&t.db, &rest).await.unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (250_000, 0, 1));
        t.finish().await;
    }
}

#[tokio::test]
async fn unlimited_teams_are_metered_but_not_held() {
    for t in databases().await {
        let auth = member_key(&t.db, None).await;
        let hold = reservations::reserve(&t.db, &auth, Money(5_000_000_000), Utc::now())
            .await
            .unwrap()
            .expect("no limit, no cap");
        assert_eq!(reservations::outstanding(&t.db).await.unwrap(), 0);
        reservations::settle(&t.db, &hold, Money(1_234))
            .await
            .unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (1_234, 0, 1), "{}", t.kind);
        t.finish().await;
    }
}

#[tokio::test]
async fn concurrent_requests_are_admitted_exactly_up_to_the_limit() {
    for t in databases().await {
        // $1 limit, $0.15 worst case each: 6 fit (0.90), a 7th would pass it.
        let auth = member_key(&t.db, Some(1_000_000)).await;
        let now = Utc::now();
        let attempts: Vec<_> = (0..40)
            .map(|_| {
                let (db, auth) = (t.db.clone(), auth.clone());
                tokio::spawn(async move {
                    reservations::reserve(&db, &auth, Money(150_000), now)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut admitted = Vec::new();
        for attempt in attempts {
            if let Ok(hold) = attempt.await.unwrap() {
                admitted.push(hold);
            }
        }
        assert_eq!(admitted.len(), 6, "{}", t.kind);
        assert_eq!(month_row(&t.db, &auth).await, (0, 900_000, 0));
        for hold in &admitted {
            reservations::settle(&t.db, hold, Money(150_000))
                .await
                .unwrap();
        }
        assert_eq!(month_row(&t.db, &auth).await, (900_000, 0, 6), "{}", t.kind);
        t.finish().await;
    }
}

#[tokio::test]
async fn reservations_left_by_a_dead_process_are_swept() {
    for t in databases().await {
        let auth = member_key(&t.db, Some(1_000_000)).await;
        let old = Utc::now() - Duration::hours(1);
        // Admitted an hour ago by a process that never came back.
        reservations::reserve(&t.db, &auth, Money(400_000), old)
            .await
            .unwrap()
            .unwrap();
        let live = reservations::reserve(&t.db, &auth, Money(100_000), Utc::now())
            .await
            .unwrap()
            .unwrap();
        let swept = reservations::release_stale(&t.db, Utc::now() - Duration::minutes(15))
            .await
            .unwrap();
        assert_eq!(swept, 1, "{}", t.kind);
        assert_eq!(month_row(&t.db, &auth).await, (0, 100_000, 0));
        reservations::release(&t.db, &live).await.unwrap();
        assert_eq!(reservations::outstanding(&t.db).await.unwrap(), 0);
        t.finish().await;
    }
}
