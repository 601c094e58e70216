//! `teams`: groups of users with an optional monthly spend limit.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "teams")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// Lower-cased; unique per gateway.
    #[sea_orm(unique)]
    pub name_normalized: String,
    pub description: String,
    /// Hard cap per calendar month (UTC), in micro-dollars; `None` is no limit.
    pub monthly_limit_micros: Option<i64>,
    /// Per-minute limits over all the team's keys (migration `rate_limits`); `None` is none.
    pub requests_per_minute: Option<i64>,
    pub tokens_per_minute: Option<i64>,
    pub created_at: DateTimeUtc,
    /// The monthly budget of each member who has none of their own (migration `budgets`).
    pub member_limit_micros: Option<i64>,
    /// Users in the team, kept by triggers (migration `list_sort_speed`); never written here.
    pub member_count: i64,
}

/// Users point at their team (`user::Relation::Team`); nothing here points back, so the
/// entities import each other in one direction only.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
