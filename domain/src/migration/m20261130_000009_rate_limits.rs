//! Limits finer than a team's month: requests and tokens per minute on a key and on a team, and
//! the models a key may call (`api_keys.models`, a JSON list; `NULL` is every model). Changing any
//! of them moves the access epoch (migration `m20261127_000004`), so every process reads the key
//! again on its next request.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer_null, json_null};
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    RequestsPerMinute,
    TokensPerMinute,
    Models,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    RequestsPerMinute,
    TokensPerMinute,
}

/// (trigger name, table, event): the new columns, watched like the limits before them.
const WATCHED: [(&str, &str, &str); 2] = [
    (
        "access_epoch_key_limits_changed",
        "api_keys",
        "UPDATE OF requests_per_minute, tokens_per_minute, models",
    ),
    (
        "access_epoch_team_rates_changed",
        "teams",
        "UPDATE OF requests_per_minute, tokens_per_minute",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for mut column in [
            big_integer_null(ApiKeys::RequestsPerMinute),
            big_integer_null(ApiKeys::TokensPerMinute),
            json_null(ApiKeys::Models),
        ] {
            m.alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        for mut column in [
            big_integer_null(Teams::RequestsPerMinute),
            big_integer_null(Teams::TokensPerMinute),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Teams::Table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        let postgres = m.get_database_backend() == DbBackend::Postgres;
        for (name, table, event) in WATCHED {
            let sql = if postgres {
                format!(
                    "CREATE TRIGGER {name} AFTER {event} ON {table} \
                     FOR EACH STATEMENT EXECUTE FUNCTION bump_access_epoch()"
                )
            } else {
                format!(
                    "CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} \
                     BEGIN UPDATE access_epoch SET value = value + 1 WHERE id = 1; END"
                )
            };
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let postgres = m.get_database_backend() == DbBackend::Postgres;
        for (name, table, _) in WATCHED {
            let sql = if postgres {
                format!("DROP TRIGGER IF EXISTS {name} ON {table}")
            } else {
                format!("DROP TRIGGER IF EXISTS {name}")
            };
            m.get_connection().execute_unprepared(&sql).await?;
        }
        for column in [
            ApiKeys::RequestsPerMinute,
            ApiKeys::TokensPerMinute,
            ApiKeys::Models,
        ] {
            m.alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        for column in [Teams::RequestsPerMinute, Teams::TokensPerMinute] {
            m.alter_table(
                Table::alter()
                    .table(Teams::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
