//! `teams`: groups of users with an optional monthly spend limit.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "teams")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// Lower-cased; unique per gateway.
    #[sea_orm(unique)]
    pub name_normalized: String,
    pub description: String,
    /// Hard cap per calendar month (UTC), in micro-dollars; `None` is no limit.
    pub monthly_limit_micros: Option<i64>,
    pub created_at: DateTimeUtc,
    /// Users in the team, kept by triggers (migration `list_sort_speed`); never written here.
    pub member_count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::user::Entity")]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
