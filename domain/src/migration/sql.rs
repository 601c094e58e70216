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

/// A trigger that moves the access epoch: (name, table, event), e.g. `UPDATE OF models`.
pub(super) type EpochTrigger = (&'static str, &'static str, &'static str);

/// Creates triggers that move the access epoch (migration `m20261127_000004`) after `event` on
/// `table`: on PostgreSQL through `bump_access_epoch()`, which also announces the move.
pub(super) async fn epoch_triggers_up(
    m: &SchemaManager<'_>,
    triggers: &[EpochTrigger],
) -> Result<(), DbErr> {
    let postgres = m.get_database_backend() == sea_orm::DbBackend::Postgres;
    for (name, table, event) in triggers {
        let sql = if postgres {
            format!(
                "CREATE TRIGGER {name} AFTER {event} ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION bump_access_epoch()"
            )
        } else {
            format!(
                "CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} \
                 BEGIN UPDATE access_epoch SET value = value + 1 WHERE id = 1; END"
            )
        };
        m.get_connection().execute_unprepared(&sql).await?;
    }
    Ok(())
}

/// Drops what [`epoch_triggers_up`] created.
pub(super) async fn epoch_triggers_down(
    m: &SchemaManager<'_>,
    triggers: &[EpochTrigger],
) -> Result<(), DbErr> {
    let postgres = m.get_database_backend() == sea_orm::DbBackend::Postgres;
    for (name, table, _) in triggers {
        let sql = if postgres {
            format!("DROP TRIGGER IF EXISTS {name} ON {table}")
        } else {
            format!("DROP TRIGGER IF EXISTS {name}")
        };
        m.get_connection().execute_unprepared(&sql).await?;
    }
    Ok(())
}

/// Adds `columns` to `table`, one `ALTER TABLE` each (all SQLite allows).
pub(super) async fn add_columns(
    m: &SchemaManager<'_>,
    table: impl IntoIden + Clone,
    columns: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    for mut column in columns {
        m.alter_table(
            Table::alter()
                .table(table.clone())
                .add_column(&mut column)
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}

/// Drops `columns` from `table`, one `ALTER TABLE` each.
pub(super) async fn drop_columns<C: IntoIden>(
    m: &SchemaManager<'_>,
    table: impl IntoIden + Clone,
    columns: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    for column in columns {
        m.alter_table(
            Table::alter()
                .table(table.clone())
                .drop_column(column)
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}
