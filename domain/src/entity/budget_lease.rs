//! `budget_leases`: the slice of a budget's month — a team's, a member's, a key's or the
//! gateway's — that a gateway process holds to admit requests from (counted in that month row's
//! `reserved_micros`), renewed while the process lives.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "budget_leases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The process holding it (its ledger's id).
    pub holder: String,
    /// Which kind of budget it is a slice of…
    pub budget: BudgetKind,
    /// …and whose: the team's, user's or key's id (for the gateway-wide budgets, the scope of
    /// their `usage_gateway_months` row: 0 the whole gateway, 1 keys outside any team).
    pub budget_id: i64,
    pub month: i32,
    pub amount_micros: i64,
    pub renewed_at: DateTimeUtc,
}

/// The budgets a request can be held against, stored as their names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum BudgetKind {
    #[sea_orm(string_value = "team")]
    Team,
    #[sea_orm(string_value = "member")]
    Member,
    #[sea_orm(string_value = "key")]
    Key,
    /// The whole gateway's monthly limit.
    #[sea_orm(string_value = "gateway")]
    Gateway,
    /// The monthly cap of keys outside any team.
    #[sea_orm(string_value = "teamless")]
    Teamless,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
