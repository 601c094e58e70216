//! Running the migrations written as SQL (triggers, expression indexes): their statements for
//! both databases and for the one in use, in order.

use sea_orm_migration::prelude::*;

/// Runs raw statements in order: the migrations written as SQL (triggers, expression indexes).
async fn run(m: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    for sql in statements {
        m.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}

/// The up of a migration written as SQL: the statements for both databases, then those for the
/// one in use.
pub(super) async fn sql_up(
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
pub(super) async fn sql_down(
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
