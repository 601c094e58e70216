//! The users list at a size where the indexes matter: searches answered by the search index,
//! the "500+" bound, the team sort's two walks, and cards kept by the tallies — on both databases.

use crate::support::{TestDb, actor, databases};
use domain::entity::user;
use domain::list_query::PER_PAGE;
use domain::list_query::SortDir;
use domain::service::{seed, users};
use domain::users::{SEARCH_COUNT_CAP, UserQuery, UserRow, UserSort};
use domain::{Role, Status, UserId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use std::cmp::Ordering;

const USERS: u64 = 600;

fn search(text: &str) -> UserQuery {
    UserQuery {
        search: text.into(),
        ..UserQuery::default()
    }
}

async fn owner(db: &DatabaseConnection) -> domain::Actor {
    let owner = user::Entity::find()
        .filter(user::Column::Role.eq("owner"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    actor(UserId(owner.id), Role::Owner)
}

/// Every row of the list under `query`, page by page.
async fn every_page(db: &DatabaseConnection, me: &domain::Actor, query: UserQuery) -> Vec<UserRow> {
    let mut rows = Vec::new();
    for page in 1.. {
        let got = users::list(db, me, &query.on_page(page)).await.unwrap();
        rows.extend(got.rows);
        if !got.has_next {
            break;
        }
    }
    rows
}

#[tokio::test]
async fn searches_match_substrings_and_short_searches_match_starts() {
    for t in databases().await {
        seed::seed(&t.db, USERS, 5).await.unwrap();
        let me = owner(&t.db).await;
        let count = |q: UserQuery| {
            let (db, me) = (&t.db, &me);
            async move { users::list(db, me, &q).await.unwrap() }
        };

        let knuth = count(search("  KNUTH ")).await;
        assert!(knuth.matching_exact && knuth.matching > 0, "{}", t.kind);
        assert!(knuth.matching < USERS);
        assert!(knuth.rows.iter().all(|r| {
            r.email.contains("knuth") || r.name.as_deref().is_some_and(|n| n.contains("Knuth"))
        }));
        // The middle of an email, across its punctuation.
        let middle = count(search("h.1")).await;
        assert!(middle.rows.iter().all(|r| r.email.contains("h.1")));
        assert!(middle.matching > 0);

        // Two characters: the start of a name or email, not anywhere.
        let starts = count(search("ow")).await;
        assert_eq!(starts.matching, 1, "only owner1@…: {}", t.kind);
        assert_eq!(
            count(search("ee")).await.matching,
            0,
            "'seed' has 'ee' inside only"
        );
        assert_eq!(count(search("%")).await.matching, 0, "% is a character");
        assert_eq!(count(search("zzz")).await.rows.len(), 0);
        assert_eq!(count(search("\"; DROP")).await.matching, 0);
        t.finish().await;
    }
}

/// What the search and the name/email sorts read (`user_sort_keys`) follows every change to a
/// user's name or email and every delete, in the same write.
#[tokio::test]
async fn searches_follow_a_rename_and_a_delete() {
    for t in databases().await {
        seed::seed(&t.db, USERS, 5).await.unwrap();
        let me = owner(&t.db).await;
        let member = user::Entity::find()
            .filter(user::Column::Role.eq("member"))
            .one(&t.db)
            .await
            .unwrap()
            .unwrap();
        let old_email = member.email_normalized.clone();
        let mut renamed: user::ActiveModel = member.clone().into();
        renamed.name = Set(Some("Zyra Renamed".to_owned()));
        renamed.email = Set("zyra.r@example.org".to_owned());
        renamed.email_normalized = Set("zyra.r@example.org".to_owned());
        renamed.update(&t.db).await.unwrap();

        let ids = |page: domain::users::UserPage| -> Vec<i64> {
            page.rows.iter().map(|r| r.id.0).collect()
        };
        for text in ["zy", "renamed", "zyra.r@"] {
            let found = users::list(&t.db, &me, &search(text)).await.unwrap();
            assert_eq!(ids(found), [member.id], "{} {text}", t.kind);
        }
        let by_old = users::list(&t.db, &me, &search(&old_email)).await.unwrap();
        assert_eq!(
            by_old.matching, 0,
            "{}: the old email no longer matches",
            t.kind
        );
        // Sorted by name descending, "zyra renamed" comes before every seeded name.
        let query = UserQuery {
            dir: SortDir::Desc,
            ..UserQuery::default()
        };
        let first = users::list(&t.db, &me, &query).await.unwrap();
        assert_eq!(first.rows[0].id.0, member.id, "{}", t.kind);

        users::delete(&t.db, &me, UserId(member.id)).await.unwrap();
        let gone = users::list(&t.db, &me, &search("zyra")).await.unwrap();
        assert_eq!((gone.matching, gone.rows.len()), (0, 0), "{}", t.kind);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_search_matching_more_than_the_cap_says_so_and_still_pages() {
    for t in databases().await {
        seed::seed(&t.db, USERS, 5).await.unwrap();
        let me = owner(&t.db).await;
        let all = users::list(&t.db, &me, &search("example")).await.unwrap();
        assert_eq!(
            (
                all.matching,
                all.matching_exact,
                all.rows.len(),
                all.has_next
            ),
            (SEARCH_COUNT_CAP, false, PER_PAGE as usize, true),
            "{}",
            t.kind
        );
        // Paging past the cap reaches every match, in order, once each.
        let rows = every_page(&t.db, &me, search("example")).await;
        assert_eq!(rows.len() as u64, USERS);
        let keys: Vec<String> = rows
            .iter()
            .map(|r| {
                r.name
                    .clone()
                    .unwrap_or_else(|| r.email.clone())
                    .to_lowercase()
            })
            .collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]), "sorted by name");

        // With a role filter the count is exact again when the role is small.
        let owners = UserQuery {
            role: Some(Role::Owner),
            ..search("example")
        };
        let found = users::list(&t.db, &me, &owners).await.unwrap();
        assert_eq!((found.matching, found.matching_exact), (1, true));
        t.finish().await;
    }
}

#[tokio::test]
async fn sorting_by_team_puts_users_without_a_team_last_in_both_directions() {
    for t in databases().await {
        seed::seed(&t.db, USERS, 7).await.unwrap();
        let me = owner(&t.db).await;
        for dir in [SortDir::Asc, SortDir::Desc] {
            let query = UserQuery {
                sort: UserSort::Team,
                dir,
                ..UserQuery::default()
            };
            let rows = every_page(&t.db, &me, query).await;
            assert_eq!(rows.len() as u64, USERS, "{} {dir:?}", t.kind);
            let mut ids: Vec<i64> = rows.iter().map(|r| r.id.0).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len() as u64, USERS, "no row twice");
            let first_teamless = rows.iter().position(|r| r.team.is_none()).unwrap();
            assert!(rows[first_teamless..].iter().all(|r| r.team.is_none()));
            let names: Vec<String> = rows[..first_teamless]
                .iter()
                .map(|r| r.team.clone().unwrap().1.to_lowercase())
                .collect();
            assert!(names.windows(2).all(|w| match dir {
                SortDir::Asc => w[0] <= w[1],
                SortDir::Desc => w[0] >= w[1],
            }));
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn the_cards_stay_exact_through_every_change() {
    for t in databases().await {
        seed::seed(&t.db, 120, 3).await.unwrap();
        let me = owner(&t.db).await;
        let victims: Vec<i64> = user::Entity::find()
            .filter(user::Column::Role.eq("member"))
            .filter(user::Column::Status.eq("active"))
            .all(&t.db)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.id)
            .take(3)
            .collect();
        users::change_role(&t.db, &me, UserId(victims[0]), Role::Admin)
            .await
            .unwrap();
        users::suspend(&t.db, &me, UserId(victims[1]))
            .await
            .unwrap();
        users::delete(&t.db, &me, UserId(victims[2])).await.unwrap();

        let cards = users::summary(&t.db).await.unwrap();
        let counted = |role: Option<&[Role]>, status: Option<Status>| {
            let mut select = user::Entity::find();
            if let Some(roles) = role {
                select = select.filter(user::Column::Role.is_in(roles.iter().copied()));
            }
            if let Some(status) = status {
                select = select.filter(user::Column::Status.eq(status));
            }
            select.count(&t.db)
        };
        assert_eq!(
            cards.total,
            counted(None, None).await.unwrap(),
            "{}",
            t.kind
        );
        assert_eq!(cards.total, 119);
        assert_eq!(
            cards.active,
            counted(None, Some(Status::Active)).await.unwrap()
        );
        assert_eq!(
            cards.admins,
            counted(Some(&[Role::Owner, Role::Admin]), None)
                .await
                .unwrap()
        );
        assert_eq!(
            cards.pending_invites,
            counted(None, Some(Status::Invited)).await.unwrap()
        );
        t.finish().await;
    }
}

/// Users seeded for the bunched-search test: enough that one first letter ("a": Ada, Alan)
/// matches more than the cap.
const MANY: u64 = 4_500;

/// The ids the list must show for `text` (in `role`), sorted as `sort` / `dir` say: every user
/// filtered and sorted in Rust, the way the page describes it.
fn expected_order(
    everyone: &[user::Model],
    text: &str,
    role: Option<Role>,
    sort: UserSort,
    dir: SortDir,
) -> Vec<i64> {
    let name_key = |u: &user::Model| {
        u.name
            .as_ref()
            .map_or(u.email_normalized.clone(), |n| n.to_lowercase())
    };
    let matches = |u: &&user::Model| {
        let found = if text.len() < 3 {
            name_key(u).starts_with(text) || u.email_normalized.starts_with(text)
        } else {
            u.name
                .as_ref()
                .is_some_and(|n| n.to_lowercase().contains(text))
                || u.email_normalized.contains(text)
        };
        found && role.is_none_or(|r| u.role == r)
    };
    let mut expected: Vec<&user::Model> = everyone.iter().filter(matches).collect();
    let in_dir = |o: Ordering| if dir == SortDir::Desc { o.reverse() } else { o };
    expected.sort_by(|a, b| {
        let by_key = match sort {
            UserSort::Email => in_dir(a.email_normalized.cmp(&b.email_normalized)),
            UserSort::Name => in_dir(name_key(a).cmp(&name_key(b))),
            // Never-active users last in both directions.
            _ => match (a.last_active_at, b.last_active_at) {
                (Some(x), Some(y)) => in_dir(x.cmp(&y)),
                (x, y) => x.is_none().cmp(&y.is_none()),
            },
        };
        by_key.then(in_dir(a.id.cmp(&b.id)))
    });
    expected.iter().map(|u| u.id).collect()
}

/// Checks every page of each (search, role, sort, dir) against [`expected_order`]; each must
/// match more than the cap, so the list takes its many-matches paths.
async fn pages_like_sorting_every_match(
    t: &TestDb,
    cases: &[(&str, Option<Role>, UserSort, SortDir)],
) {
    let me = owner(&t.db).await;
    let everyone = user::Entity::find().all(&t.db).await.unwrap();
    for &(text, role, sort, dir) in cases {
        let want = expected_order(&everyone, text, role, sort, dir);
        assert!(
            want.len() as u64 > SEARCH_COUNT_CAP,
            "{text}: {} matches",
            want.len()
        );
        let query = UserQuery {
            role,
            sort,
            dir,
            ..search(text)
        };
        let got: Vec<i64> = every_page(&t.db, &me, query)
            .await
            .iter()
            .map(|r| r.id.0)
            .collect();
        assert_eq!(got, want, "{} {text} {role:?} {sort:?} {dir:?}", t.kind);
    }
}

#[tokio::test]
async fn searches_over_the_cap_page_exactly_like_sorting_every_match() {
    for t in databases().await {
        seed::seed(&t.db, MANY, 5).await.unwrap();
        // "a" sorted by email descending finds its matches only at the end of the order; by
        // name ascending at the start (both: two ranges merged); "seed" matches everyone
        // (walked); "ace" (Grace, Lovelace) is a trigram search, bunched (sorted); by last
        // activity the matches are spread (walked).
        let cases = [
            ("a", None, UserSort::Email, SortDir::Desc),
            ("a", None, UserSort::Name, SortDir::Asc),
            ("a", None, UserSort::Name, SortDir::Desc),
            ("seed", None, UserSort::Email, SortDir::Desc),
            ("ace", None, UserSort::Name, SortDir::Desc),
            ("a", None, UserSort::LastActive, SortDir::Desc),
        ];
        pages_like_sorting_every_match(&t, &cases).await;
        t.finish().await;
    }
}

/// More Members than the list reads role by role (10,000): a role-filtered search is answered
/// from `user_sort_keys`, whose role must follow every role change.
const OVER_THE_ROLE_SCAN: u64 = 15_000;

#[tokio::test]
async fn role_filtered_searches_over_the_role_scan_page_exactly_like_sorting() {
    for t in databases().await {
        seed::seed(&t.db, OVER_THE_ROLE_SCAN, 5).await.unwrap();
        let me = owner(&t.db).await;
        // Move some "grace." users between Member and Viewer, so a stale role would show.
        let graces = user::Entity::find()
            .filter(user::Column::EmailNormalized.starts_with("grace."))
            .filter(user::Column::Role.is_in([Role::Member, Role::Viewer]))
            .all(&t.db)
            .await
            .unwrap();
        for u in graces.iter().take(20) {
            let to = if u.role == Role::Member {
                Role::Viewer
            } else {
                Role::Member
            };
            users::change_role(&t.db, &me, UserId(u.id), to)
                .await
                .unwrap();
        }
        let member = Some(Role::Member);
        let cases = [
            ("gr", member, UserSort::Email, SortDir::Desc),
            ("gr", member, UserSort::Name, SortDir::Asc),
            ("grace", member, UserSort::Name, SortDir::Desc),
            ("grace", member, UserSort::Email, SortDir::Asc),
        ];
        pages_like_sorting_every_match(&t, &cases).await;
        t.finish().await;
    }
}
