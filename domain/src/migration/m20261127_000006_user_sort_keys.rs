//! `user_sort_keys`: each user's name sort key, email and role in a narrow table of their own,
//! kept by triggers in the same transaction as every insert, change and delete of a user.
//!
//! A search matching thousands of users, sorted by name or email, must read each match's sort
//! key. Read from `users`, that is one wide row per match, on a table whose pages the gateway
//! keeps rewriting (last activity); read from here it is a few bytes, and the one- and
//! two-character searches never leave the indexes (each range index holds the other key).
//!
//! - both databases: indexes (name key, id, email, role) and (email, id, name key, role) — a
//!   prefix search is two ranges, each read in order or sorted without touching a row, with or
//!   without a role filter;
//! - PostgreSQL: the search text (name key, newline, email) as a generated column with the
//!   trigram index, moved here from `users` (where `search_text` stays, for filtering rows
//!   while walking a sort index). SQLite's FTS5 table stays on `users`.
//! - PostgreSQL: names and emails sort byte by byte (the "C" collation), as on SQLite: the
//!   users' name and email sort indexes are rebuilt in that collation, and replace the prefix
//!   indexes of `users_list_speed` (the same keys, in the same order).

use super::sql::{sql_down, sql_up};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE: &[&str] = &[
    "CREATE TABLE user_sort_keys (\
       id INTEGER PRIMARY KEY, name_key TEXT NOT NULL, email_key TEXT NOT NULL, \
       role TEXT NOT NULL)",
    "INSERT INTO user_sort_keys (id, name_key, email_key, role) \
     SELECT id, COALESCE(LOWER(name), email_normalized), email_normalized, role FROM users",
    "CREATE INDEX idx_user_sort_keys_name ON user_sort_keys (name_key, id, email_key, role)",
    "CREATE INDEX idx_user_sort_keys_email ON user_sort_keys (email_key, id, name_key, role)",
    "CREATE TRIGGER user_sort_keys_insert AFTER INSERT ON users BEGIN \
       INSERT INTO user_sort_keys (id, name_key, email_key, role) VALUES \
         (new.id, COALESCE(LOWER(new.name), new.email_normalized), new.email_normalized, \
          new.role); \
     END",
    "CREATE TRIGGER user_sort_keys_update AFTER UPDATE OF name, email_normalized, role ON users \
     BEGIN \
       UPDATE user_sort_keys SET \
         name_key = COALESCE(LOWER(new.name), new.email_normalized), \
         email_key = new.email_normalized, role = new.role \
       WHERE id = new.id; \
     END",
    "CREATE TRIGGER user_sort_keys_delete AFTER DELETE ON users BEGIN \
       DELETE FROM user_sort_keys WHERE id = old.id; \
     END",
];

const POSTGRES: &[&str] = &[
    // A newline cannot be typed into the search box, so no search matches across the two.
    "CREATE TABLE user_sort_keys (\
       id BIGINT PRIMARY KEY, name_key TEXT NOT NULL, email_key TEXT NOT NULL, \
       role TEXT NOT NULL, \
       search_text TEXT GENERATED ALWAYS AS (name_key || E'\\n' || email_key) STORED)",
    "INSERT INTO user_sort_keys (id, name_key, email_key, role) \
     SELECT id, COALESCE(LOWER(name), email_normalized), email_normalized, role FROM users",
    "CREATE INDEX idx_user_sort_keys_name \
     ON user_sort_keys ((name_key COLLATE \"C\"), id) INCLUDE (email_key, role)",
    "CREATE INDEX idx_user_sort_keys_email \
     ON user_sort_keys ((email_key COLLATE \"C\"), id) INCLUDE (name_key, role)",
    "CREATE INDEX idx_user_sort_keys_search \
     ON user_sort_keys USING gin (search_text gin_trgm_ops)",
    "CREATE FUNCTION user_sort_keys() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       IF TG_OP = 'DELETE' THEN \
         DELETE FROM user_sort_keys WHERE id = OLD.id; \
       ELSIF TG_OP = 'INSERT' THEN \
         INSERT INTO user_sort_keys (id, name_key, email_key, role) VALUES \
           (NEW.id, COALESCE(LOWER(NEW.name), NEW.email_normalized), NEW.email_normalized, \
            NEW.role); \
       ELSE \
         UPDATE user_sort_keys SET \
           name_key = COALESCE(LOWER(NEW.name), NEW.email_normalized), \
           email_key = NEW.email_normalized, role = NEW.role \
         WHERE id = NEW.id; \
       END IF; \
       RETURN NULL; \
     END $$",
    "CREATE TRIGGER user_sort_keys \
     AFTER INSERT OR DELETE OR UPDATE OF name, email_normalized, role ON users \
     FOR EACH ROW EXECUTE FUNCTION user_sort_keys()",
    "DROP INDEX idx_users_search_trgm",
    "DROP INDEX idx_users_name_prefix",
    "DROP INDEX idx_users_email_prefix",
    "DROP INDEX idx_users_name_sort",
    "CREATE INDEX idx_users_name_sort \
     ON users ((COALESCE(LOWER(name), email_normalized) COLLATE \"C\"), id)",
    "CREATE INDEX idx_users_email_sort ON users ((email_normalized COLLATE \"C\"), id)",
];

const DOWN_SQLITE: &[&str] = &[
    "DROP TRIGGER IF EXISTS user_sort_keys_insert",
    "DROP TRIGGER IF EXISTS user_sort_keys_update",
    "DROP TRIGGER IF EXISTS user_sort_keys_delete",
];

const DOWN_POSTGRES: &[&str] = &[
    "DROP TRIGGER IF EXISTS user_sort_keys ON users",
    "DROP FUNCTION IF EXISTS user_sort_keys()",
    "DROP INDEX IF EXISTS idx_users_email_sort",
    "DROP INDEX IF EXISTS idx_users_name_sort",
    "CREATE INDEX idx_users_name_sort ON users (COALESCE(LOWER(name), email_normalized), id)",
    "CREATE INDEX idx_users_name_prefix ON users \
     ((COALESCE(LOWER(name), email_normalized)) COLLATE \"C\")",
    "CREATE INDEX idx_users_email_prefix ON users ((email_normalized) COLLATE \"C\")",
    "CREATE INDEX idx_users_search_trgm ON users USING gin (search_text gin_trgm_ops)",
];

const DOWN_COMMON: &[&str] = &["DROP TABLE IF EXISTS user_sort_keys"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql_up(m, &[], POSTGRES, SQLITE).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql_down(m, DOWN_POSTGRES, DOWN_SQLITE, DOWN_COMMON).await
    }
}
