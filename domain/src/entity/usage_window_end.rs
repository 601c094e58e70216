//! `usage_window_ends`: the day (days since 1970-01-01, UTC) each rolling window of
//! `usage_windows` ends on; it starts `span - 1` days before.

use super::usage_window::Span;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_window_ends")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub span: Span,
    pub last_day: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
