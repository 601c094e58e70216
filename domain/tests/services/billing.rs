//! Billing on both databases: the gateway-wide limit caps every team together and the cap of
//! keys outside any team holds them alone (the ledger's hard cap), each alert band is noted once
//! per team and month — by spend or by the team's budget refusing — and delivered once, a failed
//! channel alone tried again; the settings are an Owner's, checked, audited, and move the access
//! epoch; a statement adds up per team and per model.

use crate::support::{actor, add_user, databases};
use chrono::{Duration, TimeZone, Utc};
use domain::billing::{SettingsInput, StatementMonth, Told};
use domain::entity::budget_lease::BudgetKind;
use domain::entity::refusal_day::RefusalKind;
use domain::entity::{audit_entry, budget_alert, team, user};
use domain::money::Money;
use domain::secret::Secret;
use domain::service::alerts::{self, Attempt};
use domain::service::keys::{self, KeyAuth};
use domain::service::ledger::{Ledger, ReserveError};
use domain::service::refusals::{self, Refusal};
use domain::service::usage::{self, Metered, Served};
use domain::service::{access_epoch, billing, month_key, teams};
use domain::{Actor, Error, Role, Status, TeamId, UserId};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Set};

async fn add_team(db: &DatabaseConnection, name: &str, limit_micros: Option<i64>) -> TeamId {
    let t = team::ActiveModel {
        name: Set(name.into()),
        name_normalized: Set(name.to_lowercase()),
        description: Set(String::new()),
        monthly_limit_micros: Set(limit_micros),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    TeamId(t.id)
}

/// A person of `role` in `team` (or none), the key they issue authenticated, and its secret
/// (to authenticate it again with [`auth`] once the limits change).
async fn key_of(
    db: &DatabaseConnection,
    email: &str,
    role: Role,
    team: Option<TeamId>,
) -> (UserId, KeyAuth, String) {
    let id = add_user(db, email, role, Status::Active).await;
    let mut m: user::ActiveModel = user::Entity::find_by_id(id.0)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .into();
    m.team_id = Set(team.map(|t| t.0));
    m.update(db).await.unwrap();
    let issued = keys::issue(
        db,
        &actor(id, role),
        keys::IssueInput {
            name: format!("{email} key"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let auth = keys::authenticate(db, &Secret::new(issued.secret.clone()))
        .await
        .unwrap();
    (id, auth, issued.secret)
}

/// The key of `secret` authenticated again, with the limits as they are now.
async fn auth(db: &DatabaseConnection, secret: &str) -> KeyAuth {
    keys::authenticate(db, &Secret::new(secret.to_owned()))
        .await
        .unwrap()
}

async fn owner(db: &DatabaseConnection) -> Actor {
    actor(
        add_user(db, "owner@example.com", Role::Owner, Status::Active).await,
        Role::Owner,
    )
}

fn settings(gateway: &str, teamless: &str) -> SettingsInput {
    SettingsInput {
        gateway_limit: gateway.into(),
        teamless_limit: teamless.into(),
        ..Default::default()
    }
}

fn refused_by(answer: Result<domain::service::ledger::Hold, ReserveError>) -> BudgetKind {
    match answer {
        Err(ReserveError::OverBudget(over)) => over.budget,
        other => panic!("past the limit, yet {other:?}"),
    }
}

#[tokio::test]
async fn the_gateway_limit_caps_every_team_together() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        let (red, blue) = (
            add_team(&t.db, "Red", None).await,
            add_team(&t.db, "Blue", None).await,
        );
        let (_, a, a_secret) = key_of(&t.db, "a@example.com", Role::Member, Some(red)).await;
        let (_, _, b_secret) = key_of(&t.db, "b@example.com", Role::Member, Some(blue)).await;
        assert_eq!(a.gateway_limit, None, "no limit until an Owner sets one");
        billing::save(&t.db, &boss, &settings("1", ""))
            .await
            .unwrap();
        let a = auth(&t.db, &a_secret).await;
        let b = auth(&t.db, &b_secret).await;
        assert_eq!(a.gateway_limit, Some(Money(1_000_000)), "{}", t.kind);

        let ledger = Ledger::start(t.db.clone());
        let now = Utc::now();
        let first = ledger.reserve(&a, Money(600_000), now).await.unwrap();
        // Another team, no limit of its own: the gateway's month has only $0.40 left.
        assert_eq!(
            refused_by(ledger.reserve(&b, Money(500_000), now).await),
            BudgetKind::Gateway
        );
        ledger.settle(first, Money(600_000), Served::default());
        let rest = ledger.reserve(&b, Money(400_000), now).await.unwrap();
        assert_eq!(
            refused_by(ledger.reserve(&a, Money(1), now).await),
            BudgetKind::Gateway,
            "{}",
            t.kind
        );
        ledger.settle(rest, Money(400_000), Served::default());
        ledger.flush().await.unwrap();
        let view = billing::view(&t.db, &boss, None, now, false).await.unwrap();
        assert_eq!(view.gateway.spent, Money(1_000_000));
        assert_eq!(view.gateway.limit, Some(Money(1_000_000)));
        t.finish().await;
    }
}

#[tokio::test]
async fn keys_outside_teams_share_their_cap_and_team_keys_do_not() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        let red = add_team(&t.db, "Red", None).await;
        let (_, _, loner) = key_of(&t.db, "admin@example.com", Role::Admin, None).await;
        let (_, _, member) = key_of(&t.db, "m@example.com", Role::Member, Some(red)).await;
        billing::save(&t.db, &boss, &settings("", "2"))
            .await
            .unwrap();
        let loner = auth(&t.db, &loner).await;
        let member = auth(&t.db, &member).await;
        assert_eq!(loner.teamless_limit, Some(Money(2_000_000)), "{}", t.kind);
        assert_eq!(
            member.teamless_limit, None,
            "a team's key is not held to it"
        );

        let ledger = Ledger::start(t.db.clone());
        let now = Utc::now();
        let all = ledger.reserve(&loner, Money(2_000_000), now).await.unwrap();
        assert_eq!(
            refused_by(ledger.reserve(&loner, Money(1), now).await),
            BudgetKind::Teamless
        );
        assert!(ledger.reserve(&member, Money(5_000_000), now).await.is_ok());
        ledger.settle(all, Money(1_500_000), Served::default());
        ledger.flush().await.unwrap();
        let view = billing::view(&t.db, &boss, None, now, false).await.unwrap();
        assert_eq!(view.teamless.spent, Money(1_500_000), "{}", t.kind);
        t.finish().await;
    }
}

