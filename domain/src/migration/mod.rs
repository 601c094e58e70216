//! Schema migrations, the same on SQLite and PostgreSQL. They run at start-up and through
//! `tollgate migrate`.

use sea_orm_migration::prelude::*;

mod m20261126_000001_access;
mod m20261126_000002_users_list_speed;
mod m20261126_000003_teams_list_speed;
mod m20261127_000004_gateway_leases;
mod m20261127_000005_list_sort_speed;
mod m20261127_000006_user_sort_keys;
mod m20261130_000007_access_epoch_roles;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_access::Migration),
            Box::new(m20261126_000002_users_list_speed::Migration),
            Box::new(m20261126_000003_teams_list_speed::Migration),
            Box::new(m20261127_000004_gateway_leases::Migration),
            Box::new(m20261127_000005_list_sort_speed::Migration),
            Box::new(m20261127_000006_user_sort_keys::Migration),
            Box::new(m20261130_000007_access_epoch_roles::Migration),
        ]
    }
}

/// Runs raw statements in order: the migrations written as SQL (triggers, expression indexes).
async fn run(m: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    for sql in statements {
        m.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}

/// The up of a migration written as SQL: the statements for both databases, then those for the
/// one in use.
async fn sql_up(
    m: &SchemaManager<'_>,
    common: &[&str],
    postgres: &[&str],
    sqlite: &[&str],
) -> Result<(), DbErr> {
    run(m, common).await?;
    match m.get_database_backend() {
        sea_orm::DbBackend::Postgres => run(m, postgres).await,
        _ => run(m, sqlite).await,
    }
}

/// Its down: the statements for the database in use, then those for both.
async fn sql_down(
    m: &SchemaManager<'_>,
    postgres: &[&str],
    sqlite: &[&str],
    common: &[&str],
) -> Result<(), DbErr> {
    match m.get_database_backend() {
        sea_orm::DbBackend::Postgres => run(m, postgres).await?,
        _ => run(m, sqlite).await?,
    }
    run(m, common).await
}
