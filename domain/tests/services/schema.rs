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
