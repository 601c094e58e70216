//! One thing's history in the audit log (`?target=key:12`): an index of target and time, so the
//! entries on one user, team or key are found and ordered without reading the log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Target,
    At,
}

const INDEX: &str = "idx_audit_log_target_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(INDEX)
                .table(AuditLog::Table)
                .col(AuditLog::Target)
                .col(AuditLog::At)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(INDEX).table(AuditLog::Table).to_owned())
            .await
    }
}
