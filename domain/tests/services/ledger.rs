//! The hard cap through the ledger on both databases: admit within the limit, refuse past it
//! with the figures a 402 names, settle to the real cost (written behind), release, exactly as
//! many admissions as the budget allows under concurrent requests, headroom far from the
//! limit, a changed limit applying at once, and the sweep of a dead process's lease.

use crate::support::{actor, add_user, databases};
use chrono::{Duration, Utc};
use domain::entity::{budget_lease, team, usage_team_month, user};
use domain::money::Money;
use domain::secret::Secret;
use domain::service::keys::{self, KeyAuth};
use domain::service::leases::{self, next_month};
use domain::service::leases::{Budget, OverBudget};
use domain::service::ledger::{Hold, Ledger, ReserveError, STALE_AFTER};
use domain::service::month_key;
use domain::service::usage::Served;
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

/// The refusal a 402 names; anything else fails the test.
fn over_budget(answer: Result<Hold, ReserveError>) -> OverBudget {
    match answer {
        Err(ReserveError::OverBudget(over)) => over,
        other => panic!("past the limit, yet {other:?}"),
    }
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
            .expect("within the limit");
        assert_eq!(month_row(&t.db, &auth).await, (0, 600_000, 0), "{}", t.kind);
        assert_eq!(leases::outstanding(&t.db).await.unwrap(), 1);

        // 600,000 held + 500,000 more would pass $1: refused, with what the 402 says.
        let refused = over_budget(ledger.reserve(&auth, Money(500_000), now).await);
        assert_eq!(refused.name, "Research");
        assert_eq!(refused.limit, Money(1_000_000));
        assert_eq!(refused.spent, Money(0));
        assert_eq!(refused.reserved, Money(600_000));
        assert_eq!(refused.resets_at, next_month(now));
        assert_eq!(month_row(&t.db, &auth).await, (0, 600_000, 0));

        // Settled to its real cost: the hold goes, the spend and the request count stay.
        ledger.settle(first, Money(250_000), Served::default());
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
            .expect("exactly the remaining budget");
        over_budget(ledger.reserve(&auth, Money(1), now).await);
        // Released (the upstream failed): nothing spent, the budget is back.
        ledger.release(rest);
        ledger.flush().await.unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (250_000, 0, 1));
        assert!(ledger.reserve(&auth, Money(750_000), now).await.is_ok());
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
            .expect("no limit, no cap");
        assert_eq!(leases::outstanding(&t.db).await.unwrap(), 0);
        ledger.settle(hold, Money(1_234), Served::default());
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
                tokio::spawn(async move { ledger.reserve(&auth, Money(150_000), now).await })
            })
            .collect();
        let mut admitted = Vec::new();
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(hold) => admitted.push(hold),
                Err(ReserveError::OverBudget(_)) => {}
                Err(e) => panic!("{}: {e}", t.kind),
            }
        }
        assert_eq!(admitted.len(), 6, "{}", t.kind);
        assert_eq!(month_row(&t.db, &auth).await, (0, 900_000, 0));
        for hold in admitted {
            ledger.settle(hold, Money(150_000), Served::default());
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
        let first = ledger.reserve(&auth, Money(10_000), now).await.unwrap();
        let second = ledger.reserve(&auth, Money(10_000), now).await.unwrap();
        let (_, leased, _) = month_row(&t.db, &auth).await;
        assert!(leased > 100 * 10_000, "leased {leased}");
        assert!(
            leased <= 1_000_000_000 / 8,
            "a slice, not the month: {leased}"
        );
        let mut holds = vec![first, second];
        for _ in 0..100 {
            holds.push(ledger.reserve(&auth, Money(10_000), now).await.unwrap());
        }
        // Nothing more was leased (a trim may have given back what exceeds the headroom).
        let now_leased = month_row(&t.db, &auth).await.1;
        assert!(
            now_leased <= leased,
            "no new lease: {now_leased} > {leased}"
        );
        for hold in holds {
            ledger.settle(hold, Money(4_000), Served::default());
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
            let hold = ledger.reserve(&auth, Money(10_000), now).await.unwrap();
            ledger.settle(hold, Money(10_000), Served::default());
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
        let third = ledger
            .reserve(&auth, Money(10_000), now)
            .await
            .expect("20,000 spent + 10,000 fits 30,000");
        let fourth = ledger.reserve(&auth, Money(10_000), now).await;
        assert!(
            matches!(fourth, Err(ReserveError::OverBudget(_))),
            "{}: the old headroom is gone",
            t.kind
        );
        ledger.settle(third, Money(10_000), Served::default());
        ledger.flush().await.unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (30_000, 0, 3));
        t.finish().await;
    }
}

