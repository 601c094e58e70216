//! The users list's search box: a case-insensitive match on name or email, answered by an
//! index on both databases (migrations `users_list_speed` and `user_sort_keys`).
//!
//! - Three characters or more match anywhere in the name or email: the FTS5 trigram table on
//!   SQLite, the pg_trgm GIN index on `user_sort_keys.search_text` on PostgreSQL.
//! - One or two characters match the start of the name or the email: two ranges, one on each
//!   of `user_sort_keys`' indexes. A trigram index cannot answer a shorter substring, and "any
//!   user with an `a` somewhere" is not a search anyone means.
//!
//! Matches are read from `user_sort_keys` (id, name key, email, role), so finding, filtering
//! by role and sorting thousands of them reads no wide `users` row.

use crate::Role;
use crate::entity::user;
use crate::service::{bytewise, escape_like, successor};
use crate::users::UserSort;
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

/// The narrow table of sort keys (migration `user_sort_keys`).
pub(super) fn keys_table() -> Alias {
    Alias::new("user_sort_keys")
}

/// A column of `user_sort_keys`: `id`, `name_key`, `email_key` or (PostgreSQL) `search_text`.
pub(super) fn keys_column(name: &str) -> Expr {
    Expr::col((keys_table(), Alias::new(name)))
}

/// The `user_sort_keys` column holding the key of a name or email sort; `None` for the others.
pub(super) fn stored_key(sort: UserSort, backend: DbBackend) -> Option<Expr> {
    let column = match sort {
        UserSort::Name => "name_key",
        UserSort::Email => "email_key",
        _ => return None,
    };
    Some(bytewise(backend, keys_column(column)))
}

impl Search {
    pub(super) fn new(raw: &str) -> Option<Self> {
        let text = raw.trim().to_lowercase();
        (!text.is_empty()).then_some(Self { text })
    }

    fn is_prefix(&self) -> bool {
        self.text.chars().count() < TRIGRAM
    }

    /// `column LIKE` the search: its start for one or two characters, anywhere for longer ones
    /// (wildcards in the text escaped).
    fn like(&self, column: Expr) -> Expr {
        let escaped = escape_like(&self.text);
        let pattern = if self.is_prefix() {
            format!("{escaped}%")
        } else {
            format!("%{escaped}%")
        };
        column.like(LikeExpr::new(pattern).escape('\\'))
    }

    /// A filter on `users` checked row by row, for walking a sort index (or a small role's
    /// rows) when the search matches too many users for its index to help.
    pub(super) fn on_rows(&self, backend: DbBackend) -> SimpleExpr {
        let email = Expr::col((user::Entity, user::Column::EmailNormalized));
        if self.is_prefix() {
            return self.like(Expr::cust(NAME_KEY)).or(self.like(email));
        }
        if backend == DbBackend::Postgres {
            // Name and email in one generated column (migration `list_sort_speed`): one `LIKE`.
            return self.like(Expr::col((user::Entity, Alias::new("search_text"))));
        }
        self.like(Expr::cust("LOWER(users.name)"))
            .or(self.like(email))
    }

    /// The same filter on an entry of `user_sort_keys` (whose name key is the lower-cased name,
    /// or the email for invited users), for walking its indexes.
    pub(super) fn on_keys(&self) -> SimpleExpr {
        self.like(keys_column("name_key"))
            .or(self.like(keys_column("email_key")))
    }

    /// The ids of matching users (in `role`, when given), read from `user_sort_keys`, at most
    /// `cap + 1` of them: enough to tell "exactly these" from "more than cap" without reading
    /// every match.
    pub(super) fn matches(
        &self,
        backend: DbBackend,
        role: Option<Role>,
        cap: u64,
    ) -> SelectStatement {
        let mut select = Query::select();
        select.expr(keys_column("id"));
        if backend == DbBackend::Sqlite && !self.is_prefix() {
            // Driven by the FTS5 matches.
            select
                .from(fts_table())
                .inner_join(
                    keys_table(),
                    keys_column("id").equals((fts_table(), Alias::new("rowid"))),
                )
                .and_where(Expr::cust_with_values(
                    "users_search MATCH ?",
                    [self.fts_query()],
                ));
        } else {
            select.from(keys_table());
            match self.ranges(backend) {
                Some([name, email]) => select.and_where(name.or(email)),
                None => select.and_where(self.like(keys_column("search_text"))),
            };
        }
        if let Some(role) = in_role(role) {
            select.and_where(role);
        }
        select.limit(cap + 1).to_owned()
    }

    /// One- and two-character searches: the name key or the email starts with the text, as two
    /// ranges on `user_sort_keys` (in byte order, so the plain indexes answer them); `None` for
    /// longer searches.
    pub(super) fn ranges(&self, backend: DbBackend) -> Option<[SimpleExpr; 2]> {
        if !self.is_prefix() {
            return None;
        }
        let (low, high) = (self.text.clone(), successor(&self.text));
        let in_range = |column: &str| {
            let column = bytewise(backend, keys_column(column));
            column.clone().gte(low.clone()).and(column.lt(high.clone()))
        };
        Some([in_range("name_key"), in_range("email_key")])
    }

    /// The text as one FTS5 phrase: consecutive trigrams, which is a substring match.
    fn fts_query(&self) -> String {
        format!("\"{}\"", self.text.replace('"', "\"\""))
    }
}

/// The role filter on `user_sort_keys`.
pub(super) fn in_role(role: Option<Role>) -> Option<SimpleExpr> {
    role.map(|role| keys_column("role").eq(role))
}

fn fts_table() -> Alias {
    Alias::new("users_search")
}

#[cfg(test)]
mod tests {
    use super::Search;
    use crate::service::escape_like;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
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
