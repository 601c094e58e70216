//! `usage_key_months`: what an API key spent and how many requests it made in one calendar month
//! (UTC). A new month is a new row, so nothing ever resets.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_key_months")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key_id: i64,
    /// `year * 100 + month`, e.g. 202611.
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: i32,
    pub spend_micros: i64,
    pub requests: i64,
    /// Tokens the upstreams reported (migration `usage_rollups`; 0 for months before it).
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// Held by budget leases (`budget_leases`) for requests in flight.
    pub reserved_micros: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
