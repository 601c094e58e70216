//! Metering on both databases: recorded requests add up per team, user and key and month, and
//! move the key's last use and the user's last activity forward only.

use crate::support::{actor, add_user, databases};
use chrono::{Duration, Utc};
use domain::entity::{team, usage_key_month, usage_team_month, user};
use domain::keys::KeyQuery;
use domain::money::Money;
use domain::service::usage::{self, Metered, Served};
use domain::service::{keys, month_key, users};
use domain::{Role, Status, TeamId};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

#[tokio::test]
async fn recorded_requests_add_up_per_month_and_mark_last_use() {
    for t in databases().await {
        let owner = actor(
            add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await,
            Role::Owner,
        );
        let member_id = add_user(&t.db, "m@example.com", Role::Member, Status::Active).await;
        let red = team::ActiveModel {
            name: Set("Red".into()),
            name_normalized: Set("red".into()),
            description: Set(String::new()),
            monthly_limit_micros: Set(Some(10_000_000)),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&t.db)
        .await
        .unwrap();
        let mut m: user::ActiveModel = user::Entity::find_by_id(member_id.0)
            .one(&t.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        m.team_id = Set(Some(red.id));
        m.update(&t.db).await.unwrap();
        let member = actor(member_id, Role::Member);
        let key = keys::issue(
            &t.db,
            &member,
            keys::IssueInput {
                name: "k".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .key;

        let now = Utc::now();
        let last_month = now - Duration::days(40);
        let request = |cents: i64, at| Metered {
            key: key.id,
            user: member_id,
            team: Some(TeamId(red.id)),
            cost: Money::from_micros(cents * 10_000),
            at,
            served: Served::default(),
        };
        for (cents, at) in [
            (50, now - Duration::minutes(5)),
            (125, now),
            (25, now - Duration::minutes(1)),
            (999, last_month),
        ] {
            usage::record(&t.db, &request(cents, at)).await.unwrap();
        }

        let this = usage_team_month::Entity::find_by_id((red.id, month_key(now)))
            .one(&t.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                Money::from_micros(this.spend_micros).to_string(),
                this.requests
            ),
            ("$2.00".to_owned(), 3),
            "{}",
            t.kind
        );
        let per_key = usage_key_month::Entity::find_by_id((key.id.0, month_key(last_month)))
            .one(&t.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((per_key.spend_micros, per_key.requests), (9_990_000, 1));

        let detail = users::detail(&t.db, &owner, member_id).await.unwrap();
        assert_eq!(
            (detail.requests_this_month, detail.requests_all_time),
            (3, 4)
        );
        let marked = |at: Option<chrono::DateTime<Utc>>| at.map(|a| a.timestamp_millis());
        assert_eq!(
            marked(detail.last_active_at),
            marked(Some(now)),
            "last activity moved to the latest request, not the last recorded"
        );
        let listed = keys::list(&t.db, &member, &KeyQuery::default())
            .await
            .unwrap();
        assert_eq!(marked(listed.rows[0].last_used_at), marked(Some(now)));
        t.finish().await;
    }
}
