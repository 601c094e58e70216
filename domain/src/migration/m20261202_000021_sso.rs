//! Single sign-on with OpenID Connect.
//! - `sso_settings` (at most one row, id 1, written when an Owner first saves): the identity
//!   provider's issuer, the client id and its secret (sealed like upstream keys), the button's
//!   label, the email domains let in, what becomes of a person nobody invited (refused, or
//!   created as a Viewer or Member in a chosen team), the groups claim and which group gives
//!   which role, whether password sign-in is still allowed, and whether the environment sets
//!   all of this (then the page only shows it).
//! - `users.sso_issuer` and `users.sso_subject`: the provider's subject a person signed in as
//!   the first time; later sign-ins find them by it, whatever their email has become there.
//!   Unique together, so one subject is one account.

use super::sql;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer_null, boolean, integer, string, string_len, string_null, text,
    timestamp_with_time_zone,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SsoSettings {
    Table,
    Id,
    Issuer,
    ClientId,
    ClientSecretSealed,
    Label,
    AllowedDomains,
    NewPeople,
    NewPeopleTeamId,
    GroupsClaim,
    GroupRoles,
    PasswordSignIn,
    FromEnv,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum Users {
    Table,
    SsoIssuer,
    SsoSubject,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SsoSettings::Table)
                .col(integer(SsoSettings::Id).primary_key())
                .col(string(SsoSettings::Issuer))
                .col(string(SsoSettings::ClientId))
                .col(string_null(SsoSettings::ClientSecretSealed))
                .col(string_len(SsoSettings::Label, 64))
                .col(text(SsoSettings::AllowedDomains).default(""))
                .col(string_len(SsoSettings::NewPeople, 16))
                .col(big_integer_null(SsoSettings::NewPeopleTeamId))
                .col(string_null(SsoSettings::GroupsClaim))
                .col(text(SsoSettings::GroupRoles).default(""))
                .col(boolean(SsoSettings::PasswordSignIn).default(true))
                .col(boolean(SsoSettings::FromEnv).default(false))
                .col(timestamp_with_time_zone(SsoSettings::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SsoSettings::Table, SsoSettings::NewPeopleTeamId)
                        .to(Teams::Table, Teams::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        sql::add_columns(
            m,
            Users::Table,
            vec![
                string_null(Users::SsoIssuer),
                string_null(Users::SsoSubject),
            ],
        )
        .await?;
        m.create_index(
            Index::create()
                .name("users_sso_subject")
                .table(Users::Table)
                .col(Users::SsoIssuer)
                .col(Users::SsoSubject)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("users_sso_subject")
                .table(Users::Table)
                .to_owned(),
        )
        .await?;
        sql::drop_columns(m, Users::Table, [Users::SsoSubject, Users::SsoIssuer]).await?;
        m.drop_table(Table::drop().table(SsoSettings::Table).to_owned())
            .await
    }
}
