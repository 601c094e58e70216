//! API keys on both databases: issue, list, revoke, expiry, and key authentication refusing
//! revoked and expired keys, suspended owners and deleted teams.

use crate::support::{actor, add_user, databases};
use chrono::{Duration, Utc};
use domain::entity::{api_key, audit_entry, team, user};
use domain::keys::{KeyBlock, KeyQuery, KeyScope, KeyStatus};
use domain::money::Money;
use domain::secret::Secret;
use domain::service::keys::{self, IssueInput, KeyRefused};
use domain::service::{teams, users};
use domain::{Error, Role, Status, TeamId, UserId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};

fn named(name: &str) -> IssueInput {
    IssueInput {
        name: name.into(),
        ..IssueInput::default()
    }
}

async fn add_team(db: &DatabaseConnection, name: &str, limit_usd: Option<i64>) -> TeamId {
    let t = team::ActiveModel {
        name: Set(name.into()),
        name_normalized: Set(name.to_lowercase()),
        description: Set(String::new()),
        monthly_limit_micros: Set(limit_usd.map(|d| d * 1_000_000)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    TeamId(t.id)
}

async fn join(db: &DatabaseConnection, who: UserId, team: TeamId) {
    let mut u: user::ActiveModel = user::Entity::find_by_id(who.0)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .into();
    u.team_id = Set(Some(team.0));
    u.update(db).await.unwrap();
}

fn forbidden(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Forbidden(message)) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_key_is_shown_once_stored_hashed_and_revoked_keys_stay_listed() {
    for t in databases().await {
        let owner_id = add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await;
        let owner = actor(owner_id, Role::Owner);
        let issued = keys::issue(&t.db, &owner, named("  CI bot "))
            .await
            .unwrap();
        assert!(
            issued.secret.starts_with("tg_") && issued.secret.len() == 46,
            "{}",
            t.kind
        );
        assert_eq!(issued.key.name, "CI bot");
        assert_eq!(issued.key.prefix, issued.secret[..11]);
        assert_eq!(
            issued.key.team, None,
            "an Owner without a team issues a key with no team"
        );
        assert_eq!(issued.key.status, KeyStatus::Active);

        let stored = api_key::Entity::find().one(&t.db).await.unwrap().unwrap();
        assert_eq!(
            stored.secret_hash,
            Secret::new(issued.secret.clone()).digest()
        );
        assert!(!stored.secret_hash.contains(&issued.secret[3..]));

        let auth = keys::authenticate(&t.db, &Secret::new(issued.secret.clone()))
            .await
            .unwrap();
        assert_eq!(
            (auth.user, auth.team, auth.team_limit),
            (owner_id, None, None)
        );
        assert_eq!(
            keys::authenticate(&t.db, &Secret::new("tg_not-a-key")).await,
            Err(KeyRefused::Unknown)
        );

        let revoked = keys::revoke(&t.db, &owner, issued.key.id).await.unwrap();
        assert_eq!(revoked.status, KeyStatus::Revoked);
        let again = keys::revoke(&t.db, &owner, issued.key.id).await.unwrap();
        assert_eq!(again, revoked, "revoking twice changes nothing");
        assert_eq!(
            keys::authenticate(&t.db, &Secret::new(issued.secret.clone())).await,
            Err(KeyRefused::Revoked)
        );
        let mine = keys::list(&t.db, &owner, &KeyQuery::default())
            .await
            .unwrap();
        assert_eq!(mine.rows.len(), 1);
        assert_eq!(mine.rows[0].status, KeyStatus::Revoked);
        let only_active = KeyQuery {
            status: Some(KeyStatus::Active),
            ..KeyQuery::default()
        };
        assert_eq!(
            keys::list(&t.db, &owner, &only_active)
                .await
                .unwrap()
                .matching,
            0
        );

        let logged: Vec<String> = audit_entry::Entity::find()
            .all(&t.db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            logged
                .iter()
                .filter(|a| a.starts_with("key."))
                .collect::<Vec<_>>(),
            ["key.issue", "key.revoke"]
        );
        let name_error = keys::issue(&t.db, &owner, named("   ")).await;
        assert!(matches!(name_error, Err(Error::Validation { ref field, .. }) if field == "name"));
        t.finish().await;
    }
}

#[tokio::test]
async fn members_issue_within_their_team_and_revoke_only_their_own() {
    for t in databases().await {
        let owner = actor(
            add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await,
            Role::Owner,
        );
        let admin = actor(
            add_user(&t.db, "admin@example.com", Role::Admin, Status::Active).await,
            Role::Admin,
        );
        let member_id = add_user(&t.db, "member@example.com", Role::Member, Status::Active).await;
        let member = actor(member_id, Role::Member);
        let viewer = actor(
            add_user(&t.db, "viewer@example.com", Role::Viewer, Status::Active).await,
            Role::Viewer,
        );
        let (red, blue) = (
            add_team(&t.db, "Red", Some(100)).await,
            add_team(&t.db, "Blue", None).await,
        );

        let no_team = forbidden(keys::issue(&t.db, &member, named("k")).await);
        assert!(no_team.contains("not in a team"), "{}: {no_team}", t.kind);
        join(&t.db, member_id, red).await;
        let key = keys::issue(&t.db, &member, named("mine")).await.unwrap();
        assert_eq!(key.key.team.as_ref().map(|t| t.0), Some(red));
        let auth = keys::authenticate(&t.db, &Secret::new(key.secret.clone()))
            .await
            .unwrap();
        assert_eq!(auth.team_limit, Some(Money::from_micros(100_000_000)));
        let elsewhere = IssueInput {
            team: Some(blue),
            ..named("sneaky")
        };
        assert_eq!(
            forbidden(keys::issue(&t.db, &member, elsewhere.clone()).await),
            "Members issue keys only within their own team."
        );
        assert!(
            keys::issue(&t.db, &admin, elsewhere).await.is_ok(),
            "Admins pick any team"
        );
        forbidden(keys::issue(&t.db, &viewer, named("v")).await);

        let owners_key = keys::issue(&t.db, &owner, named("owner's")).await.unwrap();
        forbidden(keys::revoke(&t.db, &member, owners_key.key.id).await);
        assert_eq!(
            keys::authenticate(&t.db, &Secret::new(owners_key.secret))
                .await
                .map(|_| ()),
            Ok(()),
            "a refused revoke leaves the key working"
        );
        keys::revoke(&t.db, &admin, key.key.id).await.unwrap();

        let all = KeyQuery {
            scope: KeyScope::All,
            ..KeyQuery::default()
        };
        forbidden(keys::list(&t.db, &member, &all).await);
        let everyone = keys::list(&t.db, &admin, &all).await.unwrap();
        assert_eq!(everyone.matching, 3);
        let reds = KeyQuery {
            team: Some(red),
            ..all.clone()
        };
        assert_eq!(keys::list(&t.db, &owner, &reds).await.unwrap().matching, 1);
        let by_prefix = KeyQuery {
            search: key.key.prefix[..8].to_uppercase(),
            ..all
        };
        assert_eq!(
            keys::list(&t.db, &owner, &by_prefix).await.unwrap().rows[0].id,
            key.key.id
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn expired_keys_suspended_owners_and_deleted_teams_are_refused() {
    for t in databases().await {
        let owner = actor(
            add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await,
            Role::Owner,
        );
        let member_id = add_user(&t.db, "member@example.com", Role::Member, Status::Active).await;
        let member = actor(member_id, Role::Member);
        let red = add_team(&t.db, "Red", None).await;
        join(&t.db, member_id, red).await;

        let today = Utc::now().date_naive().format("%Y-%m-%d").to_string();
        let dated = IssueInput {
            expires_on: today,
            ..named("today")
        };
        let key = keys::issue(&t.db, &member, dated).await.unwrap();
        assert_eq!(
            key.key.status,
            KeyStatus::Active,
            "{}: works through today",
            t.kind
        );
        let past = IssueInput {
            expires_on: "2001-01-01".into(),
            ..named("past")
        };
        assert!(matches!(
            keys::issue(&t.db, &member, past).await,
            Err(Error::Validation { ref field, .. }) if field == "expires"
        ));
        let mut stored: api_key::ActiveModel = api_key::Entity::find_by_id(key.key.id.0)
            .one(&t.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        stored.expires_at = Set(Some(Utc::now() - Duration::minutes(1)));
        stored.update(&t.db).await.unwrap();
        let secret = Secret::new(key.secret);
        assert_eq!(
            keys::authenticate(&t.db, &secret).await,
            Err(KeyRefused::Expired)
        );
        let listed = keys::list(&t.db, &member, &KeyQuery::default())
            .await
            .unwrap();
        assert_eq!(listed.rows[0].status, KeyStatus::Expired);

        let live = Secret::new(
            keys::issue(&t.db, &member, named("live"))
                .await
                .unwrap()
                .secret,
        );
        users::suspend(&t.db, &owner, member_id).await.unwrap();
        assert_eq!(
            keys::authenticate(&t.db, &live).await,
            Err(KeyRefused::OwnerInactive)
        );
        users::reactivate(&t.db, &owner, member_id).await.unwrap();
        assert!(
            keys::authenticate(&t.db, &live).await.is_ok(),
            "usable again after reactivation"
        );

        let removed = teams::delete(&t.db, &owner, red).await.unwrap();
        // Both of the team's keys: the live one and the expired one.
        assert_eq!((removed.members_unassigned, removed.keys_revoked), (1, 2));
        assert_eq!(
            keys::authenticate(&t.db, &live).await,
            Err(KeyRefused::Revoked)
        );
        assert_eq!(
            api_key::Entity::find()
                .filter(api_key::Column::Name.eq("live"))
                .count(&t.db)
                .await
                .unwrap(),
            1,
            "a revoked key stays listed"
        );

        let another = Secret::new(
            keys::issue(&t.db, &owner, named("o2"))
                .await
                .unwrap()
                .secret,
        );
        let victim = add_user(&t.db, "gone@example.com", Role::Admin, Status::Active).await;
        let victim_key = keys::issue(&t.db, &actor(victim, Role::Admin), named("v"))
            .await
            .unwrap();
        users::delete(&t.db, &owner, victim).await.unwrap();
        assert_eq!(
            keys::authenticate(&t.db, &Secret::new(victim_key.secret)).await,
            Err(KeyRefused::Revoked),
            "deleting a user revokes their keys"
        );
        assert!(keys::authenticate(&t.db, &another).await.is_ok());
        t.finish().await;
    }
}

#[tokio::test]
async fn remembered_keys_are_checked_again_when_access_changes() {
    use domain::service::access_epoch::{self, AccessWatch};
    use domain::service::key_cache::KeyCache;
    use std::sync::Arc;
    for t in databases().await {
        let owner = actor(
            add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await,
            Role::Owner,
        );
        let member_id = add_user(&t.db, "member@example.com", Role::Member, Status::Active).await;
        join(&t.db, member_id, add_team(&t.db, "Red", Some(10)).await).await;
        let issued = keys::issue(&t.db, &actor(member_id, Role::Member), named("k"))
            .await
            .unwrap();
        let secret = Secret::new(issued.secret);
        // A watch nobody polls: only `changed_here` moves it.
        let watch = Arc::new(AccessWatch::default());
        let cache = KeyCache::new(Arc::clone(&watch));
        let first = cache.authenticate(&t.db, &secret, Utc::now()).await;
        assert!(first.answer.is_ok());

        let epoch = access_epoch::current(&t.db).await.unwrap();
        users::suspend(&t.db, &owner, member_id).await.unwrap();
        assert!(
            access_epoch::current(&t.db).await.unwrap() > epoch,
            "{}: the trigger moved the epoch",
            t.kind
        );
        // Remembered while the watch stands still…
        let remembered = cache.authenticate(&t.db, &secret, Utc::now()).await;
        assert!(remembered.answer.is_ok() && !remembered.access_changed);
        // …checked again once it moves.
        watch.changed_here();
        let checked = cache.authenticate(&t.db, &secret, Utc::now()).await;
        assert_eq!(checked.answer, Err(KeyRefused::OwnerInactive), "{}", t.kind);
        assert!(checked.access_changed);

        // A polled watch sees the database's epoch move without being told.
        let polled = Arc::new(AccessWatch::default());
        polled.watch(t.db.clone());
        tokio::time::sleep(access_epoch::POLL_EVERY * 4).await;
        let before = polled.version();
        users::reactivate(&t.db, &owner, member_id).await.unwrap();
        tokio::time::sleep(access_epoch::POLL_EVERY * 4).await;
        assert!(polled.version() > before, "{}", t.kind);
        t.finish().await;
    }
}

/// The Roles table (docs/architecture.md) at key use: Members use keys only within their own team, Viewers
/// use none. A role change or a team change applies to the owner's existing keys at once, and
/// moves the access epoch (so other processes forget what they remembered).
#[tokio::test]
async fn keys_follow_their_owners_role_and_team() {
    use domain::service::access_epoch;
    for t in databases().await {
        let owner = actor(
            add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await,
            Role::Owner,
        );
        let admin_id = add_user(&t.db, "admin@example.com", Role::Admin, Status::Active).await;
        let admin = actor(admin_id, Role::Admin);
        let (red, blue) = (
            add_team(&t.db, "Red", Some(100)).await,
            add_team(&t.db, "Blue", None).await,
        );
        let loose = Secret::new(
            keys::issue(&t.db, &admin, named("no team"))
                .await
                .unwrap()
                .secret,
        );
        let in_red = IssueInput {
            team: Some(red),
            ..named("red")
        };
        let red_key = Secret::new(keys::issue(&t.db, &admin, in_red).await.unwrap().secret);
        assert!(
            keys::authenticate(&t.db, &loose).await.is_ok(),
            "{}",
            t.kind
        );
        assert!(keys::authenticate(&t.db, &red_key).await.is_ok());

        let epoch = access_epoch::current(&t.db).await.unwrap();
        users::change_role(&t.db, &owner, admin_id, Role::Member)
            .await
            .unwrap();
        let after_role = access_epoch::current(&t.db).await.unwrap();
        assert!(
            after_role > epoch,
            "{}: a role change moves the epoch",
            t.kind
        );
        assert_eq!(
            keys::authenticate(&t.db, &loose).await,
            Err(KeyRefused::OutsideOwnersTeam),
            "{}: a Member's key outside any team is refused",
            t.kind
        );
        assert_eq!(
            keys::authenticate(&t.db, &red_key).await,
            Err(KeyRefused::OutsideOwnersTeam),
            "{}: a Member without a team uses no team's key",
            t.kind
        );

        teams::assign(&t.db, &owner, admin_id, Some(red))
            .await
            .unwrap();
        assert!(
            access_epoch::current(&t.db).await.unwrap() > after_role,
            "{}: a team change moves the epoch",
            t.kind
        );
        assert!(
            keys::authenticate(&t.db, &red_key).await.is_ok(),
            "{}: in Red, Red's key works",
            t.kind
        );
        assert_eq!(
            keys::authenticate(&t.db, &loose).await,
            Err(KeyRefused::OutsideOwnersTeam)
        );
        teams::assign(&t.db, &owner, admin_id, Some(blue))
            .await
            .unwrap();
        assert_eq!(
            keys::authenticate(&t.db, &red_key).await,
            Err(KeyRefused::OutsideOwnersTeam),
            "{}: moved to Blue, Red's key stops",
            t.kind
        );

        teams::assign(&t.db, &owner, admin_id, Some(red))
            .await
            .unwrap();
        users::change_role(&t.db, &owner, admin_id, Role::Viewer)
            .await
            .unwrap();
        assert_eq!(
            keys::authenticate(&t.db, &red_key).await,
            Err(KeyRefused::OwnerIsViewer),
            "{}: a Viewer's keys do not work, even in their team",
            t.kind
        );
        let theirs = KeyQuery {
            scope: KeyScope::All,
            user: Some(admin_id),
            ..KeyQuery::default()
        };
        let listed = keys::list(&t.db, &owner, &theirs).await.unwrap().rows;
        assert_eq!(listed.len(), 2);
        assert!(
            listed
                .iter()
                .all(|k| k.blocked == Some(KeyBlock::OwnerIsViewer)),
            "{}: the list says why they are refused: {listed:?}",
            t.kind
        );

        users::change_role(&t.db, &owner, admin_id, Role::Member)
            .await
            .unwrap();
        let listed = keys::list(&t.db, &owner, &theirs).await.unwrap().rows;
        let blocked = |name: &str| listed.iter().find(|k| k.name == name).unwrap().blocked;
        assert_eq!(blocked("red"), None, "{}", t.kind);
        assert_eq!(blocked("no team"), Some(KeyBlock::OutsideOwnersTeam));

        users::change_role(&t.db, &owner, admin_id, Role::Admin)
            .await
            .unwrap();
        assert!(
            keys::authenticate(&t.db, &loose).await.is_ok(),
            "{}: promoted back, every key works again",
            t.kind
        );
        assert!(keys::authenticate(&t.db, &red_key).await.is_ok());
        t.finish().await;
    }
}
