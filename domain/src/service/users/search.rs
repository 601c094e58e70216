//! The users list's search box: a case-insensitive match on name or email, answered by an
//! index on both databases (migration `users_list_speed`).
//!
//! - Three characters or more match anywhere in the name or email: the FTS5 trigram table on
//!   SQLite, the pg_trgm GIN index on `search_text` (name and email, through `LIKE`) on
//!   PostgreSQL.
//! - One or two characters match the start of the name or the email: a range on the name-sort
//!   and email indexes. A trigram index cannot answer a shorter substring, and "any user with an
//!   `a` somewhere" is not a search anyone means.

use crate::entity::user;
use crate::service::escape_like;
use sea_orm::DbBackend;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LikeExpr, Query, SelectStatement, SimpleExpr};

/// What the search box holds, trimmed and lower-cased; `None` when empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Search {
    text: String,
}

/// The shortest search answered by the trigram indexes.
const TRIGRAM: usize = 3;

/// The sort key the name column orders by; invited users have no name and sort by email.
pub(super) const NAME_KEY: &str = "COALESCE(LOWER(users.name), users.email_normalized)";

impl Search {
    pub(super) fn new(raw: &str) -> Option<Self> {
        let text = raw.trim().to_lowercase();
        (!text.is_empty()).then_some(Self { text })
    }

    fn is_prefix(&self) -> bool {
        self.text.chars().count() < TRIGRAM
    }

    /// A filter checked row by row, for walking a sort index (or a small role's rows) when the
    /// search matches too many users for its index to help; on PostgreSQL also what its trigram
    /// index answers.
    pub(super) fn on_rows(&self, backend: DbBackend) -> SimpleExpr {
        let escaped = escape_like(&self.text);
        let like = |column: SimpleExpr, pattern: &str| {
            column.like(LikeExpr::new(pattern.to_owned()).escape('\\'))
        };
        let email = || Expr::col((user::Entity, user::Column::EmailNormalized));
        if self.is_prefix() {
            let pattern = format!("{escaped}%");
            return like(Expr::cust(NAME_KEY), &pattern).or(like(email(), &pattern));
        }
        let pattern = format!("%{escaped}%");
        if backend == DbBackend::Postgres {
            // Name and email in one generated column (migration `list_sort_speed`).
            return like(
                Expr::col((user::Entity, Alias::new("search_text"))),
                &pattern,
            );
        }
        like(Expr::cust("LOWER(users.name)"), &pattern).or(like(email(), &pattern))
    }

    /// The filter on `users` the search indexes answer (not the FTS5 table, which `matches`
    /// joins): ranges on the sort indexes for short searches, `LIKE` for the trigram index on
    /// PostgreSQL.
    fn through_index(&self, backend: DbBackend) -> SimpleExpr {
        if self.is_prefix() {
            self.prefix(backend)
        } else {
            self.on_rows(backend)
        }
    }

    /// The ids of matching users (with `extra` applied), at most `cap + 1` of them: enough to
    /// tell "exactly these" from "more than cap" without reading every match.
    pub(super) fn matches(
        &self,
        backend: DbBackend,
        extra: Option<SimpleExpr>,
        cap: u64,
    ) -> SelectStatement {
        let mut select = Query::select();
        select.column((user::Entity, user::Column::Id));
        if backend == DbBackend::Sqlite && !self.is_prefix() {
            // Driven by the FTS5 matches, joined to users for `extra`.
            select
                .from(fts_table())
                .inner_join(
                    user::Entity,
                    Expr::col((user::Entity, user::Column::Id))
                        .equals((fts_table(), Alias::new("rowid"))),
                )
                .and_where(Expr::cust_with_values(
                    "users_search MATCH ?",
                    [self.fts_query()],
                ));
        } else {
            select
                .from(user::Entity)
                .and_where(self.through_index(backend));
        }
        if let Some(extra) = extra {
            select.and_where(extra);
        }
        select.limit(cap + 1).to_owned()
    }

    /// One- and two-character searches: the name (or, unnamed, the email) or the email starts
    /// with the text. Ranges in byte order, so the plain indexes answer them.
    fn prefix(&self, backend: DbBackend) -> SimpleExpr {
        let (low, high) = (self.text.clone(), successor(&self.text));
        let in_range = |column: &str| {
            let column = if backend == DbBackend::Postgres {
                format!("({column}) COLLATE \"C\"")
            } else {
                column.to_owned()
            };
            Expr::cust(column.clone())
                .gte(low.clone())
                .and(Expr::cust(column).lt(high.clone()))
        };
        in_range(NAME_KEY).or(in_range("users.email_normalized"))
    }

    /// The text as one FTS5 phrase: consecutive trigrams, which is a substring match.
    fn fts_query(&self) -> String {
        format!("\"{}\"", self.text.replace('"', "\"\""))
    }
}

fn fts_table() -> Alias {
    Alias::new("users_search")
}

/// The smallest string above every string that starts with `text`.
fn successor(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    char::MAX.to_string()
}

#[cfg(test)]
mod tests {
    use super::{Search, successor};
    use crate::service::escape_like;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
    }

    #[test]
    fn successor_is_just_above_every_extension() {
        assert_eq!(successor("ab"), "ac");
        assert_eq!(successor("a\u{10FFFF}"), "b");
        assert!(successor("zz").as_str() > "zzzzz");
        assert_eq!(successor("\u{D7FF}"), "\u{E000}");
    }

    #[test]
    fn search_is_trimmed_lowercased_and_empty_is_none() {
        assert_eq!(Search::new("   "), None);
        assert_eq!(Search::new("  GrAce ").unwrap().text, "grace");
        assert!(Search::new("ab").unwrap().is_prefix());
        assert!(!Search::new("abc").unwrap().is_prefix());
    }

    #[test]
    fn quotes_cannot_break_out_of_the_fts_phrase() {
        assert_eq!(
            Search::new("a\"b OR c").unwrap().fts_query(),
            "\"a\"\"b or c\""
        );
    }
}
