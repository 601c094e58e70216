//! Key and member budgets on both databases: a team's default for its members and a person's
//! own budget over it, set by those who outrank them, checked, audited, shown with this month's
//! spend, ended when the person changes team; and a key's budget, which its Member owner may
//! only lower below what applies.

use crate::support::{actor, add_user, databases};
use domain::entity::audit_entry;
use domain::money::Money;
use domain::rate_limits::KeyLimits;
use domain::service::keys::{self, IssueInput};
use domain::service::{key_limits, team_members, teams, usage};
use domain::teams::TeamInput;
use domain::{Error, Role, Status};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const DOLLAR: i64 = 1_000_000;

fn is_forbidden<T: std::fmt::Debug>(result: Result<T, Error>) -> bool {
    matches!(result, Err(Error::Forbidden(_)))
}

#[tokio::test]
async fn member_budgets_default_to_the_team_and_are_set_by_who_outranks() {
    for t in databases().await {
        let owner_id = add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await;
        let owner = actor(owner_id, Role::Owner);
        let admin_id = add_user(&t.db, "admin@example.com", Role::Admin, Status::Active).await;
        let admin = actor(admin_id, Role::Admin);
        let team = teams::create(
            &t.db,
            &owner,
            &TeamInput {
                name: "Research".into(),
                member_budget: Some("25".into()),
                ..TeamInput::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(team.member_budget, Some(Money(25 * DOLLAR)), "{}", t.kind);
        let member_id = add_user(&t.db, "m@example.com", Role::Member, Status::Active).await;
        let member = actor(member_id, Role::Member);
        for who in [member_id, admin_id] {
            teams::assign(&t.db, &owner, who, Some(team.id))
                .await
                .unwrap();
        }
        usage::record(
            &t.db,
            &usage::Metered {
                key: domain::KeyId(1),
                user: member_id,
                team: Some(team.id),
                cost: Money(20 * DOLLAR),
                at: chrono::Utc::now(),
                served: usage::Served::default(),
            },
        )
        .await
        .unwrap();

        let listed = team_members::members(&t.db, &member, team.id)
            .await
            .unwrap();
        let m = listed.iter().find(|m| m.id == member_id).unwrap();
        assert_eq!(m.budget.spent, Money(20 * DOLLAR), "{}", t.kind);
        assert_eq!(m.budget.limit(), Some(Money(25 * DOLLAR)));
        assert_eq!(m.budget.own, None);
        assert_eq!(
            m.budget.band(),
            Some(domain::budget::BudgetBand::Yellow),
            "80 % of the budget"
        );

        // A Member may not set budgets, nor an Admin an Admin's (their own included) or an
        // Owner's; refused, nothing changes and nothing is recorded.
        assert!(is_forbidden(
            team_members::set_budget(&t.db, &member, team.id, member_id, "1000").await
        ));
        assert!(is_forbidden(
            team_members::set_budget(&t.db, &admin, team.id, admin_id, "1000").await
        ));
        // Bad input is refused on the field.
        let bad = team_members::set_budget(&t.db, &admin, team.id, member_id, "-5")
            .await
            .unwrap_err();
        assert!(bad.message_for("budget").is_some(), "{bad:?}");
        let audited = || {
            audit_entry::Entity::find()
                .filter(audit_entry::Column::Action.eq("user.budget"))
                .count(&t.db)
        };
        assert_eq!(audited().await.unwrap(), 0, "{}", t.kind);

        let set = team_members::set_budget(&t.db, &admin, team.id, member_id, "$40")
            .await
            .unwrap();
        assert_eq!(set.budget.own, Some(Money(40 * DOLLAR)));
        assert_eq!(set.budget.limit(), Some(Money(40 * DOLLAR)));
        assert_eq!(set.budget.band(), Some(domain::budget::BudgetBand::Green));
        assert_eq!(audited().await.unwrap(), 1);
        let detail = team_members::members(&t.db, &owner, team.id).await.unwrap();
        assert_eq!(
            detail
                .iter()
                .find(|m| m.id == member_id)
                .unwrap()
                .budget
                .own,
            Some(Money(40 * DOLLAR))
        );

        // An Admin cannot end a budget they may not set by moving its holder: moving out the
        // Admin whose budget an Owner set is refused, and the budget stays.
        let admin_budget = team_members::set_budget(&t.db, &owner, team.id, admin_id, "5")
            .await
            .unwrap();
        assert_eq!(admin_budget.budget.own, Some(Money(5 * DOLLAR)));
        assert!(
            is_forbidden(teams::assign(&t.db, &admin, admin_id, None).await),
            "{}",
            t.kind
        );
        let still = team_members::members(&t.db, &owner, team.id).await.unwrap();
        assert_eq!(
            still.iter().find(|m| m.id == admin_id).unwrap().budget.own,
            Some(Money(5 * DOLLAR))
        );

        // Their own budget ends with the team they leave.
        let other = teams::create(
            &t.db,
            &owner,
            &TeamInput {
                name: "Ops".into(),
                ..TeamInput::default()
            },
        )
        .await
        .unwrap();
        teams::assign(&t.db, &owner, member_id, Some(other.id))
            .await
            .unwrap();
        let moved = team_members::members(&t.db, &owner, other.id)
            .await
            .unwrap();
        assert_eq!(moved[0].budget.own, None, "{}", t.kind);
        assert_eq!(moved[0].budget.limit(), None);
    }
}

#[tokio::test]
async fn a_members_key_budget_may_only_go_below_what_applies() {
    for t in databases().await {
        let owner_id = add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await;
        let owner = actor(owner_id, Role::Owner);
        let team = teams::create(
            &t.db,
            &owner,
            &TeamInput {
                name: "Research".into(),
                limit: "100".into(),
                member_budget: Some("30".into()),
                ..TeamInput::default()
            },
        )
        .await
        .unwrap();
        let member_id = add_user(&t.db, "m@example.com", Role::Member, Status::Active).await;
        teams::assign(&t.db, &owner, member_id, Some(team.id))
            .await
            .unwrap();
        let member = actor(member_id, Role::Member);
        let budget = |dollars: &str| KeyLimits::parse(dollars, "", "", &[], &[]).unwrap();
        let issue = |limits: KeyLimits| {
            keys::issue(
                &t.db,
                &member,
                IssueInput {
                    name: "ci".into(),
                    limits,
                    ..Default::default()
                },
            )
        };
        // Over the $30 that applies to them already: refused.
        assert!(is_forbidden(issue(budget("31")).await), "{}", t.kind);
        let key = issue(budget("10")).await.unwrap().key;
        assert_eq!(key.limits.budget, Some(Money(10 * DOLLAR)));
        assert_eq!(key.spent_this_month, Money::ZERO);
        assert!(is_forbidden(
            key_limits::set(&t.db, &member, key.id, budget("20")).await
        ));
        assert!(is_forbidden(
            key_limits::set(&t.db, &member, key.id, budget("")).await
        ));
        let lower = key_limits::set(&t.db, &member, key.id, budget("5"))
            .await
            .unwrap();
        assert_eq!(lower.limits.budget, Some(Money(5 * DOLLAR)));
        // An Owner may raise it past what applies, or remove it.
        let raised = key_limits::set(&t.db, &owner, key.id, budget("500"))
            .await
            .unwrap();
        assert_eq!(raised.limits.budget, Some(Money(500 * DOLLAR)));
        let auth = keys::authenticate(
            &t.db,
            &domain::secret::Secret::new(
                keys::issue(
                    &t.db,
                    &member,
                    IssueInput {
                        name: "laptop".into(),
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .secret,
            ),
        )
        .await
        .unwrap();
        assert_eq!(auth.member_limit, Some(Money(30 * DOLLAR)), "{}", t.kind);
        assert_eq!(auth.key_limit, None);
        assert_eq!(auth.team_limit, Some(Money(100 * DOLLAR)));
    }
}

/// A team's budget per member binds each member without one of their own — Owners and Admins
/// too — so an Admin may not change it while it binds an Owner or Admin (who could otherwise
/// be held to $0 by a team edit, though an Admin may not set their budget one by one). Refused,
/// the team stays as it was; the rest of the team's settings are still the Admin's to change.
#[tokio::test]
async fn an_admin_may_not_change_a_team_default_that_binds_an_owner_or_admin() {
    for t in databases().await {
        let owner_id = add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await;
        let owner = actor(owner_id, Role::Owner);
        let admin = actor(
            add_user(&t.db, "admin@example.com", Role::Admin, Status::Active).await,
            Role::Admin,
        );
        let member_id = add_user(&t.db, "m@example.com", Role::Member, Status::Active).await;
        let edit = |member_budget: &str| TeamInput {
            name: "Research".into(),
            member_budget: Some(member_budget.into()),
            ..TeamInput::default()
        };
        let team = teams::create(&t.db, &owner, &edit("25")).await.unwrap();
        for who in [owner_id, member_id] {
            teams::assign(&t.db, &owner, who, Some(team.id))
                .await
                .unwrap();
        }

        let refused = teams::edit(&t.db, &admin, team.id, &edit("0")).await;
        assert!(is_forbidden(refused), "{}", t.kind);
        let refused = teams::edit(&t.db, &admin, team.id, &edit("")).await;
        assert!(is_forbidden(refused), "{}", t.kind);
        let listed = team_members::members(&t.db, &owner, team.id).await.unwrap();
        let owners = listed.iter().find(|m| m.id == owner_id).unwrap();
        assert_eq!(
            owners.budget.limit(),
            Some(Money(25 * DOLLAR)),
            "{}",
            t.kind
        );

        // Renaming leaves the default as it is, so an Admin may.
        let renamed = TeamInput {
            name: "Research Lab".into(),
            member_budget: None,
            ..TeamInput::default()
        };
        teams::edit(&t.db, &admin, team.id, &renamed).await.unwrap();
        // With a budget of their own the default no longer binds the Owner: the Admin may.
        team_members::set_budget(&t.db, &owner, team.id, owner_id, "100")
            .await
            .unwrap();
        let changed = teams::edit(&t.db, &admin, team.id, &edit("0"))
            .await
            .unwrap();
        assert_eq!(changed.member_budget, Some(Money::ZERO), "{}", t.kind);
        t.finish().await;
    }
}

/// Adding someone to a team from its Members list answers them as they now stand: the budget of
/// their own they had in their old team has ended.
#[tokio::test]
async fn a_member_added_from_another_team_is_answered_without_their_old_budget() {
    for t in databases().await {
        let owner = actor(
            add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await,
            Role::Owner,
        );
        let team = |name: &str| TeamInput {
            name: name.into(),
            ..TeamInput::default()
        };
        let red = teams::create(&t.db, &owner, &team("Red")).await.unwrap().id;
        let blue = teams::create(&t.db, &owner, &team("Blue"))
            .await
            .unwrap()
            .id;
        let member = add_user(&t.db, "m@example.com", Role::Member, Status::Active).await;
        teams::assign(&t.db, &owner, member, Some(red))
            .await
            .unwrap();
        team_members::set_budget(&t.db, &owner, red, member, "30")
            .await
            .unwrap();

        let added = team_members::add(&t.db, &owner, blue, "m@example.com")
            .await
            .unwrap();
        assert_eq!(added.budget.own, None, "{}", t.kind);
        let listed = team_members::members(&t.db, &owner, blue).await.unwrap();
        assert_eq!(listed[0].budget.own, None, "{}", t.kind);
        t.finish().await;
    }
}
