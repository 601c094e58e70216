//! What keeps the teams list's cards cheap at 10,000 teams with a year of history: this month's
//! total spend and requests are summed from an index on the month (holding both figures), not
//! from every team-month row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_usage_team_months_month \
                 ON usage_team_months (month, spend_micros, requests)",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX idx_usage_team_months_month")
            .await
            .map(|_| ())
    }
}
