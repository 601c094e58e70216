//! The rolling windows of the last 7, 30 and 90 days on both databases: after every batch the
//! metering writes, late or early, and after every move to a later day, each window holds
//! exactly what the day rows of its days hold; and the Usage page's first rows read from them
//! (or from a month's rows) are the rows it shows when it reads and sorts every group.

use crate::support::{actor, add_user, databases};
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::db::DatabaseConnection;
use domain::entity::refusal_day::RefusalKind;
use domain::entity::usage_window::{self, Grouping, Span};
use domain::entity::{usage_day, usage_window_end};
use domain::money::Money;
use domain::service::refusals::{self, Refusal};
use domain::service::usage::{self, Metered, Served};
use domain::service::usage_report::{self, Rows};
use domain::service::usage_windows;
use domain::usage::{GroupBy, Period, UsageQuery, UsageSort};
use domain::{KeyId, Role, Status, TeamId, UserId};
use sea_orm::{ActiveModelTrait, EntityTrait, Iterable, Set};
use std::collections::BTreeMap;

/// A request by person `user` with key `user + 100`, in `team`, costing `dollars`.
fn request(user: i64, team: Option<i64>, dollars: i64, at: DateTime<Utc>) -> Metered {
    Metered {
        key: KeyId(user + 100),
        user: UserId(user),
        team: team.map(TeamId),
        cost: Money::from_micros(dollars * 1_000_000),
        at,
        served: Served {
            model: "gpt-test".into(),
            tokens_in: u64::try_from(user * 10).unwrap(),
            tokens_out: u64::try_from(dollars).unwrap(),
        },
    }
}

/// Every window against the day rows of its days, group by group.
async fn assert_windows_hold_their_days(db: &DatabaseConnection, when: &str) {
    let ends = usage_windows::ends(db).await.unwrap();
    let days = usage_day::Entity::find().all(db).await.unwrap();
    let windows = usage_window::Entity::find().all(db).await.unwrap();
    for span in Span::iter() {
        let last = ends[&span];
        for grouping in Grouping::iter() {
            let mut expected: BTreeMap<i64, [i64; 4]> = BTreeMap::new();
            for d in days
                .iter()
                .filter(|d| d.day <= last && d.day > last - span.days())
            {
                let id = match grouping {
                    Grouping::Team => d.team_id,
                    Grouping::Person => d.user_id,
                    Grouping::Key => d.key_id,
                };
                let sums = expected.entry(id).or_default();
                for (s, f) in
                    sums.iter_mut()
                        .zip([d.spend_micros, d.requests, d.tokens_in, d.tokens_out])
                {
                    *s += f;
                }
            }
            let held: BTreeMap<i64, [i64; 4]> = windows
                .iter()
                .filter(|w| w.span == span && w.grouped_by == grouping)
                .map(|w| {
                    (
                        w.group_id,
                        [w.spend_micros, w.requests, w.tokens_in, w.tokens_out],
                    )
                })
                .collect();
            assert_eq!(held, expected, "{when}: {span:?} by {grouping:?}");
        }
    }
}

