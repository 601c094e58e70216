//! `usage_gateway_months`: the month rows of the gateway-wide caps — the whole gateway's spend
//! ([`Scope::All`]) and that of keys outside any team ([`Scope::Teamless`]) — with what gateway
//! processes hold for requests in flight.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_gateway_months")]
pub struct Model {
    /// A [`Scope`]'s number.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: i32,
    /// `year * 100 + month`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: i32,
    pub spend_micros: i64,
    pub requests: i64,
    pub reserved_micros: i64,
}

/// Whose spend a row counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every request through the gateway.
    All,
    /// Requests with keys outside any team.
    Teamless,
}

impl Scope {
    pub fn id(self) -> i32 {
        match self {
            Scope::All => 0,
            Scope::Teamless => 1,
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
