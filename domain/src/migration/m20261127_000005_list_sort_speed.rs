//! Sorts that read an index instead of sorting the table:
//!
//! - `teams.member_count`, kept exact by triggers in the same transaction as every change to a
//!   user's team, with an index: the teams list sorts by members and the cards sum members
//!   without counting users per team.
//! - `usage_team_months.team_deleted`, set by triggers when a team is deleted (its months stay as
//!   history) or when a month row is written for a team that no longer exists, and indexes on
//!   (month, team_deleted, figure, team): the teams list walks live teams' spend or requests for
//!   this month in order (`service::teams::month_order`) without looking each team up. The
//!   spend index also holds the requests, so the cards' monthly totals still come from one
//!   index; it replaces `idx_usage_team_months_month`.
//! - PostgreSQL only: users by last activity, most recent first with the never-active last.
//!   PostgreSQL cannot read `DESC NULLS LAST` from an ascending index backwards (SQLite can).
//! - PostgreSQL only: `users.search_text`, the lower-cased name and the email in one generated
//!   column with one trigram index, replacing the two: a search is one index scan and one
//!   `LIKE` per candidate row instead of two of each (SQLite's FTS5 table already holds both).

use super::sql::{sql_down, sql_up};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COMMON: &[&str] = &[
    "ALTER TABLE teams ADD COLUMN member_count BIGINT NOT NULL DEFAULT 0",
    "UPDATE teams SET member_count = \
     (SELECT COUNT(*) FROM users WHERE users.team_id = teams.id)",
    "CREATE INDEX idx_teams_member_count ON teams (member_count, id)",
    "ALTER TABLE usage_team_months ADD COLUMN team_deleted BOOLEAN NOT NULL DEFAULT FALSE",
    "UPDATE usage_team_months SET team_deleted = TRUE \
     WHERE NOT EXISTS (SELECT 1 FROM teams WHERE teams.id = usage_team_months.team_id)",
    "DROP INDEX idx_usage_team_months_month",
    "CREATE INDEX idx_usage_team_months_spend \
     ON usage_team_months (month, team_deleted, spend_micros, team_id, requests)",
    "CREATE INDEX idx_usage_team_months_requests \
     ON usage_team_months (month, team_deleted, requests, team_id)",
];

const SQLITE: &[&str] = &[
    "CREATE TRIGGER teams_member_count_insert AFTER INSERT ON users \
     WHEN new.team_id IS NOT NULL BEGIN \
       UPDATE teams SET member_count = member_count + 1 WHERE id = new.team_id; \
     END",
    "CREATE TRIGGER teams_member_count_delete AFTER DELETE ON users \
     WHEN old.team_id IS NOT NULL BEGIN \
       UPDATE teams SET member_count = member_count - 1 WHERE id = old.team_id; \
     END",
    "CREATE TRIGGER teams_member_count_update AFTER UPDATE OF team_id ON users \
     WHEN old.team_id IS NOT new.team_id BEGIN \
       UPDATE teams SET member_count = member_count - 1 WHERE id = old.team_id; \
       UPDATE teams SET member_count = member_count + 1 WHERE id = new.team_id; \
     END",
    "CREATE TRIGGER usage_team_months_team_deleted AFTER DELETE ON teams BEGIN \
       UPDATE usage_team_months SET team_deleted = TRUE WHERE team_id = old.id; \
     END",
    "CREATE TRIGGER usage_team_months_orphan AFTER INSERT ON usage_team_months \
     WHEN NOT EXISTS (SELECT 1 FROM teams WHERE id = new.team_id) BEGIN \
       UPDATE usage_team_months SET team_deleted = TRUE \
       WHERE team_id = new.team_id AND month = new.month; \
     END",
];

