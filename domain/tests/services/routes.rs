//! Routes in the database: only Owners and Admins change them, everyone reads the page; what the
//! page shows and the gateway serves after each change, naming its providers and teams; each bad
//! field named and nothing changed by a refusal (a disabled provider may stay on a route that
//! already sent to it, not join one); the audit log and the access epoch following every change;
//! a provider that routes send to kept from deletion; the providers file's routes read-only until
//! the file lets them go, and `export` reading back as the file it would be; and this month's
//! requests and spend beside each route.

use crate::support::{actor, add_user, databases};
use chrono::{Duration, Utc};
use domain::entity::{audit_entry, usage_model_day};
use domain::guardrails::{GuardrailInput, TeamChoice};
use domain::pricing::Price;
use domain::providers::ProviderInput;
use domain::routes::{RouteInput, RouteRow, RouteUsage, TargetInput, TargetRow};
use domain::sealing::{DataKey, Sealer};
use domain::service::routes::{self, FileRoute, Served, ServedTarget};
use domain::service::{access_epoch, day_key, guardrails, providers, teams};
use domain::teams::TeamInput;
use domain::{Actor, Error, Role, Status};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder, Set};
use std::collections::HashMap;

/// "chat" in the audit log's words, at $2.50 per Mtok in on its first target.
const CHAT_WORDS: &str = "openai gpt-4o at $2.50 / $10 per Mtok, up to 16384 out, then azure gpt-4o-eu at $2.75 / $11 per Mtok, up to 16384 out, images 765 tokens";

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

/// A provider added on the page (no key); answers its id.
async fn provider(db: &DatabaseConnection, admin: &Actor, name: &str) -> i64 {
    let sealer = Sealer::new(DataKey::generate(), None);
    let input = ProviderInput {
        name: name.into(),
        base_url: format!("https://{name}.example/v1"),
        api_key: String::new(),
        timeout_secs: "60".into(),
    };
    providers::add(db, &sealer, admin, &input).await.unwrap()
}

/// A team; answers its id.
async fn team(db: &DatabaseConnection, owner: &Actor, name: &str) -> i64 {
    let input = TeamInput {
        name: name.into(),
        ..TeamInput::default()
    };
    teams::create(db, owner, &input).await.unwrap().id.0
}

/// One target as the form types it, up to 16,384 tokens out.
fn target(provider: i64, upstream: &str, input: &str, output: &str) -> TargetInput {
    TargetInput {
        provider: provider.to_string(),
        upstream_name: upstream.into(),
        input_price: input.into(),
        output_price: output.into(),
        max_output_tokens: "16,384".into(),
        image_input_tokens: String::new(),
    }
}

/// A route form: for every team when `teams` is empty, otherwise for those.
fn form(name: &str, targets: Vec<TargetInput>, teams: &[i64]) -> RouteInput {
    RouteInput {
        name: name.into(),
        targets,
        team_scope: if teams.is_empty() { "all" } else { "chosen" }.into(),
        teams: teams.iter().map(ToString::to_string).collect(),
    }
}

/// "chat": first OpenAI's gpt-4o at `input` dollars per Mtok in ($10 out), then Azure's EU
/// deployment, which bills an image at 765 tokens.
fn chat(openai: i64, azure: i64, input: &str, teams: &[i64]) -> RouteInput {
    form(
        "chat",
        vec![
            target(openai, "gpt-4o", input, "10"),
            TargetInput {
                image_input_tokens: "765".into(),
                ..target(azure, "gpt-4o-eu", "2.75", "11")
            },
        ],
        teams,
    )
}

fn served_target(
    provider: &str,
    upstream: &str,
    input: i64,
    output: i64,
    images: Option<u64>,
) -> ServedTarget {
    ServedTarget {
        provider: provider.into(),
        upstream_name: upstream.into(),
        price: Price {
            input_micros_per_mtok: input,
            output_micros_per_mtok: output,
        },
        max_output_tokens: 16_384,
        image_input_tokens: images,
    }
}

/// "chat"'s targets as the gateway serves them, at `input` micro-dollars per Mtok in on the first.
fn chat_served(input: i64) -> Vec<ServedTarget> {
    vec![
        served_target("openai", "gpt-4o", input, 10_000_000, None),
        served_target("azure", "gpt-4o-eu", 2_750_000, 11_000_000, Some(765)),
    ]
}

