//! Demo data: the seeded Owner's password is random for every run, so a seeded gateway left
//! reachable cannot be entered with a password printed in the source.

use crate::support::databases;
use domain::entity::user;
use domain::secret::{Secret, verify_password};
use domain::service::seed;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

#[tokio::test]
async fn each_seeded_owner_gets_a_random_password_that_signs_them_in() {
    for t in databases().await {
        let first = seed::seed(&t.db, 3, 1).await.unwrap();
        let second = seed::seed(&t.db, 3, 1).await.unwrap();
        assert_ne!(first.owner_email, second.owner_email, "{}", t.kind);
        assert_ne!(
            first.owner_password.expose(),
            second.owner_password.expose(),
            "{}: a new password every run",
            t.kind
        );
        assert!(first.owner_password.expose().len() >= 12);
        let stored = user::Entity::find()
            .filter(user::Column::EmailNormalized.eq(first.owner_email.as_str()))
            .one(&t.db)
            .await
            .unwrap()
            .unwrap()
            .password_hash;
        assert!(
            verify_password(stored.clone(), &first.owner_password)
                .await
                .unwrap(),
            "{}: the printed password is the Owner's",
            t.kind
        );
        assert!(
            !verify_password(stored, &Secret::new("seed-owner-password"))
                .await
                .unwrap(),
            "{}: the old fixed password no longer works",
            t.kind
        );
        t.finish().await;
    }
}
