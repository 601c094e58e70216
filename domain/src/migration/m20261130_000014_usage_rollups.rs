//! The Usage page at a big gateway's scale: figures kept whole so the common views add a few
//! rows instead of every day row.
//! - `tokens_in` and `tokens_out` on the month rows of teams, people and keys, so a whole
//!   month's table (this month, last month) reads from them;
//! - `usage_day_totals`: the whole gateway's figures per day (the requests chart, "Other");
//! - `usage_model_days`: per day and model (any range grouped by model);
//! - indexes of `usage_days` by person and day and by key and day, for the chart's top groups.
//!
//! All written by the metering (`service/usage.rs`) in the same transaction as the day rows.

use super::sql::{add_columns, drop_columns};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, string};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Month {
    TokensIn,
    TokensOut,
}

#[derive(DeriveIden, Clone)]
enum UsageTeamMonths {
    Table,
}

#[derive(DeriveIden, Clone)]
enum UsageUserMonths {
    Table,
}

#[derive(DeriveIden, Clone)]
enum UsageKeyMonths {
    Table,
}

#[derive(DeriveIden)]
enum UsageDayTotals {
    Table,
    Day,
    SpendMicros,
    Requests,
    TokensIn,
    TokensOut,
}

#[derive(DeriveIden)]
enum UsageModelDays {
    Table,
    Day,
    Model,
    SpendMicros,
    Requests,
    TokensIn,
    TokensOut,
}

#[derive(DeriveIden)]
enum UsageDays {
    Table,
    Day,
    UserId,
    KeyId,
}

fn tokens() -> Vec<ColumnDef> {
    vec![
        big_integer(Month::TokensIn).default(0).to_owned(),
        big_integer(Month::TokensOut).default(0).to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(m, UsageTeamMonths::Table, tokens()).await?;
        add_columns(m, UsageUserMonths::Table, tokens()).await?;
        add_columns(m, UsageKeyMonths::Table, tokens()).await?;
        m.create_table(
            Table::create()
                .table(UsageDayTotals::Table)
                .col(integer(UsageDayTotals::Day).primary_key())
                .col(big_integer(UsageDayTotals::SpendMicros).default(0))
                .col(big_integer(UsageDayTotals::Requests).default(0))
                .col(big_integer(UsageDayTotals::TokensIn).default(0))
                .col(big_integer(UsageDayTotals::TokensOut).default(0))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UsageModelDays::Table)
                .col(integer(UsageModelDays::Day))
                .col(string(UsageModelDays::Model))
                .col(big_integer(UsageModelDays::SpendMicros).default(0))
                .col(big_integer(UsageModelDays::Requests).default(0))
                .col(big_integer(UsageModelDays::TokensIn).default(0))
                .col(big_integer(UsageModelDays::TokensOut).default(0))
                .primary_key(
                    Index::create()
                        .col(UsageModelDays::Day)
                        .col(UsageModelDays::Model),
                )
                .to_owned(),
        )
        .await?;
        // What the day rows already hold, so the new figures start complete.
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO usage_day_totals (day, spend_micros, requests, tokens_in, tokens_out) \
                 SELECT day, SUM(spend_micros), SUM(requests), SUM(tokens_in), SUM(tokens_out) \
                 FROM usage_days GROUP BY day",
            )
            .await?;
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO usage_model_days \
                 (day, model, spend_micros, requests, tokens_in, tokens_out) \
                 SELECT day, model, SUM(spend_micros), SUM(requests), SUM(tokens_in), \
                 SUM(tokens_out) FROM usage_days GROUP BY day, model",
            )
            .await?;
        for (name, column) in [
            ("idx_usage_days_user_day", UsageDays::UserId),
            ("idx_usage_days_key_day", UsageDays::KeyId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(UsageDays::Table)
                    .col(column)
                    .col(UsageDays::Day)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_usage_days_user_day", "idx_usage_days_key_day"] {
            m.drop_index(Index::drop().name(name).table(UsageDays::Table).to_owned())
                .await?;
        }
        for table in [
            UsageModelDays::Table.into_iden(),
            UsageDayTotals::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        let columns = [Month::TokensIn, Month::TokensOut];
        drop_columns(m, UsageTeamMonths::Table, columns).await?;
        drop_columns(m, UsageUserMonths::Table, columns).await?;
        drop_columns(m, UsageKeyMonths::Table, columns).await
    }
}
