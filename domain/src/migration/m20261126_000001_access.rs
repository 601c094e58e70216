//! The access model: users, teams, sessions, invites, API keys, usage aggregates, reservations,
//! the audit log, sign-in throttling and the setup token.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Email,
    EmailNormalized,
    Name,
    Role,
    Status,
    TeamId,
    PasswordHash,
    InvitedBy,
    CreatedAt,
    JoinedAt,
    LastActiveAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum Teams {
    Table,
    Id,
    Name,
    NameNormalized,
    Description,
    MonthlyLimitMicros,
    CreatedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum Sessions {
    Table,
    Id,
    TokenHash,
    UserId,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum Invites {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum ApiKeys {
    Table,
    Id,
    UserId,
    TeamId,
    Name,
    Prefix,
    SecretHash,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum UsageTeamMonths {
    Table,
    TeamId,
    Month,
    SpendMicros,
    Requests,
    ReservedMicros,
}
#[derive(DeriveIden, Clone, Copy)]
enum UsageUserMonths {
    Table,
    UserId,
    Month,
    SpendMicros,
    Requests,
}
#[derive(DeriveIden, Clone, Copy)]
enum UsageKeyMonths {
    Table,
    KeyId,
    Month,
    SpendMicros,
    Requests,
}
#[derive(DeriveIden, Clone, Copy)]
enum Reservations {
    Table,
    Id,
    TeamId,
    Month,
    KeyId,
    AmountMicros,
    CreatedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorId,
    ActorEmail,
    Action,
    Target,
    Detail,
}
#[derive(DeriveIden, Clone, Copy)]
enum SignInFailures {
    Table,
    Subject,
    Failures,
    FirstFailedAt,
    LastFailedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum SetupTokens {
    Table,
    Id,
    TokenHash,
    CreatedAt,
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(on_delete)
        .to_owned()
}

fn index(table: impl IntoIden, name: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table).if_not_exists();
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Teams::Table)
                .if_not_exists()
                .col(big_pk_auto(Teams::Id))
                .col(string(Teams::Name))
                .col(string_uniq(Teams::NameNormalized))
                .col(text(Teams::Description).default(""))
                .col(big_integer_null(Teams::MonthlyLimitMicros))
                .col(timestamp_with_time_zone(Teams::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Users::Table)
                .if_not_exists()
                .col(big_pk_auto(Users::Id))
                .col(string(Users::Email))
                .col(string_uniq(Users::EmailNormalized))
                .col(string_null(Users::Name))
                .col(string_len(Users::Role, 16))
                .col(string_len(Users::Status, 16))
                .col(big_integer_null(Users::TeamId))
                .col(string_null(Users::PasswordHash))
                .col(big_integer_null(Users::InvitedBy))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone_null(Users::JoinedAt))
                .col(timestamp_with_time_zone_null(Users::LastActiveAt))
                .foreign_key(&mut fk(
                    Users::Table,
                    Users::TeamId,
                    Teams::Table,
                    Teams::Id,
                    ForeignKeyAction::SetNull,
                ))
                .foreign_key(&mut fk(
                    Users::Table,
                    Users::InvitedBy,
                    Users::Table,
                    Users::Id,
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .if_not_exists()
                .col(big_pk_auto(Sessions::Id))
                .col(string_uniq(Sessions::TokenHash))
                .col(big_integer(Sessions::UserId))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                .foreign_key(&mut fk(
                    Sessions::Table,
                    Sessions::UserId,
                    Users::Table,
                    Users::Id,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Invites::Table)
                .if_not_exists()
                .col(big_pk_auto(Invites::Id))
                .col(big_integer(Invites::UserId))
                .col(string_uniq(Invites::TokenHash))
                .col(big_integer_null(Invites::CreatedBy))
                .col(timestamp_with_time_zone(Invites::CreatedAt))
                .col(timestamp_with_time_zone(Invites::ExpiresAt))
                .col(timestamp_with_time_zone_null(Invites::UsedAt))
                .col(timestamp_with_time_zone_null(Invites::RevokedAt))
                .foreign_key(&mut fk(
                    Invites::Table,
                    Invites::UserId,
                    Users::Table,
                    Users::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    Invites::Table,
                    Invites::CreatedBy,
                    Users::Table,
                    Users::Id,
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ApiKeys::Table)
                .if_not_exists()
                .col(big_pk_auto(ApiKeys::Id))
                .col(big_integer_null(ApiKeys::UserId))
                .col(big_integer_null(ApiKeys::TeamId))
                .col(string(ApiKeys::Name))
                .col(string_len(ApiKeys::Prefix, 32))
                .col(string_uniq(ApiKeys::SecretHash))
                .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
                .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                .foreign_key(&mut fk(
                    ApiKeys::Table,
                    ApiKeys::UserId,
                    Users::Table,
                    Users::Id,
                    ForeignKeyAction::SetNull,
                ))
                .foreign_key(&mut fk(
                    ApiKeys::Table,
                    ApiKeys::TeamId,
                    Teams::Table,
                    Teams::Id,
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UsageTeamMonths::Table)
                .if_not_exists()
                .col(big_integer(UsageTeamMonths::TeamId))
                .col(integer(UsageTeamMonths::Month))
                .col(big_integer(UsageTeamMonths::SpendMicros).default(0))
                .col(big_integer(UsageTeamMonths::Requests).default(0))
                .col(big_integer(UsageTeamMonths::ReservedMicros).default(0))
                .primary_key(
                    Index::create()
                        .col(UsageTeamMonths::TeamId)
                        .col(UsageTeamMonths::Month),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UsageUserMonths::Table)
                .if_not_exists()
                .col(big_integer(UsageUserMonths::UserId))
                .col(integer(UsageUserMonths::Month))
                .col(big_integer(UsageUserMonths::SpendMicros).default(0))
                .col(big_integer(UsageUserMonths::Requests).default(0))
                .primary_key(
                    Index::create()
                        .col(UsageUserMonths::UserId)
                        .col(UsageUserMonths::Month),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UsageKeyMonths::Table)
                .if_not_exists()
                .col(big_integer(UsageKeyMonths::KeyId))
                .col(integer(UsageKeyMonths::Month))
                .col(big_integer(UsageKeyMonths::SpendMicros).default(0))
                .col(big_integer(UsageKeyMonths::Requests).default(0))
                .primary_key(
                    Index::create()
                        .col(UsageKeyMonths::KeyId)
                        .col(UsageKeyMonths::Month),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Reservations::Table)
                .if_not_exists()
                .col(big_pk_auto(Reservations::Id))
                .col(big_integer(Reservations::TeamId))
                .col(integer(Reservations::Month))
                .col(big_integer(Reservations::KeyId))
                .col(big_integer(Reservations::AmountMicros))
                .col(timestamp_with_time_zone(Reservations::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .if_not_exists()
                .col(big_pk_auto(AuditLog::Id))
                .col(timestamp_with_time_zone(AuditLog::At))
                .col(big_integer_null(AuditLog::ActorId))
                .col(string(AuditLog::ActorEmail))
                .col(string_len(AuditLog::Action, 64))
                .col(string(AuditLog::Target))
                .col(text(AuditLog::Detail).default(""))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SignInFailures::Table)
                .if_not_exists()
                .col(string(SignInFailures::Subject).primary_key())
                .col(integer(SignInFailures::Failures))
                .col(timestamp_with_time_zone(SignInFailures::FirstFailedAt))
                .col(timestamp_with_time_zone(SignInFailures::LastFailedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SetupTokens::Table)
                .if_not_exists()
                .col(big_pk_auto(SetupTokens::Id))
                .col(string(SetupTokens::TokenHash))
                .col(timestamp_with_time_zone(SetupTokens::CreatedAt))
                .to_owned(),
        )
        .await?;

        for stmt in [
            index(Users::Table, "idx_users_team", &["team_id"]),
            index(Users::Table, "idx_users_role_status", &["role", "status"]),
            index(Sessions::Table, "idx_sessions_user", &["user_id"]),
            index(Invites::Table, "idx_invites_user", &["user_id"]),
            index(ApiKeys::Table, "idx_api_keys_user", &["user_id"]),
            index(ApiKeys::Table, "idx_api_keys_team", &["team_id"]),
            index(
                Reservations::Table,
                "idx_reservations_team_month",
                &["team_id", "month"],
            ),
            index(AuditLog::Table, "idx_audit_log_at", &["at"]),
        ] {
            m.create_index(stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SetupTokens::Table.into_iden(),
            SignInFailures::Table.into_iden(),
            AuditLog::Table.into_iden(),
            Reservations::Table.into_iden(),
            UsageKeyMonths::Table.into_iden(),
            UsageUserMonths::Table.into_iden(),
            UsageTeamMonths::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            Invites::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
            Teams::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
