//! What keeps the users list fast at 100,000 users:
//! - a substring search index: an FTS5 trigram table on SQLite, pg_trgm GIN indexes on
//!   PostgreSQL, plus prefix indexes for one- and two-character searches;
//! - one index per sortable column (name sort is an expression index);
//! - `user_tallies`, the card counts per (role, status), kept exact by triggers in the same
//!   transaction as every change to `users`, so the cards never count the table.

use super::sql::{sql_down, sql_up};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The same on both databases.
const COMMON: &[&str] = &[
    "CREATE INDEX idx_users_name_sort ON users (COALESCE(LOWER(name), email_normalized), id)",
    "CREATE INDEX idx_users_last_active ON users (last_active_at, id)",
    "CREATE INDEX idx_users_status_sort ON users (status, id)",
    "CREATE INDEX idx_users_role_sort ON users \
     ((CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'member' THEN 2 ELSE 3 END), id)",
    "CREATE TABLE user_tallies (role VARCHAR(16) NOT NULL, status VARCHAR(16) NOT NULL, \
     n BIGINT NOT NULL, PRIMARY KEY (role, status))",
    "INSERT INTO user_tallies (role, status, n) SELECT role, status, COUNT(*) FROM users \
     GROUP BY role, status",
];

const SQLITE: &[&str] = &[
    "CREATE VIRTUAL TABLE users_search USING fts5(name, email_normalized, content='users', \
     content_rowid='id', tokenize='trigram')",
    "INSERT INTO users_search (users_search) VALUES ('rebuild')",
    "CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN \
       INSERT INTO users_search (rowid, name, email_normalized) \
       VALUES (new.id, new.name, new.email_normalized); \
     END",
    "CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN \
       INSERT INTO users_search (users_search, rowid, name, email_normalized) \
       VALUES ('delete', old.id, old.name, old.email_normalized); \
     END",
    "CREATE TRIGGER users_search_update AFTER UPDATE OF name, email_normalized ON users BEGIN \
       INSERT INTO users_search (users_search, rowid, name, email_normalized) \
       VALUES ('delete', old.id, old.name, old.email_normalized); \
       INSERT INTO users_search (rowid, name, email_normalized) \
       VALUES (new.id, new.name, new.email_normalized); \
     END",
    "CREATE TRIGGER user_tallies_insert AFTER INSERT ON users BEGIN \
       INSERT INTO user_tallies (role, status, n) VALUES (new.role, new.status, 1) \
       ON CONFLICT (role, status) DO UPDATE SET n = n + 1; \
     END",
    "CREATE TRIGGER user_tallies_delete AFTER DELETE ON users BEGIN \
       UPDATE user_tallies SET n = n - 1 WHERE role = old.role AND status = old.status; \
     END",
    "CREATE TRIGGER user_tallies_update AFTER UPDATE OF role, status ON users BEGIN \
       UPDATE user_tallies SET n = n - 1 WHERE role = old.role AND status = old.status; \
       INSERT INTO user_tallies (role, status, n) VALUES (new.role, new.status, 1) \
       ON CONFLICT (role, status) DO UPDATE SET n = n + 1; \
     END",
];

const POSTGRES: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX idx_users_name_trgm ON users USING gin (LOWER(name) gin_trgm_ops)",
    "CREATE INDEX idx_users_email_trgm ON users USING gin (email_normalized gin_trgm_ops)",
    "CREATE INDEX idx_users_name_prefix ON users \
     ((COALESCE(LOWER(name), email_normalized)) COLLATE \"C\")",
    "CREATE INDEX idx_users_email_prefix ON users ((email_normalized) COLLATE \"C\")",
    "CREATE FUNCTION user_tallies_count() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       IF TG_OP IN ('UPDATE', 'DELETE') THEN \
         UPDATE user_tallies SET n = n - 1 WHERE role = OLD.role AND status = OLD.status; \
       END IF; \
       IF TG_OP IN ('UPDATE', 'INSERT') THEN \
         INSERT INTO user_tallies (role, status, n) VALUES (NEW.role, NEW.status, 1) \
         ON CONFLICT (role, status) DO UPDATE SET n = user_tallies.n + 1; \
       END IF; \
       RETURN NULL; \
     END $$",
    "CREATE TRIGGER user_tallies AFTER INSERT OR DELETE OR UPDATE OF role, status ON users \
     FOR EACH ROW EXECUTE FUNCTION user_tallies_count()",
];

const DOWN_SQLITE: &[&str] = &[
    "DROP TRIGGER IF EXISTS users_search_insert",
    "DROP TRIGGER IF EXISTS users_search_delete",
    "DROP TRIGGER IF EXISTS users_search_update",
    "DROP TRIGGER IF EXISTS user_tallies_insert",
    "DROP TRIGGER IF EXISTS user_tallies_delete",
    "DROP TRIGGER IF EXISTS user_tallies_update",
    "DROP TABLE IF EXISTS users_search",
];

const DOWN_POSTGRES: &[&str] = &[
    "DROP TRIGGER IF EXISTS user_tallies ON users",
    "DROP FUNCTION IF EXISTS user_tallies_count()",
    "DROP INDEX IF EXISTS idx_users_name_trgm",
    "DROP INDEX IF EXISTS idx_users_email_trgm",
    "DROP INDEX IF EXISTS idx_users_name_prefix",
    "DROP INDEX IF EXISTS idx_users_email_prefix",
];

const DOWN_COMMON: &[&str] = &[
    "DROP TABLE IF EXISTS user_tallies",
    "DROP INDEX IF EXISTS idx_users_name_sort",
    "DROP INDEX IF EXISTS idx_users_last_active",
    "DROP INDEX IF EXISTS idx_users_status_sort",
    "DROP INDEX IF EXISTS idx_users_role_sort",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql_up(m, COMMON, POSTGRES, SQLITE).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql_down(m, DOWN_POSTGRES, DOWN_SQLITE, DOWN_COMMON).await
    }
}
