//! `guardrail_teams`: the teams a guardrail checks when it does not check them all (migration
//! `m20261201_000019`; deleting the rule or the team deletes the row).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "guardrail_teams")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub guardrail_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub team_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
