//! `usage_days`: what was served in one UTC day for one team, user, key and model — the grain
//! of the Usage page and of monthly statements. `team_id` is 0 for a key outside any team.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_days")]
pub struct Model {
    /// Days since 1970-01-01 (UTC).
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub team_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key_id: i64,
    /// The model the client asked for, as the gateway serves it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub model: String,
    pub spend_micros: i64,
    pub requests: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
