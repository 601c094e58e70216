//! The hard cap through the ledger on both databases: admit within the limit, refuse past it
//! with the figures a 402 names, settle to the real cost (written behind), release, exactly as
//! many admissions as the budget allows under concurrent requests, headroom far from the
//! limit, a changed limit applying at once, and the sweep of a dead process's lease.

use crate::support::{actor, add_user, databases};
use chrono::{Duration, Utc};
use domain::entity::{team, usage_team_month, user};
use domain::money::Money;
use domain::secret::Secret;
use domain::service::keys::{self, KeyAuth};
use domain::service::leases::{self, next_month};
use domain::service::ledger::Ledger;
use domain::service::month_key;
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
    usage_team_month::Entity::find_by_id((auth.team.unwrap().0, month_key(Utc::now())))
        .one(db)
        .await
        .unwrap()
        .map_or((0, 0, 0), |row| {
            (row.spend_micros, row.reserved_micros, row.requests)
        })
}

#[tokio::test]
async fn reserve_settle_release_and_the_refusal() {
    for t in databases().await {
        let auth = member_key(&t.db, Some(1_000_000)).await;
        let ledger = Ledger::start(t.db.clone());
        let now = Utc::now();

        let first = ledger
            .reserve(&auth, Money(600_000), now)
            .await
            .unwrap()
            .expect("within the limit");
        assert_eq!(month_row(&t.db, &auth).await, (0, 600_000, 0), "{}", t.kind);
        assert_eq!(leases::outstanding(&t.db).await.unwrap(), 1);

        // 600,000 held + 500,000 more would pass $1: refused, with what the 402 says.
        let refused = ledger
            .reserve(&auth, Money(500_000), now)
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
        ledger.settle(first, Money(250_000));
        ledger.flush().await.unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (250_000, 0, 1), "{}", t.kind);
        assert_eq!(leases::outstanding(&t.db).await.unwrap(), 0);
        let key = domain::entity::api_key::Entity::find_by_id(auth.key.0)
            .one(&t.db)
            .await
            .unwrap()
            .unwrap();
        assert!(key.last_used_at.is_some(), "the key is marked used");

        // Exactly the rest of the budget fits; one micro-dollar more does not.
        let rest = ledger
            .reserve(&auth, Money(750_000), now)
            .await
            .unwrap()
            .expect("exactly the remaining budget");
        assert!(ledger.reserve(&auth, Money(1), now).await.unwrap().is_err());
        // Released (the upstream failed): nothing spent, the budget is back.
        ledger.release(rest);
        ledger.flush().await.unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (250_000, 0, 1));
        assert!(
            ledger
                .reserve(&auth, Money(750_000), now)
                .await
                .unwrap()
                .is_ok()
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn unlimited_teams_are_metered_but_not_held() {
    for t in databases().await {
        let auth = member_key(&t.db, None).await;
        let ledger = Ledger::start(t.db.clone());
        let hold = ledger
            .reserve(&auth, Money(5_000_000_000), Utc::now())
            .await
            .unwrap()
            .expect("no limit, no cap");
        assert_eq!(leases::outstanding(&t.db).await.unwrap(), 0);
        ledger.settle(hold, Money(1_234));
        ledger.flush().await.unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (1_234, 0, 1), "{}", t.kind);
        t.finish().await;
    }
}

