//! The audit log at a million entries: its kind filter walks an index of the action and time
//! (byte order on both databases, so `key.` … `key/` is a range), and its search box goes
//! through a trigram index — an FTS5 `trigram` table over who, target and detail on SQLite
//! (kept by triggers: the log is append-only, so inserts; deletes for completeness), pg_trgm GIN
//! indexes on the same lower-cased columns on PostgreSQL.

use super::sql::{sql_down, sql_up};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE: &[&str] = &[
    "CREATE INDEX idx_audit_log_action_at ON audit_log (action, at)",
    "CREATE VIRTUAL TABLE audit_search USING fts5(actor_email, target, detail, \
     content='audit_log', content_rowid='id', tokenize='trigram')",
    "INSERT INTO audit_search (audit_search) VALUES ('rebuild')",
    "CREATE TRIGGER audit_search_insert AFTER INSERT ON audit_log BEGIN \
       INSERT INTO audit_search (rowid, actor_email, target, detail) \
       VALUES (new.id, new.actor_email, new.target, new.detail); \
     END",
    "CREATE TRIGGER audit_search_delete AFTER DELETE ON audit_log BEGIN \
       INSERT INTO audit_search (audit_search, rowid, actor_email, target, detail) \
       VALUES ('delete', old.id, old.actor_email, old.target, old.detail); \
     END",
];

const POSTGRES: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX idx_audit_log_action_at ON audit_log ((action COLLATE \"C\"), at)",
    "CREATE INDEX idx_audit_log_actor_trgm ON audit_log USING gin (LOWER(actor_email) gin_trgm_ops)",
    "CREATE INDEX idx_audit_log_target_trgm ON audit_log USING gin (LOWER(target) gin_trgm_ops)",
    "CREATE INDEX idx_audit_log_detail_trgm ON audit_log USING gin (LOWER(detail) gin_trgm_ops)",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS audit_search_insert",
    "DROP TRIGGER IF EXISTS audit_search_delete",
    "DROP TABLE IF EXISTS audit_search",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS idx_audit_log_actor_trgm",
    "DROP INDEX IF EXISTS idx_audit_log_target_trgm",
    "DROP INDEX IF EXISTS idx_audit_log_detail_trgm",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql_up(m, &[], POSTGRES, SQLITE).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql_down(
            m,
            POSTGRES_DOWN,
            SQLITE_DOWN,
            &["DROP INDEX IF EXISTS idx_audit_log_action_at"],
        )
        .await
    }
}