/// What the gateway serves, each route's teams in id order.
async fn served(db: &DatabaseConnection) -> Vec<Served> {
    let mut served = routes::served(db).await.unwrap();
    for s in &mut served {
        if let Some(teams) = &mut s.teams {
            teams.sort_unstable();
        }
    }
    served
}

async fn rows(db: &DatabaseConnection, who: &Actor) -> Vec<RouteRow> {
    routes::view(db, who).await.unwrap().rows
}

fn row<'a>(rows: &'a [RouteRow], name: &str) -> &'a RouteRow {
    rows.iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no route {name} in {rows:?}"))
}

async fn audit_lines(db: &DatabaseConnection) -> Vec<String> {
    audit_entry::Entity::find()
        .order_by_asc(audit_entry::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("route."))
        .map(|e| format!("{} {}", e.action, e.detail))
        .collect()
}

/// Everything a refused change must leave as it was: the page's rows and the routes' audit log.
async fn state(db: &DatabaseConnection, who: &Actor) -> (Vec<RouteRow>, Vec<String>) {
    (rows(db, who).await, audit_lines(db).await)
}

/// Asserts the access epoch moved past `before`; answers where it is now.
async fn moved(db: &DatabaseConnection, before: i64, what: &str) -> i64 {
    let now = access_epoch::current(db).await.unwrap();
    assert!(now > before, "{what} moves the epoch");
    now
}

