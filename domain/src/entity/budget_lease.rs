//! `budget_leases`: the slice of a team's month a gateway process holds to admit requests from
//! (counted in `usage_team_months.reserved_micros`), renewed while the process lives.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "budget_leases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The process holding it (its ledger's id).
    pub holder: String,
    pub team_id: i64,
    pub month: i32,
    pub amount_micros: i64,
    pub renewed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
