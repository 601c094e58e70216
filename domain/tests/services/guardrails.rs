//! Guardrails in the database: who may change them, what a bad field says (an expression names
//! where it goes wrong), that the gateway's rules follow every change (and the access epoch
//! moves, which is how other processes hear of it), that a rule limited to a deleted team checks
//! nobody, and that hits counted on the request path reach the page's month count.

use crate::support::{actor, add_user, databases};
use chrono::Utc;
use domain::entity::{audit_entry, guardrail};
use domain::guardrails::matcher::RuleSet;
use domain::guardrails::{Enforcement, GuardrailInput, Test};
use domain::service::guardrails;
use domain::service::ledger::Ledger;
use domain::service::{access_epoch, teams};
use domain::teams::TeamInput;
use domain::{Actor, Error, Role, Status, TeamId};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

fn offered() -> Vec<String> {
    vec!["gpt-4o".to_owned(), "mini".to_owned()]
}

fn terms(name: &str, list: &str) -> GuardrailInput {
    GuardrailInput {
        name: name.into(),
        check: "terms".into(),
        patterns: list.into(),
        enforcement: "block".into(),
        ..GuardrailInput::default()
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

fn field(result: Result<impl std::fmt::Debug, Error>) -> (String, String) {
    match result {
        Err(Error::Validation { field, message }) => (field, message),
        other => panic!("expected a field error, got {other:?}"),
    }
}

async fn audit_lines(db: &DatabaseConnection) -> Vec<String> {
    audit_entry::Entity::find()
        .order_by_asc(audit_entry::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("guardrail."))
        .map(|e| format!("{} {}", e.action, e.detail))
        .collect()
}

#[tokio::test]
async fn admins_change_guardrails_and_the_gateway_follows() {
    for t in databases().await {
        let db = &t.db;
        let [owner, admin, member, viewer] = people(db).await;
        let ops = teams::create(
            db,
            &owner,
            &TeamInput {
                name: "Ops".into(),
                ..TeamInput::default()
            },
        )
        .await
        .unwrap();

        for who in [&member, &viewer] {
            let refused =
                guardrails::add(db, who, &terms("No secrets", "password"), &offered()).await;
            assert!(
                matches!(refused, Err(Error::Forbidden(_))),
                "{}: {refused:?}",
                t.kind
            );
        }
        assert!(guardrail::Entity::find().all(db).await.unwrap().is_empty());

        let epoch = access_epoch::current(db).await.unwrap();
        let id = guardrails::add(
            db,
            &admin,
            &terms(" No secrets ", "password\nsk-"),
            &offered(),
        )
        .await
        .unwrap();
        assert!(
            access_epoch::current(db).await.unwrap() > epoch,
            "adding moves the epoch"
        );
        let rules = guardrails::rule_set(db, &RuleSet::default()).await.unwrap();
        let verdict = rules.check("gpt-4o", None, "my Password is hunter2");
        assert_eq!(verdict.blocked.map(|r| r.name.as_str()), Some("No secrets"));

        // Bad input names its field, says why, and changes nothing.
        let (f, _) =
            field(guardrails::add(db, &owner, &terms("NO SECRETS", "x"), &offered()).await);
        assert_eq!(f, "name", "{}: names clash whatever their case", t.kind);
        let bad_regex = GuardrailInput {
            check: "pattern".into(),
            patterns: "\\d{4}\n(unclosed".into(),
            ..terms("Cards", "")
        };
        let (f, message) = field(guardrails::add(db, &owner, &bad_regex, &offered()).await);
        assert_eq!(
            (f.as_str(), message.as_str()),
            ("patterns", "Line 2, character 1: unclosed group.")
        );
        let gone_team = GuardrailInput {
            teams: vec!["999999".into()],
            ..terms("Cards", "x")
        };
        assert_eq!(
            field(guardrails::add(db, &owner, &gone_team, &offered()).await).0,
            "teams"
        );
        let wrong_model = GuardrailInput {
            models: vec!["gpt-9".into()],
            ..terms("Cards", "x")
        };
        assert_eq!(
            field(guardrails::add(db, &owner, &wrong_model, &offered()).await).0,
            "models"
        );
        assert_eq!(guardrail::Entity::find().all(db).await.unwrap().len(), 1);

        // Limited to one team and one model, logging only.
        let epoch = access_epoch::current(db).await.unwrap();
        let scoped = GuardrailInput {
            models: vec!["mini".into()],
            teams: vec![ops.id.0.to_string()],
            enforcement: "log".into(),
            ..terms("No secrets", "password")
        };
        for who in [&member, &viewer] {
            assert!(matches!(
                guardrails::edit(db, who, id, &scoped, &offered()).await,
                Err(Error::Forbidden(_))
            ));
        }
        guardrails::edit(db, &owner, id, &scoped, &offered())
            .await
            .unwrap();
        assert!(
            access_epoch::current(db).await.unwrap() > epoch,
            "editing moves the epoch"
        );
        let rules = guardrails::rule_set(db, &RuleSet::default()).await.unwrap();
        let text = "password?";
        assert_eq!(rules.check("mini", Some(ops.id.0), text).logged, vec![id]);
        assert!(rules.check("mini", Some(ops.id.0), text).blocked.is_none());
        assert!(
            rules
                .check("gpt-4o", Some(ops.id.0), text)
                .logged
                .is_empty()
        );
        assert!(rules.check("mini", None, text).logged.is_empty());

        // Everyone reads the list, with this month's hits from the request path.
        let ledger = Ledger::start(db.clone());
        for _ in 0..3 {
            ledger.guardrail_hit(id, Utc::now());
        }
        ledger.flush().await.unwrap();
        ledger.guardrail_hit(id, Utc::now());
        ledger.flush().await.unwrap();
        let view = guardrails::view(db, &viewer, &offered()).await.unwrap();
        assert!(!view.can_change);
        let row = &view.rows[0];
        assert_eq!(
            (row.hits, row.enforcement, row.models.clone()),
            (4, Enforcement::Log, vec!["mini".to_owned()])
        );
        assert_eq!(
            row.teams.as_ref().map(|t| t[0].name.clone()),
            Some("Ops".to_owned())
        );
        // A Viewer is told how many terms, not which: a key holder is not handed the list.
        assert_eq!(
            (&row.test, row.summary.as_str()),
            (&Test::Terms(Vec::new()), "1 term")
        );
        let seen = guardrails::view(db, &admin, &offered()).await.unwrap();
        assert_eq!(seen.rows[0].test, Test::Terms(vec!["password".into()]));
        assert_eq!(seen.rows[0].summary, "Any of: password");
        assert_eq!(view.teams.len(), 1);

        // A rule limited to a team that is deleted checks nobody, rather than everyone.
        teams::delete(db, &owner, TeamId(ops.id.0)).await.unwrap();
        let rules = guardrails::rule_set(db, &RuleSet::default()).await.unwrap();
        assert!(!rules.applies("mini", None) && !rules.applies("mini", Some(ops.id.0)));
        let view = guardrails::view(db, &admin, &offered()).await.unwrap();
        assert_eq!(view.rows[0].teams, Some(Vec::new()));

        // Disabled: not checked; deleted: gone with its counts.
        guardrails::set_enabled(db, &admin, id, false)
            .await
            .unwrap();
        assert!(
            guardrails::rule_set(db, &RuleSet::default())
                .await
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            guardrails::delete(db, &viewer, id).await,
            Err(Error::Forbidden(_))
        ));
        guardrails::delete(db, &admin, id).await.unwrap();
        assert!(
            guardrails::view(db, &owner, &offered())
                .await
                .unwrap()
                .rows
                .is_empty()
        );
        assert!(matches!(
            guardrails::delete(db, &admin, id).await,
            Err(Error::NotFound(_))
        ));

        assert_eq!(
            audit_lines(db).await,
            [
                "guardrail.add Added No secrets: Any of: password, sk-; models all; teams all; block",
                "guardrail.edit Edited No secrets: check Any of: password, sk- → Any of: password; models all → mini; teams all → Ops; action Block → Log only",
                "guardrail.disable Disabled No secrets",
                "guardrail.delete Deleted No secrets (Any of: password)",
            ],
            "{}",
            t.kind
        );
        t.finish().await;
    }
}
