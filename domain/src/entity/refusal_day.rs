//! `refusal_days`: requests the gateway refused in one UTC day, per team, user and key (0 when
//! the key was not known), kind and reason — the words the client was answered with.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refusal_days")]
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
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: RefusalKind,
    #[sea_orm(primary_key, auto_increment = false)]
    pub reason: String,
    pub count: i64,
    pub first_at: DateTimeUtc,
    pub last_at: DateTimeUtc,
}

/// Why a request was refused, stored as its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RefusalKind {
    /// 401: no key, an unknown one, or one that may not be used.
    #[sea_orm(string_value = "key")]
    Key,
    /// 402: the team's monthly limit.
    #[sea_orm(string_value = "team_budget")]
    TeamBudget,
    /// 402: the member's monthly budget.
    #[sea_orm(string_value = "member_budget")]
    MemberBudget,
    /// 402: the key's monthly budget.
    #[sea_orm(string_value = "key_budget")]
    KeyBudget,
    /// 402: the whole gateway's monthly limit (Billing).
    #[sea_orm(string_value = "gateway_budget")]
    GatewayBudget,
    /// 402: the monthly cap of keys outside any team (Billing).
    #[sea_orm(string_value = "teamless_budget")]
    TeamlessBudget,
    /// 429: a per-minute limit.
    #[sea_orm(string_value = "rate")]
    Rate,
    /// 404: a model the key may not call.
    #[sea_orm(string_value = "model")]
    Model,
    /// 400: a guardrail that blocks matched the request.
    #[sea_orm(string_value = "guardrail")]
    Guardrail,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
