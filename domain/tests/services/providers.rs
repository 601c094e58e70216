//! Providers in the database: who may change them, what a bad field says, that a key is stored
//! sealed and never read back out but by the gateway, what the providers file makes (read-only
//! here), and that changes move the access epoch — which is how every process hears of them.

use crate::support::{actor, add_user, databases};
use domain::entity::{audit_entry, provider};
use domain::providers::{Probe, ProviderInput};
use domain::routes::{RouteInput, TargetInput};
use domain::sealing::{DataKey, Sealer};
use domain::secret::Secret;
use domain::service::access_epoch;
use domain::service::providers::{self, FileProvider};
use domain::service::routes;
use domain::{Actor, Error, Role, Status};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

const KEY: &str = "sk-live-abcdefgh12345678WXYZ";

fn input(name: &str, base_url: &str, key: &str) -> ProviderInput {
    ProviderInput {
        name: name.into(),
        base_url: base_url.into(),
        api_key: key.into(),
        timeout_secs: "60".into(),
    }
}

async fn people(db: &DatabaseConnection) -> [Actor; 4] {
    let mut out = Vec::new();
    for role in [Role::Owner, Role::Admin, Role::Member, Role::Viewer] {
        let email = format!("{}@example.com", role.as_str());
        out.push(actor(
            add_user(db, &email, role, Status::Active).await,
            role,
        ));
    }
    out.try_into().unwrap()
}

async fn audit_details(db: &DatabaseConnection) -> Vec<String> {
    audit_entry::Entity::find()
        .order_by_asc(audit_entry::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("provider."))
        .map(|e| format!("{} {}", e.action, e.detail))
        .collect()
}

