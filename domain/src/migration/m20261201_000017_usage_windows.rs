//! The Usage page's rolling ranges at a big gateway's scale: `usage_windows` holds, per window
//! (the last 7, 30 or 90 days), grouping (team, person, key) and group, the sums of the day rows
//! in that window, so "last 90 days by person" reads one row per person, in order of spend
//! through an index, instead of summing every day row. `usage_window_ends` says which day each
//! window ends on. Indexes by month and spend let a month by person or key be read in order of
//! spend the same way. The metering adds to them and moves them on at midnight
//! (`service/usage_windows.rs`); they start empty and are built from the day rows the first
//! time they are moved on.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, string_len};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UsageWindows {
    Table,
    Span,
    GroupedBy,
    GroupId,
    SpendMicros,
    Requests,
    TokensIn,
    TokensOut,
}

#[derive(DeriveIden)]
enum MonthRows {
    Month,
    SpendMicros,
    Requests,
}

#[derive(DeriveIden)]
enum UsageWindowEnds {
    Table,
    Span,
    LastDay,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(UsageWindows::Table)
                .col(integer(UsageWindows::Span))
                .col(string_len(UsageWindows::GroupedBy, 8))
                .col(big_integer(UsageWindows::GroupId))
                .col(big_integer(UsageWindows::SpendMicros).default(0))
                .col(big_integer(UsageWindows::Requests).default(0))
                .col(big_integer(UsageWindows::TokensIn).default(0))
                .col(big_integer(UsageWindows::TokensOut).default(0))
                .primary_key(
                    Index::create()
                        .col(UsageWindows::Span)
                        .col(UsageWindows::GroupedBy)
                        .col(UsageWindows::GroupId),
                )
                .to_owned(),
        )
        .await?;
        // The page's table and chart read the groups in order of spend (the default sort).
        m.create_index(
            Index::create()
                .name("idx_usage_windows_spend")
                .table(UsageWindows::Table)
                .col(UsageWindows::Span)
                .col(UsageWindows::GroupedBy)
                .col(UsageWindows::SpendMicros)
                .to_owned(),
        )
        .await?;
        // A month by person or key, likewise (with requests: a row may have none yet).
        for (name, table) in [
            ("idx_usage_user_months_spend", "usage_user_months"),
            ("idx_usage_key_months_spend", "usage_key_months"),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Alias::new(table))
                    .col(MonthRows::Month)
                    .col(MonthRows::SpendMicros)
                    .col(MonthRows::Requests)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(UsageWindowEnds::Table)
                .col(integer(UsageWindowEnds::Span).primary_key())
                .col(integer(UsageWindowEnds::LastDay))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("idx_usage_user_months_spend", "usage_user_months"),
            ("idx_usage_key_months_spend", "usage_key_months"),
        ] {
            m.drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        m.drop_table(Table::drop().table(UsageWindowEnds::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(UsageWindows::Table).to_owned())
            .await
    }
}