#[tokio::test]
async fn windows_hold_what_their_days_hold_as_days_pass() {
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let ago = |days: i64| now - Duration::days(days);
    for t in databases().await {
        // Before the windows are built the metering leaves them alone; the server builds them.
        let first = [
            request(1, Some(1), 3, ago(40)),
            request(2, Some(1), 5, ago(10)),
            request(3, None, 7, ago(10)),
        ];
        usage::record_all(&t.db, &first).await.unwrap();
        assert!(usage_windows::ends(&t.db).await.unwrap().is_empty());
        assert_eq!(
            usage_windows::keep_up(&t.db, ago(10)).await.unwrap().len(),
            3
        );
        assert_windows_hold_their_days(&t.db, "built").await;

        // A batch of today's is added in; one of a day past the windows waits for the move.
        usage::record_all(
            &t.db,
            &[
                request(2, Some(1), 11, ago(10)),
                request(2, Some(1), 11, ago(5)),
            ],
        )
        .await
        .unwrap();
        assert_windows_hold_their_days(&t.db, "a later day waits").await;
        usage_windows::keep_up(&t.db, ago(5)).await.unwrap();
        assert_windows_hold_their_days(&t.db, "five days on").await;

        // A late batch (a journal replayed): a day before the 7-day window's first day stays
        // out of it, but goes in the 30- and 90-day windows.
        usage::record_all(&t.db, &[request(4, Some(2), 13, ago(12))])
            .await
            .unwrap();
        assert_windows_hold_their_days(&t.db, "late batch").await;

        // Today: 10 days ago falls out of the 7-day window, and person 3 with it.
        usage::record_all(&t.db, &[request(1, Some(1), 17, now)])
            .await
            .unwrap();
        usage_windows::keep_up(&t.db, now).await.unwrap();
        assert_windows_hold_their_days(&t.db, "today").await;
        let mut week: Vec<i64> = usage_window::Entity::find()
            .all(&t.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|w| w.span == Span::Days7 && w.grouped_by == Grouping::Person)
            .map(|w| w.group_id)
            .collect();
        week.sort_unstable();
        assert_eq!(week, vec![1, 2], "person 3 spent 10 days ago");
        assert!(usage_windows::keep_up(&t.db, now).await.unwrap().is_empty());

        // Usage metered without the windows (a process of an older version): found by the
        // check against the day totals, and built again.
        let old = domain::db::begin_ledger_write(&t.db).await.unwrap();
        let ends = usage_windows::ends(&old).await.unwrap();
        usage_window_end::Entity::delete_many()
            .exec(&old)
            .await
            .unwrap();
        usage::record_all(&old, &[request(5, Some(3), 19, now)])
            .await
            .unwrap();
        for (span, last_day) in ends {
            usage_window_end::ActiveModel {
                span: Set(span),
                last_day: Set(last_day),
            }
            .insert(&old)
            .await
            .unwrap();
        }
        old.commit().await.unwrap();
        assert_eq!(usage_windows::keep_up(&t.db, now).await.unwrap().len(), 3);
        assert_windows_hold_their_days(&t.db, "built again").await;

        // A quiet gateway: moved on; then a jump past every window builds them again, empty.
        assert_eq!(
            usage_windows::keep_up(&t.db, ago(-3)).await.unwrap().len(),
            3
        );
        assert_windows_hold_their_days(&t.db, "three quiet days").await;
        usage_windows::keep_up(&t.db, ago(-60)).await.unwrap();
        assert_windows_hold_their_days(&t.db, "sixty quiet days").await;
        usage_windows::keep_up(&t.db, ago(-200)).await.unwrap();
        assert_windows_hold_their_days(&t.db, "two hundred quiet days").await;
        assert!(
            usage_window::Entity::find()
                .all(&t.db)
                .await
                .unwrap()
                .is_empty()
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn the_first_rows_are_those_every_row_sorted_would_show() {
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    for t in databases().await {
        let owner_id = add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await;
        let owner = actor(owner_id, Role::Owner);
        // Six people in three teams and none, spending different amounts on different days,
        // one of them only ever refused; ids far from the owner's.
        let mut batch = Vec::new();
        for (user, team, dollars, days_ago) in [
            (11, Some(1), 2, 0),
            (12, Some(1), 9, 3),
            (13, Some(2), 4, 6),
            (14, None, 6, 1),
            (15, Some(3), 1, 20),
            (16, Some(3), 8, 60),
        ] {
            for n in 0..user - 10 {
                batch.push(request(
                    user,
                    team,
                    dollars,
                    now - Duration::days(days_ago + n),
                ));
            }
        }
        // Two people alike in all but name and id, so ties are cut the same way both ways.
        for email in ["zed@example.com", "amy@example.com"] {
            let id = add_user(&t.db, email, Role::Member, Status::Active).await;
            batch.push(Metered {
                served: Served {
                    model: "gpt-test".into(),
                    tokens_in: 30,
                    tokens_out: 3,
                },
                ..request(id.0, Some(5), 3, now)
            });
        }
        usage::record_all(&t.db, &batch).await.unwrap();
        refusals::record_all(
            &t.db,
            &[Refusal {
                key: Some(KeyId(117)),
                user: Some(UserId(17)),
                team: Some(TeamId(4)),
                kind: RefusalKind::TeamBudget,
                reason: "Team over its limit.".into(),
                at: now,
            }],
        )
        .await
        .unwrap();
        usage_windows::keep_up(&t.db, now).await.unwrap();
        assert_windows_hold_their_days(&t.db, "seeded").await;

        for period in [
            Period::ThisMonth,
            Period::Last7,
            Period::Last30,
            Period::Last90,
        ] {
            for group in [GroupBy::Team, GroupBy::User, GroupBy::Key] {
                for sort in UsageSort::ALL {
                    for descending in [true, false] {
                        let query = UsageQuery {
                            period,
                            group,
                            sort,
                            descending,
                        };
                        let all = usage_report::report(&t.db, &owner, &query, now, Rows::All)
                            .await
                            .unwrap();
                        let case = format!("{} {query:?}", t.kind);
                        for n in 1..=all.rows.len() {
                            let first =
                                usage_report::report(&t.db, &owner, &query, now, Rows::First(n))
                                    .await
                                    .unwrap();
                            assert_eq!(first.rows, all.rows[..n], "{case}, first {n}");
                            assert_eq!(
                                first.more_rows,
                                u64::try_from(all.rows.len() - n).unwrap(),
                                "{case}, first {n}"
                            );
                            assert_eq!(first.total, all.total, "{case}");
                            assert_eq!(first.series, all.series, "{case}");
                        }
                    }
                }
            }
        }

        // The refused-only person is in the table with nothing spent.
        let query = UsageQuery {
            period: Period::Last7,
            group: GroupBy::User,
            sort: UsageSort::Spend,
            descending: false,
        };
        let r = usage_report::report(&t.db, &owner, &query, now, Rows::First(1))
            .await
            .unwrap();
        assert_eq!(r.rows[0].label, "#17 (deleted)");
        assert_eq!((r.rows[0].spend, r.rows[0].refusals), (Money::ZERO, 1));
        t.finish().await;
    }
}