fn field(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Validation { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[tokio::test]
async fn admins_change_providers_and_keys_stay_sealed() {
    for t in databases().await {
        let db = &t.db;
        let sealer = Sealer::new(DataKey::generate(), None);
        let [owner, admin, member, viewer] = people(db).await;

        for who in [member, viewer] {
            let refused = providers::add(
                db,
                &sealer,
                &who,
                &input("openai", "https://api.openai.com/v1", KEY),
            )
            .await;
            assert!(
                matches!(refused, Err(Error::Forbidden(_))),
                "{}: {refused:?}",
                t.kind
            );
        }
        assert!(provider::Entity::find().all(db).await.unwrap().is_empty());

        let epoch = access_epoch::current(db).await.unwrap();
        let id = providers::add(
            db,
            &sealer,
            &admin,
            &input(" openai ", "https://api.openai.com/v1/", KEY),
        )
        .await
        .unwrap();
        assert!(
            access_epoch::current(db).await.unwrap() > epoch,
            "adding moves the epoch"
        );

        // Stored sealed, with its last four characters beside it.
        let stored = provider::Entity::find_by_id(id)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let sealed = stored.api_key_sealed.clone().unwrap();
        assert!(
            !sealed.contains(KEY) && !sealed.contains("WXYZ"),
            "{sealed}"
        );
        assert_eq!(stored.api_key_last4.as_deref(), Some("WXYZ"));
        assert_eq!(stored.base_url, "https://api.openai.com/v1");

        // Everyone reads the list; nobody reads the key from it.
        let view = providers::view(db, &viewer).await.unwrap();
        assert!(!view.can_change);
        assert_eq!(view.rows.len(), 1);
        assert_eq!(view.rows[0].key_last4.as_deref(), Some("WXYZ"));
        assert!(view.rows[0].routes.is_empty() && view.routes == 0);
        let printed = format!("{view:?}");
        assert!(
            !printed.contains(KEY) && !printed.contains(&sealed),
            "{printed}"
        );
        assert!(providers::view(db, &admin).await.unwrap().can_change);

        // The gateway opens it.
        let enabled = providers::enabled(db, &sealer).await.unwrap();
        assert_eq!(enabled[0].api_key.as_ref().map(Secret::expose), Some(KEY));

        // Bad input names its field and changes nothing.
        assert_eq!(
            field(
                providers::add(
                    db,
                    &sealer,
                    &owner,
                    &input("OpenAI", "https://x.example/v1", "")
                )
                .await
            ),
            "name"
        );
        assert_eq!(
            field(
                providers::add(db, &sealer, &owner, &input("other", "ftp://x.example", "")).await
            ),
            "base_url"
        );
        assert_eq!(
            field(
                providers::edit(
                    db,
                    &sealer,
                    &owner,
                    id,
                    &input("openai", "https://api.openai.com/v1", "two words"),
                )
                .await
            ),
            "api_key"
        );
        assert_eq!(provider::Entity::find().all(db).await.unwrap().len(), 1);

        // A blank key keeps the key; a new path on the same server keeps it too.
        providers::edit(
            db,
            &sealer,
            &owner,
            id,
            &input("openai", "https://api.openai.com/v2", ""),
        )
        .await
        .unwrap();
        let enabled = providers::enabled(db, &sealer).await.unwrap();
        assert_eq!(enabled[0].api_key.as_ref().map(Secret::expose), Some(KEY));
        assert_eq!(enabled[0].base_url, "https://api.openai.com/v2");

        // Another server must be given the key again: a stored key never follows a URL away.
        let moved = providers::edit(
            db,
            &sealer,
            &admin,
            id,
            &input("openai", "https://evil.example/v1", ""),
        )
        .await;
        assert_eq!(field(moved), "api_key");
        providers::edit(
            db,
            &sealer,
            &admin,
            id,
            &input("openai", "https://proxy.example/v1", "sk-new-9999"),
        )
        .await
        .unwrap();
        let enabled = providers::enabled(db, &sealer).await.unwrap();
        assert_eq!(
            enabled[0].api_key.as_ref().map(Secret::expose),
            Some("sk-new-9999")
        );

        // Disabled: not offered to the gateway; enabled again: offered.
        let epoch = access_epoch::current(db).await.unwrap();
        providers::set_enabled(db, &admin, id, false).await.unwrap();
        assert!(
            access_epoch::current(db).await.unwrap() > epoch,
            "disabling moves the epoch"
        );
        assert!(providers::enabled(db, &sealer).await.unwrap().is_empty());
        assert!(matches!(
            providers::set_enabled(db, &member, id, true).await,
            Err(Error::Forbidden(_))
        ));
        providers::set_enabled(db, &admin, id, true).await.unwrap();

        // A connection test is kept, and moves nothing.
        let epoch = access_epoch::current(db).await.unwrap();
        assert!(matches!(
            providers::to_test(db, &sealer, &viewer, id).await,
            Err(Error::Forbidden(_))
        ));
        let upstream = providers::to_test(db, &sealer, &admin, id).await.unwrap();
        assert_eq!(upstream.upstream.base_url, "https://proxy.example/v1");
        providers::record_test(db, id, &upstream, &Probe::Status(401), chrono::Utc::now())
            .await
            .unwrap();
        assert_eq!(access_epoch::current(db).await.unwrap(), epoch);
        let row = &providers::view(db, &viewer).await.unwrap().rows[0];
        assert_eq!(
            row.health.as_ref().map(|h| h.outcome.clone()),
            Some(Probe::Status(401))
        );

        // Changed, its last test is forgotten, and a test of what it was before that finishes
        // late is not kept.
        providers::edit(
            db,
            &sealer,
            &admin,
            id,
            &input("openai", "https://proxy.example/v2", ""),
        )
        .await
        .unwrap();
        let health = |db| async move {
            providers::view(db, &viewer).await.unwrap().rows[0]
                .health
                .clone()
        };
        assert_eq!(health(db).await, None);
        providers::record_test(
            db,
            id,
            &upstream,
            &Probe::Ok { models: 3 },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        assert_eq!(health(db).await, None);

        // Routes name a provider by its id: renamed, they send to it under its new name.
        let route = routes::add(
            db,
            &admin,
            &RouteInput {
                name: "gpt-4o".into(),
                targets: vec![TargetInput {
                    provider: id.to_string(),
                    input_price: "2.50".into(),
                    output_price: "10".into(),
                    max_output_tokens: "16384".into(),
                    ..TargetInput::default()
                }],
                ..RouteInput::default()
            },
        )
        .await
        .unwrap();
        providers::edit(
            db,
            &sealer,
            &admin,
            id,
            &input("renamed", "https://proxy.example/v2", ""),
        )
        .await
        .unwrap();
        assert_eq!(
            routes::served(db).await.unwrap()[0].targets[0].provider,
            "renamed"
        );
        assert_eq!(
            providers::view(db, &viewer).await.unwrap().rows[0].routes,
            ["gpt-4o"]
        );

        // A provider routes send to cannot be deleted; once unused it can.
        let used = providers::delete(db, &admin, id).await;
        match used {
            Err(Error::Conflict(why)) => {
                assert!(why.starts_with("Routes gpt-4o send to renamed"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        routes::delete(db, &admin, route).await.unwrap();
        providers::delete(db, &admin, id).await.unwrap();
        assert!(provider::Entity::find().all(db).await.unwrap().is_empty());

        // The audit log says what changed, never a key.
        let log = audit_details(db).await;
        assert_eq!(
            log.iter()
                .map(|l| l.split(' ').next().unwrap())
                .collect::<Vec<_>>(),
            [
                "provider.add",
                "provider.edit",
                "provider.edit",
                "provider.disable",
                "provider.enable",
                "provider.edit",
                "provider.edit",
                "provider.delete"
            ],
            "{log:?}"
        );
        assert!(
            log[1].contains("base URL https://api.openai.com/v1 → https://api.openai.com/v2"),
            "{log:?}"
        );
        assert!(log[2].contains("key replaced"), "{log:?}");
        for line in &log {
            assert!(!line.contains(KEY) && !line.contains("sk-new"), "{line}");
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn the_file_makes_read_only_providers_and_applying_it_again_changes_nothing() {
    for t in databases().await {
        let db = &t.db;
        let sealer = Sealer::new(DataKey::generate(), None);
        let [_, admin, _, _] = people(db).await;
        let file = vec![FileProvider {
            name: "stub".into(),
            base_url: "http://127.0.0.1:9/v1".into(),
            api_key: Some(Secret::new("sk-file-0042")),
            api_key_env: Some("STUB_KEY".into()),
            timeout_secs: 30,
            enabled: true,
        }];
        assert_eq!(
            providers::apply_file(db, &sealer, &file).await.unwrap(),
            (1, 0)
        );
        assert_eq!(
            providers::apply_file(db, &sealer, &file).await.unwrap(),
            (0, 0)
        );
        assert_eq!(
            audit_details(db).await.len(),
            1,
            "the second start changed nothing"
        );

        let row = providers::view(db, &admin).await.unwrap().rows.remove(0);
        assert!(row.from_file);
        assert_eq!(row.key_env.as_deref(), Some("STUB_KEY"));
        assert_eq!(row.key_last4.as_deref(), Some("0042"));
        for refused in [
            providers::edit(
                db,
                &sealer,
                &admin,
                row.id,
                &input("stub", "http://127.0.0.1:9/v1", ""),
            )
            .await,
            providers::set_enabled(db, &admin, row.id, false).await,
            providers::delete(db, &admin, row.id).await,
        ] {
            assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
        }
        // Nor may the page take its name.
        assert_eq!(
            field(
                providers::add(db, &sealer, &admin, &input("STUB", "http://x.example", "")).await
            ),
            "name"
        );

        // A changed key in the environment is applied at the next start.
        let mut rotated = file.clone();
        rotated[0].api_key = Some(Secret::new("sk-file-0043"));
        assert_eq!(
            providers::apply_file(db, &sealer, &rotated).await.unwrap(),
            (0, 1)
        );
        let enabled = providers::enabled(db, &sealer).await.unwrap();
        assert_eq!(
            enabled[0].api_key.as_ref().map(Secret::expose),
            Some("sk-file-0043")
        );

        // Left out of the file, it stays and becomes editable.
        providers::apply_file(db, &sealer, &[]).await.unwrap();
        let row = providers::view(db, &admin).await.unwrap().rows.remove(0);
        assert!(!row.from_file);
        assert_eq!(
            row.key_env, None,
            "its key is the page's now, not a variable's"
        );
        providers::set_enabled(db, &admin, row.id, false)
            .await
            .unwrap();

        // Exported, page keys get variables of their own, even where names differ only in
        // punctuation.
        for name in ["team-a", "team.a"] {
            providers::add(
                db,
                &sealer,
                &admin,
                &input(name, "https://x.example/v1", "sk-1"),
            )
            .await
            .unwrap();
        }
        let exported = providers::export(db).await.unwrap();
        let vars: Vec<_> = exported
            .iter()
            .filter(|p| p.key_from_page)
            .filter_map(|p| p.api_key_env.as_deref())
            .collect();
        assert_eq!(vars, ["STUB_API_KEY", "TEAM_A_API_KEY", "TEAM_A_2_API_KEY"]);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_new_secret_key_reads_old_keys_and_seals_them_again() {
    for t in databases().await {
        let db = &t.db;
        let [owner, ..] = people(db).await;
        let old = DataKey::generate();
        let before = Sealer::new(old.clone(), None);
        providers::add(
            db,
            &before,
            &owner,
            &input("openai", "https://api.openai.com/v1", KEY),
        )
        .await
        .unwrap();

        let stranger = Sealer::new(DataKey::generate(), None);
        assert!(
            providers::enabled(db, &stranger).await.unwrap().is_empty(),
            "another key opens nothing: the provider is left out"
        );
        let left = providers::reseal(db, &stranger).await.unwrap();
        assert_eq!(
            (left.count, left.unreadable),
            (0, vec!["openai".to_owned()])
        );

        let rotating = Sealer::new(DataKey::generate(), Some(old));
        assert_eq!(providers::reseal(db, &rotating).await.unwrap().count, 1);
        assert_eq!(providers::reseal(db, &rotating).await.unwrap().count, 0);
        assert!(
            providers::enabled(db, &before).await.unwrap().is_empty(),
            "the old key no longer opens it"
        );
        let enabled = providers::enabled(db, &rotating).await.unwrap();
        assert_eq!(enabled[0].api_key.as_ref().map(Secret::expose), Some(KEY));
        t.finish().await;
    }
}
