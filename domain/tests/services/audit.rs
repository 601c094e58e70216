//! Reading the audit log on both databases: Owners and Admins only, newest first, filtered by
//! words, who acted, kind, what it was on and days, and a first day after the last refused.

use crate::support::{actor, add_user, databases};
use chrono::{Duration, Utc};
use domain::audit::{AuditKind, AuditQuery, TargetKind};
use domain::service::keys::{self, IssueInput};
use domain::service::{audit, teams};
use domain::teams::TeamInput;
use domain::{Error, Role, Status};

#[tokio::test]
async fn admins_read_the_log_newest_first_and_filtered() {
    for t in databases().await {
        let owner_id = add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await;
        let owner = actor(owner_id, Role::Owner);
        let team = TeamInput {
            name: "Research".into(),
            ..TeamInput::default()
        };
        teams::create(&t.db, &owner, &team).await.unwrap();
        let issued = IssueInput {
            name: "CI bot".into(),
            ..IssueInput::default()
        };
        keys::issue(&t.db, &owner, issued).await.unwrap();

        let admin_id = add_user(&t.db, "admin@example.com", Role::Admin, Status::Active).await;
        let all = audit::list(&t.db, &actor(admin_id, Role::Admin), &AuditQuery::default())
            .await
            .unwrap();
        let actions: Vec<&str> = all.rows.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["key.issue", "team.create"], "{}", t.kind);
        assert_eq!(all.rows[0].actor_email, "owner@example.com");

        let keys_only = AuditQuery {
            kind: Some(AuditKind::Keys),
            ..AuditQuery::default()
        };
        let page = audit::list(&t.db, &owner, &keys_only).await.unwrap();
        assert_eq!(page.matching, 1);
        assert!(page.rows[0].detail.starts_with("CI bot"));

        let words = AuditQuery {
            search: "RESEARCH".into(),
            ..AuditQuery::default()
        };
        let page = audit::list(&t.db, &owner, &words).await.unwrap();
        assert_eq!(page.rows.len(), 1);
        assert_eq!(page.rows[0].action, "team.create");

        let today = Utc::now().date_naive();
        let tomorrow = AuditQuery {
            from: Some(today + Duration::days(1)),
            ..AuditQuery::default()
        };
        assert_eq!(
            audit::list(&t.db, &owner, &tomorrow)
                .await
                .unwrap()
                .matching,
            0
        );
        let today_only = AuditQuery {
            from: Some(today),
            to: Some(today),
            ..AuditQuery::default()
        };
        assert_eq!(
            audit::list(&t.db, &owner, &today_only)
                .await
                .unwrap()
                .matching,
            2
        );
        // Who acted, as their whole email in any case; and what kind of thing it was on.
        let admin = actor(admin_id, Role::Admin);
        let lab = TeamInput {
            name: "Lab".into(),
            ..TeamInput::default()
        };
        teams::create(&t.db, &admin, &lab).await.unwrap();
        let by = |who: &str| AuditQuery {
            actor: who.into(),
            ..AuditQuery::default()
        };
        let page = audit::list(&t.db, &owner, &by("ADMIN@example.com"))
            .await
            .unwrap();
        assert_eq!(page.matching, 1, "{}", t.kind);
        assert_eq!(page.rows[0].detail, "Lab, no limit");
        assert_eq!(
            audit::list(&t.db, &owner, &by("admin@"))
                .await
                .unwrap()
                .matching,
            0
        );
        let on_teams = AuditQuery {
            on: Some(TargetKind::Teams),
            ..AuditQuery::default()
        };
        let page = audit::list(&t.db, &owner, &on_teams).await.unwrap();
        let actions: Vec<&str> = page.rows.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["team.create", "team.create"], "{}", t.kind);
        let owner_on_teams = AuditQuery {
            actor: "owner@example.com".into(),
            ..on_teams.clone()
        };
        assert_eq!(
            audit::list(&t.db, &owner, &owner_on_teams)
                .await
                .unwrap()
                .matching,
            1
        );
        let on_keys = AuditQuery {
            on: Some(TargetKind::Keys),
            ..AuditQuery::default()
        };
        assert_eq!(
            audit::list(&t.db, &owner, &on_keys).await.unwrap().matching,
            1
        );

        let backwards = AuditQuery {
            from: Some(today),
            to: Some(today - Duration::days(1)),
            ..AuditQuery::default()
        };
        let err = audit::list(&t.db, &owner, &backwards).await.unwrap_err();
        assert!(err.message_for("to").is_some(), "{err:?}");

        for (role, email) in [
            (Role::Member, "m@example.com"),
            (Role::Viewer, "v@example.com"),
        ] {
            let id = add_user(&t.db, email, role, Status::Active).await;
            assert!(matches!(
                audit::list(&t.db, &actor(id, role), &AuditQuery::default()).await,
                Err(Error::Forbidden(_))
            ));
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn searches_find_substrings_of_who_what_and_target_through_the_index() {
    for t in databases().await {
        let owner_id = add_user(
            &t.db,
            "Grace.Hopper@example.com",
            Role::Owner,
            Status::Active,
        )
        .await;
        let owner = actor(owner_id, Role::Owner);
        let by = audit::By {
            id: Some(owner_id.0),
            email: "Grace.Hopper@example.com",
        };
        for (action, target, detail) in [
            ("key.issue", "key:42", "CI \"nightly\" bot (tg_AbCd…)"),
            ("key.limits", "key:420", "50%_off → none"),
            (
                "keyring.other",
                "team:7",
                "a later kind that starts with the same letters",
            ),
            ("team.edit", "team:7", "Research, limit $10.00"),
        ] {
            audit::record(&t.db, by.clone(), action, target, detail)
                .await
                .unwrap();
        }
        let found = |search: &str| {
            let query = AuditQuery {
                search: search.into(),
                ..AuditQuery::default()
            };
            let db = t.db.clone();
            async move {
                let page = audit::list(&db, &owner, &query).await.unwrap();
                let mut actions: Vec<String> = page.rows.into_iter().map(|r| r.action).collect();
                actions.sort();
                actions
            }
        };
        // Inside a word, any case, in who, what or the target; quotes and LIKE's wildcards are
        // text.
        assert_eq!(found("HOPPER").await.len(), 4, "{}", t.kind);
        assert_eq!(found("opp").await.len(), 4);
        assert_eq!(found("key:42").await, ["key.issue", "key.limits"]);
        assert_eq!(found("key:420").await, ["key.limits"]);
        assert_eq!(found("\"nightly\"").await, ["key.issue"]);
        assert_eq!(found("50%_").await, ["key.limits"]);
        assert_eq!(found("0%").await, ["key.limits"]);
        assert_eq!(found("search").await, ["team.edit"]);
        assert!(found("zzz").await.is_empty());
        // One or two characters are read from the entries.
        assert_eq!(found("7").await, ["keyring.other", "team.edit"]);
        // One thing's history: exactly its target.
        let of_key = AuditQuery {
            target: Some("key:42".into()),
            ..AuditQuery::default()
        };
        let page = audit::list(&t.db, &owner, &of_key).await.unwrap();
        assert_eq!(page.matching, 1, "{}", t.kind);
        assert_eq!(page.rows[0].action, "key.issue");
        // A kind is its actions' first word, not any action that starts with the same letters.
        let keys_only = AuditQuery {
            kind: Some(AuditKind::Keys),
            ..AuditQuery::default()
        };
        let page = audit::list(&t.db, &owner, &keys_only).await.unwrap();
        assert_eq!(page.matching, 2, "{}", t.kind);
        t.finish().await;
    }
}
