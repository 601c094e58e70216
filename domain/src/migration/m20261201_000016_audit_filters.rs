//! The audit log's filters by who acted and by what kind of thing was acted on, each through an
//! index so they stay fast at a million entries: the lower-cased email and time (`?who=`), and on
//! PostgreSQL the target in byte order and time (`?on=team` reads `team:` up to `team;`; SQLite's
//! index of target and time is in byte order already).

use super::sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql::sql_up(
            m,
            &["CREATE INDEX idx_audit_log_actor_at ON audit_log (lower(actor_email), at)"],
            &["CREATE INDEX idx_audit_log_target_c_at ON audit_log (target COLLATE \"C\", at)"],
            &[],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql::sql_down(
            m,
            &["DROP INDEX IF EXISTS idx_audit_log_target_c_at"],
            &[],
            &["DROP INDEX IF EXISTS idx_audit_log_actor_at"],
        )
        .await
    }
}
