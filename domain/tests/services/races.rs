//! Access rules under concurrency, on both databases: two conflicting actions started at the same
//! moment, many times over. On PostgreSQL writes run at READ COMMITTED, so a rule checked by one
//! transaction could be undone by another committing in between; these tests hold the rules to
//! their word — there is always an active Owner, a key never outlives its team's deletion as an
//! active key without a team, and one token makes one account.

use crate::support::{PASSWORD, actor, add_user, databases};
use domain::entity::{api_key, audit_entry, user};
use domain::secret::Secret;
use domain::service::invites::{self, InviteInput};
use domain::service::keys::{self, IssueInput};
use domain::service::reset::{CONFIRMATION, reset_access_list};
use domain::service::setup::{self, FirstOwner};
use domain::service::{teams, users};
use domain::teams::TeamInput;
use domain::{Error, Role, Status, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

/// How many times each pair of actions is raced.
const ROUNDS: usize = 30;

async fn active_owners(db: &DatabaseConnection) -> u64 {
    user::Entity::find()
        .filter(user::Column::Role.eq(Role::Owner))
        .filter(user::Column::Status.eq(Status::Active))
        .count(db)
        .await
        .unwrap()
}

/// Makes everyone already on the list a Viewer, so a round starts with only its own Owners.
async fn retire_everyone(db: &DatabaseConnection) {
    user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value(Role::Viewer))
        .exec(db)
        .await
        .unwrap();
}

/// Two fresh active Owners, and nobody else an Owner.
async fn two_owners(db: &DatabaseConnection, round: usize) -> (UserId, UserId) {
    retire_everyone(db).await;
    let a = add_user(
        db,
        &format!("a{round}@example.com"),
        Role::Owner,
        Status::Active,
    )
    .await;
    let b = add_user(
        db,
        &format!("b{round}@example.com"),
        Role::Owner,
        Status::Active,
    )
    .await;
    (a, b)
}

/// What one side of a race did: `Ok` or the refusal, with the rows dropped.
fn outcome<T>(result: Result<T, Error>) -> Result<(), Error> {
    result.map(|_| ())
}

