//! The schema: migrations are idempotent and the constraints the design relies on hold (docs/architecture.md).

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
            role: Set(Role::Member),
            status: Set(Status::Invited),
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

/// Migration `m20261130_000007`: a user's role or team changing moves the access epoch (what
/// other processes poll to forget remembered keys); taken back, it no longer does; applied
/// again, it does.
#[tokio::test]
async fn role_and_team_changes_move_the_access_epoch_and_the_trigger_reverts() {
    use domain::entity::team;
    use domain::migration::Migrator;
    use domain::service::access_epoch;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use sea_orm_migration::MigratorTrait;

    const NAME: &str = "m20261130_000007_access_epoch_roles";
    // Back to just before it, whatever was added after it.
    let steps = Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name() == NAME)
        .expect("the migration is registered")
        + 1;
    for t in databases().await {
        let id = add_user(&t.db, "ada@example.com", Role::Admin, Status::Active).await;
        let red = team::ActiveModel {
            name: Set("Red".into()),
            name_normalized: Set("red".into()),
            description: Set(String::new()),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(&t.db)
        .await
        .unwrap()
        .id;
        let change = |role: Role, team: Option<i64>| {
            let db = t.db.clone();
            // Only these two columns: the table is also read with migrations after this one
            // reverted, whose columns the entity knows.
            async move {
                user::Entity::update_many()
                    .set(user::ActiveModel {
                        role: Set(role),
                        team_id: Set(team),
                        ..Default::default()
                    })
                    .filter(user::Column::Id.eq(id.0))
                    .exec(&db)
                    .await
                    .unwrap();
            }
        };
        let epoch = || access_epoch::current(&t.db);

        let before = epoch().await.unwrap();
        change(Role::Member, None).await;
        let after_role = epoch().await.unwrap();
        assert!(after_role > before, "{}: a role change", t.kind);
        change(Role::Member, Some(red)).await;
        let after_team = epoch().await.unwrap();
        assert!(after_team > after_role, "{}: a team change", t.kind);

        Migrator::down(&t.db, Some(steps as u32))
            .await
            .unwrap_or_else(|e| panic!("{} down: {e}", t.kind));
        change(Role::Viewer, None).await;
        assert_eq!(
            epoch().await.unwrap(),
            after_team,
            "{}: without the trigger the epoch stands still",
            t.kind
        );
        db::migrate(&t.db)
            .await
            .unwrap_or_else(|e| panic!("{} up: {e}", t.kind));
        change(Role::Admin, Some(red)).await;
        assert!(epoch().await.unwrap() > after_team, "{}: again", t.kind);
        t.finish().await;
    }
}