#[tokio::test]
async fn concurrent_requests_are_admitted_exactly_up_to_the_limit() {
    for t in databases().await {
        // $1 limit, $0.15 worst case each: 6 fit (0.90), a 7th would pass it.
        let auth = member_key(&t.db, Some(1_000_000)).await;
        let ledger = Ledger::start(t.db.clone());
        let now = Utc::now();
        let attempts: Vec<_> = (0..40)
            .map(|_| {
                let (ledger, auth) = (ledger.clone(), auth.clone());
                tokio::spawn(
                    async move { ledger.reserve(&auth, Money(150_000), now).await.unwrap() },
                )
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
        for hold in admitted {
            ledger.settle(hold, Money(150_000));
        }
        ledger.flush().await.unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (900_000, 0, 6), "{}", t.kind);
        t.finish().await;
    }
}

#[tokio::test]
async fn far_from_the_limit_requests_are_admitted_from_a_slice() {
    for t in databases().await {
        // $1,000 limit, $0.01 each: after the first request the ledger leases headroom, so
        // the next hundred are admitted without asking the database.
        let auth = member_key(&t.db, Some(1_000_000_000)).await;
        let ledger = Ledger::start(t.db.clone());
        let now = Utc::now();
        let first = ledger
            .reserve(&auth, Money(10_000), now)
            .await
            .unwrap()
            .unwrap();
        let second = ledger
            .reserve(&auth, Money(10_000), now)
            .await
            .unwrap()
            .unwrap();
        let (_, leased, _) = month_row(&t.db, &auth).await;
        assert!(leased > 100 * 10_000, "leased {leased}");
        assert!(
            leased <= 1_000_000_000 / 8,
            "a slice, not the month: {leased}"
        );
        let mut holds = vec![first, second];
        for _ in 0..100 {
            holds.push(
                ledger
                    .reserve(&auth, Money(10_000), now)
                    .await
                    .unwrap()
                    .unwrap(),
            );
        }
        assert_eq!(month_row(&t.db, &auth).await.1, leased, "no new lease");
        for hold in holds {
            ledger.settle(hold, Money(4_000));
        }
        ledger.flush().await.unwrap();
        assert_eq!(
            month_row(&t.db, &auth).await,
            (102 * 4_000, 0, 102),
            "{}",
            t.kind
        );
        assert_eq!(leases::outstanding(&t.db).await.unwrap(), 0);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_lowered_limit_applies_to_the_next_request() {
    for t in databases().await {
        let auth = member_key(&t.db, Some(1_000_000_000)).await;
        let ledger = Ledger::start(t.db.clone());
        let now = Utc::now();
        for _ in 0..2 {
            let hold = ledger
                .reserve(&auth, Money(10_000), now)
                .await
                .unwrap()
                .unwrap();
            ledger.settle(hold, Money(10_000));
        }
        // The slice now holds headroom leased under $1,000; the limit drops to 3 cents.
        let mut team: team::ActiveModel = team::Entity::find_by_id(auth.team.unwrap().0)
            .one(&t.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        team.monthly_limit_micros = Set(Some(30_000));
        team.update(&t.db).await.unwrap();
        // What the gateway does when the access epoch moves.
        ledger.limits_changed();
        let third = ledger.reserve(&auth, Money(10_000), now).await.unwrap();
        assert!(third.is_ok(), "20,000 spent + 10,000 fits 30,000");
        let fourth = ledger.reserve(&auth, Money(10_000), now).await.unwrap();
        assert!(fourth.is_err(), "{}: the old headroom is gone", t.kind);
        ledger.settle(third.unwrap(), Money(10_000));
        ledger.flush().await.unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (30_000, 0, 3));
        t.finish().await;
    }
}

#[tokio::test]
async fn a_dead_process_lease_is_swept() {
    for t in databases().await {
        let auth = member_key(&t.db, Some(1_000_000)).await;
        let team = auth.team.unwrap();
        let month = domain::service::month_key(Utc::now());
        // A process leased 400,000 and stopped renewing an hour ago.
        let txn = domain::db::begin_write(&t.db).await.unwrap();
        let old = Utc::now() - Duration::hours(1);
        leases::extend_in(
            &txn,
            "stopped",
            None,
            leases::Ask {
                team,
                month,
                want: Money(400_000),
                need: Money(400_000),
            },
            old,
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        let ledger = Ledger::start(t.db.clone());
        let live = ledger
            .reserve(&auth, Money(100_000), Utc::now())
            .await
            .unwrap()
            .unwrap();
        let swept = leases::release_stale(&t.db, Utc::now() - Duration::minutes(1))
            .await
            .unwrap();
        assert_eq!(swept, 1, "{}", t.kind);
        assert_eq!(month_row(&t.db, &auth).await, (0, 100_000, 0));
        ledger.release(live);
        ledger.flush().await.unwrap();
        assert_eq!(leases::outstanding(&t.db).await.unwrap(), 0);
        assert_eq!(month_row(&t.db, &auth).await, (0, 0, 0));
        t.finish().await;
    }
}

#[tokio::test]
async fn a_killed_process_journal_is_replayed_once() {
    for t in databases().await {
        let auth = member_key(&t.db, Some(1_000_000)).await;
        let (team, user, key) = (auth.team.unwrap().0, auth.user.0, auth.key.0);
        let month = domain::service::month_key(Utc::now());
        // The killed process leased 300,000, settled three requests of 1,000 each and had
        // written the first to the database when it died mid-way through a fourth line.
        let txn = domain::db::begin_write(&t.db).await.unwrap();
        let now = Utc::now();
        leases::extend_in(
            &txn,
            "killed",
            None,
            leases::Ask {
                team: auth.team.unwrap(),
                month,
                want: Money(300_000),
                need: Money(300_000),
            },
            now,
        )
        .await
        .unwrap();
        domain::service::usage::record(
            &txn,
            &domain::service::usage::Metered {
                key: auth.key,
                user: auth.user,
                team: auth.team,
                cost: Money(1_000),
                at: now,
            },
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        let path = std::env::temp_dir().join(format!("tollgate-journal-{}-{}", t.kind, key));
        let at = now.timestamp_micros();
        let line = |seq: u32| format!("{seq} {key} {user} {team} 1000 {at} {team} {month} 1000\n");
        std::fs::write(
            &path,
            format!(
                "tollgate-ledger killed\n{}{}{}{}",
                line(1),
                line(2),
                line(3),
                &line(4)[..9]
            ),
        )
        .unwrap();
        let mark = domain::entity::ledger_mark::ActiveModel {
            holder: Set("killed".into()),
            written_seq: Set(1),
        };
        domain::entity::ledger_mark::Entity::insert(mark)
            .exec(&t.db)
            .await
            .unwrap();

        let ledger = Ledger::start_journaled(t.db.clone(), &path).await.unwrap();
        // Entries 2 and 3 were added, 1 was not added again, the torn 4th is not a request;
        // the killed process's lease is given back whole.
        assert_eq!(month_row(&t.db, &auth).await, (3_000, 0, 3), "{}", t.kind);
        assert_eq!(leases::outstanding(&t.db).await.unwrap(), 0);

        // The new process journals its own settlements and empties the file once written.
        let hold = ledger
            .reserve(&auth, Money(5_000), Utc::now())
            .await
            .unwrap()
            .unwrap();
        ledger.settle(hold, Money(2_000));
        ledger.flush().await.unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (5_000, 0, 4));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "only the header is left: {text}");
        assert!(text.starts_with("tollgate-ledger "));
        drop(ledger);
        std::fs::remove_file(&path).ok();
        t.finish().await;
    }
}
