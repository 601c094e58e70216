//! Teams on both databases: create and edit with their refusals (nothing half-written), assigning
//! people, and a team's figures read from the usage aggregates.

use crate::support::{actor, add_user, databases};
use chrono::Utc;
use domain::budget::BudgetBand;
use domain::entity::{team, user};

use domain::money::Money;
use domain::service::teams;
use domain::service::usage::{self, Metered, Served};
use domain::teams::TeamInput;
use domain::{Error, KeyId, Role, Status};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

fn input(name: &str, limit: &str) -> TeamInput {
    TeamInput {
        name: name.into(),
        description: String::new(),
        limit: limit.into(),
        ..TeamInput::default()
    }
}

fn field_error<T: std::fmt::Debug>(result: Result<T, Error>, field: &str) -> String {
    match result {
        Err(Error::Validation { field: f, message }) if f == field => message,
        other => panic!("expected an error on {field}, got {other:?}"),
    }
}

#[tokio::test]
async fn teams_are_created_and_edited_and_bad_input_writes_nothing() {
    for t in databases().await {
        let admin = actor(
            add_user(&t.db, "admin@example.com", Role::Admin, Status::Active).await,
            Role::Admin,
        );
        let member = actor(
            add_user(&t.db, "m@example.com", Role::Member, Status::Active).await,
            Role::Member,
        );
        let platform = teams::create(&t.db, &admin, &input("  Platform ", "1,500.50"))
            .await
            .unwrap();
        assert_eq!(platform.name, "Platform", "{}", t.kind);
        assert_eq!(
            platform.limit.map(|l| l.to_string()),
            Some("$1,500.50".into())
        );
        let open = teams::create(&t.db, &admin, &input("Research", ""))
            .await
            .unwrap();
        assert_eq!(open.limit, None, "blank is no limit");

        assert_eq!(
            field_error(
                teams::create(&t.db, &admin, &input("PLATFORM", "")).await,
                "name"
            ),
            "A team with this name already exists."
        );
        // Spacing does not make another name: runs of spaces inside are one space.
        let data = teams::create(&t.db, &admin, &input("Data    Lab", ""))
            .await
            .unwrap();
        assert_eq!(data.name, "Data Lab", "{}", t.kind);
        assert_eq!(
            field_error(
                teams::create(&t.db, &admin, &input("data  lab", "")).await,
                "name"
            ),
            "A team with this name already exists.",
            "{}",
            t.kind
        );
        assert_eq!(
            field_error(
                teams::create(&t.db, &admin, &input("Ops", "-5")).await,
                "limit"
            ),
            "The amount cannot be negative."
        );
        field_error(
            teams::create(&t.db, &admin, &input("Ops", "12.345")).await,
            "limit",
        );
        field_error(
            teams::create(&t.db, &admin, &input("Ops", "ten")).await,
            "limit",
        );
        field_error(
            teams::create(&t.db, &admin, &input("   ", "")).await,
            "name",
        );
        let long = TeamInput {
            description: "x".repeat(501),
            ..input("Ops", "")
        };
        field_error(teams::create(&t.db, &admin, &long).await, "description");
        assert!(matches!(
            teams::create(&t.db, &member, &input("Ops", "")).await,
            Err(Error::Forbidden(_))
        ));
        assert_eq!(
            team::Entity::find().count(&t.db).await.unwrap(),
            3,
            "refusals wrote nothing"
        );

        let renamed = teams::edit(&t.db, &admin, open.id, &input("Research & Dev", "0"))
            .await
            .unwrap();
        assert_eq!(
            (renamed.name.as_str(), renamed.limit),
            ("Research & Dev", Some(Money::ZERO))
        );
        assert_eq!(
            renamed.band(),
            Some(BudgetBand::of(Money::ZERO, Money::ZERO))
        );
        field_error(
            teams::edit(&t.db, &admin, open.id, &input("platform", "")).await,
            "name",
        );
        let kept = teams::row(&t.db, open.id).await.unwrap();
        assert_eq!(
            kept.name, "Research & Dev",
            "a refused edit leaves the team as it was"
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn members_and_this_months_figures_come_from_the_data() {
    for t in databases().await {
        let owner = actor(
            add_user(&t.db, "o@example.com", Role::Owner, Status::Active).await,
            Role::Owner,
        );
        let person = add_user(&t.db, "p@example.com", Role::Member, Status::Active).await;
        let red = teams::create(&t.db, &owner, &input("Red", "10"))
            .await
            .unwrap();
        teams::assign(&t.db, &owner, person, Some(red.id))
            .await
            .unwrap();
        assert!(matches!(
            teams::assign(&t.db, &actor(person, Role::Member), person, None).await,
            Err(Error::Forbidden(_))
        ));
        for cents in [300, 450] {
            usage::record(
                &t.db,
                &Metered {
                    key: KeyId(1),
                    user: person,
                    team: Some(red.id),
                    cost: Money::from_micros(cents * 10_000),
                    at: Utc::now(),
                    served: Served::default(),
                },
            )
            .await
            .unwrap();
        }
        let row = teams::row(&t.db, red.id).await.unwrap();
        assert_eq!(
            (row.members, row.spend.to_string(), row.requests),
            (1, "$7.50".to_owned(), 2),
            "{}",
            t.kind
        );
        assert_eq!(row.band(), Some(BudgetBand::Yellow), "75 % of $10");
        let cards = teams::summary(&t.db).await.unwrap();
        assert_eq!(
            (cards.teams, cards.members, cards.spend, cards.requests),
            (1, 1, Money::from_micros(7_500_000), 2)
        );
        teams::assign(&t.db, &owner, person, None).await.unwrap();
        assert_eq!(teams::row(&t.db, red.id).await.unwrap().members, 0);
        t.finish().await;
    }
}

#[tokio::test]
async fn the_list_searches_sorts_by_this_months_figures_and_pages() {
    use domain::list_query::SortDir;
    use domain::teams::{TeamQuery, TeamSort};
    for t in databases().await {
        let owner = actor(
            add_user(&t.db, "o@example.com", Role::Owner, Status::Active).await,
            Role::Owner,
        );
        let person = add_user(&t.db, "p@example.com", Role::Member, Status::Active).await;
        let mut ids = Vec::new();
        for (name, dollars) in [("Alpha", 5), ("Bravo", 40), ("Charlie", 12)] {
            let team = teams::create(&t.db, &owner, &input(name, ""))
                .await
                .unwrap();
            usage::record(
                &t.db,
                &Metered {
                    key: KeyId(1),
                    user: person,
                    team: Some(team.id),
                    cost: Money::from_micros(dollars * 1_000_000),
                    at: Utc::now(),
                    served: Served::default(),
                },
            )
            .await
            .unwrap();
            ids.push(team.id);
        }
        teams::assign(&t.db, &owner, person, Some(ids[2]))
            .await
            .unwrap();
        let names = |page: domain::teams::TeamPage| -> Vec<String> {
            page.rows.into_iter().map(|r| r.name).collect()
        };
        let by_spend = TeamQuery {
            sort: TeamSort::Spend,
            dir: SortDir::Desc,
            ..TeamQuery::default()
        };
        let page = teams::list(&t.db, &owner, &by_spend).await.unwrap();
        assert_eq!(
            page.summary.spend,
            Money::from_micros(57_000_000),
            "{}",
            t.kind
        );
        assert_eq!(names(page), ["Bravo", "Charlie", "Alpha"]);
        let by_members = TeamQuery {
            sort: TeamSort::Members,
            dir: SortDir::Desc,
            ..TeamQuery::default()
        };
        assert_eq!(
            names(teams::list(&t.db, &owner, &by_members).await.unwrap())[0],
            "Charlie"
        );
        let search = TeamQuery {
            search: "HA".into(),
            ..TeamQuery::default()
        };
        let found = teams::list(&t.db, &owner, &search).await.unwrap();
        assert_eq!(
            (found.matching, names(found)),
            (2, vec!["Alpha".to_owned(), "Charlie".to_owned()])
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn members_are_added_by_email_and_removed_and_both_pages_agree() {
    use domain::service::{team_members, users};
    for t in databases().await {
        let admin = actor(
            add_user(&t.db, "admin@example.com", Role::Admin, Status::Active).await,
            Role::Admin,
        );
        let member_id = add_user(&t.db, "Grace@Example.com", Role::Member, Status::Active).await;
        let member = actor(member_id, Role::Member);
        let red = teams::create(&t.db, &admin, &input("Red", ""))
            .await
            .unwrap()
            .id;
        let blue = teams::create(&t.db, &admin, &input("Blue", ""))
            .await
            .unwrap()
            .id;

        let added = team_members::add(&t.db, &admin, red, "  grace@example.COM ")
            .await
            .unwrap();
        assert_eq!(
            (added.id, added.email.as_str()),
            (member_id, "Grace@Example.com")
        );
        let listed = team_members::members(&t.db, &member, red).await.unwrap();
        assert_eq!(listed.len(), 1, "{}", t.kind);
        // The Users page shows the same team.
        let query = domain::users::UserQuery {
            search: "grace".into(),
            ..Default::default()
        };
        let page = users::list(&t.db, &admin, &query).await.unwrap();
        assert_eq!(
            page.rows[0].team,
            Some((red, "Red".to_owned())),
            "{}",
            t.kind
        );

        assert_eq!(
            field_error(
                team_members::add(&t.db, &admin, red, "grace@example.com").await,
                "email"
            ),
            "They are already in this team."
        );
        assert!(
            field_error(
                team_members::add(&t.db, &admin, red, "nobody@example.com").await,
                "email"
            )
            .contains("Invite them")
        );
        assert!(matches!(
            team_members::add(&t.db, &member, blue, "grace@example.com").await,
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            team_members::remove(&t.db, &member, red, member_id).await,
            Err(Error::Forbidden(_))
        ));

        // Adding to another team moves them; removing from the old one is then refused.
        team_members::add(&t.db, &admin, blue, "grace@example.com")
            .await
            .unwrap();
        assert!(
            team_members::members(&t.db, &admin, red)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            team_members::remove(&t.db, &admin, red, member_id).await,
            Err(Error::Conflict(_))
        ));
        team_members::remove(&t.db, &admin, blue, member_id)
            .await
            .unwrap();
        assert!(
            team_members::members(&t.db, &admin, blue)
                .await
                .unwrap()
                .is_empty()
        );
        t.finish().await;
    }
}

/// Teams for the month-sort test: more than two pages.
const TEAMS: u64 = 130;

#[tokio::test]
async fn month_and_member_sorts_page_exactly_like_sorting_every_team() {
    use domain::list_query::PER_PAGE;
    use domain::list_query::SortDir;
    use domain::service::seed;
    use domain::teams::{TeamQuery, TeamRow, TeamSort};
    for t in databases().await {
        let seeded = seed::seed(&t.db, 300, TEAMS).await.unwrap();
        let owner = user::Entity::find()
            .filter(user::Column::Email.eq(seeded.owner_email))
            .one(&t.db)
            .await
            .unwrap()
            .unwrap();
        let owner = actor(domain::UserId(owner.id), Role::Owner);
        let person = add_user(&t.db, "p@example.com", Role::Member, Status::Active).await;
        let all = team::Entity::find().all(&t.db).await.unwrap();
        // Spend on every third team, some tied; a team deleted after spending keeps its
        // history, which must not show (or shift the pages).
        let gone = teams::create(&t.db, &owner, &input("Gone", ""))
            .await
            .unwrap();
        let spenders = all
            .iter()
            .step_by(3)
            .map(|t| domain::TeamId(t.id))
            .chain([gone.id]);
        for (i, team) in spenders.enumerate() {
            for _ in 0..=(i % 4) {
                let cost = Money::from_micros(1_000_000 * (i as i64 % 5));
                let at = Utc::now();
                let metered = Metered {
                    key: KeyId(1),
                    user: person,
                    team: Some(team),
                    cost,
                    at,
                    served: Served::default(),
                };
                usage::record(&t.db, &metered).await.unwrap();
            }
        }
        teams::delete(&t.db, &owner, gone.id).await.unwrap();
        // A request settled after its team was deleted starts a month row for no team.
        let late = Metered {
            key: KeyId(1),
            user: person,
            team: Some(domain::TeamId(999_999)),
            cost: Money::from_micros(9_000_000),
            at: Utc::now(),
            served: Served::default(),
        };
        usage::record(&t.db, &late).await.unwrap();

        let every_page = |query: TeamQuery| {
            let (db, owner) = (&t.db, &owner);
            async move {
                let mut rows: Vec<TeamRow> = Vec::new();
                for page in 1.. {
                    let got = teams::list(db, owner, &query.on_page(page)).await.unwrap();
                    let last = got.rows.len() < PER_PAGE as usize || page == got.pages;
                    rows.extend(got.rows);
                    if last {
                        break;
                    }
                }
                rows
            }
        };
        for sort in [TeamSort::Spend, TeamSort::Requests, TeamSort::Members] {
            for dir in [SortDir::Asc, SortDir::Desc] {
                let rows = every_page(TeamQuery {
                    sort,
                    dir,
                    ..TeamQuery::default()
                })
                .await;
                let figure = |r: &TeamRow| match sort {
                    TeamSort::Spend => r.spend.micros(),
                    TeamSort::Requests => r.requests,
                    _ => r.members as i64,
                };
                let mut want: Vec<(i64, i64)> = rows.iter().map(|r| (figure(r), r.id.0)).collect();
                want.sort();
                if dir == SortDir::Desc {
                    want.reverse();
                }
                let got: Vec<(i64, i64)> = rows.iter().map(|r| (figure(r), r.id.0)).collect();
                assert_eq!(
                    got.len() as u64,
                    TEAMS,
                    "{} {sort:?} {dir:?}: every team once",
                    t.kind
                );
                assert_eq!(got, want, "{} {sort:?} {dir:?}", t.kind);
            }
        }
        // Members are the users in each team, however they got there or left.
        let check_members = || {
            let db = &t.db;
            async move {
                for team in team::Entity::find().all(db).await.unwrap() {
                    let members = user::Entity::find()
                        .filter(user::Column::TeamId.eq(team.id))
                        .count(db)
                        .await
                        .unwrap();
                    let row = teams::row(db, domain::TeamId(team.id)).await.unwrap();
                    assert_eq!(row.members, members, "{}", team.name);
                }
            }
        };
        let (first, second) = (domain::TeamId(all[0].id), domain::TeamId(all[1].id));
        teams::assign(&t.db, &owner, person, Some(first))
            .await
            .unwrap();
        teams::assign(&t.db, &owner, person, Some(second))
            .await
            .unwrap();
        check_members().await;
        domain::service::users::delete(&t.db, &owner, person)
            .await
            .unwrap();
        check_members().await;
        let cards = teams::summary(&t.db).await.unwrap();
        let in_teams = user::Entity::find()
            .filter(user::Column::TeamId.is_not_null())
            .count(&t.db)
            .await
            .unwrap();
        assert_eq!((cards.teams, cards.members), (TEAMS, in_teams));
        t.finish().await;
    }
}

/// An Admin never acts on an Admin or Owner, moving them between teams included — from the
/// Users page or from a team's members alike; the refusal leaves them where they were.
#[tokio::test]
async fn an_admin_moves_only_members_and_viewers_between_teams() {
    use domain::service::team_members;
    for t in databases().await {
        let owner_id = add_user(&t.db, "o@example.com", Role::Owner, Status::Active).await;
        let owner = actor(owner_id, Role::Owner);
        let admin = actor(
            add_user(&t.db, "a@example.com", Role::Admin, Status::Active).await,
            Role::Admin,
        );
        let other_admin = add_user(&t.db, "a2@example.com", Role::Admin, Status::Active).await;
        let member = add_user(&t.db, "m@example.com", Role::Member, Status::Active).await;
        let red = teams::create(&t.db, &owner, &input("Red", "10"))
            .await
            .unwrap();
        let blue = teams::create(&t.db, &owner, &input("Blue", "10"))
            .await
            .unwrap();
        for who in [owner_id, other_admin] {
            teams::assign(&t.db, &owner, who, Some(red.id))
                .await
                .unwrap();
        }
        let team_of = |who: domain::UserId| {
            let db = t.db.clone();
            async move {
                user::Entity::find_by_id(who.0)
                    .one(&db)
                    .await
                    .unwrap()
                    .unwrap()
                    .team_id
            }
        };

        for who in [owner_id, other_admin] {
            for to in [Some(blue.id), None] {
                assert!(
                    matches!(
                        teams::assign(&t.db, &admin, who, to).await,
                        Err(Error::Forbidden(_))
                    ),
                    "{}: an Admin moved {who:?}",
                    t.kind
                );
            }
            assert!(matches!(
                team_members::remove(&t.db, &admin, red.id, who).await,
                Err(Error::Forbidden(_))
            ));
            assert_eq!(team_of(who).await, Some(red.id.0), "{}", t.kind);
        }
        assert!(matches!(
            team_members::add(&t.db, &admin, blue.id, "o@example.com").await,
            Err(Error::Forbidden(_))
        ));
        assert_eq!(team_of(owner_id).await, Some(red.id.0));

        // Members (and Viewers) are theirs to move; Owners move anyone.
        teams::assign(&t.db, &admin, member, Some(blue.id))
            .await
            .unwrap();
        team_members::add(&t.db, &admin, red.id, "m@example.com")
            .await
            .unwrap();
        assert_eq!(team_of(member).await, Some(red.id.0));
        teams::assign(&t.db, &owner, other_admin, Some(blue.id))
            .await
            .unwrap();
        assert_eq!(team_of(other_admin).await, Some(blue.id.0));

        // Deleting a team takes everyone out of it: an Admin may not, while an Admin or Owner
        // is in it; with only Members left, they may (and their own budgets end with it).
        assert!(
            matches!(
                teams::delete(&t.db, &admin, red.id).await,
                Err(Error::Forbidden(_))
            ),
            "{}: an Admin deleted a team with the Owner in it",
            t.kind
        );
        assert_eq!(team_of(owner_id).await, Some(red.id.0), "{}", t.kind);
        assert_eq!(team_of(member).await, Some(red.id.0), "{}", t.kind);
        teams::assign(&t.db, &owner, owner_id, None).await.unwrap();
        team_members::set_budget(&t.db, &admin, red.id, member, "5")
            .await
            .unwrap();
        teams::delete(&t.db, &admin, red.id).await.unwrap();
        let left = user::Entity::find_by_id(member.0)
            .one(&t.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (left.team_id, left.monthly_limit_micros),
            (None, None),
            "{}",
            t.kind
        );
        t.finish().await;
    }
}
