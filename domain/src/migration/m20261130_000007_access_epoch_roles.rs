//! The access epoch (migration `m20261127_000004`) also moves when a user's role or team
//! changes: since a key works only as its owner's role and team allow (a Member's only in their
//! own team, a Viewer's not at all), such a change can refuse keys another process has
//! remembered as usable, just as a suspension does.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The trigger's name; `bump_access_epoch()` (PostgreSQL) comes from `m20261127_000004`.
const TRIGGER: &str = "access_epoch_users_role_team_changed";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let sql = if m.get_database_backend() == DbBackend::Postgres {
            format!(
                "CREATE TRIGGER {TRIGGER} AFTER UPDATE OF role, team_id ON users \
                 FOR EACH STATEMENT EXECUTE FUNCTION bump_access_epoch()"
            )
        } else {
            // IF NOT EXISTS: the statement may run on a pooled connection whose copy of the
            // schema predates a `down` run on another one, and SQLite answers "already exists"
            // from that copy; with IF NOT EXISTS it checks the schema again before running.
            format!(
                "CREATE TRIGGER IF NOT EXISTS {TRIGGER} AFTER UPDATE OF role, team_id ON users \
                 BEGIN UPDATE access_epoch SET value = value + 1 WHERE id = 1; END"
            )
        };
        m.get_connection()
            .execute_unprepared(&sql)
            .await
            .map(|_| ())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let sql = if m.get_database_backend() == DbBackend::Postgres {
            format!("DROP TRIGGER IF EXISTS {TRIGGER} ON users")
        } else {
            format!("DROP TRIGGER IF EXISTS {TRIGGER}")
        };
        m.get_connection()
            .execute_unprepared(&sql)
            .await
            .map(|_| ())
    }
}
