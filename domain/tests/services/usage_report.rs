//! The Usage page's report on both databases: day rows summed over the range, the spend chart's
//! top eight and "Other", refusals per day and per kind, a Member outside any team seeing only
//! their own, a deleted person's history under their old name, and the range's edges.

use crate::support::{actor, add_user, databases};
use chrono::{Duration, TimeZone, Utc};
use domain::entity::refusal_day::RefusalKind;
use domain::entity::usage_key_month;
use domain::money::Money;
use domain::service::refusals::{self, Refusal};
use domain::service::usage::{self, Metered, Served};
use domain::service::usage_report::{self, Rows};
use domain::service::users;
use domain::usage::{GroupBy, Period, Scope, UsageQuery, UsageSort};
use domain::{KeyId, Role, Status};
use sea_orm::{ActiveModelTrait, Set};

#[tokio::test]
async fn the_report_sums_days_into_groups_charts_and_refusals() {
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    for t in databases().await {
        let owner_id = add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await;
        let owner = actor(owner_id, Role::Owner);
        let loner_id = add_user(&t.db, "lone@example.com", Role::Member, Status::Active).await;
        let gone_id = add_user(&t.db, "gone@example.com", Role::Member, Status::Active).await;
        // Ten models over three days, model i costing i dollars a request; one request the
        // day before the range, which must not count.
        let mut metered = Vec::new();
        for i in 1..=10_i64 {
            for day in 0..3 {
                metered.push(Metered {
                    key: KeyId(100 + i),
                    user: if i == 1 { loner_id } else { gone_id },
                    team: None,
                    cost: Money::from_micros(i * 1_000_000),
                    at: now - Duration::days(day),
                    served: Served {
                        model: format!("model-{i:02}").into(),
                        tokens_in: 10,
                        tokens_out: 1,
                    },
                });
            }
        }
        metered.push(Metered {
            at: now - Duration::days(30),
            ..metered[0].clone()
        });
        usage::record_all(&t.db, &metered).await.unwrap();
        refusals::record_all(
            &t.db,
            &[
                Refusal {
                    key: Some(KeyId(101)),
                    user: Some(loner_id),
                    team: None,
                    kind: RefusalKind::Rate,
                    reason: "Rate limit reached for requests per minute on this key: limit 1."
                        .into(),
                    at: now,
                },
                Refusal {
                    key: Some(KeyId(101)),
                    user: Some(loner_id),
                    team: None,
                    kind: RefusalKind::Rate,
                    reason: "Rate limit reached for requests per minute on this key: limit 1."
                        .into(),
                    at: now - Duration::minutes(5),
                },
                Refusal {
                    key: None,
                    user: None,
                    team: None,
                    kind: RefusalKind::Key,
                    reason: "Invalid API key.".into(),
                    at: now - Duration::days(1),
                },
            ],
        )
        .await
        .unwrap();
        users::delete(&t.db, &owner, gone_id).await.unwrap();

        let query = UsageQuery {
            period: Period::Last7,
            group: GroupBy::Model,
            ..UsageQuery::default()
        };
        let r = usage_report::report(&t.db, &owner, &query, now, Rows::All)
            .await
            .unwrap();
        assert_eq!(r.scope, Scope::Everything);
        assert_eq!(
            (r.first_day, r.last_day),
            ((now - Duration::days(6)).date_naive(), now.date_naive())
        );
        assert_eq!(r.rows.len(), 10);
        assert_eq!(r.rows[0].label, "model-10", "largest spend first");
        assert_eq!(r.total.requests, 30);
        assert_eq!(r.total.spend, Money::from_micros(55 * 3 * 1_000_000));
        assert_eq!((r.total.tokens_in, r.total.tokens_out), (300, 30));
        assert_eq!(r.total.refusals, 3);
        // Eight models, then the other two as "Other", day by day.
        assert_eq!(r.series.len(), 9);
        assert_eq!(r.series[8].label, "Other");
        assert!(r.series[8].other && !r.series[7].other);
        let today = r.series[8].spend.len() - 1;
        assert_eq!(r.series[8].spend[today], Money::from_micros(3_000_000));
        assert_eq!(r.series[0].spend[today], Money::from_micros(10_000_000));
        assert_eq!(r.series[0].spend[0], Money::ZERO, "nothing six days ago");
        assert_eq!(r.requests[today], 10);
        assert_eq!(r.refusals[today].rate, 2);
        assert_eq!(r.refusals[today - 1].key, 1);
        let rate = &r.blocked[0];
        assert_eq!((rate.count, rate.cause.as_str()), (2, "Per-minute limit"));
        assert_eq!(rate.last_at, now);

        // Grouped by person: the deleted one under their old name; sorted by name.
        let by_user = UsageQuery {
            group: GroupBy::User,
            sort: UsageSort::Name,
            descending: false,
            ..query
        };
        let r = usage_report::report(&t.db, &owner, &by_user, now, Rows::All)
            .await
            .unwrap();
        let labels: Vec<&str> = r.rows.iter().map(|x| x.label.as_str()).collect();
        assert_eq!(
            labels,
            vec![
                "gone (gone@example.com) (deleted)",
                "lone (lone@example.com)",
                "Unknown key's owner"
            ]
        );
        assert_eq!(r.rows[1].refusals, 2);

        // A Member outside any team: their own figures and refusals only.
        let lone = actor(loner_id, Role::Member);
        let r = usage_report::report(&t.db, &lone, &by_user, now, Rows::All)
            .await
            .unwrap();
        assert_eq!(r.scope, Scope::Own);
        assert_eq!(r.total.requests, 3);
        assert_eq!(r.total.refusals, 2);
        assert_eq!(r.blocked.len(), 1);

        // This month grouped by key reads the keys' month rows: the same figures.
        let by_key = UsageQuery {
            period: Period::ThisMonth,
            group: GroupBy::Key,
            ..UsageQuery::default()
        };
        let r = usage_report::report(&t.db, &owner, &by_key, now, Rows::All)
            .await
            .unwrap();
        assert_eq!(r.rows.len(), 11, "ten keys, and the unknown key refused");
        assert_eq!(r.rows[0].spend, Money::from_micros(30_000_000), "key 110");
        assert_eq!(r.rows[10].label, "Unknown key");
        assert_eq!(r.rows[10].refusals, 1);
        assert_eq!((r.total.requests, r.total.tokens_in), (30, 300));
        assert_eq!(r.requests.iter().sum::<i64>(), 30, "the day totals agree");

        // A month the day rows do not cover whole (they start on 21 Oct here, as on a gateway
        // upgraded that day) is read from them alone: history only its month rows hold, as
        // this key's, stays out, so the table agrees with the charts.
        usage_key_month::ActiveModel {
            key_id: Set(999),
            month: Set(202_610),
            spend_micros: Set(5_000_000),
            requests: Set(7),
            tokens_in: Set(0),
            tokens_out: Set(0),
            reserved_micros: Set(0),
        }
        .insert(&t.db)
        .await
        .unwrap();
        let october = UsageQuery {
            period: Period::LastMonth,
            group: GroupBy::Key,
            ..UsageQuery::default()
        };
        let r = usage_report::report(&t.db, &owner, &october, now, Rows::All)
            .await
            .unwrap();
        let keys: Vec<&str> = r.rows.iter().map(|x| x.label.as_str()).collect();
        assert_eq!(keys, vec!["#101 (deleted)"], "{}", t.kind);

        // Last month's range holds only the early request.
        let last_month = UsageQuery {
            period: Period::LastMonth,
            ..query
        };
        let r = usage_report::report(&t.db, &owner, &last_month, now, Rows::All)
            .await
            .unwrap();
        assert_eq!(r.total.requests, 1);
        assert_eq!(r.requests.len(), 31);
        t.finish().await;
    }
}
