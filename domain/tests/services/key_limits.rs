//! A key's per-minute limits and models on both databases: set when issuing and afterwards,
//! tightened by its Member owner, loosened only by Owners and Admins, audited, read back by key
//! authentication, and a team's per-minute limits through the team form.

use crate::support::{actor, add_user, databases};
use domain::entity::{api_key, audit_entry, user};
use domain::rate_limits::{KeyLimits, RateLimits};
use domain::secret::Secret;
use domain::service::keys::{self, IssueInput};
use domain::service::{key_limits, teams};
use domain::teams::TeamInput;
use domain::{Error, Role, Status};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

fn limits(rpm: Option<u64>, tpm: Option<u64>, models: Option<&[&str]>) -> KeyLimits {
    KeyLimits {
        rates: RateLimits {
            requests_per_minute: rpm,
            tokens_per_minute: tpm,
        },
        models: models.map(|m| m.iter().map(|s| (*s).to_owned()).collect()),
        budget: None,
    }
}

fn forbidden<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
    match result {
        Err(Error::Forbidden(message)) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn members_tighten_their_keys_and_admins_loosen_them() {
    for t in databases().await {
        let owner_id = add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await;
        let owner = actor(owner_id, Role::Owner);
        let team = teams::create(
            &t.db,
            &owner,
            &TeamInput {
                name: "Research".into(),
                requests_per_minute: Some("100".into()),
                ..TeamInput::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(team.rates.requests_per_minute, Some(100), "{}", t.kind);
        let member_id = add_user(&t.db, "m@example.com", Role::Member, Status::Active).await;
        let mut joined: user::ActiveModel = user::Entity::find_by_id(member_id.0)
            .one(&t.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        joined.team_id = Set(Some(team.id.0));
        joined.update(&t.db).await.unwrap();
        let member = actor(member_id, Role::Member);

        // Above the team's 100 a minute is more than applies: refused, nothing stored.
        let keys_before = api_key::Entity::find().count(&t.db).await.unwrap();
        let raised = IssueInput {
            name: "bot".into(),
            limits: limits(Some(500), None, None),
            ..IssueInput::default()
        };
        assert!(forbidden(keys::issue(&t.db, &member, raised).await).contains("tighten"));
        assert_eq!(
            api_key::Entity::find().count(&t.db).await.unwrap(),
            keys_before
        );

        let issued = keys::issue(
            &t.db,
            &member,
            IssueInput {
                name: "bot".into(),
                limits: limits(Some(60), Some(10_000), Some(&["a", "b"])),
                ..IssueInput::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            issued.key.limits,
            limits(Some(60), Some(10_000), Some(&["a", "b"]))
        );
        let auth = keys::authenticate(&t.db, &Secret::new(issued.secret.clone()))
            .await
            .unwrap();
        assert_eq!(auth.rates.requests_per_minute, Some(60));
        assert_eq!(auth.rates.tokens_per_minute, Some(10_000));
        assert_eq!(auth.team_rates.requests_per_minute, Some(100));
        assert_eq!(auth.models, Some(vec!["a".to_owned(), "b".to_owned()]));

        let id = issued.key.id;
        // Tightening is the owner's to do.
        let tighter = limits(Some(30), Some(10_000), Some(&["b"]));
        let row = key_limits::set(&t.db, &member, id, tighter.clone())
            .await
            .unwrap();
        assert_eq!(row.limits, tighter);
        // Loosening is not: a higher rate, a removed limit, another model.
        for looser in [
            limits(Some(31), Some(10_000), Some(&["b"])),
            limits(Some(30), None, Some(&["b"])),
            limits(Some(30), Some(10_000), Some(&["a", "b"])),
            limits(Some(30), Some(10_000), None),
        ] {
            forbidden(key_limits::set(&t.db, &member, id, looser).await);
        }
        // Another Member may not touch it at all; a Viewer neither.
        let other_id = add_user(&t.db, "o@example.com", Role::Member, Status::Active).await;
        forbidden(
            key_limits::set(&t.db, &actor(other_id, Role::Member), id, tighter.clone()).await,
        );
        let viewer_id = add_user(&t.db, "v@example.com", Role::Viewer, Status::Active).await;
        forbidden(
            key_limits::set(&t.db, &actor(viewer_id, Role::Viewer), id, tighter.clone()).await,
        );
        let stored = keys::authenticate(&t.db, &Secret::new(issued.secret.clone()))
            .await
            .unwrap();
        assert_eq!(
            stored.rates.requests_per_minute,
            Some(30),
            "refusals stored nothing"
        );

        // An Admin loosens it, and the audit log says from what to what.
        let admin_id = add_user(&t.db, "a@example.com", Role::Admin, Status::Active).await;
        let row = key_limits::set(
            &t.db,
            &actor(admin_id, Role::Admin),
            id,
            KeyLimits::default(),
        )
        .await
        .unwrap();
        assert_eq!(row.limits, KeyLimits::default());
        let entry = audit_entry::Entity::find()
            .filter(audit_entry::Column::Action.eq("key.limits"))
            .filter(audit_entry::Column::ActorId.eq(admin_id.0))
            .one(&t.db)
            .await
            .unwrap()
            .expect("the change is audited");
        assert!(
            entry.detail.contains("30 req/min") && entry.detail.ends_with("→ no limits"),
            "{}",
            entry.detail
        );

        // A revoked key's limits no longer change.
        keys::revoke(&t.db, &owner, id).await.unwrap();
        assert!(matches!(
            key_limits::set(&t.db, &owner, id, tighter).await,
            Err(Error::Conflict(_))
        ));
        t.finish().await;
    }
}

#[tokio::test]
async fn a_team_form_with_a_bad_rate_changes_nothing() {
    for t in databases().await {
        let owner_id = add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await;
        let owner = actor(owner_id, Role::Owner);
        let input = TeamInput {
            name: "Ops".into(),
            requests_per_minute: Some("60".into()),
            tokens_per_minute: Some("100,000".into()),
            ..TeamInput::default()
        };
        let team = teams::create(&t.db, &owner, &input).await.unwrap();
        assert_eq!(
            team.rates.summary().as_deref(),
            Some("60 req/min · 100,000 tok/min")
        );
        let bad = TeamInput {
            tokens_per_minute: Some("-1".into()),
            ..input
        };
        let err = teams::edit(&t.db, &owner, team.id, &bad).await.unwrap_err();
        assert!(err.message_for("tokens_per_minute").is_some(), "{err:?}");
        let unchanged = teams::row(&t.db, team.id).await.unwrap();
        assert_eq!(unchanged.rates, team.rates, "{}", t.kind);
        // An edit that does not send the fields keeps them.
        let renamed = TeamInput {
            name: "Ops 2".into(),
            ..TeamInput::default()
        };
        let edited = teams::edit(&t.db, &owner, team.id, &renamed).await.unwrap();
        assert_eq!(edited.rates, team.rates, "{}", t.kind);
        t.finish().await;
    }
}
