//! `route_targets`: where a route sends requests, in the order tried (migration
//! `m20261202_000020`; deleting the route deletes them, a provider named here cannot be deleted).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "route_targets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub route_id: i64,
    /// From 0: the first target tried.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub provider_id: i64,
    /// The model name sent to the provider.
    pub upstream_name: String,
    pub input_micros_per_mtok: i64,
    pub output_micros_per_mtok: i64,
    pub max_output_tokens: i64,
    /// The most prompt tokens one image is billed at; `None`: images cannot be held.
    pub image_input_tokens: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
