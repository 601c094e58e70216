//! Limits finer than a team's month: requests and tokens per minute on a key and on a team, and
//! the models a key may call (`api_keys.models`, a JSON list; `NULL` is every model). Changing any
//! of them moves the access epoch (migration `m20261127_000004`), so every process reads the key
//! again on its next request.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer_null, json_null};

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
const WATCHED: [super::sql::EpochTrigger; 2] = [
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
        super::sql::epoch_triggers_up(m, &WATCHED).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        super::sql::epoch_triggers_down(m, &WATCHED).await?;
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