fn field(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Validation { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[tokio::test]
async fn only_owners_and_admins_change_routes_and_everyone_reads_them() {
    for t in databases().await {
        let db = &t.db;
        let [owner, admin, member, viewer] = people(db).await;
        let openai = provider(db, &admin, "openai").await;
        let one = |name: &str, upstream: &str| {
            form(name, vec![target(openai, upstream, "2.50", "10")], &[])
        };
        let id = routes::add(db, &owner, &one("chat", "gpt-4o"))
            .await
            .unwrap();
        let before = state(db, &admin).await;

        for who in [&member, &viewer] {
            let other = one("mini", "gpt-4o-mini");
            for refused in [
                routes::add(db, who, &other).await.map(|_| ()),
                routes::edit(db, who, id, &other).await,
                routes::set_enabled(db, who, id, false).await,
                routes::delete(db, who, id).await,
            ] {
                assert!(
                    matches!(refused, Err(Error::Forbidden(_))),
                    "{}: {:?}: {refused:?}",
                    t.kind,
                    who.role
                );
            }
        }
        assert_eq!(state(db, &admin).await, before, "{}", t.kind);

        for (who, can_change) in [
            (&owner, true),
            (&admin, true),
            (&member, false),
            (&viewer, false),
        ] {
            let view = routes::view(db, who).await.unwrap();
            assert_eq!(
                (view.can_change, view.rows.len()),
                (can_change, 1),
                "{}: {:?}",
                t.kind,
                who.role
            );
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn an_added_route_is_shown_served_and_audited() {
    for t in databases().await {
        let db = &t.db;
        let [owner, admin, _, viewer] = people(db).await;
        let openai = provider(db, &admin, "openai").await;
        let azure = provider(db, &admin, "azure").await;
        let ops = team(db, &owner, "Ops").await;
        let lab = team(db, &owner, "Lab").await;
        let id = routes::add(db, &admin, &chat(openai, azure, "2.50", &[ops, lab]))
            .await
            .unwrap();

        // The page: targets in the order tried (not by provider name), teams by name.
        let view = routes::view(db, &viewer).await.unwrap();
        assert_eq!(
            view.rows,
            [RouteRow {
                id,
                name: "chat".into(),
                targets: vec![
                    TargetRow {
                        provider_id: openai,
                        provider: "openai".into(),
                        provider_enabled: true,
                        upstream_name: "gpt-4o".into(),
                        input_micros_per_mtok: 2_500_000,
                        output_micros_per_mtok: 10_000_000,
                        max_output_tokens: 16_384,
                        image_input_tokens: None,
                    },
                    TargetRow {
                        provider_id: azure,
                        provider: "azure".into(),
                        provider_enabled: true,
                        upstream_name: "gpt-4o-eu".into(),
                        input_micros_per_mtok: 2_750_000,
                        output_micros_per_mtok: 11_000_000,
                        max_output_tokens: 16_384,
                        image_input_tokens: Some(765),
                    },
                ],
                teams: Some(vec![
                    TeamChoice {
                        id: lab,
                        name: "Lab".into(),
                    },
                    TeamChoice {
                        id: ops,
                        name: "Ops".into(),
                    },
                ]),
                enabled: true,
                from_file: false,
                usage: Some(RouteUsage::default()),
            }],
            "{}",
            t.kind
        );
        assert_eq!(
            view.providers
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>(),
            ["azure", "openai"]
        );
        assert_eq!(view.teams.len(), 2);

        // The gateway's view of it.
        let mut team_ids = vec![ops, lab];
        team_ids.sort_unstable();
        assert_eq!(
            served(db).await,
            [Served {
                name: "chat".into(),
                teams: Some(team_ids),
                targets: chat_served(2_500_000),
            }],
            "{}",
            t.kind
        );
        assert_eq!(routes::names(db).await.unwrap(), ["chat"]);
        assert_eq!(
            routes::by_provider(db).await.unwrap(),
            HashMap::from([
                (openai, vec!["chat".to_owned()]),
                (azure, vec!["chat".to_owned()]),
            ])
        );

        // The Providers page names the routes sending to each.
        let providers_view = providers::view(db, &viewer).await.unwrap();
        assert_eq!(providers_view.routes, 1);
        for p in &providers_view.rows {
            assert_eq!(p.routes, ["chat"], "{}: {}", t.kind, p.name);
        }

        assert_eq!(
            audit_lines(db).await,
            [format!(
                "route.add Added chat: {CHAT_WORDS}; teams Lab, Ops"
            )],
            "{}",
            t.kind
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn each_bad_field_is_named_and_a_refusal_changes_nothing() {
    for t in databases().await {
        let db = &t.db;
        let [_, admin, ..] = people(db).await;
        let openai = provider(db, &admin, "openai").await;
        let azure = provider(db, &admin, "azure").await;
        let chat_id = routes::add(db, &admin, &chat(openai, azure, "2.50", &[]))
            .await
            .unwrap();
        let mini = |targets| form("mini", targets, &[]);
        let mini_target = || target(openai, "gpt-4o-mini", "0.15", "0.60");
        let mini_id = routes::add(db, &admin, &mini(vec![mini_target()]))
            .await
            .unwrap();
        let before = state(db, &admin).await;

        let added: Vec<(&str, RouteInput)> = vec![
            ("name", form("CHAT", vec![mini_target()], &[])),
            ("target1_provider", form("nano", Vec::new(), &[])),
            (
                "target1_input_price",
                form(
                    "nano",
                    vec![target(openai, "gpt-4.1-nano", "-1", "0.40")],
                    &[],
                ),
            ),
            ("teams", form("nano", vec![mini_target()], &[999_999])),
        ];
        for (expected, input) in &added {
            assert_eq!(
                field(routes::add(db, &admin, input).await),
                *expected,
                "{}: {input:?}",
                t.kind
            );
            assert_eq!(state(db, &admin).await, before, "{}: {input:?}", t.kind);
        }
        let edited: Vec<(&str, RouteInput)> = vec![
            ("name", form("Chat", vec![mini_target()], &[])),
            ("target1_provider", mini(Vec::new())),
            (
                "target1_input_price",
                mini(vec![target(openai, "gpt-4o-mini", "-0.15", "0.60")]),
            ),
            ("teams", form("mini", vec![mini_target()], &[999_999])),
        ];
        for (expected, input) in &edited {
            assert_eq!(
                field(routes::edit(db, &admin, mini_id, input).await),
                *expected,
                "{}: {input:?}",
                t.kind
            );
            assert_eq!(state(db, &admin).await, before, "{}: {input:?}", t.kind);
        }

        // A disabled provider joins no route…
        providers::set_enabled(db, &admin, azure, false)
            .await
            .unwrap();
        let before = state(db, &admin).await;
        let eu = target(azure, "gpt-4o-eu", "2.75", "11");
        assert_eq!(
            field(routes::add(db, &admin, &form("eu", vec![eu.clone()], &[])).await),
            "target1_provider"
        );
        assert_eq!(
            field(routes::edit(db, &admin, mini_id, &mini(vec![mini_target(), eu])).await),
            "target2_provider"
        );
        assert_eq!(state(db, &admin).await, before, "{}", t.kind);

        // …but a route that already sent to it keeps it through another change.
        routes::edit(db, &admin, chat_id, &chat(openai, azure, "3", &[]))
            .await
            .unwrap();
        let shown = rows(db, &admin).await;
        let chat_row = row(&shown, "chat");
        assert_eq!(chat_row.targets[0].input_micros_per_mtok, 3_000_000);
        assert_eq!(
            (
                chat_row.targets[1].provider_id,
                chat_row.targets[1].provider_enabled
            ),
            (azure, false),
            "{}",
            t.kind
        );
        assert!(chat_row.is_served(), "its first target is still enabled");
        t.finish().await;
    }
}

#[tokio::test]
async fn changes_are_audited_move_the_epoch_and_reach_the_gateway() {
    for t in databases().await {
        let db = &t.db;
        let [owner, admin, ..] = people(db).await;
        let openai = provider(db, &admin, "openai").await;
        let azure = provider(db, &admin, "azure").await;
        let ops = team(db, &owner, "Ops").await;
        let lab = team(db, &owner, "Lab").await;

        let epoch = access_epoch::current(db).await.unwrap();
        let id = routes::add(db, &admin, &chat(openai, azure, "2.50", &[ops, lab]))
            .await
            .unwrap();
        let epoch = moved(db, epoch, "adding").await;

        // A new price is served from the next request.
        routes::edit(db, &admin, id, &chat(openai, azure, "3", &[ops, lab]))
            .await
            .unwrap();
        let epoch = moved(db, epoch, "editing").await;
        assert_eq!(served(db).await[0].targets, chat_served(3_000_000));

        // The same route typed another way changes nothing: no entry, no move.
        let logged = audit_lines(db).await;
        routes::edit(db, &owner, id, &chat(openai, azure, "3.00", &[lab, ops]))
            .await
            .unwrap();
        assert_eq!(audit_lines(db).await, logged, "{}", t.kind);
        assert_eq!(access_epoch::current(db).await.unwrap(), epoch);

        // Opened to every team.
        routes::edit(db, &admin, id, &chat(openai, azure, "3", &[]))
            .await
            .unwrap();
        let epoch = moved(db, epoch, "opening to every team").await;
        assert_eq!(served(db).await[0].teams, None);

        // Disabled: no longer served, still listed.
        routes::set_enabled(db, &admin, id, false).await.unwrap();
        let epoch = moved(db, epoch, "disabling").await;
        assert!(served(db).await.is_empty(), "{}", t.kind);
        let listed = rows(db, &admin).await;
        assert_eq!(listed.len(), 1);
        assert!(!listed[0].enabled && !listed[0].is_served());
        routes::set_enabled(db, &admin, id, false).await.unwrap();

        // A provider a route sends to (enabled or not) cannot be deleted.
        match providers::delete(db, &admin, openai).await {
            Err(Error::Conflict(why)) => {
                assert!(
                    why.starts_with("Routes chat send to openai"),
                    "{}: {why}",
                    t.kind
                );
            }
            other => panic!("{}: {other:?}", t.kind),
        }

        routes::delete(db, &admin, id).await.unwrap();
        moved(db, epoch, "deleting").await;
        assert!(rows(db, &admin).await.is_empty());
        assert!(routes::names(db).await.unwrap().is_empty());
        assert!(routes::by_provider(db).await.unwrap().is_empty());
        assert!(matches!(
            routes::delete(db, &admin, id).await,
            Err(Error::NotFound(_))
        ));

        // Once no route sends to them, providers can go.
        providers::delete(db, &admin, openai).await.unwrap();
        providers::delete(db, &admin, azure).await.unwrap();

        let dearer = CHAT_WORDS.replace("$2.50", "$3");
        assert_eq!(
            audit_lines(db).await,
            [
                format!("route.add Added chat: {CHAT_WORDS}; teams Lab, Ops"),
                format!("route.edit Edited chat: targets {CHAT_WORDS} → {dearer}"),
                "route.edit Edited chat: teams Lab, Ops → all".to_owned(),
                "route.disable Disabled chat".to_owned(),
                format!("route.delete Deleted chat ({dearer})"),
            ],
            "{}",
            t.kind
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn the_file_makes_read_only_routes_until_it_lets_them_go() {
    for t in databases().await {
        let db = &t.db;
        let [owner, admin, ..] = people(db).await;
        let openai = provider(db, &admin, "openai").await;
        let ops = team(db, &owner, "Ops").await;
        let file = vec![
            FileRoute {
                name: "mini".into(),
                targets: vec![served_target(
                    "openai",
                    "gpt-4o-mini",
                    150_000,
                    600_000,
                    None,
                )],
                teams: Some(vec!["Ops".into()]),
                enabled: true,
            },
            FileRoute {
                name: "old".into(),
                targets: vec![served_target(
                    "openai",
                    "gpt-3.5-turbo",
                    500_000,
                    1_500_000,
                    None,
                )],
                teams: None,
                enabled: false,
            },
        ];
        let epoch = access_epoch::current(db).await.unwrap();
        assert_eq!(routes::apply_file(db, &file).await.unwrap(), (2, 0));
        moved(db, epoch, "applying the file").await;
        assert_eq!(routes::apply_file(db, &file).await.unwrap(), (0, 0));
        assert_eq!(
            audit_lines(db).await,
            ["route.file Applied the providers file's routes: created mini, old"],
            "{}: the second start changed nothing",
            t.kind
        );

        let listed = rows(db, &admin).await;
        assert!(listed.iter().all(|r| r.from_file), "{listed:?}");
        let mini = row(&listed, "mini");
        assert_eq!(
            (mini.teams.clone(), mini.enabled),
            (
                Some(vec![TeamChoice {
                    id: ops,
                    name: "Ops".into(),
                }]),
                true
            )
        );
        assert!(!row(&listed, "old").enabled);
        assert_eq!(
            served(db).await,
            [Served {
                name: "mini".into(),
                teams: Some(vec![ops]),
                targets: file[0].targets.clone(),
            }],
            "{}",
            t.kind
        );

        // Read-only on the page, whose routes may not take its name either.
        let typed = form(
            "mini",
            vec![target(openai, "gpt-4o-mini", "0.15", "0.60")],
            &[],
        );
        for refused in [
            routes::edit(db, &admin, mini.id, &typed).await,
            routes::set_enabled(db, &admin, mini.id, false).await,
            routes::delete(db, &admin, mini.id).await,
        ] {
            assert!(
                matches!(refused, Err(Error::Forbidden(_))),
                "{}: {refused:?}",
                t.kind
            );
        }
        assert_eq!(
            field(routes::add(db, &admin, &form("MINI", typed.targets.clone(), &[])).await),
            "name"
        );

        // A changed price is applied at the next start.
        let mut dearer = file.clone();
        dearer[0].targets[0].price.input_micros_per_mtok = 200_000;
        assert_eq!(routes::apply_file(db, &dearer).await.unwrap(), (0, 1));
        assert_eq!(served(db).await[0].targets, dearer[0].targets);

        // A file naming a provider or team that does not exist is refused whole.
        let before = state(db, &admin).await;
        let fresh = FileRoute {
            name: "fresh".into(),
            targets: vec![served_target(
                "openai", "gpt-4.1", 2_000_000, 8_000_000, None,
            )],
            teams: None,
            enabled: true,
        };
        let mut unknown_provider = dearer.clone();
        unknown_provider.push(fresh.clone());
        unknown_provider.push(FileRoute {
            name: "claude".into(),
            targets: vec![served_target(
                "anthropic",
                "claude-sonnet-4",
                3_000_000,
                15_000_000,
                None,
            )],
            ..fresh.clone()
        });
        assert_eq!(
            field(routes::apply_file(db, &unknown_provider).await),
            "provider"
        );
        assert_eq!(state(db, &admin).await, before, "{}", t.kind);

        // A team the file names that is not there (renamed or deleted since) is left out: the
        // gateway still starts, and the route opens to no one more.
        let mut unknown_team = dearer.clone();
        unknown_team.push(FileRoute {
            name: "private".into(),
            teams: Some(vec!["Nobody".into(), "ops".into()]),
            ..fresh.clone()
        });
        assert_eq!(routes::apply_file(db, &unknown_team).await.unwrap(), (1, 0));
        let private = served(db).await.into_iter().find(|r| r.name == "private");
        assert_eq!(private.and_then(|r| r.teams), Some(vec![ops]), "{}", t.kind);
        // Left out again, it is disabled: not served until someone enables it on the page.
        assert_eq!(routes::apply_file(db, &dearer).await.unwrap(), (0, 0));
        assert!(served(db).await.iter().all(|r| r.name != "private"));
        let private = row(&rows(db, &admin).await, "private").id;
        routes::delete(db, &admin, private).await.unwrap();

        // Left out of the file, a route stays, disabled and editable.
        assert_eq!(routes::apply_file(db, &dearer[..1]).await.unwrap(), (0, 0));
        let listed = rows(db, &admin).await;
        let old = row(&listed, "old");
        assert!(!old.from_file && !old.enabled && row(&listed, "mini").from_file);
        routes::set_enabled(db, &admin, old.id, true).await.unwrap();
        routes::delete(db, &admin, old.id).await.unwrap();
        assert_eq!(routes::names(db).await.unwrap(), ["mini"]);
        let lines = audit_lines(db).await;
        assert!(
            lines.contains(
                &"route.file Applied the providers file's routes: 1 no longer in the file, now disabled and editable"
                    .to_owned()
            ),
            "{lines:?}"
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn export_reads_back_as_the_file_it_would_be() {
    for t in databases().await {
        let db = &t.db;
        let [owner, admin, ..] = people(db).await;
        let openai = provider(db, &admin, "openai").await;
        let azure = provider(db, &admin, "azure").await;
        let ops = team(db, &owner, "Ops").await;
        let lab = team(db, &owner, "Lab").await;
        routes::add(db, &admin, &chat(openai, azure, "2.50", &[ops, lab]))
            .await
            .unwrap();
        let mini = routes::add(
            db,
            &admin,
            &form(
                "mini",
                vec![target(openai, "gpt-4o-mini", "0.15", "0.60")],
                &[],
            ),
        )
        .await
        .unwrap();
        routes::set_enabled(db, &admin, mini, false).await.unwrap();
        let file = vec![FileRoute {
            name: "embed".into(),
            targets: vec![served_target(
                "azure",
                "text-embedding-3-small",
                20_000,
                0,
                None,
            )],
            teams: Some(vec!["Lab".into()]),
            enabled: true,
        }];
        routes::apply_file(db, &file).await.unwrap();

        let exported = routes::export(db).await.unwrap();
        assert_eq!(
            exported,
            [
                FileRoute {
                    name: "chat".into(),
                    targets: chat_served(2_500_000),
                    teams: Some(vec!["Lab".into(), "Ops".into()]),
                    enabled: true,
                },
                file[0].clone(),
                FileRoute {
                    name: "mini".into(),
                    targets: vec![served_target(
                        "openai",
                        "gpt-4o-mini",
                        150_000,
                        600_000,
                        None
                    )],
                    teams: None,
                    enabled: false,
                },
            ],
            "{}",
            t.kind
        );

        // Applied, the page's two routes become the file's; nothing served changes.
        let serving = served(db).await;
        assert_eq!(routes::apply_file(db, &exported).await.unwrap(), (0, 2));
        assert_eq!(routes::export(db).await.unwrap(), exported);
        assert_eq!(served(db).await, serving);
        assert!(rows(db, &admin).await.iter().all(|r| r.from_file));
        assert_eq!(routes::apply_file(db, &exported).await.unwrap(), (0, 0));
        t.finish().await;
    }
}

#[tokio::test]
async fn the_page_shows_this_months_requests_and_spend() {
    for t in databases().await {
        let db = &t.db;
        let [_, admin, member, viewer] = people(db).await;
        let openai = provider(db, &admin, "openai").await;
        for (name, upstream) in [("chat", "gpt-4o"), ("mini", "gpt-4o-mini")] {
            routes::add(
                db,
                &admin,
                &form(name, vec![target(openai, upstream, "1", "2")], &[]),
            )
            .await
            .unwrap();
        }
        let now = Utc::now();
        let day = |at, model: &str, requests, spend_micros| usage_model_day::ActiveModel {
            day: Set(day_key(at)),
            model: Set(model.to_owned()),
            spend_micros: Set(spend_micros),
            requests: Set(requests),
            tokens_in: Set(0),
            tokens_out: Set(0),
        };
        usage_model_day::Entity::insert_many([
            day(now, "chat", 3, 1_500_000),
            // Last month's usage is not this month's.
            day(now - Duration::days(40), "chat", 7, 9_000_000),
            // Nor is a model no route is named.
            day(now, "retired", 2, 100),
        ])
        .exec(db)
        .await
        .unwrap();

        let listed = rows(db, &viewer).await;
        let figures = |name| {
            row(&listed, name)
                .usage
                .map(|u| (u.requests, u.spend_micros))
        };
        assert_eq!(figures("chat"), Some((3, 1_500_000)), "{}", t.kind);
        assert_eq!(figures("mini"), Some((0, 0)), "{}", t.kind);
        // Every team's usage is not a Member's to read: the rows carry none.
        let view = routes::view(db, &member).await.unwrap();
        assert!(!view.shows_usage, "{}", t.kind);
        assert!(view.rows.iter().all(|r| r.usage.is_none()), "{}", t.kind);
        t.finish().await;
    }
}

#[tokio::test]
async fn names_that_others_read_are_kept() {
    for t in databases().await {
        let db = &t.db;
        let [_, admin, ..] = people(db).await;
        let openai = provider(db, &admin, "openai").await;
        let id = routes::add(
            db,
            &admin,
            &form("mini", vec![target(openai, "gpt-4o-mini", "1", "2")], &[]),
        )
        .await
        .unwrap();
        // A guardrail names the route: renaming it would leave the rule checking nothing.
        let rule = GuardrailInput {
            name: "No secrets".into(),
            check: "terms".into(),
            patterns: "password".into(),
            model_scope: "chosen".into(),
            models: vec!["mini".into()],
            enforcement: "block".into(),
            ..GuardrailInput::default()
        };
        let rule = guardrails::add(db, &admin, &rule, &["mini".to_owned()])
            .await
            .unwrap();
        let renamed = form("mini-2", vec![target(openai, "gpt-4o-mini", "1", "2")], &[]);
        let refused = routes::edit(db, &admin, id, &renamed).await.unwrap_err();
        assert!(
            matches!(&refused, Error::Validation { field, message }
                if field == "name" && message.starts_with("Guardrails No secrets name mini")),
            "{refused:?} ({})",
            t.kind
        );
        assert_eq!(routes::names(db).await.unwrap(), ["mini"]);
        // A price change is no rename; once the rule is gone, the rename goes through.
        let dearer = form("mini", vec![target(openai, "gpt-4o-mini", "3", "2")], &[]);
        routes::edit(db, &admin, id, &dearer).await.unwrap();
        guardrails::delete(db, &admin, rule).await.unwrap();
        routes::edit(db, &admin, id, &renamed).await.unwrap();
        assert_eq!(routes::names(db).await.unwrap(), ["mini-2"]);

        // The providers file names providers by name: one its routes send to keeps its name
        // (the next start would not find it), while the page's routes follow a rename.
        let local = provider(db, &admin, "local").await;
        let filed = FileRoute {
            name: "filed".into(),
            targets: vec![served_target("local", "llama", 0, 0, None)],
            teams: None,
            enabled: true,
        };
        routes::apply_file(db, std::slice::from_ref(&filed))
            .await
            .unwrap();
        let sealer = Sealer::new(DataKey::generate(), None);
        let rename = |name: &str| ProviderInput {
            name: name.into(),
            base_url: "https://local.example/v1".into(),
            api_key: String::new(),
            timeout_secs: "60".into(),
        };
        let refused = providers::edit(db, &sealer, &admin, local, &rename("local-gpu"))
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, Error::Validation { field, message }
                if field == "name" && message.contains("filed name local")),
            "{refused:?} ({})",
            t.kind
        );
        providers::edit(
            db,
            &sealer,
            &admin,
            openai,
            &ProviderInput {
                base_url: "https://openai.example/v1".into(),
                ..rename("openai-eu")
            },
        )
        .await
        .unwrap();
        let served = served(db).await;
        let mini = served.iter().find(|r| r.name == "mini-2").unwrap();
        assert_eq!(mini.targets[0].provider, "openai-eu", "{}", t.kind);
        t.finish().await;
    }
}
