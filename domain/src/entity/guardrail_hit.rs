//! `guardrail_hits`: how many requests a guardrail matched in a month (migration
//! `m20261201_000019`), added by the ledger's writer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "guardrail_hits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub guardrail_id: i64,
    /// `year * 100 + month`, UTC (`service::month_key`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: i32,
    pub hits: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
