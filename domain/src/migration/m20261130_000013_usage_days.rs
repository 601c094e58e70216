//! Usage over time, for the dashboard's charts and statements:
//! - `usage_days`: what was served per UTC day, team, user, key and model — spend, requests and
//!   tokens — added to by the gateway's metering in the same write as the month figures;
//! - `refusal_days`: what the gateway refused per day, team, user and key, by kind and with the
//!   reason it answered, counted and first/last seen;
//! - `departed_names`: the name a deleted team or user had, so their history keeps it.
//!
//! The day tables carry ids without foreign keys: deleting a team, user or key leaves its
//! history in place. `0` stands for "none" (a request of a key outside any team; a refusal of a
//! key the gateway does not know).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, integer, string, string_len, timestamp_with_time_zone,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UsageDays {
    Table,
    Day,
    TeamId,
    UserId,
    KeyId,
    Model,
    SpendMicros,
    Requests,
    TokensIn,
    TokensOut,
}

#[derive(DeriveIden)]
enum RefusalDays {
    Table,
    Day,
    TeamId,
    UserId,
    KeyId,
    Kind,
    Reason,
    Count,
    FirstAt,
    LastAt,
}

#[derive(DeriveIden)]
enum DepartedNames {
    Table,
    Kind,
    Id,
    Name,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(UsageDays::Table)
                .col(integer(UsageDays::Day))
                .col(big_integer(UsageDays::TeamId))
                .col(big_integer(UsageDays::UserId))
                .col(big_integer(UsageDays::KeyId))
                .col(string(UsageDays::Model))
                .col(big_integer(UsageDays::SpendMicros).default(0))
                .col(big_integer(UsageDays::Requests).default(0))
                .col(big_integer(UsageDays::TokensIn).default(0))
                .col(big_integer(UsageDays::TokensOut).default(0))
                .primary_key(
                    Index::create()
                        .col(UsageDays::Day)
                        .col(UsageDays::TeamId)
                        .col(UsageDays::UserId)
                        .col(UsageDays::KeyId)
                        .col(UsageDays::Model),
                )
                .to_owned(),
        )
        .await?;
        // A Member's view and a team's statement read one team's days.
        m.create_index(
            Index::create()
                .name("idx_usage_days_team_day")
                .table(UsageDays::Table)
                .col(UsageDays::TeamId)
                .col(UsageDays::Day)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RefusalDays::Table)
                .col(integer(RefusalDays::Day))
                .col(big_integer(RefusalDays::TeamId))
                .col(big_integer(RefusalDays::UserId))
                .col(big_integer(RefusalDays::KeyId))
                .col(string_len(RefusalDays::Kind, 16))
                .col(string(RefusalDays::Reason))
                .col(big_integer(RefusalDays::Count).default(0))
                .col(timestamp_with_time_zone(RefusalDays::FirstAt))
                .col(timestamp_with_time_zone(RefusalDays::LastAt))
                .primary_key(
                    Index::create()
                        .col(RefusalDays::Day)
                        .col(RefusalDays::TeamId)
                        .col(RefusalDays::UserId)
                        .col(RefusalDays::KeyId)
                        .col(RefusalDays::Kind)
                        .col(RefusalDays::Reason),
                )
                .to_owned(),
        )
        .await?;
        // "Why was I blocked": one person's refusals, newest first.
        m.create_index(
            Index::create()
                .name("idx_refusal_days_user_day")
                .table(RefusalDays::Table)
                .col(RefusalDays::UserId)
                .col(RefusalDays::Day)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(DepartedNames::Table)
                .col(string_len(DepartedNames::Kind, 8))
                .col(big_integer(DepartedNames::Id))
                .col(string(DepartedNames::Name))
                .primary_key(
                    Index::create()
                        .col(DepartedNames::Kind)
                        .col(DepartedNames::Id),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DepartedNames::Table.into_iden(),
            RefusalDays::Table.into_iden(),
            UsageDays::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
