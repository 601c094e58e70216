//! `gateway_settings`: what an Owner sets for the whole gateway on the Billing page — one row,
//! id 1 (migration `billing`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gateway_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// A hard cap on the whole gateway's spend in a month.
    pub monthly_limit_micros: Option<i64>,
    /// The limit the New team form proposes.
    pub team_default_limit_micros: Option<i64>,
    /// A hard cap on what keys outside any team spend together in a month.
    pub teamless_limit_micros: Option<i64>,
    /// Who is emailed when a team crosses a band: addresses, one per line.
    pub alert_emails: String,
    /// Where the alerts are posted as signed JSON.
    pub webhook_url: Option<String>,
    /// The HMAC-SHA256 key of the webhook's signature (made by the gateway, shown to Owners).
    pub webhook_secret: Option<String>,
    pub updated_at: Option<DateTimeUtc>,
}

/// The one row's id.
pub const ROW: i32 = 1;

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
