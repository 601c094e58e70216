//! `guardrails`: rules checked before a request is forwarded — the largest prompt, blocked
//! terms, regular expressions — each for some models (none listed: all) and all teams or those
//! in `guardrail_teams`, blocking or only logging. `guardrail_hits` counts, per rule and month,
//! the requests a rule matched (no foreign key: the gateway's writer adds hits behind, and a
//! rule deleted meanwhile must not fail its write; deleting a rule deletes its counts). Adding, changing or deleting a rule, and choosing its teams,
//! move the access epoch (every process builds its rules again); a hit does not.

use super::sql::{self, EpochTrigger};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, integer, json, pk_auto, string_len,
    timestamp_with_time_zone,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Guardrails {
    Table,
    Id,
    Name,
    NameKey,
    CheckKind,
    MaxBytes,
    Patterns,
    Models,
    AllTeams,
    Action,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GuardrailTeams {
    Table,
    GuardrailId,
    TeamId,
}

#[derive(DeriveIden)]
enum GuardrailHits {
    Table,
    GuardrailId,
    Month,
    Hits,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
}

const WATCHED: [EpochTrigger; 5] = [
    ("access_epoch_guardrail_added", "guardrails", "INSERT"),
    ("access_epoch_guardrail_changed", "guardrails", "UPDATE"),
    ("access_epoch_guardrail_deleted", "guardrails", "DELETE"),
    (
        "access_epoch_guardrail_team_added",
        "guardrail_teams",
        "INSERT",
    ),
    (
        "access_epoch_guardrail_team_removed",
        "guardrail_teams",
        "DELETE",
    ),
];

fn owned_by(
    table: impl IntoIden,
    column: impl IntoIden,
    to: impl IntoIden,
    to_column: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(to, to_column)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Guardrails::Table)
                .col(pk_auto(Guardrails::Id).big_integer())
                .col(string_len(Guardrails::Name, 64))
                .col(string_len(Guardrails::NameKey, 64).unique_key())
                .col(string_len(Guardrails::CheckKind, 16))
                .col(big_integer_null(Guardrails::MaxBytes))
                .col(json(Guardrails::Patterns))
                .col(json(Guardrails::Models))
                .col(boolean(Guardrails::AllTeams).default(true))
                .col(string_len(Guardrails::Action, 8))
                .col(boolean(Guardrails::Enabled).default(true))
                .col(timestamp_with_time_zone(Guardrails::CreatedAt))
                .col(timestamp_with_time_zone(Guardrails::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(GuardrailTeams::Table)
                .col(big_integer(GuardrailTeams::GuardrailId))
                .col(big_integer(GuardrailTeams::TeamId))
                .primary_key(
                    Index::create()
                        .col(GuardrailTeams::GuardrailId)
                        .col(GuardrailTeams::TeamId),
                )
                .foreign_key(&mut owned_by(
                    GuardrailTeams::Table,
                    GuardrailTeams::GuardrailId,
                    Guardrails::Table,
                    Guardrails::Id,
                ))
                .foreign_key(&mut owned_by(
                    GuardrailTeams::Table,
                    GuardrailTeams::TeamId,
                    Teams::Table,
                    Teams::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(GuardrailHits::Table)
                .col(big_integer(GuardrailHits::GuardrailId))
                .col(integer(GuardrailHits::Month))
                .col(big_integer(GuardrailHits::Hits))
                .primary_key(
                    Index::create()
                        .col(GuardrailHits::GuardrailId)
                        .col(GuardrailHits::Month),
                )
                .to_owned(),
        )
        .await?;
        sql::epoch_triggers_up(m, &WATCHED).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql::epoch_triggers_down(m, &WATCHED).await?;
        for table in [
            GuardrailHits::Table.into_iden(),
            GuardrailTeams::Table.into_iden(),
            Guardrails::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
