//! `api_keys`: gateway keys. The secret is stored only as its SHA-256, beside a short visible
//! prefix. A key outlives its owner and team as a revoked row, so usage history keeps its name.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: Option<i64>,
    pub team_id: Option<i64>,
    pub name: String,
    pub prefix: String,
    #[sea_orm(unique)]
    pub secret_hash: String,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// Per-minute limits of its own (migration `rate_limits`); `None` is none.
    pub requests_per_minute: Option<i64>,
    pub tokens_per_minute: Option<i64>,
    /// The models it may call; `None` is every model.
    pub models: Option<ModelNames>,
    /// Its monthly budget (migration `budgets`), in micro-dollars; `None` is none.
    pub monthly_limit_micros: Option<i64>,
}

/// A key's models, stored as a JSON list.
#[derive(
    Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, FromJsonQueryResult,
)]
pub struct ModelNames(pub Vec<String>);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
