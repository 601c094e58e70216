//! Every list service takes whatever a caller sends (the lists' server functions take JSON, not
//! just what the pages' URLs produce): a page out of range is clamped, a search past the limit
//! is refused with a message, and per-user key lists are bounded — never a failure or a panic.

use crate::support::{actor, add_user, databases};
use domain::entity::user;
use domain::keys::{KeyQuery, KeyScope};
use domain::list_query::PER_PAGE;
use domain::list_query::SEARCH_MAX;
use domain::service::keys::{self, IssueInput};
use domain::service::{seed, teams, users};
use domain::teams::{TeamQuery, TeamSort};
use domain::users::{UserQuery, UserSort};
use domain::{Error, Role, Status};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// Pages no list has: before the first, and far past the last (past what a database offset holds).
const ODD_PAGES: [u64; 4] = [0, 1_000_000_000, i64::MAX as u64 + 1, u64::MAX];

fn search_refused<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
    match result {
        Err(e @ Error::Validation { .. }) => e
            .message_for("search")
            .unwrap_or_else(|| panic!("a search error: {e:?}")),
        other => panic!("expected a validation error on the search, got {other:?}"),
    }
}

#[tokio::test]
async fn pages_out_of_range_are_clamped_and_long_searches_refused() {
    for t in databases().await {
        // Over the search count cap, so "seed" takes the uncounted path whose page is not
        // bounded by a known last page.
        let seeded = seed::seed(&t.db, 600, 4).await.unwrap();
        let owner = user::Entity::find()
            .filter(user::Column::EmailNormalized.eq(seeded.owner_email))
            .one(&t.db)
            .await
            .unwrap()
            .unwrap();
        let me = actor(domain::UserId(owner.id), Role::Owner);

        for page in ODD_PAGES {
            for (search, sort) in [("", UserSort::Name), ("seed", UserSort::Email)] {
                let query = UserQuery {
                    search: search.into(),
                    sort,
                    page,
                    ..UserQuery::default()
                };
                let got = users::list(&t.db, &me, &query)
                    .await
                    .unwrap_or_else(|e| panic!("{} users page {page} {search:?}: {e:?}", t.kind));
                assert!(got.page >= 1, "{} users page {page}", t.kind);
                if page == 0 {
                    assert_eq!(got.page, 1, "{}: page 0 is the first", t.kind);
                    assert_eq!(got.rows.len() as u64, PER_PAGE);
                }
            }
            for sort in TeamSort::ALL {
                let query = TeamQuery {
                    sort,
                    page,
                    ..TeamQuery::default()
                };
                let got = teams::list(&t.db, &me, &query)
                    .await
                    .unwrap_or_else(|e| panic!("{} teams page {page} {sort:?}: {e:?}", t.kind));
                assert!(got.page >= 1, "{} teams page {page}", t.kind);
            }
            let query = KeyQuery {
                scope: KeyScope::All,
                page,
                ..KeyQuery::default()
            };
            let got = keys::list(&t.db, &me, &query)
                .await
                .unwrap_or_else(|e| panic!("{} keys page {page}: {e:?}", t.kind));
            assert_eq!(got.page, 1, "{} keys page {page}: the only page", t.kind);
        }

        let longest = "a".repeat(SEARCH_MAX);
        let too_long = "a".repeat(10_000);
        let users_query = |search: &str| UserQuery {
            search: search.into(),
            ..UserQuery::default()
        };
        assert!(
            users::list(&t.db, &me, &users_query(&longest))
                .await
                .is_ok()
        );
        let message = search_refused(users::list(&t.db, &me, &users_query(&too_long)).await);
        assert_eq!(
            message,
            format!("Search is at most {SEARCH_MAX} characters."),
            "{}",
            t.kind
        );
        let teams_query = |search: &str| TeamQuery {
            search: search.into(),
            ..TeamQuery::default()
        };
        assert!(
            teams::list(&t.db, &me, &teams_query(&longest))
                .await
                .is_ok()
        );
        search_refused(teams::list(&t.db, &me, &teams_query(&too_long)).await);
        let keys_query = |search: &str| KeyQuery {
            search: search.into(),
            ..KeyQuery::default()
        };
        assert!(keys::list(&t.db, &me, &keys_query(&longest)).await.is_ok());
        search_refused(keys::list(&t.db, &me, &keys_query(&too_long)).await);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_users_expanded_row_lists_a_bounded_number_of_keys() {
    for t in databases().await {
        let owner_id = add_user(&t.db, "owner@example.com", Role::Owner, Status::Active).await;
        let owner = actor(owner_id, Role::Owner);
        for i in 0..PER_PAGE + 5 {
            let input = IssueInput {
                name: format!("k{i}"),
                ..IssueInput::default()
            };
            keys::issue(&t.db, &owner, input).await.unwrap();
        }
        let detail = users::detail(&t.db, &owner, owner_id).await.unwrap();
        assert_eq!(detail.keys.len() as u64, PER_PAGE, "{}", t.kind);
        assert_eq!(
            detail.keys[0].name,
            format!("k{}", PER_PAGE + 4),
            "{}: the newest first",
            t.kind
        );
        t.finish().await;
    }
}
