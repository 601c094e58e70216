//! `routes`: the model names clients ask for, each mapped to an ordered list of
//! `route_targets` (a provider, the model name sent to it, its prices and output limit; the
//! first is tried first), and kept to the teams in `route_teams` unless `all_teams`. A provider
//! a target names cannot be deleted (`RESTRICT`); deleting a route deletes its targets and team
//! rows, deleting a team its rows. Every change moves the access epoch, so every process serves
//! the new routes from its next request.

use super::sql::{self, EpochTrigger};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, integer, pk_auto, string_len, timestamp_with_time_zone,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Routes {
    Table,
    Id,
    Name,
    NameKey,
    AllTeams,
    Enabled,
    FromFile,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RouteTargets {
    Table,
    RouteId,
    Position,
    ProviderId,
    UpstreamName,
    InputMicrosPerMtok,
    OutputMicrosPerMtok,
    MaxOutputTokens,
    ImageInputTokens,
}

#[derive(DeriveIden)]
enum RouteTeams {
    Table,
    RouteId,
    TeamId,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Providers {
    Table,
    Id,
}

const WATCHED: [EpochTrigger; 7] = [
    ("access_epoch_route_added", "routes", "INSERT"),
    ("access_epoch_route_changed", "routes", "UPDATE"),
    ("access_epoch_route_deleted", "routes", "DELETE"),
    ("access_epoch_route_target_added", "route_targets", "INSERT"),
    (
        "access_epoch_route_target_removed",
        "route_targets",
        "DELETE",
    ),
    ("access_epoch_route_team_added", "route_teams", "INSERT"),
    ("access_epoch_route_team_removed", "route_teams", "DELETE"),
];

fn foreign(
    table: impl IntoIden,
    column: impl IntoIden,
    to: impl IntoIden,
    to_column: impl IntoIden,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(to, to_column)
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Routes::Table)
                .col(pk_auto(Routes::Id).big_integer())
                .col(string_len(Routes::Name, 128))
                .col(string_len(Routes::NameKey, 128).unique_key())
                .col(boolean(Routes::AllTeams).default(true))
                .col(boolean(Routes::Enabled).default(true))
                .col(boolean(Routes::FromFile).default(false))
                .col(timestamp_with_time_zone(Routes::CreatedAt))
                .col(timestamp_with_time_zone(Routes::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RouteTargets::Table)
                .col(big_integer(RouteTargets::RouteId))
                .col(integer(RouteTargets::Position))
                .col(big_integer(RouteTargets::ProviderId))
                .col(string_len(RouteTargets::UpstreamName, 128))
                .col(big_integer(RouteTargets::InputMicrosPerMtok))
                .col(big_integer(RouteTargets::OutputMicrosPerMtok))
                .col(big_integer(RouteTargets::MaxOutputTokens))
                .col(big_integer_null(RouteTargets::ImageInputTokens))
                .primary_key(
                    Index::create()
                        .col(RouteTargets::RouteId)
                        .col(RouteTargets::Position),
                )
                .foreign_key(&mut foreign(
                    RouteTargets::Table,
                    RouteTargets::RouteId,
                    Routes::Table,
                    Routes::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut foreign(
                    RouteTargets::Table,
                    RouteTargets::ProviderId,
                    Providers::Table,
                    Providers::Id,
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("route_targets_provider")
                .table(RouteTargets::Table)
                .col(RouteTargets::ProviderId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RouteTeams::Table)
                .col(big_integer(RouteTeams::RouteId))
                .col(big_integer(RouteTeams::TeamId))
                .primary_key(
                    Index::create()
                        .col(RouteTeams::RouteId)
                        .col(RouteTeams::TeamId),
                )
                .foreign_key(&mut foreign(
                    RouteTeams::Table,
                    RouteTeams::RouteId,
                    Routes::Table,
                    Routes::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut foreign(
                    RouteTeams::Table,
                    RouteTeams::TeamId,
                    Teams::Table,
                    Teams::Id,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        sql::epoch_triggers_up(m, &WATCHED).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql::epoch_triggers_down(m, &WATCHED).await?;
        for table in [
            RouteTeams::Table.into_iden(),
            RouteTargets::Table.into_iden(),
            Routes::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
