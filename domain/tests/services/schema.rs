//! The schema: migrations are idempotent and the constraints DESIGN.md relies on hold.

use crate::support::{add_user, databases};
use domain::db;
use domain::entity::user;
use domain::{Role, Status};
use sea_orm::{ActiveModelTrait, Set};

#[tokio::test]
async fn migrating_twice_is_harmless() {
    for t in databases().await {
        db::migrate(&t.db)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.kind));
        assert!(db::is_reachable(&t.db).await, "{}", t.kind);
        t.finish().await;
    }
}

#[tokio::test]
async fn emails_are_unique_whatever_their_case_and_the_violation_is_recognised() {
    for t in databases().await {
        add_user(&t.db, "Ada@Example.com", Role::Member, Status::Active).await;
        let dup = user::ActiveModel {
            email: Set("ADA@example.COM".into()),
            email_normalized: Set("ada@example.com".into()),
            role: Set("member".into()),
            status: Set("invited".into()),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(&t.db)
        .await
        .expect_err("duplicate email must be refused");
        assert!(db::is_unique_violation(&dup), "{}: {dup}", t.kind);
        t.finish().await;
    }
}

/// The newest migration taken back and applied again on a gateway with users: the search and
/// sort copy (`user_sort_keys`) is filled from the users already there, and the list answers
/// as before.
#[tokio::test]
async fn the_newest_migration_reverts_and_reapplies_over_existing_users() {
    use domain::migration::Migrator;
    use domain::service::{seed, users};
    use domain::users::{UserQuery, UserSort};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use sea_orm_migration::MigratorTrait;

    for t in databases().await {
        let seeded = seed::seed(&t.db, 300, 3).await.unwrap();
        let owner = user::Entity::find()
            .filter(user::Column::EmailNormalized.eq(seeded.owner_email))
            .one(&t.db)
            .await
            .unwrap()
            .unwrap();
        let me = crate::support::actor(domain::UserId(owner.id), Role::Owner);
        let ids =
            |rows: Vec<domain::users::UserRow>| rows.iter().map(|r| r.id.0).collect::<Vec<_>>();
        let query = |search: &str, sort| UserQuery {
            search: search.into(),
            sort,
            ..UserQuery::default()
        };
        let shapes = [
            query("gr", UserSort::Email),
            query("knuth", UserSort::Name),
            query("", UserSort::Name),
        ];
        let mut before = Vec::new();
        for q in &shapes {
            before.push(ids(users::list(&t.db, &me, q).await.unwrap().rows));
        }
        Migrator::down(&t.db, Some(1))
            .await
            .unwrap_or_else(|e| panic!("{} down: {e}", t.kind));
        db::migrate(&t.db)
            .await
            .unwrap_or_else(|e| panic!("{} up: {e}", t.kind));
        for (q, rows) in shapes.iter().zip(before) {
            let after = ids(users::list(&t.db, &me, q).await.unwrap().rows);
            assert!(!after.is_empty(), "{} {q:?}", t.kind);
            assert_eq!(after, rows, "{} {q:?}", t.kind);
        }
        t.finish().await;
    }
}
