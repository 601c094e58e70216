//! `users`: everyone on this gateway's access list, whatever their status.

use crate::{Role, Status};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// As typed (trimmed), for display.
    pub email: String,
    /// Lower-cased; unique per gateway.
    #[sea_orm(unique)]
    pub email_normalized: String,
    /// Chosen when the invite is accepted; `None` while invited.
    pub name: Option<String>,
    /// Stored as [`Role::as_str`].
    pub role: Role,
    /// Stored as [`Status::as_str`].
    pub status: Status,
    pub team_id: Option<i64>,
    /// argon2id PHC string; `None` until the invite is accepted.
    pub password_hash: Option<String>,
    pub invited_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub joined_at: Option<DateTimeUtc>,
    pub last_active_at: Option<DateTimeUtc>,
    /// Their own monthly budget, over their team's default for members (migration `budgets`).
    pub monthly_limit_micros: Option<i64>,
    /// The identity provider that vouched for them at their first single sign-on (migration
    /// `sso`), and their subject there: later sign-ins find them by these two.
    pub sso_issuer: Option<String>,
    pub sso_subject: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::team::Entity",
        from = "Column::TeamId",
        to = "super::team::Column::Id"
    )]
    Team,
}

impl Related<super::team::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Team.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
