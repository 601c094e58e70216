//! `routes`: a model name clients ask for (migration `m20261202_000020`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "routes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// The name lower-cased: unique, so names differing only in case clash.
    pub name_key: String,
    /// Every team's keys (and keys outside any team) may use it; otherwise those in
    /// `route_teams`.
    pub all_teams: bool,
    pub enabled: bool,
    /// It comes from the providers file: read-only on the page.
    pub from_file: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
