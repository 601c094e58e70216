//! `providers`: an upstream the gateway forwards to (migration `m20261201_000018`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "providers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// The name lower-cased: unique, so names differing only in case clash.
    pub name_key: String,
    /// Without a trailing slash.
    pub base_url: String,
    /// The key, sealed (`sealing::Purpose::ProviderKey`); `None`: requests go without one.
    pub api_key_sealed: Option<String>,
    pub api_key_last4: Option<String>,
    /// For a provider from the providers file: the variable its key was read from.
    pub api_key_env: Option<String>,
    pub timeout_secs: i32,
    pub enabled: bool,
    pub from_file: bool,
    /// The last connection test: when, the HTTP status (none when it got no answer), the models
    /// listed, and why it failed when it got no answer.
    pub checked_at: Option<DateTimeUtc>,
    pub check_status: Option<i32>,
    pub check_models: Option<i32>,
    pub check_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
