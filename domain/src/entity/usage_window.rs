//! `usage_windows`: spend, requests and tokens per rolling window ([`Span`]), grouping and group
//! — the sum of the `usage_days` rows in the window that `usage_window_ends` says it ends on,
//! kept by the metering (`service/usage_windows.rs`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_windows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub span: Span,
    #[sea_orm(primary_key, auto_increment = false)]
    pub grouped_by: Grouping,
    /// The team's, person's or key's id (0: no team).
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: i64,
    pub spend_micros: i64,
    pub requests: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
}

/// A window's length: the last `n` days, today included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "i32", db_type = "Integer")]
pub enum Span {
    #[sea_orm(num_value = 7)]
    Days7,
    #[sea_orm(num_value = 30)]
    Days30,
    #[sea_orm(num_value = 90)]
    Days90,
}

impl Span {
    /// How many days the window holds.
    pub fn days(self) -> i32 {
        match self {
            Span::Days7 => 7,
            Span::Days30 => 30,
            Span::Days90 => 90,
        }
    }
}

/// What a window's rows are grouped by: the `usage_days` column they sum over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Grouping {
    #[sea_orm(string_value = "team")]
    Team,
    #[sea_orm(string_value = "person")]
    Person,
    #[sea_orm(string_value = "key")]
    Key,
}

impl Grouping {
    /// The `usage_days` column this grouping sums over.
    pub fn column(self) -> &'static str {
        match self {
            Grouping::Team => "team_id",
            Grouping::Person => "user_id",
            Grouping::Key => "key_id",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
