//! `audit_log`: who did what to whom, append-only. Survives the deletion of everyone it names.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor_id: Option<i64>,
    /// The actor's email at the time, so the entry reads well after they are gone.
    pub actor_email: String,
    /// A stable verb, e.g. `session.sign_in`, `user.invite`.
    pub action: String,
    /// What was acted on, e.g. `user:12`.
    pub target: String,
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
