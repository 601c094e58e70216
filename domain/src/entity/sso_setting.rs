//! `sso_settings`: single sign-on with OpenID Connect, as an Owner (or the environment) set it —
//! at most one row, id 1 (migration `sso`). No row: single sign-on is off.

use crate::sso::NewPeople;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub issuer: String,
    pub client_id: String,
    /// Sealed with `TOLLGATE_SECRET_KEY` for [`crate::sealing::Purpose::SsoClientSecret`] (one
    /// fixed context, so it survives a change of issuer); `None` for a public client (PKCE
    /// alone).
    pub client_secret_sealed: Option<String>,
    pub label: String,
    /// Lower-case domains, one per line; empty lets every domain in.
    pub allowed_domains: String,
    pub new_people: NewPeople,
    pub new_people_team_id: Option<i64>,
    pub groups_claim: Option<String>,
    /// `group = role` lines.
    pub group_roles: String,
    pub password_sign_in: bool,
    pub from_env: bool,
    pub updated_at: DateTimeUtc,
}

/// The one row's id.
pub const ROW: i32 = 1;

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
