//! Sessions: sign-out, suspension, role changes on the next request, idle and absolute ends.

use crate::support::{PASSWORD, add_user, databases};
use chrono::{Duration, Utc};
use domain::entity::{session as session_entity, user};
use domain::secret::Secret;
use domain::service::session::{self, SessionPolicy};
use domain::service::sign_in::sign_in;
use domain::{Error, Role, Status};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

#[tokio::test]
async fn signing_out_ends_the_session() {
    for t in databases().await {
        add_user(&t.db, "ada@example.com", Role::Member, Status::Active).await;
        let p = SessionPolicy::default();
        let s = sign_in(&t.db, "ada@example.com", &Secret::new(PASSWORD), "a", p)
            .await
            .unwrap();
        session::end(&t.db, &s.token).await.unwrap();
        assert_eq!(
            session::authenticate(&t.db, &s.token, p).await,
            Err(Error::Unauthenticated),
            "{}",
            t.kind
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn suspension_and_role_changes_apply_to_the_very_next_request() {
    for t in databases().await {
        let id = add_user(&t.db, "ada@example.com", Role::Admin, Status::Active).await;
        let p = SessionPolicy::default();
        let s = sign_in(&t.db, "ada@example.com", &Secret::new(PASSWORD), "a", p)
            .await
            .unwrap();

        user::Entity::update_many()
            .col_expr(user::Column::Role, Expr::value("viewer"))
            .filter(user::Column::Id.eq(id.0))
            .exec(&t.db)
            .await
            .unwrap();
        assert_eq!(
            session::authenticate(&t.db, &s.token, p)
                .await
                .unwrap()
                .role,
            Role::Viewer,
            "{}",
            t.kind
        );

        user::Entity::update_many()
            .col_expr(user::Column::Status, Expr::value("suspended"))
            .filter(user::Column::Id.eq(id.0))
            .exec(&t.db)
            .await
            .unwrap();
        assert_eq!(
            session::authenticate(&t.db, &s.token, p).await,
            Err(Error::Unauthenticated)
        );
        assert_eq!(session::end_all_for(&t.db, id).await.unwrap(), 1);
        t.finish().await;
    }
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_sessions() {
    for t in databases().await {
        add_user(&t.db, "ada@example.com", Role::Member, Status::Active).await;
        let p = SessionPolicy {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
        };
        let pw = Secret::new(PASSWORD);

        let idle = sign_in(&t.db, "ada@example.com", &pw, "a", p)
            .await
            .unwrap();
        session_entity::Entity::update_many()
            .col_expr(
                session_entity::Column::LastSeenAt,
                Expr::value(Utc::now() - Duration::minutes(31)),
            )
            .filter(session_entity::Column::TokenHash.eq(idle.token.digest()))
            .exec(&t.db)
            .await
            .unwrap();
        assert_eq!(
            session::authenticate(&t.db, &idle.token, p).await,
            Err(Error::Unauthenticated),
            "{} idle",
            t.kind
        );

        let old = sign_in(&t.db, "ada@example.com", &pw, "a", p)
            .await
            .unwrap();
        session_entity::Entity::update_many()
            .col_expr(
                session_entity::Column::ExpiresAt,
                Expr::value(Utc::now() - Duration::seconds(1)),
            )
            .filter(session_entity::Column::TokenHash.eq(old.token.digest()))
            .exec(&t.db)
            .await
            .unwrap();
        assert_eq!(
            session::authenticate(&t.db, &old.token, p).await,
            Err(Error::Unauthenticated),
            "{} absolute",
            t.kind
        );
        assert_eq!(
            session::purge_expired(&t.db).await.unwrap(),
            0,
            "expired sessions were already removed on lookup"
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn a_made_up_token_is_not_a_session() {
    for t in databases().await {
        let p = SessionPolicy::default();
        assert_eq!(
            session::authenticate(&t.db, &Secret::random(), p).await,
            Err(Error::Unauthenticated)
        );
        t.finish().await;
    }
}

/// A sign-in checks the password while the person is active and starts the session a moment
/// later; a suspension landing in between leaves that session behind. It cannot be used while
/// they are suspended, and reactivating them ends it: suspending ends every session.
#[tokio::test]
async fn a_session_started_as_its_user_was_suspended_ends_with_the_reactivation() {
    use domain::service::users;
    for t in databases().await {
        let owner = crate::support::actor(
            add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await,
            Role::Owner,
        );
        let id = add_user(&t.db, "ada@example.com", Role::Member, Status::Active).await;
        let p = SessionPolicy::default();
        users::suspend(&t.db, &owner, id).await.unwrap();
        // The racing sign-in's session, started after the suspension ended the others.
        let late = session::start(&t.db, id, p).await.unwrap();
        assert_eq!(
            session::authenticate(&t.db, &late, p).await,
            Err(Error::Unauthenticated),
            "{}",
            t.kind
        );
        users::reactivate(&t.db, &owner, id).await.unwrap();
        assert_eq!(
            session::authenticate(&t.db, &late, p).await,
            Err(Error::Unauthenticated),
            "{}",
            t.kind
        );
        t.finish().await;
    }
}