fn spend(auth: &KeyAuth, user: UserId, cents: i64, at: chrono::DateTime<Utc>) -> Metered {
    Metered {
        key: auth.key,
        user,
        team: auth.team,
        cost: Money(cents * 10_000),
        at,
        served: Served {
            model: "gpt-4o".into(),
            ..Default::default()
        },
    }
}

async fn bands(db: &DatabaseConnection) -> Vec<(i64, i32, i32)> {
    let mut rows: Vec<(i64, i32, i32)> = budget_alert::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.team_id, a.month, a.band))
        .collect();
    rows.sort_unstable();
    rows
}

#[tokio::test]
async fn each_band_is_noted_once_per_team_and_month() {
    for t in databases().await {
        let red = add_team(&t.db, "Red", Some(10_000_000)).await;
        let blue = add_team(&t.db, "Blue", Some(5_000_000)).await;
        let (m, auth, _) = key_of(&t.db, "m@example.com", Role::Member, Some(red)).await;
        let now = Utc::now();
        let month = month_key(now);
        usage::record(&t.db, &spend(&auth, m, 699, now))
            .await
            .unwrap();
        assert_eq!(bands(&t.db).await, vec![], "69.9 % is no band");
        usage::record(&t.db, &spend(&auth, m, 1, now))
            .await
            .unwrap();
        assert_eq!(bands(&t.db).await, vec![(red.0, month, 70)], "{}", t.kind);
        // Past 70 % again and again: still one row; a batch past 90 % and 100 % notes both.
        usage::record(&t.db, &spend(&auth, m, 100, now))
            .await
            .unwrap();
        usage::record_all(
            &t.db,
            &[spend(&auth, m, 150, now), spend(&auth, m, 50, now)],
        )
        .await
        .unwrap();
        assert_eq!(
            bands(&t.db).await,
            vec![(red.0, month, 70), (red.0, month, 90), (red.0, month, 100)]
        );
        usage::record(&t.db, &spend(&auth, m, 1, now))
            .await
            .unwrap();
        assert_eq!(bands(&t.db).await.len(), 3);
        // Next month starts again.
        let next = domain::service::leases::next_month(now) + Duration::hours(1);
        usage::record(&t.db, &spend(&auth, m, 800, next))
            .await
            .unwrap();
        assert!(bands(&t.db).await.contains(&(red.0, month_key(next), 70)));

        // Raised mid-month: the bands of the new limit are told in their turn.
        let mut raised: team::ActiveModel = team::Entity::find_by_id(red.0)
            .one(&t.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        raised.monthly_limit_micros = Set(Some(20_000_000));
        raised.update(&t.db).await.unwrap();
        usage::record(&t.db, &spend(&auth, m, 400, now))
            .await
            .unwrap();
        let red_now: Vec<(i32, i64)> = budget_alert::Entity::find()
            .all(&t.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.team_id == red.0 && a.month == month)
            .map(|a| (a.band, a.limit_micros))
            .collect();
        assert!(red_now.contains(&(70, 20_000_000)), "{red_now:?}");
        assert_eq!(red_now.len(), 4, "{red_now:?}");

        // A refusal by a team's budget is its 100 % once it has spent 90 % of its limit — not
        // a single large request refused far from it.
        let (b, blue_key, _) = key_of(&t.db, "b@example.com", Role::Member, Some(blue)).await;
        let refused = || Refusal {
            key: None,
            user: None,
            team: Some(blue),
            kind: RefusalKind::TeamBudget,
            reason: "Team ‘Blue’ has reached its monthly spend limit of $5.00.".into(),
            at: now,
        };
        let blue_bands = || async {
            bands(&t.db)
                .await
                .into_iter()
                .filter(|(team, ..)| *team == blue.0)
                .map(|(.., band)| band)
                .collect::<Vec<i32>>()
        };
        usage::record(&t.db, &spend(&blue_key, b, 100, now))
            .await
            .unwrap();
        refusals::record_all(&t.db, &[refused()]).await.unwrap();
        assert_eq!(blue_bands().await, Vec::<i32>::new(), "{}", t.kind);
        // 92 %: a request whose worst case does not fit is refused, and that is its limit.
        usage::record(&t.db, &spend(&blue_key, b, 360, now))
            .await
            .unwrap();
        refusals::record_all(&t.db, &[refused(), refused()])
            .await
            .unwrap();
        assert_eq!(blue_bands().await, vec![70, 90, 100], "{}", t.kind);

        // A team that may spend nothing reaches its limit at its first refusal.
        let none = add_team(&t.db, "Frozen", Some(0)).await;
        let frozen = Refusal {
            team: Some(none),
            ..refused()
        };
        refusals::record_all(&t.db, &[frozen]).await.unwrap();
        let told: Vec<(i32, Option<budget_alert::Outcome>)> = budget_alert::Entity::find()
            .all(&t.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.team_id == none.0)
            .map(|a| (a.band, a.outcome))
            .collect();
        assert!(told.contains(&(100, None)), "{told:?}");
        t.finish().await;
    }
}

/// Every alert waiting at `now`, claimed by this process.
async fn claim_all(db: &DatabaseConnection, now: chrono::DateTime<Utc>) -> Vec<alerts::Due> {
    let mut claimed = Vec::new();
    for id in alerts::waiting(db, now).await.unwrap() {
        claimed.extend(alerts::claim(db, id, now).await.unwrap());
    }
    claimed
}

#[tokio::test]
async fn an_alert_is_claimed_once_and_only_a_failed_channel_is_retried() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        let red = add_team(&t.db, "Red", Some(10_000_000)).await;
        let (m, auth, _) = key_of(&t.db, "m@example.com", Role::Member, Some(red)).await;
        billing::save(
            &t.db,
            &boss,
            &SettingsInput {
                alert_emails: "ops@example.com".into(),
                webhook_url: "https://hooks.example.com/t".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let now = Utc::now();
        usage::record(&t.db, &spend(&auth, m, 950, now))
            .await
            .unwrap();

        // 70 % and 90 % at once: the 90 % alert is told, and covers the 70 %.
        let due = claim_all(&t.db, now).await;
        assert_eq!(due.len(), 1, "{}", t.kind);
        assert_eq!((due[0].team_name.as_str(), due[0].band), ("Red", 90));
        assert_eq!(due[0].emails, ["ops@example.com"]);
        let hook = due[0].webhook.clone().expect("the webhook");
        assert!(hook.secret.starts_with("whsec_"));
        assert!(
            claim_all(&t.db, now).await.is_empty(),
            "claimed: no other process takes it"
        );
        let failed = Attempt {
            mail: Some(Ok(())),
            webhook: Some(Err("the webhook answered 500".into())),
        };
        alerts::finish(&t.db, &due[0], &failed, now).await.unwrap();
        assert!(
            claim_all(&t.db, now + Duration::seconds(10))
                .await
                .is_empty()
        );
        let retry = claim_all(&t.db, now + Duration::seconds(31)).await;
        assert_eq!(retry.len(), 1);
        assert!(
            retry[0].mailed && !retry[0].posted,
            "only the webhook again"
        );
        // A process whose claim has run out records nothing: the claim is the other's now.
        let late = alerts::Due {
            claim: now,
            ..retry[0].clone()
        };
        alerts::finish(&t.db, &late, &Attempt::default(), now)
            .await
            .unwrap();
        let posted = Attempt {
            mail: None,
            webhook: Some(Ok(())),
        };
        alerts::finish(&t.db, &retry[0], &posted, now)
            .await
            .unwrap();
        let later = now + Duration::hours(2);
        assert!(claim_all(&t.db, later).await.is_empty(), "{}", t.kind);
        let view = billing::view(&t.db, &boss, None, now, true).await.unwrap();
        let told: Vec<(i32, Told)> = view
            .alerts
            .iter()
            .map(|a| (a.band, a.told.clone()))
            .collect();
        assert!(
            matches!(
                told.as_slice(),
                [(90, Told::Sent(_)), (70, Told::Covered)]
                    | [(70, Told::Covered), (90, Told::Sent(_))]
            ),
            "{told:?}"
        );
        assert_eq!(view.alerts_this_month, 1);

        // A receiver that never answers is given up after the last attempt.
        let blue = add_team(&t.db, "Blue", Some(1_000_000)).await;
        let (b, blue_key, _) = key_of(&t.db, "b@example.com", Role::Member, Some(blue)).await;
        usage::record(&t.db, &spend(&blue_key, b, 75, now))
            .await
            .unwrap();
        let mut at = now;
        for _ in 0..alerts::MAX_ATTEMPTS {
            at += Duration::hours(2);
            let due = claim_all(&t.db, at).await;
            assert_eq!(due.len(), 1);
            let down = Attempt {
                mail: Some(Err("the mail server could not be reached".into())),
                webhook: None,
            };
            alerts::finish(&t.db, &due[0], &down, at).await.unwrap();
        }
        assert!(claim_all(&t.db, at + Duration::days(1)).await.is_empty());
        let view = billing::view(&t.db, &boss, None, now, true).await.unwrap();
        let blue_told = view
            .alerts
            .iter()
            .find(|a| a.team == "Blue")
            .unwrap()
            .told
            .clone();
        assert_eq!(
            blue_told,
            Told::GaveUp("the mail server could not be reached".into()),
            "{}",
            t.kind
        );

        // A team deleted before its alert was told: nobody is told of a team that is gone.
        let gone = add_team(&t.db, "Gone", Some(1_000_000)).await;
        let (g, gone_key, _) = key_of(&t.db, "g@example.com", Role::Member, Some(gone)).await;
        usage::record(&t.db, &spend(&gone_key, g, 80, at))
            .await
            .unwrap();
        teams::delete(&t.db, &boss, gone).await.unwrap();
        assert!(
            claim_all(&t.db, at + Duration::days(1)).await.is_empty(),
            "{}",
            t.kind
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn settings_are_an_owners_checked_audited_and_move_the_access_epoch() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        let admin = actor(
            add_user(&t.db, "admin@example.com", Role::Admin, Status::Active).await,
            Role::Admin,
        );
        let good = SettingsInput {
            gateway_limit: "100".into(),
            team_default_limit: "25".into(),
            alert_emails: "ops@example.com".into(),
            ..Default::default()
        };
        for reader in [&admin] {
            assert!(matches!(
                billing::save(&t.db, reader, &good).await,
                Err(Error::Forbidden(_))
            ));
            assert!(matches!(
                billing::view(&t.db, reader, None, Utc::now(), false).await,
                Err(Error::Forbidden(_))
            ));
        }
        let epoch = access_epoch::current(&t.db).await.unwrap();
        billing::save(&t.db, &boss, &good).await.unwrap();
        assert!(
            access_epoch::current(&t.db).await.unwrap() > epoch,
            "{}",
            t.kind
        );
        assert_eq!(
            billing::team_default_limit(&t.db).await.unwrap(),
            Some(Money(25_000_000))
        );

        // A bad field: refused, nothing changed.
        let bad = SettingsInput {
            gateway_limit: "5".into(),
            webhook_url: "ftp://x.example".into(),
            ..good.clone()
        };
        let e = billing::save(&t.db, &boss, &bad).await.unwrap_err();
        assert!(e.message_for("webhook_url").is_some(), "{e:?}");
        let view = billing::view(&t.db, &boss, None, Utc::now(), false)
            .await
            .unwrap();
        assert_eq!(view.settings.gateway_limit, Some(Money(100_000_000)));
        assert_eq!(view.webhook_secret, None, "no webhook, no key");

        // A new webhook URL gets a new signing key, and the log says so.
        let hooked = SettingsInput {
            webhook_url: "https://hooks.example.com/a".into(),
            ..good.clone()
        };
        billing::save(&t.db, &boss, &hooked).await.unwrap();
        let first = billing::view(&t.db, &boss, None, Utc::now(), false)
            .await
            .unwrap()
            .webhook_secret
            .expect("a key with the webhook");
        let moved = SettingsInput {
            webhook_url: "https://hooks.example.com/b".into(),
            ..good.clone()
        };
        billing::save(&t.db, &boss, &moved).await.unwrap();
        let second = billing::view(&t.db, &boss, None, Utc::now(), false)
            .await
            .unwrap()
            .webhook_secret
            .unwrap();
        assert_ne!(first, second, "another receiver, another key");
        billing::save(&t.db, &boss, &good).await.unwrap();

        // Saving again unchanged writes no entry and leaves the epoch.
        let epoch = access_epoch::current(&t.db).await.unwrap();
        billing::save(&t.db, &boss, &good).await.unwrap();
        assert_eq!(
            access_epoch::current(&t.db).await.unwrap(),
            epoch,
            "{}",
            t.kind
        );
        let entries: Vec<String> = audit_entry::Entity::find()
            .all(&t.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "billing.settings")
            .map(|e| e.detail)
            .collect();
        assert_eq!(
            entries,
            [
                "gateway limit none → $100.00; default team limit none → $25.00; \
              alert emails nobody → 1 address",
                "webhook none → https://hooks.example.com/…",
                "webhook address changed (https://hooks.example.com/…); \
              webhook signing key replaced",
                "webhook https://hooks.example.com/… → none",
            ]
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn a_statement_adds_up_per_team_and_per_model() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        let red = add_team(&t.db, "Red", None).await;
        let blue = add_team(&t.db, "Blue", None).await;
        let (r, red_key, _) = key_of(&t.db, "r@example.com", Role::Member, Some(red)).await;
        let (b, blue_key, _) = key_of(&t.db, "b@example.com", Role::Member, Some(blue)).await;
        let (a, loner, _) = key_of(&t.db, "a@example.com", Role::Admin, None).await;
        let november = Utc.with_ymd_and_hms(2026, 11, 10, 12, 0, 0).unwrap();
        let on = |auth: &KeyAuth, user, cents, model: &str, at| Metered {
            served: Served {
                model: model.into(),
                ..Default::default()
            },
            ..spend(auth, user, cents, at)
        };
        usage::record_all(
            &t.db,
            &[
                on(&red_key, r, 300, "gpt-4o", november),
                on(&red_key, r, 100, "claude", november),
                on(&blue_key, b, 50, "claude", november),
                on(&loner, a, 25, "gpt-4o", november),
                // Another month: not on November's statement.
                on(&red_key, r, 999, "gpt-4o", november + Duration::days(30)),
            ],
        )
        .await
        .unwrap();
        let s = billing::statement(&t.db, &boss, StatementMonth(202_611), Utc::now())
            .await
            .unwrap();
        let lines = |l: &[domain::billing::StatementLine]| -> Vec<(String, i64, i64)> {
            l.iter()
                .map(|l| (l.label.clone(), l.spend.micros(), l.requests))
                .collect()
        };
        assert_eq!(
            lines(&s.teams),
            [
                ("Red".to_owned(), 4_000_000, 2),
                ("Blue".to_owned(), 500_000, 1),
                (billing::TEAMLESS.to_owned(), 250_000, 1)
            ],
            "{}",
            t.kind
        );
        assert_eq!(
            lines(&s.models),
            [
                ("gpt-4o".to_owned(), 3_250_000, 2),
                ("claude".to_owned(), 1_500_000, 2)
            ]
        );
        assert_eq!((s.total.spend, s.total.requests), (Money(4_750_000), 4));
        assert!(!s.current);
        let csv = domain::billing::statement_csv(&s);
        assert_eq!(csv.lines().count(), 1 + 3 + 2 + 1);
        let member = actor(r, Role::Member);
        assert!(matches!(
            billing::statement(&t.db, &member, StatementMonth(202_611), Utc::now()).await,
            Err(Error::Forbidden(_))
        ));
        assert_eq!(
            budget_alert::Entity::find().count(&t.db).await.unwrap(),
            0,
            "no team had a limit"
        );
        t.finish().await;
    }
}
