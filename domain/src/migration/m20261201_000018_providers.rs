//! `providers`: the upstreams the gateway forwards to, kept in the database so Owners and
//! Admins manage them on the Providers page and every process uses a change on its next
//! request. The key is stored sealed (`sealing.rs`) with its last four characters beside it;
//! `from_file` marks those the providers file made (read-only on the page). Names are unique
//! whatever their case (`name_key`). Adding, changing what requests use, and deleting move the
//! access epoch, which is how other processes hear of it; a connection test does not.

use super::sql::{self, EpochTrigger};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, integer, integer_null, pk_auto, string, string_len, string_len_null, string_null,
    text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Providers {
    Table,
    Id,
    Name,
    NameKey,
    BaseUrl,
    ApiKeySealed,
    ApiKeyLast4,
    ApiKeyEnv,
    TimeoutSecs,
    Enabled,
    FromFile,
    CheckedAt,
    CheckStatus,
    CheckModels,
    CheckError,
    CreatedAt,
    UpdatedAt,
}

const WATCHED: [EpochTrigger; 3] = [
    ("access_epoch_provider_added", "providers", "INSERT"),
    (
        "access_epoch_provider_changed",
        "providers",
        "UPDATE OF name, name_key, base_url, api_key_sealed, timeout_secs, enabled",
    ),
    ("access_epoch_provider_deleted", "providers", "DELETE"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Providers::Table)
                .col(pk_auto(Providers::Id).big_integer())
                .col(string_len(Providers::Name, 64))
                .col(string_len(Providers::NameKey, 64).unique_key())
                .col(string(Providers::BaseUrl))
                .col(text_null(Providers::ApiKeySealed))
                .col(string_len_null(Providers::ApiKeyLast4, 8))
                .col(string_null(Providers::ApiKeyEnv))
                .col(integer(Providers::TimeoutSecs))
                .col(boolean(Providers::Enabled).default(true))
                .col(boolean(Providers::FromFile).default(false))
                .col(timestamp_with_time_zone_null(Providers::CheckedAt))
                .col(integer_null(Providers::CheckStatus))
                .col(integer_null(Providers::CheckModels))
                .col(string_null(Providers::CheckError))
                .col(timestamp_with_time_zone(Providers::CreatedAt))
                .col(timestamp_with_time_zone(Providers::UpdatedAt))
                .to_owned(),
        )
        .await?;
        sql::epoch_triggers_up(m, &WATCHED).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        sql::epoch_triggers_down(m, &WATCHED).await?;
        m.drop_table(Table::drop().table(Providers::Table).to_owned())
            .await
    }
}