/// A lease of `amount` held by `holder` (a process this test plays), renewed just now.
async fn lease_of(db: &DatabaseConnection, auth: &KeyAuth, holder: &str, amount: i64) -> i64 {
    let txn = domain::db::begin_write(db).await.unwrap();
    let extension = leases::extend_in(
        &txn,
        holder,
        None,
        leases::Ask {
            budget: Budget::Team(auth.team.unwrap()),
            month: month_key(Utc::now()),
            want: Money(amount),
            need: Money(amount),
        },
        Utc::now(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    match extension {
        leases::Extension::Granted { lease, .. } => lease,
        other => panic!("not granted: {other:?}"),
    }
}

/// Sets lease `id`'s last renewal `ago` back, as a process that stopped renewing then left it.
async fn last_renewed(db: &DatabaseConnection, id: i64, ago: Duration) {
    let mut row: budget_lease::ActiveModel = budget_lease::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .into();
    row.renewed_at = Set(Utc::now() - ago);
    row.update(db).await.unwrap();
}

#[tokio::test]
async fn a_dead_process_lease_is_swept() {
    for t in databases().await {
        let auth = member_key(&t.db, Some(1_000_000)).await;
        // A process leased 400,000 and stopped renewing an hour ago.
        let stopped = lease_of(&t.db, &auth, "stopped", 400_000).await;
        last_renewed(&t.db, stopped, Duration::hours(1)).await;
        let ledger = Ledger::start(t.db.clone());
        let live = ledger
            .reserve(&auth, Money(100_000), Utc::now())
            .await
            .unwrap();
        let swept = leases::release_stale(&t.db, STALE_AFTER).await.unwrap();
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
async fn lease_times_are_the_databases_so_a_slow_clock_is_not_swept() {
    for t in databases().await {
        let auth = member_key(&t.db, Some(1_000_000)).await;
        // A process whose clock runs two minutes behind leases and renews — with its own
        // clock, its lease would look two minutes old to everyone else at once.
        let txn = domain::db::begin_write(&t.db).await.unwrap();
        leases::extend_in(
            &txn,
            "slow-clock",
            None,
            leases::Ask {
                budget: Budget::Team(auth.team.unwrap()),
                month: month_key(Utc::now()),
                want: Money(300_000),
                need: Money(300_000),
            },
            Utc::now() - Duration::minutes(2),
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        let swept = leases::release_stale(&t.db, STALE_AFTER).await.unwrap();
        assert_eq!(swept, 0, "{}: a live lease is not swept", t.kind);
        assert_eq!(month_row(&t.db, &auth).await, (0, 300_000, 0));
        t.finish().await;
    }
}

#[tokio::test]
async fn a_lease_swept_from_a_live_process_is_given_back_once_and_its_slice_dropped() {
    for t in databases().await {
        // $1, requests of 100 µ$: far from the limit, so the slice carries headroom.
        let auth = member_key(&t.db, Some(1_000_000)).await;
        let ledger = Ledger::start(t.db.clone());
        let now = Utc::now();
        let first = ledger.reserve(&auth, Money(100), now).await.unwrap();
        let second = ledger.reserve(&auth, Money(100), now).await.unwrap();
        let (_, leased, _) = month_row(&t.db, &auth).await;
        assert!(leased > 10_000, "{}: headroom leased: {leased}", t.kind);
        // Its renewals froze (or another process's clock ran ahead): a sweeper takes its
        // lease for dead and gives it back, and another process leases the whole month.
        // (Its writer may touch the lease in the same instant — trimming headroom stamps it
        // renewed — so the sweeper looks again until it finds it stale.)
        let mut swept = 0;
        for _ in 0..50 {
            swept = leases::release_stale(&t.db, std::time::Duration::ZERO)
                .await
                .unwrap();
            if swept > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(swept, 1, "{}", t.kind);
        let (spent, reserved, _) = month_row(&t.db, &auth).await;
        assert_eq!((spent, reserved), (0, 0), "{}", t.kind);
        lease_of(&t.db, &auth, "other", 1_000_000).await;
        // The live process settles what it had in flight: spend, but no second give-back.
        ledger.settle(first, Money(100), Served::default());
        ledger.flush().await.unwrap();
        assert_eq!(
            month_row(&t.db, &auth).await,
            (100, 1_000_000, 1),
            "{}: the sweep already gave the lease back",
            t.kind
        );
        // Its headroom went with the lease: the next request asks the database, and the
        // month is spoken for.
        let next = ledger.reserve(&auth, Money(100), now).await;
        assert!(
            matches!(next, Err(ReserveError::OverBudget(_))),
            "{}: admitted from a lost lease",
            t.kind
        );
        ledger.release(second);
        ledger.flush().await.unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (100, 1_000_000, 1));
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
                budget: Budget::Team(auth.team.unwrap()),
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
                served: Served::default(),
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
            .unwrap();
        ledger.settle(hold, Money(2_000), Served::default());
        ledger.flush().await.unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (5_000, 0, 4));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "only the header is left: {text}");
        assert!(
            text.starts_with("tollgate-ledger-2 "),
            "the journal says its format"
        );
        drop(ledger);
        std::fs::remove_file(&path).ok();
        t.finish().await;
    }
}

#[tokio::test]
async fn a_replay_cut_short_by_a_crash_adds_nothing_twice() {
    for t in databases().await {
        let auth = member_key(&t.db, Some(1_000_000)).await;
        let (team, user, key) = (auth.team.unwrap().0, auth.user.0, auth.key.0);
        let month = month_key(Utc::now());
        lease_of(&t.db, &auth, "killed", 300_000).await;
        let at = Utc::now().timestamp_micros();
        let line = |seq: u32| format!("{seq} {key} {user} {team} 1000 {at} {team} {month} 1000\n");
        let journal = format!("tollgate-ledger killed\n{}{}", line(1), line(2));
        let path = std::env::temp_dir().join(format!("tollgate-journal-twice-{}-{key}", t.kind));
        // Killed before the replay committed: nothing happened, the next start replays it all.
        std::fs::write(&path, &journal).unwrap();
        let ledger = Ledger::start_journaled(t.db.clone(), &path).await.unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (2_000, 0, 2), "{}", t.kind);
        drop(ledger);
        // Its writer lets go of the file once it has stopped.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        // Killed after the replay committed but before the file was started again: the same
        // file is found at the next start (with a lease the killed process held meanwhile, to
        // show the replay ran), and nothing is added twice.
        lease_of(&t.db, &auth, "killed", 300_000).await;
        std::fs::write(&path, &journal).unwrap();
        let ledger = Ledger::start_journaled(t.db.clone(), &path).await.unwrap();
        assert_eq!(month_row(&t.db, &auth).await, (2_000, 0, 2), "{}", t.kind);
        assert_eq!(leases::outstanding(&t.db).await.unwrap(), 0);
        drop(ledger);
        std::fs::remove_file(&path).ok();
        t.finish().await;
    }
}

#[tokio::test]
async fn a_request_that_gives_up_waiting_for_the_database_holds_nothing() {
    for t in databases().await {
        let auth = member_key(&t.db, Some(1_000_000)).await;
        let ledger = Ledger::start(t.db.clone());
        // The client leaves while its request waits for a lease: polled once, then dropped.
        let mut waiting = Box::pin(ledger.reserve(&auth, Money(400_000), Utc::now()));
        let first = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(std::future::Future::poll(waiting.as_mut(), cx))
        })
        .await;
        assert!(
            first.is_pending(),
            "{}: still waiting for the database",
            t.kind
        );
        drop(waiting);
        // The first flush writes the lease the request had asked for; the second gives back
        // what nobody holds.
        ledger.flush().await.unwrap();
        ledger.flush().await.unwrap();
        assert_eq!(
            (
                month_row(&t.db, &auth).await,
                leases::outstanding(&t.db).await.unwrap()
            ),
            ((0, 0, 0), 0),
            "{}: nothing stays held for a request nobody waits for",
            t.kind
        );
        t.finish().await;
    }
}
