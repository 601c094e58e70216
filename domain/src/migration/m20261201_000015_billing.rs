//! Billing: what an Owner sets for the whole gateway, and the alerts it sends.
//! - `gateway_settings` (one row, id 1): a monthly limit over all teams (a hard cap like a
//!   team's), the limit proposed for new teams, the monthly cap of keys outside any team, and
//!   who is told when a team crosses 70, 90 and 100 % of its limit (emails and a webhook with
//!   its signing secret). Changing either cap moves the access epoch.
//! - `usage_gateway_months`: spend, requests and reservations per month of the whole gateway
//!   (`scope` 0) and of the keys outside any team (`scope` 1) — the month rows the two caps are
//!   held against, written by the metering beside the team rows. Filled from the month rows
//!   already there.
//! - `budget_alerts`: one row per team, month, limit and band crossed — which is what makes each
//!   band told once (again only when the limit changes) — and how its delivery went: by email and
//!   by webhook separately, so a retry sends only what failed, and how it ended.

use super::sql::{self, EpochTrigger};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, integer, pk_auto, string, string_len_null, string_null, text,
    timestamp_with_time_zone, timestamp_with_time_zone_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GatewaySettings {
    Table,
    Id,
    MonthlyLimitMicros,
    TeamDefaultLimitMicros,
    TeamlessLimitMicros,
    AlertEmails,
    WebhookUrl,
    WebhookSecret,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UsageGatewayMonths {
    Table,
    Scope,
    Month,
    SpendMicros,
    Requests,
    ReservedMicros,
}

#[derive(DeriveIden)]
enum BudgetAlerts {
    Table,
    Id,
    TeamId,
    Month,
    Band,
    SpentMicros,
    LimitMicros,
    CrossedAt,
    SentAt,
    MailedAt,
    PostedAt,
    NextAttemptAt,
    Outcome,
    Attempts,
    LastError,
}

const WATCHED: [EpochTrigger; 1] = [(
    "access_epoch_gateway_caps_changed",
    "gateway_settings",
    "UPDATE OF monthly_limit_micros, teamless_limit_micros",
)];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(GatewaySettings::Table)
                .col(integer(GatewaySettings::Id).primary_key())
                .col(big_integer_null(GatewaySettings::MonthlyLimitMicros))
                .col(big_integer_null(GatewaySettings::TeamDefaultLimitMicros))
                .col(big_integer_null(GatewaySettings::TeamlessLimitMicros))
                .col(text(GatewaySettings::AlertEmails).default(""))
                .col(string_null(GatewaySettings::WebhookUrl))
                .col(string_null(GatewaySettings::WebhookSecret))
                .col(timestamp_with_time_zone_null(GatewaySettings::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("INSERT INTO gateway_settings (id, alert_emails) VALUES (1, '')")
            .await?;
        m.create_table(
            Table::create()
                .table(UsageGatewayMonths::Table)
                .col(integer(UsageGatewayMonths::Scope))
                .col(integer(UsageGatewayMonths::Month))
                .col(big_integer(UsageGatewayMonths::SpendMicros).default(0))
                .col(big_integer(UsageGatewayMonths::Requests).default(0))
                .col(big_integer(UsageGatewayMonths::ReservedMicros).default(0))
                .primary_key(
                    Index::create()
                        .col(UsageGatewayMonths::Scope)
                        .col(UsageGatewayMonths::Month),
                )
                .to_owned(),
        )
        .await?;
        // Every request is some person's: their month rows sum to the gateway's. What no
        // team's month row holds is what keys outside any team spent.
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO usage_gateway_months (scope, month, spend_micros, requests, reserved_micros) \
                 SELECT 0, month, SUM(spend_micros), SUM(requests), 0 \
                 FROM usage_user_months GROUP BY month",
            )
            .await?;
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO usage_gateway_months (scope, month, spend_micros, requests, reserved_micros) \
                 SELECT 1, g.month, g.spend_micros - COALESCE(t.spend, 0), \
                 g.requests - COALESCE(t.requests, 0), 0 \
                 FROM usage_gateway_months g LEFT JOIN \
                 (SELECT month, SUM(spend_micros) AS spend, SUM(requests) AS requests \
                  FROM usage_team_months GROUP BY month) t ON t.month = g.month \
                 WHERE g.scope = 0",
            )
            .await?;
        m.create_table(
            Table::create()
                .table(BudgetAlerts::Table)
                .col(pk_auto(BudgetAlerts::Id).big_integer())
                .col(big_integer(BudgetAlerts::TeamId))
                .col(integer(BudgetAlerts::Month))
                .col(integer(BudgetAlerts::Band))
                .col(big_integer(BudgetAlerts::SpentMicros))
                .col(big_integer(BudgetAlerts::LimitMicros))
                .col(timestamp_with_time_zone(BudgetAlerts::CrossedAt))
                .col(timestamp_with_time_zone_null(BudgetAlerts::SentAt))
                .col(timestamp_with_time_zone_null(BudgetAlerts::MailedAt))
                .col(timestamp_with_time_zone_null(BudgetAlerts::PostedAt))
                .col(timestamp_with_time_zone(BudgetAlerts::NextAttemptAt))
                .col(string_len_null(BudgetAlerts::Outcome, 8))
                .col(integer(BudgetAlerts::Attempts).default(0))
                .col(string(BudgetAlerts::LastError).default(""))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_budget_alerts_once")
                .table(BudgetAlerts::Table)
                .col(BudgetAlerts::TeamId)
                .col(BudgetAlerts::Month)
                .col(BudgetAlerts::LimitMicros)
                .col(BudgetAlerts::Band)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_budget_alerts_unsent")
                .table(BudgetAlerts::Table)
                .col(BudgetAlerts::SentAt)
                .col(BudgetAlerts::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        sql::epoch_triggers_up(m, &WATCHED).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql::epoch_triggers_down(m, &WATCHED).await?;
        m.get_connection()
            .execute_unprepared("DELETE FROM budget_leases WHERE budget IN ('gateway', 'teamless')")
            .await?;
        for table in [
            BudgetAlerts::Table.into_iden(),
            UsageGatewayMonths::Table.into_iden(),
            GatewaySettings::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