/// A role change, a suspension or a deletion of `target` by `by`, both Owners when it starts.
async fn act(
    db: &DatabaseConnection,
    kind: usize,
    by: UserId,
    target: UserId,
) -> Result<(), Error> {
    let me = actor(by, Role::Owner);
    match kind {
        0 => outcome(users::change_role(db, &me, target, Role::Member).await),
        1 => outcome(users::suspend(db, &me, target).await),
        _ => users::delete(db, &me, target).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_owners_demoting_suspending_or_deleting_each_other_always_leave_an_owner() {
    for t in databases().await {
        for round in 0..ROUNDS {
            let (a, b) = two_owners(&t.db, round).await;
            // Both sides the same action, or (every fourth round) two different ones.
            let (kind_a, kind_b) = match round % 4 {
                3 => (round % 3, (round + 1) % 3),
                k => (k, k),
            };
            let (first, second) = tokio::join!(act(&t.db, kind_a, a, b), act(&t.db, kind_b, b, a));
            let owners = active_owners(&t.db).await;
            assert!(
                owners >= 1,
                "{} round {round} ({kind_a}, {kind_b}): no active Owner left; {first:?} {second:?}",
                t.kind
            );
            assert_eq!(
                usize::from(first.is_ok()) + usize::from(second.is_ok()),
                1,
                "{} round {round} ({kind_a}, {kind_b}): exactly one side wins: {first:?} {second:?}",
                t.kind
            );
            for refused in [&first, &second]
                .into_iter()
                .filter_map(|r| r.as_ref().err())
            {
                assert!(
                    matches!(refused, Error::Forbidden(_) | Error::NotFound(_)),
                    "{} round {round}: refused as the rules say, not a failure: {refused:?}",
                    t.kind
                );
            }
        }
        t.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_racing_the_resetting_owners_removal_always_leaves_an_owner() {
    for t in databases().await {
        for round in 0..ROUNDS {
            let (a, b) = two_owners(&t.db, round).await;
            add_user(
                &t.db,
                &format!("m{round}@example.com"),
                Role::Member,
                Status::Active,
            )
            .await;
            let other_side = async {
                if round % 2 == 0 {
                    users::delete(&t.db, &actor(b, Role::Owner), a).await
                } else {
                    outcome(
                        users::change_role(&t.db, &actor(b, Role::Owner), a, Role::Member).await,
                    )
                }
            };
            let resetting = actor(a, Role::Owner);
            let (reset, other) = tokio::join!(
                reset_access_list(&t.db, &resetting, CONFIRMATION),
                other_side
            );
            assert!(
                active_owners(&t.db).await >= 1,
                "{} round {round}: no active Owner left; {reset:?} {other:?}",
                t.kind
            );
            assert_eq!(
                usize::from(reset.is_ok()) + usize::from(other.is_ok()),
                1,
                "{} round {round}: exactly one side wins: {reset:?} {other:?}",
                t.kind
            );
        }
        t.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_issued_while_its_team_is_deleted_never_stays_active_without_it() {
    for t in databases().await {
        let owner = actor(
            add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await,
            Role::Owner,
        );
        let admin = actor(
            add_user(&t.db, "admin@example.com", Role::Admin, Status::Active).await,
            Role::Admin,
        );
        for round in 0..ROUNDS {
            let input = TeamInput {
                name: format!("Team {round}"),
                description: String::new(),
                limit: "10".into(),
                ..TeamInput::default()
            };
            let team = teams::create(&t.db, &owner, &input).await.unwrap().id;
            let issue = IssueInput {
                name: format!("k{round}"),
                team: Some(team),
                ..IssueInput::default()
            };
            let (issued, deleted) = tokio::join!(
                keys::issue(&t.db, &admin, issue),
                teams::delete(&t.db, &owner, team)
            );
            deleted.unwrap_or_else(|e| panic!("{} round {round}: delete: {e:?}", t.kind));
            match issued {
                Ok(key) => assert!(
                    keys::authenticate(&t.db, &Secret::new(key.secret))
                        .await
                        .is_err(),
                    "{} round {round}: a key issued into a deleted team works",
                    t.kind
                ),
                Err(Error::Validation { ref field, .. }) if field == "team" => {}
                Err(other) => panic!("{} round {round}: issue failed: {other:?}", t.kind),
            }
            let loose = api_key::Entity::find()
                .filter(api_key::Column::TeamId.is_null())
                .filter(api_key::Column::RevokedAt.is_null())
                .count(&t.db)
                .await
                .unwrap();
            assert_eq!(
                loose, 0,
                "{} round {round}: an active key was left without its team (no cap)",
                t.kind
            );
        }
        t.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_invite_accepted_twice_at_once_makes_one_account() {
    for t in databases().await {
        let owner = actor(
            add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await,
            Role::Owner,
        );
        for round in 0..ROUNDS {
            let input = InviteInput {
                email: format!("new{round}@example.com"),
                role: Role::Member,
                team: None,
            };
            let invited = invites::invite(&t.db, &owner, input).await.unwrap();
            let password = Secret::new(PASSWORD);
            let (first, second) = tokio::join!(
                invites::accept(&t.db, &invited.token, "First", &password),
                invites::accept(&t.db, &invited.token, "Second", &password)
            );
            assert_eq!(
                usize::from(first.is_ok()) + usize::from(second.is_ok()),
                1,
                "{} round {round}: one token, one acceptance: {first:?} {second:?}",
                t.kind
            );
            assert!(
                matches!(
                    (&first, &second),
                    (Ok(_), Err(Error::NotFound(_))) | (Err(Error::NotFound(_)), Ok(_))
                ),
                "{} round {round}: the second is told the link is used: {first:?} {second:?}",
                t.kind
            );
            let accepted = audit_entry::Entity::find()
                .filter(audit_entry::Column::Action.eq("user.accept_invite"))
                .filter(audit_entry::Column::Target.eq(format!("user:{}", invited.user.id)))
                .count(&t.db)
                .await
                .unwrap();
            assert_eq!(accepted, 1, "{} round {round}", t.kind);
        }
        t.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_setup_link_used_twice_at_once_makes_one_owner() {
    for t in databases().await {
        for round in 0..ROUNDS {
            // Back to a gateway nobody has set up. (Read first: as the first statement of a
            // fresh connection, a DELETE on `users` was seen to fail on the bundled SQLite with
            // "no such table: users"; after a read on the same connection it does not.)
            let txn = domain::db::begin_write(&t.db).await.unwrap();
            user::Entity::find().count(&txn).await.unwrap();
            user::Entity::delete_many().exec(&txn).await.unwrap();
            txn.commit().await.unwrap();
            let token = setup::issue_token(&t.db).await.unwrap().unwrap();
            let owner = |email: String| FirstOwner {
                name: "Ada".into(),
                email,
                password: Secret::new(PASSWORD),
            };
            let (first, second) = tokio::join!(
                setup::complete(&t.db, &token, owner(format!("a{round}@example.com"))),
                setup::complete(&t.db, &token, owner(format!("b{round}@example.com")))
            );
            assert_eq!(
                usize::from(first.is_ok()) + usize::from(second.is_ok()),
                1,
                "{} round {round}: one link, one Owner: {first:?} {second:?}",
                t.kind
            );
            assert_eq!(
                user::Entity::find().count(&t.db).await.unwrap(),
                1,
                "{} round {round}",
                t.kind
            );
        }
        t.finish().await;
    }
}

/// Someone taken out of a team on its Members list while another Admin moves them to a second
/// team: the move lands between the remover's look at the list and its write. They stay in the
/// team they were moved to, and the remover is told they are no longer in the first one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_moved_to_another_team_meanwhile_is_not_taken_out_of_it() {
    use domain::service::team_members;
    for t in databases().await {
        let admin = actor(
            add_user(&t.db, "admin@example.com", Role::Admin, Status::Active).await,
            Role::Admin,
        );
        let team = |name: &str| TeamInput {
            name: name.into(),
            ..TeamInput::default()
        };
        let red = teams::create(&t.db, &admin, &team("Red")).await.unwrap().id;
        let blue = teams::create(&t.db, &admin, &team("Blue"))
            .await
            .unwrap()
            .id;
        let grace = add_user(&t.db, "grace@example.com", Role::Member, Status::Active).await;
        teams::assign(&t.db, &admin, grace, Some(red))
            .await
            .unwrap();

        // The other Admin's move holds the access lock while the removal starts.
        let moving = domain::db::begin_access_write(&t.db).await.unwrap();
        let removing = tokio::spawn({
            let db = t.db.clone();
            async move { team_members::remove(&db, &admin, red, grace).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        user::Entity::update_many()
            .col_expr(user::Column::TeamId, Expr::value(blue.0))
            .filter(user::Column::Id.eq(grace.0))
            .exec(&moving)
            .await
            .unwrap();
        moving.commit().await.unwrap();

        let removed = removing.await.unwrap();
        assert!(
            matches!(removed, Err(Error::Conflict(_))),
            "{}: {removed:?}",
            t.kind
        );
        let now = user::Entity::find_by_id(grace.0)
            .one(&t.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(now.team_id, Some(blue.0), "{}", t.kind);
        t.finish().await;
    }
}