const POSTGRES: &[&str] = &[
    "CREATE INDEX idx_users_last_active_recent \
     ON users (last_active_at DESC NULLS LAST, id DESC)",
    // A newline cannot be typed into the search box, so no search matches across the two.
    "ALTER TABLE users ADD COLUMN search_text TEXT GENERATED ALWAYS AS \
     (COALESCE(LOWER(name), '') || E'\\n' || email_normalized) STORED",
    "CREATE INDEX idx_users_search_trgm ON users USING gin (search_text gin_trgm_ops)",
    "DROP INDEX idx_users_name_trgm",
    "DROP INDEX idx_users_email_trgm",
    "CREATE FUNCTION teams_member_count() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.team_id IS NOT NULL THEN \
         UPDATE teams SET member_count = member_count - 1 WHERE id = OLD.team_id; \
       END IF; \
       IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.team_id IS NOT NULL THEN \
         UPDATE teams SET member_count = member_count + 1 WHERE id = NEW.team_id; \
       END IF; \
       RETURN NULL; \
     END $$",
    "CREATE TRIGGER teams_member_count AFTER INSERT OR DELETE ON users \
     FOR EACH ROW EXECUTE FUNCTION teams_member_count()",
    "CREATE TRIGGER teams_member_count_moved AFTER UPDATE OF team_id ON users \
     FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id) \
     EXECUTE FUNCTION teams_member_count()",
    "CREATE FUNCTION usage_team_months_team_deleted() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       UPDATE usage_team_months SET team_deleted = TRUE WHERE team_id = OLD.id; \
       RETURN NULL; \
     END $$",
    "CREATE TRIGGER usage_team_months_team_deleted AFTER DELETE ON teams \
     FOR EACH ROW EXECUTE FUNCTION usage_team_months_team_deleted()",
    "CREATE FUNCTION usage_team_months_orphan() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       NEW.team_deleted := NOT EXISTS (SELECT 1 FROM teams WHERE id = NEW.team_id); \
       RETURN NEW; \
     END $$",
    "CREATE TRIGGER usage_team_months_orphan BEFORE INSERT ON usage_team_months \
     FOR EACH ROW EXECUTE FUNCTION usage_team_months_orphan()",
];

const DOWN_SQLITE: &[&str] = &[
    "DROP TRIGGER IF EXISTS teams_member_count_insert",
    "DROP TRIGGER IF EXISTS teams_member_count_delete",
    "DROP TRIGGER IF EXISTS teams_member_count_update",
    "DROP TRIGGER IF EXISTS usage_team_months_team_deleted",
    "DROP TRIGGER IF EXISTS usage_team_months_orphan",
];

const DOWN_POSTGRES: &[&str] = &[
    "DROP TRIGGER IF EXISTS teams_member_count ON users",
    "DROP TRIGGER IF EXISTS teams_member_count_moved ON users",
    "DROP FUNCTION IF EXISTS teams_member_count()",
    "DROP TRIGGER IF EXISTS usage_team_months_team_deleted ON teams",
    "DROP FUNCTION IF EXISTS usage_team_months_team_deleted()",
    "DROP TRIGGER IF EXISTS usage_team_months_orphan ON usage_team_months",
    "DROP FUNCTION IF EXISTS usage_team_months_orphan()",
    "DROP INDEX IF EXISTS idx_users_last_active_recent",
    "CREATE INDEX idx_users_name_trgm ON users USING gin (LOWER(name) gin_trgm_ops)",
    "CREATE INDEX idx_users_email_trgm ON users USING gin (email_normalized gin_trgm_ops)",
    "DROP INDEX IF EXISTS idx_users_search_trgm",
    "ALTER TABLE users DROP COLUMN search_text",
];

const DOWN_COMMON: &[&str] = &[
    "DROP INDEX IF EXISTS idx_usage_team_months_requests",
    "DROP INDEX IF EXISTS idx_usage_team_months_spend",
    "CREATE INDEX idx_usage_team_months_month \
     ON usage_team_months (month, spend_micros, requests)",
    "ALTER TABLE usage_team_months DROP COLUMN team_deleted",
    "DROP INDEX IF EXISTS idx_teams_member_count",
    "ALTER TABLE teams DROP COLUMN member_count",
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
