//! On PostgreSQL, every move of the access epoch (migration `m20261127_000004`) is also announced
//! on the channel `tollgate_access_epoch`, with the new value, when its transaction commits: the
//! gateway's processes `LISTEN` there instead of polling the epoch every few milliseconds
//! (`service/access_epoch.rs`). SQLite has no notifications and keeps the poll: nothing to do.

use super::sql::{sql_down, sql_up};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &[&str] = &[
    "CREATE FUNCTION notify_access_epoch() RETURNS trigger LANGUAGE plpgsql AS \
     $$ BEGIN PERFORM pg_notify('tollgate_access_epoch', NEW.value::text); RETURN NULL; END $$",
    "CREATE TRIGGER access_epoch_notify AFTER UPDATE ON access_epoch \
     FOR EACH ROW EXECUTE FUNCTION notify_access_epoch()",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS access_epoch_notify ON access_epoch",
    "DROP FUNCTION IF EXISTS notify_access_epoch()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql_up(m, &[], POSTGRES_UP, &[]).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql_down(m, POSTGRES_DOWN, &[], &[]).await
    }
}
