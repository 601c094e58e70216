//! Monthly budgets finer than a team's: one on a key (`api_keys.monthly_limit_micros`), and one
//! per person — a team's default for each of its members (`teams.member_limit_micros`) that a
//! person's own (`users.monthly_limit_micros`) overrides. They are held like the team cap: the
//! key's and the person's month rows get `reserved_micros`, and a budget lease
//! (`budget_leases`) now says which budget it is a slice of (`budget` and `budget_id`, which was
//! `team_id`). Changing any limit moves the access epoch, so every process reads the key again.

use super::sql::{self, EpochTrigger};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, string_len};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ApiKeys {
    Table,
    MonthlyLimitMicros,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    MonthlyLimitMicros,
}

#[derive(DeriveIden, Clone, Copy)]
enum Teams {
    Table,
    MemberLimitMicros,
}

#[derive(DeriveIden, Clone, Copy)]
enum UsageUserMonths {
    Table,
    ReservedMicros,
}

#[derive(DeriveIden, Clone, Copy)]
enum UsageKeyMonths {
    Table,
    ReservedMicros,
}

#[derive(DeriveIden, Clone, Copy)]
enum BudgetLeases {
    Table,
    TeamId,
    BudgetId,
    Budget,
}

const WATCHED: [EpochTrigger; 3] = [
    (
        "access_epoch_key_budget_changed",
        "api_keys",
        "UPDATE OF monthly_limit_micros",
    ),
    (
        "access_epoch_member_budget_changed",
        "users",
        "UPDATE OF monthly_limit_micros",
    ),
    (
        "access_epoch_team_member_budget_changed",
        "teams",
        "UPDATE OF member_limit_micros",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql::add_columns(
            m,
            ApiKeys::Table,
            vec![big_integer_null(ApiKeys::MonthlyLimitMicros)],
        )
        .await?;
        sql::add_columns(
            m,
            Users::Table,
            vec![big_integer_null(Users::MonthlyLimitMicros)],
        )
        .await?;
        sql::add_columns(
            m,
            Teams::Table,
            vec![big_integer_null(Teams::MemberLimitMicros)],
        )
        .await?;
        sql::add_columns(
            m,
            UsageUserMonths::Table,
            vec![
                big_integer(UsageUserMonths::ReservedMicros)
                    .default(0)
                    .take(),
            ],
        )
        .await?;
        sql::add_columns(
            m,
            UsageKeyMonths::Table,
            vec![
                big_integer(UsageKeyMonths::ReservedMicros)
                    .default(0)
                    .take(),
            ],
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(BudgetLeases::Table)
                .rename_column(BudgetLeases::TeamId, BudgetLeases::BudgetId)
                .to_owned(),
        )
        .await?;
        sql::add_columns(
            m,
            BudgetLeases::Table,
            vec![string_len(BudgetLeases::Budget, 8).default("team").take()],
        )
        .await?;
        sql::epoch_triggers_up(m, &WATCHED).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql::epoch_triggers_down(m, &WATCHED).await?;
        // Slices of key and member budgets have no place in the old table.
        m.get_connection()
            .execute_unprepared("DELETE FROM budget_leases WHERE budget <> 'team'")
            .await?;
        sql::drop_columns(m, BudgetLeases::Table, [BudgetLeases::Budget]).await?;
        m.alter_table(
            Table::alter()
                .table(BudgetLeases::Table)
                .rename_column(BudgetLeases::BudgetId, BudgetLeases::TeamId)
                .to_owned(),
        )
        .await?;
        sql::drop_columns(m, UsageKeyMonths::Table, [UsageKeyMonths::ReservedMicros]).await?;
        sql::drop_columns(m, UsageUserMonths::Table, [UsageUserMonths::ReservedMicros]).await?;
        sql::drop_columns(m, Teams::Table, [Teams::MemberLimitMicros]).await?;
        sql::drop_columns(m, Users::Table, [Users::MonthlyLimitMicros]).await?;
        sql::drop_columns(m, ApiKeys::Table, [ApiKeys::MonthlyLimitMicros]).await
    }
}
