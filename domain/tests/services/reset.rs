//! Deleting the access list: Owner only, with the typed phrase, keeping the Owner, usage and the audit log.

use crate::support::{actor, add_user, databases};
use chrono::Utc;
use domain::entity::{audit_entry, departed_name, team, usage_user_month};
use domain::service::reset::{CONFIRMATION, reset_access_list};
use domain::service::users;
use domain::users::UserQuery;
use domain::{Error, Role, Status};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};

#[tokio::test]
async fn only_an_owner_with_the_phrase_resets_and_history_stays() {
    for t in databases().await {
        let owner = add_user(&t.db, "o@example.com", Role::Owner, Status::Active).await;
        let admin = add_user(&t.db, "a@example.com", Role::Admin, Status::Active).await;
        add_user(&t.db, "m@example.com", Role::Member, Status::Invited).await;
        team::ActiveModel {
            name: Set("Engineering".into()),
            name_normalized: Set("engineering".into()),
            description: Set(String::new()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&t.db)
        .await
        .unwrap();
        usage_user_month::ActiveModel {
            user_id: Set(admin.0),
            month: Set(202611),
            spend_micros: Set(5),
            requests: Set(1),
            tokens_in: Set(0),
            tokens_out: Set(0),
            reserved_micros: Set(0),
        }
        .insert(&t.db)
        .await
        .unwrap();

        let refused = reset_access_list(&t.db, &actor(admin, Role::Admin), CONFIRMATION).await;
        assert_eq!(
            refused,
            Err(Error::Forbidden("Your role does not allow this.".into())),
            "{}",
            t.kind
        );
        let wrong = reset_access_list(&t.db, &actor(owner, Role::Owner), "yes")
            .await
            .unwrap_err();
        assert!(wrong.message_for("confirmation").is_some());
        assert_eq!(
            team::Entity::find().count(&t.db).await.unwrap(),
            1,
            "nothing removed yet"
        );

        let removed = reset_access_list(&t.db, &actor(owner, Role::Owner), CONFIRMATION)
            .await
            .unwrap();
        assert_eq!((removed.users, removed.teams, removed.keys), (2, 1, 0));
        let left = users::list(&t.db, &actor(owner, Role::Owner), &UserQuery::default())
            .await
            .unwrap();
        assert_eq!(left.rows.len(), 1);
        assert_eq!(left.rows[0].email, "o@example.com");
        assert_eq!(
            usage_user_month::Entity::find().count(&t.db).await.unwrap(),
            1,
            "usage history stays"
        );
        // …under the names they had.
        let names: Vec<(String, String)> = departed_name::Entity::find()
            .all(&t.db)
            .await
            .unwrap()
            .into_iter()
            .map(|d| (d.kind, d.name))
            .collect();
        assert!(
            names.contains(&("team".into(), "Engineering".into())),
            "{names:?}"
        );
        assert!(
            names.contains(&("user".into(), "a (a@example.com)".into())),
            "{names:?}"
        );
        assert!(
            !names.iter().any(|(_, n)| n.contains("o@example.com")),
            "{names:?}"
        );
        assert!(
            audit_entry::Entity::find().count(&t.db).await.unwrap() >= 1,
            "the reset is audited"
        );
        t.finish().await;
    }
}
