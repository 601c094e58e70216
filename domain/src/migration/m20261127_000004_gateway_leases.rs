//! What lets the gateway admit a request without a database round trip (docs/architecture.md,
//! the hard cap):
//!
//! - `budget_leases` replaces the per-request `reservations`: each process leases a slice of a
//!   team's month (held in `usage_team_months.reserved_micros` like a reservation was) and admits
//!   requests against it in memory. `renewed_at` is its heartbeat; a dead process's lease is
//!   swept. Rows left in `reservations` can only be a stopped process's, so they are released.
//! - `ledger_marks`: how far each process's settlement journal has been written to the database,
//!   so a journal replayed after a crash adds only what was not.
//! - `access_epoch`: one counter that triggers bump whenever something that decides whether a key
//!   may be used, or how much its team may spend, changes — a key revoked, expired, moved or
//!   deleted, a user suspended or deleted, a team's limit changed or the team deleted. The
//!   gateway reads it on every request and drops what it has cached when it moves, so such a
//!   change applies to the very next request, in every process.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_pk_auto, integer, string_len, timestamp_with_time_zone,
};
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LedgerMarks {
    Table,
    Holder,
    WrittenSeq,
}

#[derive(DeriveIden)]
enum BudgetLeases {
    Table,
    Id,
    Holder,
    TeamId,
    Month,
    AmountMicros,
    RenewedAt,
}

/// (trigger name, table, event) for every change that must reach the gateway at once.
const WATCHED: [(&str, &str, &str); 6] = [
    (
        "access_epoch_keys_changed",
        "api_keys",
        "UPDATE OF revoked_at, expires_at, team_id, user_id, secret_hash",
    ),
    ("access_epoch_keys_deleted", "api_keys", "DELETE"),
    ("access_epoch_users_changed", "users", "UPDATE OF status"),
    ("access_epoch_users_deleted", "users", "DELETE"),
    (
        "access_epoch_teams_changed",
        "teams",
        "UPDATE OF monthly_limit_micros",
    ),
    ("access_epoch_teams_deleted", "teams", "DELETE"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let postgres = m.get_database_backend() == DbBackend::Postgres;
        m.create_table(
            Table::create()
                .table(BudgetLeases::Table)
                .col(big_pk_auto(BudgetLeases::Id))
                .col(string_len(BudgetLeases::Holder, 64))
                .col(big_integer(BudgetLeases::TeamId))
                .col(integer(BudgetLeases::Month))
                .col(big_integer(BudgetLeases::AmountMicros))
                .col(timestamp_with_time_zone(BudgetLeases::RenewedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(LedgerMarks::Table)
                .col(string_len(LedgerMarks::Holder, 64).primary_key())
                .col(big_integer(LedgerMarks::WrittenSeq))
                .to_owned(),
        )
        .await?;
        db.execute_unprepared("UPDATE usage_team_months SET reserved_micros = 0")
            .await?;
        db.execute_unprepared("DROP TABLE reservations").await?;
        db.execute_unprepared(
            "CREATE TABLE access_epoch (id INTEGER PRIMARY KEY, value BIGINT NOT NULL)",
        )
        .await?;
        db.execute_unprepared("INSERT INTO access_epoch (id, value) VALUES (1, 0)")
            .await?;
        let bump = "UPDATE access_epoch SET value = value + 1 WHERE id = 1";
        if postgres {
            db.execute_unprepared(&format!(
                "CREATE FUNCTION bump_access_epoch() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN {bump}; RETURN NULL; END $$"
            ))
            .await?;
        }
        for (name, table, event) in WATCHED {
            let sql = if postgres {
                format!(
                    "CREATE TRIGGER {name} AFTER {event} ON {table} \
                     FOR EACH STATEMENT EXECUTE FUNCTION bump_access_epoch()"
                )
            } else {
                format!("CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {bump}; END")
            };
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let postgres = m.get_database_backend() == DbBackend::Postgres;
        for (name, table, _) in WATCHED {
            let sql = if postgres {
                format!("DROP TRIGGER {name} ON {table}")
            } else {
                format!("DROP TRIGGER {name}")
            };
            db.execute_unprepared(&sql).await?;
        }
        if postgres {
            db.execute_unprepared("DROP FUNCTION bump_access_epoch()")
                .await?;
        }
        db.execute_unprepared("DROP TABLE access_epoch").await?;
        m.drop_table(Table::drop().table(BudgetLeases::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(LedgerMarks::Table).to_owned())
            .await?;
        db.execute_unprepared("UPDATE usage_team_months SET reserved_micros = 0")
            .await?;
        db.execute_unprepared(
            "CREATE TABLE reservations (id BIGINT PRIMARY KEY, team_id BIGINT NOT NULL, \
             month INTEGER NOT NULL, key_id BIGINT NOT NULL, amount_micros BIGINT NOT NULL, \
             created_at TIMESTAMP NOT NULL)",
        )
        .await
        .map(|_| ())
    }
}
